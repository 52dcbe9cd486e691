"""The RSS source against constructed feeds of real records (tests/cassettes/arxiv/README.md)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import vcr
from typer.testing import CliRunner

from flashnews.cli import app
from flashnews.models import Edition
from flashnews.service import EditionService
from flashnews.testing import fake_factory
from flashnews.tools.rss import RssSource, StaleFeed
from tests.build_rss_cassettes import CATEGORIES, OUT

DAY = dt.date(2026, 2, 25)
replay = vcr.VCR(cassette_library_dir=str(OUT), record_mode="none", ignore_localhost=True,
                 match_on=["method", "scheme", "host", "path", "query"])


def _source() -> RssSource:
    return RssSource(CATEGORIES, delay=0, backoff=0, retries=1)


def test_the_days_announcement_exactly_replacements_left_out() -> None:
    src = _source()
    with replay.use_cassette("rss_day.yaml") as cassette:
        papers = src.papers(DAY)
    assert cassette.play_count == len(CATEGORIES) == src.requests
    # The real 2026-02-25 listing: 183 new in the beat's categories, 101 cross-listed into them.
    assert len(papers) == 284 == len({p.arxiv_id for p in papers})
    assert (src.counts["new"], src.counts["cross"], src.counts["replaced"]) == (183, 101, 2)
    by_id = {p.arxiv_id: p for p in papers}
    assert {"2602.20732", "2602.20217", "2602.20515"} <= by_id.keys()  # CHESS, KnapSpec, FAST
    chess = by_id["2602.20732"]
    assert chess.title.startswith("CHESS:") and chess.abstract.startswith("Long-context LLMs")
    assert "Announce Type" not in chess.abstract and len(chess.authors) > 1
    assert all(not p.arxiv_id.startswith("2602.19") or p.arxiv_id in by_id for p in papers)


def test_an_empty_feed_on_a_working_day_is_unexpected(settings, fake, tmp_path) -> None:
    with replay.use_cassette("rss_empty_working_day.yaml"):
        assert _source().papers(DAY) == []
    svc = EditionService(settings.model_copy(update={"arxiv_delay": 0}),
                         model_factory=fake_factory(fake))
    with replay.use_cassette("rss_empty_working_day.yaml"):
        result = svc.run(Edition(date=DAY), source="rss", out_dir=tmp_path / "o")
    assert (result.outcome, result.exit_code) == ("empty-unexpected", 9)
    assert not fake.calls
    svc.close()


def test_yesterdays_feed_is_stale_and_says_to_use_the_api(settings, fake, tmp_path) -> None:
    with replay.use_cassette("rss_stale.yaml"), pytest.raises(StaleFeed) as err:
        _source().papers(DAY)
    assert "listing of 2026-02-24, not 2026-02-25" in str(err.value)
    svc = EditionService(settings.model_copy(update={"arxiv_delay": 0}),
                         model_factory=fake_factory(fake))
    with replay.use_cassette("rss_stale.yaml"):
        result = svc.run(Edition(date=DAY), source="rss", out_dir=tmp_path / "o")
    assert (result.outcome, result.step, result.exit_code) == ("failed", "fetch", 6)
    assert svc.store.edition(f"{DAY}-flash").status == "stale-feed"  # type: ignore[union-attr]
    # A back-dated day is the export API's: RSS holds only the latest announcement.
    with replay.use_cassette("rss_day.yaml"), pytest.raises(StaleFeed, match="--source arxiv"):
        _source().papers(dt.date(2026, 2, 24))
    svc.close()


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_an_edition_from_rss(settings, fake, tmp_path) -> None:
    # (yes/no scoring: the fake's written scores quote first sentences, and some real first
    # sentences are longer than a claim's span may be)
    svc = EditionService(settings.model_copy(update={"arxiv_delay": 0,
                                                     "triage_scoring": "logprob"}),
                         model_factory=fake_factory(fake))
    with replay.use_cassette("rss_day.yaml"):
        result = svc.run(Edition(date=DAY), source="rss", out_dir=tmp_path / "o")
    assert result.outcome == "published", result.message
    state = svc.state(f"{DAY}-flash").values
    assert state["fetch"] == {"outcome": "ok", "count": 284, "source": "rss",
                              "message": "284 papers from rss"}
    svc.close()


def test_fetch_reports_both_counts(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLASHNEWS_ARXIV_DELAY", "0")
    monkeypatch.setenv("FLASHNEWS_ARXIV_PAGE_SIZE", "12")
    save = tmp_path / "day.jsonl"
    with replay.use_cassette("rss_and_api_day.yaml") as cassette:
        result = CliRunner().invoke(app, ["fetch", "--date", "2026-02-25", "--source",
                                          "rss,arxiv", "--save", str(save)])
    assert result.exit_code == 0, result.output
    assert cassette.play_count == len(CATEGORIES) + 3
    out = " ".join(result.output.split())
    assert "rss: 284 papers (183 new, 101 cross-listed; 2 replacement(s) not featured)" in out
    assert "arxiv: 31 papers" in out
    # The API's submission window and the announcement overlap only in part (docs/sources.md).
    assert "in both: 14; only in rss: 270; only in arxiv: 17" in out
    assert "284 papers saved" in out and "(from rss)" in out
    assert len(save.read_text().splitlines()) == 284
    assert json.loads(save.read_text().splitlines()[0])["arxiv_id"]
