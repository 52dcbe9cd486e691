"""Migrations are registered by name, recorded by name and applied by name, on both backends."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from flashnews.models import Assessment, Paper
from flashnews.tools import store as store_module
from flashnews.tools.store import MIGRATIONS, REGISTERED, Store, migration, pg_connect


@contextmanager
def _raw(tmp_path: Path, backend: str | None) -> Iterator[Any]:
    """A plain connection to the database the store under test opens (autocommit)."""
    if backend:
        conn = pg_connect(backend)
    else:
        conn = sqlite3.connect(tmp_path / "flashnews.sqlite", isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def _run(conn: Any, backend: str | None, sql: str) -> None:
    if backend:
        conn.execute(sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"))
    else:
        conn.executescript(sql)


def _recorded(s: Store) -> list[tuple[int, str | None]]:
    return [(r["version"], r["name"]) for r in
            s._rows("SELECT version, name FROM schema_migrations ORDER BY version")]


def test_migrations_are_registered_in_order_under_their_names() -> None:
    assert list(REGISTERED) == ["m001_initial", "m002_revisions", "m003_decisions",
                                "m004_embeddings", "m005_examples", "m006_search",
                                "m007_repo_links"]
    assert [fn() for fn in REGISTERED.values()] == MIGRATIONS

    def m001_initial() -> str:
        return "CREATE TABLE twice (x TEXT)"

    with pytest.raises(ValueError, match="m001_initial is registered twice"):
        migration(m001_initial)
    assert REGISTERED["m001_initial"] is not m001_initial


def test_a_new_database_records_every_migration_by_name(tmp_path: Path,
                                                          backend: str | None) -> None:
    s = Store(tmp_path / "flashnews.sqlite", url=backend)
    assert _recorded(s) == [(i, name) for i, name in enumerate(REGISTERED, start=1)]
    s.close()


def test_a_database_that_recorded_migrations_by_position_upgrades_cleanly(
        tmp_path: Path, backend: str | None) -> None:
    # What the store wrote before migrations had names: versions 1-3 only, in a one-column
    # table, and a paper cached in the meantime.
    with _raw(tmp_path, backend) as conn:
        _run(conn, backend, "; ".join(MIGRATIONS[:3]) +
             "; CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY);"
             " INSERT INTO schema_migrations VALUES (1); INSERT INTO schema_migrations VALUES (2);"
             " INSERT INTO schema_migrations VALUES (3);"
             " INSERT INTO editions (id, date, format, status, created_at, updated_at, revision)"
             " VALUES ('2026-02-25-flash', '2026-02-25', 'flash', 'published', 't', 't', 0)")
    s = Store(tmp_path / "flashnews.sqlite", url=backend)  # would fail re-running 1-3
    assert _recorded(s) == [(i, name) for i, name in enumerate(REGISTERED, start=1)]
    row = s.edition("2026-02-25-flash")
    assert row is not None and row.status == "published"  # nothing was lost
    s.cache_embeddings("m", [("2602.00001", 1, "h", b"\x00\x00\x80?")])  # m004 applied
    assert s.cached_embeddings("m", [("2602.00001", 1, "h")]) == {
        ("2602.00001", 1, "h"): b"\x00\x00\x80?"}
    s.close()
    again = Store(tmp_path / "flashnews.sqlite", url=backend)  # upgraded once: a no-op now
    assert _recorded(again) == [(i, name) for i, name in enumerate(REGISTERED, start=1)]
    again.close()


def test_migrations_are_applied_by_name_not_by_position(
        tmp_path: Path, backend: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    # The record names the migrations in another order than the list: nothing is re-applied.
    with _raw(tmp_path, backend) as conn:
        _run(conn, backend, "; ".join(MIGRATIONS[:5]) +
             "; CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT);"
             " INSERT INTO schema_migrations VALUES (1, 'm003_decisions');"
             " INSERT INTO schema_migrations VALUES (2, 'm001_initial');"
             " INSERT INTO schema_migrations VALUES (3, 'm004_embeddings');"
             " INSERT INTO schema_migrations VALUES (4, 'm002_revisions');"
             " INSERT INTO schema_migrations VALUES (5, 'm005_examples')")
    s = Store(tmp_path / "flashnews.sqlite", url=backend)
    assert [name for _, name in _recorded(s)] == ["m003_decisions", "m001_initial",
                                                  "m004_embeddings", "m002_revisions",
                                                  "m005_examples", *list(REGISTERED)[5:]]
    s.close()

    # A migration registered later is applied once, on its own, and recorded by its name.
    def m006_notes() -> str:
        return "CREATE TABLE notes (edition_id TEXT PRIMARY KEY, note TEXT NOT NULL)"

    monkeypatch.setitem(store_module.REGISTERED, "m006_notes", m006_notes)
    s = Store(tmp_path / "flashnews.sqlite", url=backend)
    assert _recorded(s)[-1] == (len(REGISTERED), "m006_notes")
    with s._tx() as c:
        c.execute("INSERT INTO notes VALUES (?, ?)", ("e-flash", "kept"))
    s.close()
    s = Store(tmp_path / "flashnews.sqlite", url=backend)
    assert len(_recorded(s)) == len(REGISTERED)
    assert s._rows("SELECT note FROM notes") == [{"note": "kept"}]
    # The store still works as before on the migrated schema.
    s.cache_assessment(Assessment(paper_id="2602.00001", relevant=True, score=70, hype=40,
                                  rationale="r", prompt_hash="h1", model="m"))
    p = Paper(arxiv_id="2602.00001", title="P", abstract="An abstract.")
    assert s.cached_assessment(p, "h1", "m") is not None
    s.close()


def test_a_migration_another_process_applied_meanwhile_is_not_applied_again(tmp_path: Path
                                                                           ) -> None:
    # Two first runs on a fresh data dir: both read "nothing applied", the first applies every
    # migration, then the second gets the write lock. Before, it ran them again and failed
    # ("duplicate column name ... fix it", exit 13).
    first = Store(tmp_path / "flashnews.sqlite")
    second = Store(tmp_path / "flashnews.sqlite")
    record = ("INSERT INTO schema_migrations (version, name) SELECT COALESCE(MAX(version), 0)"
              " + 1, '{}' FROM schema_migrations")
    for name, fn in REGISTERED.items():  # what the second process would do with a stale read
        second._apply_sqlite(name, fn(), record.format(name))
    assert len(_recorded(second)) == len(REGISTERED)
    first.close()
    second.close()


def test_two_first_runs_at_once_both_open_the_store(tmp_path: Path) -> None:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.map(_open_store, [str(tmp_path / "fresh.sqlite")] * 4)
    assert results == [len(REGISTERED)] * 4


def _open_store(path: str) -> int:
    s = Store(Path(path))
    try:
        return len(_recorded(s))
    finally:
        s.close()
