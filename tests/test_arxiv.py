"""The arXiv fetcher against constructed API responses (tests/cassettes/arxiv/README.md)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import vcr

from flashnews.errors import MalformedResponse, RateLimited
from flashnews.models import Edition
from flashnews.service import EditionService
from flashnews.testing import HashingEmbedder, fake_factory
from tests.build_arxiv_cassettes import OUT, source

DAY = dt.date(2026, 2, 25)
replay = vcr.VCR(cassette_library_dir=str(OUT), record_mode="none", ignore_localhost=True,
                 match_on=["method", "scheme", "host", "path", "query"])


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(round(seconds, 2))


def test_pages_through_a_day_and_dedupes_cross_lists() -> None:
    src = source()
    sleeps = Sleeps()
    src.http.sleep = sleeps
    src.http.delay = 3.0
    with replay.use_cassette("day_three_pages.yaml") as cassette:
        papers = src.papers(DAY)
    assert cassette.play_count == 3 and src.requests == 3
    assert len(papers) == 31 == len({p.arxiv_id for p in papers})
    assert len(sleeps) == 2 and all(0 < s <= 3.0 for s in sleeps)  # polite spacing
    by_id = {p.arxiv_id: p for p in papers}
    dllm = by_id["2602.20126"]
    assert r"$\widetilde O(\mathsf{TC}/K)$" in dllm.abstract  # LaTeX survives untouched
    assert "4.56×" in by_id["2602.20732"].abstract  # so does unicode
    assert by_id["2602.20732"].version == 1 and by_id["2602.20732"].link.endswith("2602.20732")


def test_429_is_retried_after_the_servers_retry_after() -> None:
    src = source()
    sleeps = Sleeps()
    src.http.sleep = sleeps
    with replay.use_cassette("rate_limit_then_ok.yaml") as cassette:
        papers = src.papers(DAY)
    assert len(papers) == 31 and cassette.play_count == 4
    assert sleeps[0] == 7.0  # Retry-After: 7


def test_503_until_retries_run_out_is_rate_limited() -> None:
    src = source()
    src.http.backoff = 5.0
    sleeps = Sleeps()
    src.http.sleep = sleeps
    with replay.use_cassette("unavailable_until_rate_limited.yaml"), \
            pytest.raises(RateLimited, match="HTTP 503 after 3 tries"):
        src.papers(DAY)
    assert sleeps == [5.0, 10.0]  # exponential backoff


@pytest.mark.parametrize(("cassette", "message"), [
    ("malformed_xml.yaml", "not valid Atom XML"),
    ("api_error.yaml", "arXiv API error: incorrect id format"),
])
def test_malformed_responses(cassette: str, message: str) -> None:
    with replay.use_cassette(cassette), pytest.raises(MalformedResponse, match=message):
        source().papers(DAY)


def test_empty_weekday_returns_nothing() -> None:
    with replay.use_cassette("empty_weekday.yaml") as cassette:
        assert source().papers(DAY) == []
    assert cassette.play_count == 1


# --- through the edition graph -------------------------------------------------------------


@pytest.fixture
def arxiv_service(settings, fake, monkeypatch):
    import flashnews.tools.arxiv as arxiv_module

    monkeypatch.setattr(arxiv_module, "ArxivSource", lambda *a, **k: source())
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    yield svc
    svc.close()


def test_weekend_is_a_quiet_day_without_any_request(arxiv_service, fake, tmp_path) -> None:
    saturday = Edition(date=dt.date(2026, 2, 28), format="flash")
    with replay.use_cassette("empty_weekday.yaml") as cassette:
        result = arxiv_service.run(saturday, source="arxiv", out_dir=tmp_path / "out")
    assert (result.outcome, result.exit_code) == ("quiet-day", 0)
    assert "Saturday" in result.message and cassette.play_count == 0 and not fake.calls
    assert arxiv_service.store.edition(saturday.id).status == "quiet-day"


def test_holiday_is_a_quiet_day(arxiv_service, fake, tmp_path) -> None:
    # Thursday 2025-12-25 is a holiday: no announcement that evening, so no listing dated Friday
    # 12-26 (Monday's listing carries those days: tests/test_schedule.py).
    after_xmas = Edition(date=dt.date(2025, 12, 26), format="flash")
    with replay.use_cassette("empty_weekday.yaml") as cassette:
        result = arxiv_service.run(after_xmas, source="arxiv", out_dir=tmp_path / "out")
    assert result.outcome == "quiet-day" and "holiday" in result.message
    assert cassette.play_count == 0 and not fake.calls


def test_empty_weekday_is_unexpected_and_says_to_check(arxiv_service, tmp_path) -> None:
    with replay.use_cassette("empty_weekday.yaml"):
        result = arxiv_service.run(Edition(date=DAY), source="arxiv", out_dir=tmp_path / "o")
    assert (result.outcome, result.exit_code) == ("empty-unexpected", 9)
    assert "check" in result.message and not (tmp_path / "o").exists()


def test_rate_limited_fetch_is_recorded_on_the_edition(arxiv_service, tmp_path) -> None:
    with replay.use_cassette("unavailable_until_rate_limited.yaml"):
        result = arxiv_service.run(Edition(date=DAY), source="arxiv", out_dir=tmp_path / "o")
    assert (result.outcome, result.step, result.exit_code) == ("failed", "fetch", 7)
    assert arxiv_service.store.edition(f"{DAY}-flash").status == "rate-limited"


def test_v2_of_a_published_paper_is_flagged_not_featured(arxiv_service, fake, tmp_path) -> None:
    with replay.use_cassette("day_three_pages.yaml"):
        first = arxiv_service.run(Edition(date=DAY), source="arxiv", out_dir=tmp_path / "o")
    assert first.outcome == "published" and "2602.20732" in (first.markdown or "")
    nxt = Edition(date=dt.date(2026, 2, 26))
    with replay.use_cassette("next_day_with_v2.yaml"):
        second = arxiv_service.run(nxt, source="arxiv", out_dir=tmp_path / "o")
    state = arxiv_service.state(nxt.id).values
    flagged = [f for f in state["fetch_findings"] if f["check"] == "already-featured"]
    assert flagged and flagged[0]["evidence"] == "2602.20732v2"
    assert "v2 of a paper featured in 2026-02-25-flash" in flagged[0]["message"]
    assert "2602.20732" not in state["selection"]["main"] + state["selection"]["also"]
    assert second.outcome in ("published", "needs-review")
    history = arxiv_service.store.history()
    assert [h["edition"] for h in history] == ["2026-02-25-flash", "2026-02-26-flash"][
        : len(history)]
    assert "2602.20732" in [p["arxiv_id"] for p in history[0]["papers"]]


def test_fetch_command_saves_a_snapshot_and_history_lists_nothing(tmp_path) -> None:
    env_home = tmp_path / "home"
    out = tmp_path / "day.jsonl"
    # Snapshots can be re-saved offline; the arXiv path is covered above through cassettes.
    from flashnews.tools.arxiv import demo_snapshot

    cmd = [sys.executable, "-m", "flashnews", "fetch", "--date", "2026-02-25", "--source",
           str(demo_snapshot()), "--save", str(out)]
    env = {"FLASHNEWS_HOME": str(env_home), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "31 papers saved" in done.stdout and len(out.read_text().splitlines()) == 31
    quiet = subprocess.run([sys.executable, "-m", "flashnews", "fetch", "--date", "2026-02-28",
                            "--save", str(tmp_path / "sat.jsonl")], env=env,
                           capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 0 and "quiet-day" in quiet.stdout
    assert not (tmp_path / "sat.jsonl").exists()
    hist = subprocess.run([sys.executable, "-m", "flashnews", "history", "--json"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert json.loads(hist.stdout) == []


def test_cassette_readme_says_they_are_constructed() -> None:
    assert "constructed" in (Path(OUT) / "README.md").read_text().lower()


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_catch_up_runs_missed_days_in_order_and_stops_at_the_first_problem(
        tmp_path, monkeypatch) -> None:
    """Through the CLI: 02-25 published earlier; catch up to Saturday 02-28."""
    from typer.testing import CliRunner

    import flashnews.tools.arxiv as arxiv_module
    from flashnews.cli import app
    from flashnews.testing import StubServer

    monkeypatch.setattr(arxiv_module, "ArxivSource", lambda *a, **k: source())
    runner = CliRunner()
    with StubServer() as stub:
        monkeypatch.setenv("FLASHNEWS_BASE_URL", stub.base_url)
        out = str(tmp_path / "out")
        with replay.use_cassette("day_three_pages.yaml"):
            first = runner.invoke(app, ["run", "--date", "2026-02-25", "--source", "arxiv",
                                        "--headless", "--out", out])
        assert first.exit_code == 0, first.output
        report = tmp_path / "r.json"
        with replay.use_cassette("catch_up_thu_fri.yaml") as cassette:
            result = runner.invoke(app, ["run", "--catch-up", "--date", "2026-02-28", "--source",
                                         "arxiv", "--headless", "--out", out, "--report",
                                         str(report)])
        assert cassette.play_count == 2, result.output
    assert "catching up 3 day(s): 2026-02-26 to 2026-02-28" in result.output
    assert result.exit_code == 9  # Friday came back empty: empty-unexpected
    assert "catch-up stopped at 2026-02-27" in result.output
    assert json.loads((tmp_path / "r-2026-02-26.json").read_text())["outcome"] == "published"
    assert json.loads((tmp_path / "r-2026-02-27.json").read_text())["outcome"] == \
        "empty-unexpected"
    assert not (tmp_path / "r-2026-02-28.json").exists()
    assert sorted(p.name for p in (tmp_path / "out").glob("*.md")) == [
        "2026-02-25-flash.md", "2026-02-26-flash.md"]
