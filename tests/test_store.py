"""One conformance suite for the store, run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from flashnews.models import Assessment, ModelCall, Paper
from flashnews.tools.store import MIGRATIONS, Store


@pytest.fixture
def store(tmp_path: Path, backend: str | None) -> Store:
    s = Store(tmp_path / "flashnews.sqlite", url=backend)
    yield s
    s.close()


def _paper(pid: str, version: int = 1) -> Paper:
    return Paper(arxiv_id=pid, version=version, title=f"Paper {pid}", abstract="An abstract.")


def _assessment(pid: str, score: int) -> Assessment:
    return Assessment(paper_id=pid, relevant=score >= 50, score=score, hype=40, rationale="r",
                      prompt_hash="h1", model="m")


def test_migrations_run_once(store: Store, tmp_path: Path, backend: str | None) -> None:
    again = Store(tmp_path / "flashnews.sqlite", url=backend)  # a second process starting
    versions = [r["version"] for r in again._rows("SELECT version FROM schema_migrations"
                                                  " ORDER BY version")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    assert store.backend == ("postgres" if backend else "sqlite")
    again.close()


def test_editions_keep_their_first_publication_time(store: Store) -> None:
    store.set_edition("2026-02-25-flash", status="running", step="fetch")
    store.set_edition("2026-02-25-flash", status="published", path="/out/a.md")
    first = store.edition("2026-02-25-flash")
    assert first is not None and first.published_at and first.path == "/out/a.md"
    store.set_edition("2026-02-25-flash", status="published")
    row = store.edition("2026-02-25-flash")
    assert row is not None and row.published_at == first.published_at and row.path == "/out/a.md"
    assert [e.id for e in store.editions()] == ["2026-02-25-flash"]


def test_papers_keep_their_order_and_are_replaced_not_duplicated(store: Store) -> None:
    store.save_papers("e-flash", [_paper("2602.00003"), _paper("2602.00001"), _paper("2602.00002")])
    store.save_papers("e-flash", [_paper("2602.00003", 2), _paper("2602.00001"), _paper("2602.00002")])
    papers = store.papers("e-flash")
    assert list(papers) == ["2602.00003", "2602.00001", "2602.00002"] and papers["2602.00003"].version == 2


def test_assessment_cache_is_keyed_by_version_prompt_and_model(store: Store) -> None:
    p = _paper("2602.00001")
    store.cache_assessment(_assessment("2602.00001", 70))
    store.cache_assessment(_assessment("2602.00001", 80))  # replaces
    assert store.cached_assessment(p, "h1", "m").score == 80  # type: ignore[union-attr]
    assert store.cached_assessment(p, "h2", "m") is None
    assert store.cached_assessment(_paper("2602.00001", 2), "h1", "m") is None


def test_ledger_sums_per_role(store: Store) -> None:
    for role, tin, ok in [("triage", 10, True), ("triage", 5, False), ("writer", 100, True)]:
        store.record_call(ModelCall(edition_id="e-flash", role=role, model="m", input_tokens=tin,
                                    output_tokens=1, seconds=0.5, ok=ok))
    usage = store.usage("e-flash")
    assert (usage["triage"].calls, usage["triage"].input_tokens, usage["triage"].failed) == \
        (2, 15, 1)
    assert (usage["total"].calls, usage["total"].input_tokens, usage["total"].seconds) == \
        (3, 115, 1.5)
    assert store.usage("other")["total"].calls == 0


def test_outbox_counts_attempts_per_revision(store: Store) -> None:
    store.start_attempt("e-flash", "webhook", 0, target="http://h")
    # Recorded before sending: a run that stops here leaves an attempt of unknown outcome.
    assert store.delivery("e-flash", "webhook", 0).status == "sending"  # type: ignore[union-attr]
    store.record_attempt("e-flash", "webhook", 0, target=None, error="HTTP 503")
    assert store.delivered("e-flash", "webhook") is None
    store.start_attempt("e-flash", "webhook", 0, target="http://h")
    store.record_attempt("e-flash", "webhook", 0, target="http://h", error=None)
    assert store.delivered("e-flash", "webhook") == "http://h"
    assert store.delivered("e-flash", "webhook", revision=1) is None
    (row,) = store.deliveries("e-flash")
    assert (row.status, row.attempts, row.error, row.target) == ("delivered", 2, None, "http://h")


def test_corrections_number_revisions(store: Store) -> None:
    store.set_edition("e-flash", status="published")
    assert store.open_correction("e-flash", "first fix") == 1
    assert store.edition("e-flash").status == "correcting"  # type: ignore[union-attr]
    store.finish_correction("e-flash", 1)
    store.set_edition("e-flash", status="published")
    assert store.open_correction("e-flash", "second fix") == 2
    assert [(c.revision, c.note) for c in store.corrections("e-flash")] == \
        [(1, "first fix"), (2, "second fix")]
    assert store.edition("e-flash").revision == 1  # type: ignore[union-attr]


def test_published_items_and_history(store: Store) -> None:
    days = [("2026-02-24-flash", ["2602.00009", "2602.00001"]),
            ("2026-02-25-flash", ["2602.00002"])]
    for eid, ids in days:
        store.save_papers(eid, [_paper(i) for i in ids])
        store.mark_published(eid, [(i, 1) for i in ids])
        store.set_edition(eid, status="published", path=f"/out/{eid}.md")
    assert store.published_elsewhere("2026-02-25-digest") == {"2602.00009": "2026-02-24-flash",
                                                              "2602.00001": "2026-02-24-flash"}
    history = store.history()
    assert [h["edition"] for h in history] == ["2026-02-24-flash", "2026-02-25-flash"]
    assert [p["arxiv_id"] for p in history[0]["papers"]] == ["2602.00009", "2602.00001"]  # type: ignore[index]


def test_a_first_schema_database_is_migrated_with_its_outbox(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as c:
        c.executescript(MIGRATIONS[0] + "; CREATE TABLE schema_migrations (version INTEGER"
                        " PRIMARY KEY); INSERT INTO schema_migrations VALUES (1);"
                        "INSERT INTO outbox VALUES ('e-flash', 'markdown', 'delivered', '/o/e.md',"
                        " '2026-02-25T10:00:00+00:00');")
    store = Store(path)
    assert store.delivered("e-flash", "markdown", revision=0) == "/o/e.md"
    store.close()


def test_decisions_keep_their_order_and_are_recorded_once(store: Store) -> None:
    from flashnews.models import Decision

    def decision(seq: int, command: str) -> Decision:
        return Decision(edition_id="e-flash", seq=seq, at=f"2026-02-25T10:0{seq}:00+00:00",
                        editor="ana", command=command, args={"n": seq, "paper_id": "2602.00001"},
                        reason="why ✓", round=1, paper_id="2602.00001",
                        context={"before": {"score": 70}, "after": {"score": 20}})

    store.record_decision(decision(2, "rescore"))
    store.record_decision(decision(1, "drop"))
    store.record_decision(decision(1, "pin"))  # a node that ran again: recorded once, unchanged
    got = store.decisions("e-flash")
    assert [(d.seq, d.command) for d in got] == [(1, "drop"), (2, "rescore")]
    assert got[1] == decision(2, "rescore") and store.decisions("other-flash") == []
