"""Searching the archive: every published item, claim and editor note, by words and meaning."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flashnews.cli import app
from flashnews.models import Decision, Edition
from flashnews.service import EditionService
from flashnews.testing import HashingEmbedder, fake_factory
from flashnews.tools.search import SearchIndex, match_expression, words
from flashnews.tools.store import Store, utc_now
from tests.conftest import DEMO

# What FTS5 and tsquery read as syntax: each must be read as text, never fail.
HOSTILE = ['"', 'foo AND (', "*", "NEAR(", "prefill:", "-cache", "^kv", "a OR", "()", "'",
           "\\", "&|!", "fpga) OR (", "col:value*", "％全角"]


@pytest.fixture
def published(db_settings, fake, tmp_path: Path) -> EditionService:
    """A service whose store holds the demo day's published flash edition."""
    svc = EditionService(db_settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    assert svc.run(DEMO, source=None, out_dir=tmp_path / "out").outcome == "published"
    yield svc
    svc.close()


def _items(svc: EditionService) -> dict[str, dict]:
    record = json.loads(svc.store.publication_record(DEMO.id) or "{}")
    return {it["arxiv_id"]: it for it in record["items"]}


def test_a_word_of_an_item_finds_it_with_its_edition_and_link(published) -> None:
    items = _items(published)
    pid, item = next((k, v) for k, v in items.items() if "FPGA" in v["title"])
    hits = published.search("FPGA accelerator", by="words")
    assert hits and hits[0].paper_id == pid
    top = hits[0]
    assert (top.edition_id, top.date, top.format) == (DEMO.id, "2026-02-25", "flash")
    assert top.link == f"https://arxiv.org/abs/{pid}" and top.title == item["title"]
    assert top.score == item["score"] and "words" in top.matched


def test_stemming_matches_other_forms_of_a_word(published) -> None:
    # "accelerators" and "accelerated" share the stem of the title's "Accelerated".
    assert published.search("accelerators", by="words")


def test_one_hit_per_paper_and_edition(published) -> None:
    hits = published.search("inference", limit=50)
    keys = [(h.edition_id, h.paper_id) for h in hits]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("query", HOSTILE)
def test_fts_syntax_is_read_as_text_never_an_error(published, query: str) -> None:
    assert isinstance(published.search(query), list)


def test_a_query_with_no_hits_is_an_empty_list(published) -> None:
    assert published.search("zebra giraffe okapi") == []
    assert published.search("") == []


def test_since_leaves_out_older_editions(published) -> None:
    assert published.search("FPGA", since=dt.date(2026, 2, 25))
    assert published.search("FPGA", since=dt.date(2026, 2, 26)) == []


def test_a_claim_triage_found_is_searchable(published) -> None:
    claims = {pid: a.key_claims for pid in _items(published)
              if (a := published.store.latest_assessment(pid)) and a.key_claims}
    assert claims, "triage found no claim in any featured item"
    pid, found = next(iter(claims.items()))
    claim = found[0].claim
    hits = published.search(claim, by="words", limit=50)
    assert any(h.paper_id == pid for h in hits)


def test_an_editor_note_and_a_correction_are_indexed_when_they_appear(published) -> None:
    pid = next(iter(_items(published)))
    assert published.search("xylophone", by="words") == []
    published.store.record_decision(Decision(
        edition_id=DEMO.id, seq=99, at=utc_now(), editor="ed", command="pin",
        reason="the xylophone benchmark is what readers asked about", paper_id=pid))
    hits = published.search("xylophone", by="words")
    assert [(h.paper_id, h.kind) for h in hits] == [(pid, "note")]
    published.correct(DEMO, "The marimba figure was per GPU, not per node.")
    assert published.search("marimba", by="words") == []  # not published yet: under review
    assert published.run(DEMO, source=None, out_dir=None, resume_only=True).outcome == "published"
    hits = published.search("marimba", by="words")
    assert len(hits) == 1 and hits[0].kind == "note" and hits[0].paper_id is None
    assert "marimba" in hits[0].snippet


def test_publishing_indexes_the_edition_and_a_search_rebuilds_only_what_changed(published
                                                                                 ) -> None:
    index = SearchIndex(published.store, HashingEmbedder())
    assert index.sync() == 0  # publishing indexed it
    published.correct(DEMO, "A note.")
    published.run(DEMO, source=None, out_dir=None, resume_only=True)
    assert index.sync() == 0  # so did publishing the correction
    published.store.record_decision(Decision(
        edition_id=DEMO.id, seq=98, at=utc_now(), editor="ed", command="hold", reason="why"))
    assert index.sync() == 1  # a decision recorded after publishing: the next search


def test_words_are_plain_and_quoted() -> None:
    assert words('foo AND ("bar" OR baz*)') == ["foo", "bar", "baz"]
    assert words("and or the") == ["and", "or", "the"]  # only stop words: kept
    assert match_expression(["kv", "cache"], backend="sqlite", any_term=False) == '"kv" AND "cache"'
    assert match_expression(["kv", "cache"], backend="postgres", any_term=True) == "kv | cache"


def test_meaning_finds_an_item_that_shares_no_word_with_the_query(settings, fake, minilm,
                                                                  tmp_path: Path) -> None:
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    try:
        svc.run(DEMO, source=None, out_dir=tmp_path / "out")
        index = SearchIndex(svc.store, minilm)
        items = _items(svc)
        pid = next(k for k, v in items.items() if "State-Space" in v["title"])
        query = "dividing recurrent networks among several graphics cards"
        assert index.search(query, by="words") == []
        hits = index.search(query, by="meaning")
        assert hits and hits[0].paper_id == pid and hits[0].matched == ["meaning"]
        assert index.search("protein folding in yeast", by="meaning") == []
    finally:
        svc.close()


def test_the_cli_prints_hits_and_json(settings, fake, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLASHNEWS_HOME", str(settings.home))
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    svc.run(DEMO, source=None, out_dir=tmp_path / "out")
    svc.close()
    monkeypatch.setattr("flashnews.service.load_embedder", lambda s: HashingEmbedder())
    runner = CliRunner()
    res = runner.invoke(app, ["search", "FPGA", "--json", "--by", "words"])
    assert res.exit_code == 0, res.output
    hits = json.loads(res.output)
    assert hits[0]["edition_id"] == DEMO.id and hits[0]["link"].startswith("https://arxiv.org/")
    res = runner.invoke(app, ["search", "FPGA", "--by", "words"])
    assert res.exit_code == 0 and "2026-02-25-flash" in res.output and "FPGA" in res.output
    res = runner.invoke(app, ["search", "zebra", "--since", "2026-03-01"])
    assert res.exit_code == 0 and "no published item matches" in res.output
    res = runner.invoke(app, ["search", "[/x] FPGA [bold]", "--by", "words"])  # not markup
    assert res.exit_code == 0 and "[/x] FPGA [bold]" in res.output, res.output
    res = runner.invoke(app, ["search", "x", "--since", "March"])
    assert res.exit_code == 2 and "--since must be YYYY-MM-DD" in res.output


def test_an_empty_archive_has_no_hits(settings) -> None:
    store = Store.open(settings)
    try:
        assert SearchIndex(store, HashingEmbedder()).search("anything") == []
    finally:
        store.close()


def test_editions_of_other_days_are_searched_together(settings, fake, tmp_path: Path) -> None:
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    try:
        svc.run(DEMO, source=None, out_dir=tmp_path / "out")
        digest = Edition(date=DEMO.date, format="digest")
        svc.run(digest, source=None, out_dir=tmp_path / "out")
        eds = {h.edition_id for h in svc.search("inference", limit=100, by="words")}
        assert eds == {DEMO.id, digest.id}
    finally:
        svc.close()
