"""flashnews' own tables (editions, papers, assessment cache, run ledger, outbox).

SQLite by default, in the same file as the LangGraph checkpoints; PostgreSQL when
`FLASHNEWS_DATABASE_URL=postgresql://…`. One schema, written in the SQL both understand, with
named migrations; the few differences (placeholders, auto-increment ids) are translated here.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

from flashnews.errors import ConfigError, StorageError
from flashnews.models import Assessment, Decision, Example, ModelCall, Paper, RepoEvent, RepoLink

Migration = Callable[[], str]
"""A migration: a function named `mNNN_what` that returns its SQL (portable: both backends)."""

REGISTERED: dict[str, Migration] = {}
"""Every migration by name, in the order they apply; a database records the names it applied."""


def migration(fn: Migration) -> Migration:
    """Register a migration under its function's name (applied once per database, in order)."""
    if fn.__name__ in REGISTERED:
        raise ValueError(f"migration {fn.__name__} is registered twice")
    REGISTERED[fn.__name__] = fn
    return fn


@migration
def m001_initial() -> str:
    """The first schema."""
    return """
    CREATE TABLE editions (
        id TEXT PRIMARY KEY,
        date TEXT NOT NULL,
        format TEXT NOT NULL,
        status TEXT NOT NULL,
        step TEXT,
        message TEXT,
        path TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        published_at TEXT
    );
    CREATE TABLE papers (
        edition_id TEXT NOT NULL,
        arxiv_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (edition_id, arxiv_id)
    );
    CREATE TABLE assessments (
        paper_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        prompt_hash TEXT NOT NULL,
        model TEXT NOT NULL,
        record TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (paper_id, version, prompt_hash, model)
    );
    CREATE TABLE published_items (
        edition_id TEXT NOT NULL,
        paper_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (edition_id, paper_id)
    );
    CREATE TABLE ledger (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        edition_id TEXT NOT NULL,
        role TEXT NOT NULL,
        model TEXT NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        seconds REAL NOT NULL,
        ok INTEGER NOT NULL,
        prompt_hash TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX ledger_edition ON ledger (edition_id);
    CREATE TABLE outbox (
        edition_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        status TEXT NOT NULL,
        target TEXT,
        delivered_at TEXT,
        PRIMARY KEY (edition_id, channel)
    );
    """


@migration
def m002_revisions() -> str:
    """Outbox per revision (corrections re-deliver every channel once), delivery attempts,
    corrections, and explicit order columns (PostgreSQL has no rowid).
    """
    return """
    ALTER TABLE papers ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE published_items ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE editions ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE corrections (
        edition_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        note TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (edition_id, revision)
    );
    CREATE TABLE outbox_v2 (
        edition_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        revision INTEGER NOT NULL,
        status TEXT NOT NULL,
        target TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        updated_at TEXT,
        delivered_at TEXT,
        PRIMARY KEY (edition_id, channel, revision)
    );
    INSERT INTO outbox_v2 SELECT edition_id, channel, 0, status, target, 1, NULL, delivered_at,
        delivered_at FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v2 RENAME TO outbox;
    CREATE TABLE publications (
        edition_id TEXT PRIMARY KEY,
        out_dir TEXT NOT NULL,
        revision INTEGER NOT NULL,
        record TEXT NOT NULL,
        published_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """


@migration
def m003_decisions() -> str:
    """The editor's decisions at review (plain types and a composite key: portable SQL)."""
    return """
    CREATE TABLE decisions (
        edition_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        editor TEXT NOT NULL,
        command TEXT NOT NULL,
        args TEXT NOT NULL,
        reason TEXT NOT NULL,
        round INTEGER NOT NULL,
        paper_id TEXT,
        context TEXT NOT NULL,
        PRIMARY KEY (edition_id, seq)
    );
    """


@migration
def m004_embeddings() -> str:
    """Sentence embeddings of papers for the ranking stage (a vector as base64 float32 text:
    portable SQL), keyed by the embedding model and the text embedded.
    """
    return """
    CREATE TABLE embeddings (
        paper_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        model TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        vector TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (paper_id, version, model, text_hash)
    );
    """


@migration
def m005_examples() -> str:
    """The editor's decisions as labelled examples for the learned ranker (the paper's record
    kept with it, so the example outlives the day's papers)."""
    return """
    CREATE TABLE examples (
        edition_id TEXT NOT NULL,
        paper_id TEXT NOT NULL,
        at TEXT NOT NULL,
        command TEXT NOT NULL,
        featured INTEGER NOT NULL,
        score REAL,
        hype REAL,
        weight REAL NOT NULL,
        model REAL,
        paper TEXT NOT NULL,
        PRIMARY KEY (edition_id, paper_id)
    );
    """


@migration
def m006_search() -> str:
    """The archive's search documents: one per published item, item claim and editor note,
    derived from the publications (tools/search.py). The word index over them is the backend's
    own (SQLite FTS5 or PostgreSQL full-text), created by `Store.ensure_search_index`."""
    return """
    CREATE TABLE search_docs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        edition_id TEXT NOT NULL,
        stamp TEXT NOT NULL,
        date TEXT NOT NULL,
        format TEXT NOT NULL,
        paper_id TEXT,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        link TEXT NOT NULL,
        score INTEGER,
        hype INTEGER,
        body TEXT NOT NULL,
        vector TEXT
    );
    CREATE INDEX search_docs_edition ON search_docs (edition_id);
    """


@migration
def m007_repo_links() -> str:
    """The code, weights and data repositories each featured paper names, with their last check
    (tools/repos.py), and every change `flashnews recheck` finds (for the weekly edition)."""
    return """
    CREATE TABLE repo_links (
        paper_id TEXT NOT NULL,
        url TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        found_in TEXT NOT NULL,
        status TEXT NOT NULL,
        http_status INTEGER,
        final_url TEXT,
        first_seen TEXT NOT NULL,
        checked_at TEXT,
        PRIMARY KEY (paper_id, url)
    );
    CREATE TABLE repo_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        paper_id TEXT NOT NULL,
        event TEXT NOT NULL,
        kind TEXT NOT NULL,
        url TEXT NOT NULL,
        detail TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX repo_events_at ON repo_events (at);
    """


MIGRATIONS: list[str] = [fn() for fn in REGISTERED.values()]
"""The migrations' SQL in order (the first is the schema of the oldest databases)."""


def utc_now() -> str:
    """Now, UTC, to the second, ISO 8601 (every timestamp flashnews stores)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def is_postgres(url: str | None) -> bool:
    return url is not None and url.split(":", 1)[0] in ("postgresql", "postgres")


class EditionRow(BaseModel):
    """An edition as the store knows it."""

    id: str
    date: str
    format: str
    status: str
    step: str | None = None
    message: str | None = None
    path: str | None = None
    created_at: str
    updated_at: str
    published_at: str | None = None
    revision: int = 0
    """0 until the edition is corrected; each published correction adds one."""


class Correction(BaseModel):
    """A published edition reopened and published again, with the editor's note."""

    edition_id: str
    revision: int
    note: str
    at: str


class Delivery(BaseModel):
    """One outbox row: a channel of one revision of an edition."""

    edition_id: str
    channel: str
    revision: int
    status: str
    target: str | None = None
    attempts: int = 0
    error: str | None = None
    updated_at: str | None = None
    delivered_at: str | None = None


class Usage(BaseModel):
    """Model calls and tokens summed over a ledger selection."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    failed: int = 0


class Store:
    """flashnews' tables on SQLite (a file path) or PostgreSQL (a URL).

    One connection, shared by the threads of one process under a lock.
    """

    def __init__(self, path: Path | None = None, *, url: str | None = None) -> None:
        self._lock = threading.RLock()
        self.path = path
        self.url = url if is_postgres(url) else None
        if self.url:
            self._conn: Any = pg_connect(self.url)
        else:
            if path is None:
                raise ConfigError("the store needs a SQLite path or a postgresql:// URL")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise storage_error(exc, path, when="opening") from None
            try:
                self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
                self._conn.execute("PRAGMA busy_timeout=30000")
                _wal(self._conn)
            except sqlite3.Error as exc:
                raise storage_error(exc, path, when="opening") from None
        try:
            self._migrate()
        except sqlite3.Error as exc:
            self._conn.close()
            raise storage_error(exc, path, when="opening") from None

    @classmethod
    def open(cls, settings: Any) -> Store:
        """The store a Settings object points at."""
        url = settings.database_url.get_secret_value() if settings.database_url else None
        return cls(settings.db_path, url=url)

    @property
    def backend(self) -> str:
        return "postgres" if self.url else "sqlite"

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # SQL both backends run: `?` placeholders become `%s` on PostgreSQL.
    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.url else sql

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._conn.execute(self._sql(sql), tuple(args))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def _row(self, sql: str, args: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self._rows(sql, args)
        return rows[0] if rows else None

    @contextmanager
    def _tx(self, *, immediate: bool = False) -> Iterator[Any]:
        """A transaction; yields an object with execute/executemany taking `?` SQL.

        `immediate` (SQLite): take the write lock first. A transaction that reads and then
        writes can otherwise fail at once with "database is locked" when another process wrote
        in between (SQLite does not wait for a stale read snapshot).
        """
        with self._lock:
            if self.url:
                with self._conn.transaction():
                    yield _Translating(self._conn, self._sql)
            else:
                with self._conn:
                    if immediate:
                        self._conn.execute("BEGIN IMMEDIATE")
                    yield _Translating(self._conn, self._sql)

    def _migrate(self) -> None:
        """Apply every registered migration this database has not recorded, by name, in order.

        `schema_migrations` holds one row per migration applied: its name, and `version`, the
        order it was applied in. Databases from before names were recorded hold versions only
        (1 for the first migration in the list, ...): their names are filled in once, here.
        """
        with self._tx(immediate=True) as c:
            if self.url:
                # Two processes starting at once must not both migrate.
                c.execute("SELECT pg_advisory_xact_lock(4242)")
            c.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                      " name TEXT)")
            columns = [d[0] for d in c.execute("SELECT * FROM schema_migrations LIMIT 0"
                                               ).description]
            if "name" not in columns:
                c.execute("ALTER TABLE schema_migrations ADD COLUMN name TEXT")
                for number, name in enumerate(REGISTERED, start=1):
                    c.execute("UPDATE schema_migrations SET name=? WHERE version=?",
                              (name, number))
            c.execute("CREATE UNIQUE INDEX IF NOT EXISTS schema_migrations_name"
                      " ON schema_migrations (name)")
        done = {r["name"] for r in self._rows("SELECT name FROM schema_migrations")}
        record = ("INSERT INTO schema_migrations (version, name) SELECT COALESCE(MAX(version), 0)"
                  " + 1, '{}' FROM schema_migrations")
        for name, fn in REGISTERED.items():
            if name in done:
                continue
            sql = fn()
            if self.url:
                with self._lock, self._conn.transaction():
                    self._conn.execute("SELECT pg_advisory_xact_lock(4242)")
                    if self._conn.execute("SELECT 1 FROM schema_migrations WHERE name=%s",
                                          (name,)).fetchone():
                        continue
                    pg = sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
                    self._conn.execute(pg)  # several statements: allowed without parameters
                    self._conn.execute(record.format(name))
            else:
                self._apply_sqlite(name, sql, record.format(name))

    def _apply_sqlite(self, name: str, sql: str, record: str) -> None:
        """Apply one migration under SQLite's write lock, unless another process applied it
        while this one was reading: two first runs on a fresh data dir must not both apply it
        (the second failed with "duplicate column name")."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")  # the write lock, or wait busy_timeout for it
            try:
                if self._conn.execute("SELECT 1 FROM schema_migrations WHERE name=?",
                                      (name,)).fetchone() is None:
                    for statement in (st.strip() for st in sql.split(";")):
                        if statement:
                            self._conn.execute(statement)
                    # The name is a Python identifier (a registered function's): safe in SQL.
                    self._conn.execute(record)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # editions -------------------------------------------------------------------------------
    def edition(self, edition_id: str) -> EditionRow | None:
        row = self._row("SELECT * FROM editions WHERE id=?", (edition_id,))
        return EditionRow(**row) if row else None

    def editions(self) -> list[EditionRow]:
        return [EditionRow(**r) for r in self._rows("SELECT * FROM editions ORDER BY date, format")]

    def set_edition(self, edition_id: str, *, status: str, step: str | None = None,
                    message: str | None = None, path: str | None = None) -> None:
        date, fmt = edition_id.rsplit("-", 1)
        now = utc_now()
        with self._tx() as c:
            c.execute(
                """INSERT INTO editions (id, date, format, status, step, message, path,
                       created_at, updated_at, published_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET status=excluded.status, step=excluded.step,
                       message=excluded.message, path=COALESCE(excluded.path, editions.path),
                       updated_at=excluded.updated_at,
                       published_at=COALESCE(editions.published_at, excluded.published_at)""",
                (edition_id, date, fmt, status, step, message, path, now, now,
                 now if status == "published" else None),
            )

    # corrections ----------------------------------------------------------------------------
    def open_correction(self, edition_id: str, note: str) -> int:
        """Reopen a published edition: the next revision, with the editor's note."""
        with self._tx() as c:
            row = c.execute("SELECT status, revision FROM editions WHERE id=?",
                            (edition_id,)).fetchone()
            revision = int(row[1]) + 1
            c.execute("INSERT INTO corrections (edition_id, revision, note, at) VALUES (?, ?, ?, ?)"
                      " ON CONFLICT (edition_id, revision) DO UPDATE SET note=excluded.note,"
                      " at=excluded.at", (edition_id, revision, note, utc_now()))
            c.execute("UPDATE editions SET status='correcting', step='review', updated_at=?"
                      " WHERE id=?", (utc_now(), edition_id))
        return revision

    def corrections(self, edition_id: str) -> list[Correction]:
        rows = self._rows("SELECT * FROM corrections WHERE edition_id=? ORDER BY revision",
                          (edition_id,))
        return [Correction(**r) for r in rows]

    def finish_correction(self, edition_id: str, revision: int) -> None:
        """The correction is published in every channel: the edition's revision moves on."""
        with self._tx() as c:
            c.execute("UPDATE corrections SET at=? WHERE edition_id=? AND revision=?",
                      (utc_now(), edition_id, revision))
            c.execute("UPDATE editions SET revision=? WHERE id=?", (revision, edition_id))

    # papers ---------------------------------------------------------------------------------
    def save_papers(self, edition_id: str, papers: Iterable[Paper]) -> None:
        with self._tx() as c:
            c.executemany(
                "INSERT INTO papers (edition_id, arxiv_id, version, record, position)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (edition_id, arxiv_id) DO UPDATE SET"
                " version=excluded.version, record=excluded.record, position=excluded.position",
                [(edition_id, p.arxiv_id, p.version, p.model_dump_json(), i)
                 for i, p in enumerate(papers)],
            )

    def papers(self, edition_id: str) -> dict[str, Paper]:
        rows = self._rows("SELECT record FROM papers WHERE edition_id=? ORDER BY position,"
                          " arxiv_id", (edition_id,))
        papers = [Paper.model_validate_json(r["record"]) for r in rows]
        return {p.arxiv_id: p for p in papers}

    def paper_records(self, arxiv_id: str) -> list[tuple[str, Paper]]:
        """Every edition that fetched a paper, with the record it stored, newest day first."""
        rows = self._rows("SELECT edition_id, record FROM papers WHERE arxiv_id=?"
                          " ORDER BY edition_id DESC", (arxiv_id,))
        return [(r["edition_id"], Paper.model_validate_json(r["record"])) for r in rows]

    def featuring(self, arxiv_id: str) -> list[str]:
        """The JSON records of the published editions that featured a paper, oldest first."""
        rows = self._rows("SELECT p.record FROM published_items i JOIN publications p"
                          " ON p.edition_id = i.edition_id WHERE i.paper_id=?"
                          " ORDER BY i.edition_id", (arxiv_id,))
        return [r["record"] for r in rows]

    def latest_publication(self, fmt: str | None = None) -> str | None:
        """The JSON record of the latest published edition (of one format, if given): the
        latest day, then the latest published that day."""
        where = " WHERE e.format=?" if fmt else ""
        row = self._row("SELECT p.record FROM publications p JOIN editions e ON e.id ="
                        f" p.edition_id{where} ORDER BY e.date DESC, p.published_at DESC,"
                        " p.edition_id DESC LIMIT 1", (fmt,) if fmt else ())
        return row["record"] if row else None

    # assessment cache ----------------------------------------------------------------------
    def cached_assessment(self, paper: Paper, prompt_hash: str, model: str) -> Assessment | None:
        row = self._row(
            "SELECT record FROM assessments WHERE paper_id=? AND version=? AND prompt_hash=?"
            " AND model=?", (paper.arxiv_id, paper.version, prompt_hash, model))
        return Assessment.model_validate_json(row["record"]) if row else None

    def cache_assessment(self, a: Assessment) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO assessments (paper_id, version, prompt_hash, model, record,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (paper_id, version,"
                " prompt_hash, model) DO UPDATE SET record=excluded.record,"
                " created_at=excluded.created_at",
                (a.paper_id, a.version, a.prompt_hash, a.model, a.model_dump_json(), utc_now()),
            )

    # embeddings (the ranking stage) ---------------------------------------------------------
    def cached_embeddings(self, model: str, keys: Sequence[tuple[str, int, str]]
                          ) -> dict[tuple[str, int, str], bytes]:
        """Stored vectors for (paper id, version, text hash) keys, as raw float32 bytes."""
        import base64

        wanted = set(keys)
        out: dict[tuple[str, int, str], bytes] = {}
        ids = sorted({k[0] for k in wanted})
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._rows(f"SELECT paper_id, version, text_hash, vector FROM embeddings"
                                f" WHERE model=? AND paper_id IN ({marks})", [model, *chunk]):
                key = (r["paper_id"], int(r["version"]), r["text_hash"])
                if key in wanted:
                    out[key] = base64.b64decode(r["vector"])
        return out

    def cache_embeddings(self, model: str, rows: Iterable[tuple[str, int, str, bytes]]) -> None:
        """Store vectors: (paper id, version, text hash, raw float32 bytes) each."""
        import base64

        now = utc_now()
        with self._tx() as c:
            c.executemany(
                "INSERT INTO embeddings (paper_id, version, model, text_hash, vector, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (paper_id, version, model, text_hash)"
                " DO NOTHING",
                [(pid, v, model, h, base64.b64encode(vec).decode(), now)
                 for pid, v, h, vec in rows])

    def featured_before(self, edition_id: str, limit: int = 200) -> list[Paper]:
        """Papers featured in editions of earlier days, newest first (the editors' taste)."""
        day = edition_id.rsplit("-", 1)[0] if edition_id[:4].isdigit() else "9999-12-31"
        rows = self._rows(
            "SELECT i.edition_id, i.paper_id, p.record FROM published_items i"
            " JOIN papers p ON p.edition_id = i.edition_id AND p.arxiv_id = i.paper_id"
            " WHERE substr(i.edition_id, 1, 10) < ? ORDER BY i.edition_id DESC, i.position",
            (day[:10],))
        seen: dict[str, Paper] = {}
        for r in rows:
            if r["paper_id"] not in seen:
                seen[r["paper_id"]] = Paper.model_validate_json(r["record"])
            if len(seen) >= limit:
                break
        return list(seen.values())

    # published items (cross-edition memory) ------------------------------------------------
    def mark_published(self, edition_id: str, items: Iterable[tuple[str, int]]) -> None:
        with self._tx() as c:
            c.executemany(
                "INSERT INTO published_items (edition_id, paper_id, version, position)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (edition_id, paper_id) DO UPDATE SET"
                " version=excluded.version, position=excluded.position",
                [(edition_id, pid, v, i) for i, (pid, v) in enumerate(items)])

    def published_elsewhere(self, edition_id: str) -> dict[str, str]:
        """Papers featured on other days: arXiv id -> the edition that featured it first.

        The flash and digest editions of one day cover the same papers, so they do not exclude
        each other.
        """
        return {pid: ed for pid, (ed, _) in self.published_versions(edition_id).items()}

    def published_versions(self, edition_id: str) -> dict[str, tuple[str, int]]:
        """Papers featured on other days: arXiv id -> (first edition, highest version featured)."""
        day = edition_id.rsplit("-", 1)[0]
        rows = self._rows(
            "SELECT paper_id, MIN(edition_id) AS ed, MAX(version) AS v FROM published_items"
            " WHERE substr(edition_id, 1, 10) != ? GROUP BY paper_id", (day,))
        return {r["paper_id"]: (r["ed"], r["v"]) for r in rows}

    def history(self) -> list[dict[str, Any]]:
        """Published editions with their featured papers (id, version, title), oldest first."""
        rows = self._rows(
            "SELECT e.id, e.published_at, e.path, e.revision, i.paper_id, i.version, p.record"
            " FROM editions e JOIN published_items i ON i.edition_id = e.id"
            " LEFT JOIN papers p ON p.edition_id = e.id AND p.arxiv_id = i.paper_id"
            " WHERE e.status = 'published' ORDER BY e.date, e.format, i.position")
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            entry = out.setdefault(r["id"], {"edition": r["id"], "published_at": r["published_at"],
                                             "path": r["path"], "revision": r["revision"],
                                             "papers": []})
            title = Paper.model_validate_json(r["record"]).title if r["record"] else ""
            entry["papers"].append({"arxiv_id": r["paper_id"],
                                    "version": r["version"], "title": title})
        return list(out.values())

    # ledger ---------------------------------------------------------------------------------
    def record_call(self, call: ModelCall) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO ledger (edition_id, role, model, input_tokens, output_tokens, seconds,"
                " ok, prompt_hash, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (call.edition_id, call.role, call.model, call.input_tokens, call.output_tokens,
                 call.seconds, int(call.ok), call.prompt_hash, utc_now()),
            )

    def usage(self, edition_id: str | None = None) -> dict[str, Usage]:
        """Ledger totals per role (and 'total'), for one edition or all."""
        sql = ("SELECT role, COUNT(*) AS n, SUM(input_tokens) AS tin, SUM(output_tokens) AS tout,"
               " SUM(seconds) AS secs, SUM(1 - ok) AS failed FROM ledger")
        args: tuple[str, ...] = ()
        if edition_id:
            sql += " WHERE edition_id=?"
            args = (edition_id,)
        out: dict[str, Usage] = {}
        total = Usage()
        for r in self._rows(sql + " GROUP BY role", args):
            u = Usage(calls=r["n"], input_tokens=r["tin"] or 0, output_tokens=r["tout"] or 0,
                      seconds=round(float(r["secs"] or 0.0), 2), failed=r["failed"] or 0)
            out[r["role"]] = u
            total = Usage(calls=total.calls + u.calls,
                          input_tokens=total.input_tokens + u.input_tokens,
                          output_tokens=total.output_tokens + u.output_tokens,
                          seconds=round(total.seconds + u.seconds, 2),
                          failed=total.failed + u.failed)
        out["total"] = total
        return out

    # outbox ---------------------------------------------------------------------------------
    def delivered(self, edition_id: str, channel: str, revision: int = 0) -> str | None:
        """The target a channel was delivered to, or None if it was not (yet)."""
        row = self._row(
            "SELECT target FROM outbox WHERE edition_id=? AND channel=? AND revision=?"
            " AND status='delivered'", (edition_id, channel, revision))
        return row["target"] if row else None

    def deliveries(self, edition_id: str) -> list[Delivery]:
        rows = self._rows("SELECT * FROM outbox WHERE edition_id=? ORDER BY revision, channel",
                          (edition_id,))
        return [Delivery(**r) for r in rows]

    def delivery(self, edition_id: str, channel: str, revision: int = 0) -> Delivery | None:
        """The outbox row of one channel of one revision, or None before any attempt."""
        row = self._row("SELECT * FROM outbox WHERE edition_id=? AND channel=? AND revision=?",
                        (edition_id, channel, revision))
        return Delivery(**row) if row else None

    def start_attempt(self, edition_id: str, channel: str, revision: int, *,
                      target: str | None) -> None:
        """Record that a delivery is about to be sent (status `sending`), before sending it.

        A row still `sending` when the next run looks at it means the run stopped between
        sending and recording: the outcome is unknown (the Publisher decides what to do).
        """
        now = utc_now()
        with self._tx() as c:
            c.execute(
                "INSERT INTO outbox (edition_id, channel, revision, status, target, attempts,"
                " error, updated_at, delivered_at) VALUES (?, ?, ?, 'sending', ?, 1, NULL, ?,"
                " NULL) ON CONFLICT (edition_id, channel, revision) DO UPDATE SET"
                " status='sending', target=COALESCE(excluded.target, outbox.target),"
                " attempts=outbox.attempts + 1, error=NULL, updated_at=excluded.updated_at",
                (edition_id, channel, revision, target, now))

    def record_attempt(self, edition_id: str, channel: str, revision: int, *,
                       target: str | None, error: str | None) -> None:
        """The outcome of the attempt start_attempt recorded: delivered (error None) or failed
        with its one-line error."""
        now = utc_now()
        status = "failed" if error else "delivered"
        with self._tx() as c:
            c.execute(
                "INSERT INTO outbox (edition_id, channel, revision, status, target, attempts,"
                " error, updated_at, delivered_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)"
                " ON CONFLICT (edition_id, channel, revision) DO UPDATE SET"
                " status=excluded.status, target=COALESCE(excluded.target, outbox.target),"
                " error=excluded.error, updated_at=excluded.updated_at,"
                " delivered_at=excluded.delivered_at",
                (edition_id, channel, revision, status, target, error, now,
                 None if error else now))

    # publications (what the feed lists) ------------------------------------------------------
    def save_publication(self, pub: BaseModel, out_dir: str) -> None:
        """The latest revision of an edition as published (without its assessments)."""
        record = pub.model_dump_json(exclude={"assessments"})
        data = pub.model_dump(include={"edition_id", "revision", "published_at", "updated_at"})
        with self._tx() as c:
            c.execute(
                "INSERT INTO publications (edition_id, out_dir, revision, record, published_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (edition_id) DO UPDATE SET"
                " out_dir=excluded.out_dir, revision=excluded.revision, record=excluded.record,"
                " updated_at=excluded.updated_at",
                (data["edition_id"], out_dir, data["revision"], record, data["published_at"],
                 data["updated_at"]))

    def publication_records(self, out_dir: str) -> list[str]:
        """JSON records of the editions published to one output dir, oldest first."""
        rows = self._rows("SELECT record FROM publications WHERE out_dir=? ORDER BY edition_id",
                          (out_dir,))
        return [r["record"] for r in rows]

    def publication_dir(self, edition_id: str) -> str | None:
        row = self._row("SELECT out_dir FROM publications WHERE edition_id=?", (edition_id,))
        return row["out_dir"] if row else None

    def publication_stamps(self) -> dict[str, tuple[int, str]]:
        """Every publication's (revision, updated_at), by edition (what the search index is
        kept in step with)."""
        rows = self._rows("SELECT edition_id, revision, updated_at FROM publications")
        return {r["edition_id"]: (int(r["revision"]), r["updated_at"]) for r in rows}

    def publication_record(self, edition_id: str) -> str | None:
        """The JSON record of an edition's latest published revision."""
        row = self._row("SELECT record FROM publications WHERE edition_id=?", (edition_id,))
        return row["record"] if row else None

    def latest_assessment(self, paper_id: str) -> Assessment | None:
        """The newest cached triage verdict on a paper (any version, prompt or model)."""
        row = self._row("SELECT record FROM assessments WHERE paper_id=? ORDER BY version DESC,"
                        " created_at DESC LIMIT 1", (paper_id,))
        return Assessment.model_validate_json(row["record"]) if row else None

    def decision_counts(self) -> dict[str, int]:
        """How many decisions each edition has (a new one re-indexes the edition's notes)."""
        rows = self._rows("SELECT edition_id, COUNT(*) AS n FROM decisions GROUP BY edition_id")
        return {r["edition_id"]: int(r["n"]) for r in rows}

    # the archive's search documents (tools/search.py) ---------------------------------------
    def ensure_search_index(self) -> None:
        """The backend's word index over search_docs (idempotent): an FTS5 table on SQLite
        (porter stemming), a GIN expression index on PostgreSQL (english configuration)."""
        with self._tx() as c:
            if self.url:
                # Two processes creating the index at once would race (PostgreSQL's IF NOT
                # EXISTS is not atomic): one at a time.
                c.execute("SELECT pg_advisory_xact_lock(4243)")
                c.execute("CREATE INDEX IF NOT EXISTS search_docs_words ON search_docs USING GIN"
                          f" ({_PG_DOC})")
            else:
                c.execute("CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, body,"
                          " tokenize='porter unicode61')")

    def search_stamps(self) -> dict[str, str]:
        """The stamp each indexed edition's documents were built from."""
        rows = self._rows("SELECT edition_id, MAX(stamp) AS stamp FROM search_docs"
                          " GROUP BY edition_id")
        return {r["edition_id"]: r["stamp"] for r in rows}

    def replace_search_docs(self, edition_id: str, docs: Sequence[dict[str, Any]]) -> None:
        """An edition's search documents, replacing what was indexed for it (one transaction:
        a search never sees half an edition)."""
        cols = ("edition_id", "stamp", "date", "format", "paper_id", "kind", "title", "link",
                "score", "hype", "body", "vector")
        with self._tx(immediate=True) as c:
            if self.url:
                # Two syncs of one edition at once (two server threads, the CLI beside the
                # server) must not both insert: one at a time per edition.
                c.execute("SELECT pg_advisory_xact_lock(4244, hashtext(?))", (edition_id,))
            else:
                c.execute("DELETE FROM search_fts WHERE rowid IN (SELECT id FROM search_docs"
                          " WHERE edition_id=?)", (edition_id,))
            c.execute("DELETE FROM search_docs WHERE edition_id=?", (edition_id,))
            for d in docs:
                cur = c.execute(f"INSERT INTO search_docs ({', '.join(cols)}) VALUES"
                                f" ({', '.join('?' * len(cols))}) RETURNING id",
                                tuple(d.get(k) for k in cols))
                doc_id = cur.fetchone()[0]
                if not self.url:
                    c.execute("INSERT INTO search_fts (rowid, title, body) VALUES (?, ?, ?)",
                              (doc_id, d["title"], d["body"]))

    def search_words(self, match: str, *, since: str | None, limit: int) -> list[int]:
        """Ids of the documents the word query matches, best first. `match` is the backend's
        query syntax, built by tools/search.py from plain words only."""
        day = since or "0000-00-00"
        if self.url:
            rows = self._rows(
                f"SELECT id FROM search_docs WHERE date >= ? AND {_PG_DOC} @@"
                f" to_tsquery('english', ?) ORDER BY ts_rank_cd({_PG_DOC},"
                " to_tsquery('english', ?)) DESC, id LIMIT ?", (day, match, match, limit))
        else:
            rows = self._rows(
                "SELECT d.id FROM search_fts f JOIN search_docs d ON d.id = f.rowid"
                " WHERE search_fts MATCH ? AND d.date >= ? ORDER BY bm25(search_fts, 2.0, 1.0),"
                " d.id LIMIT ?", (match, day, limit))
        return [int(r["id"]) for r in rows]

    def search_docs(self, ids: Sequence[int] | None = None, *, with_vectors: bool = False
                    ) -> list[dict[str, Any]]:
        """Search documents by id (all when `ids` is None), without or with their vectors."""
        cols = "id, edition_id, date, format, paper_id, kind, title, link, score, hype, body" + (
            ", vector" if with_vectors else "")
        if ids is None:
            return self._rows(f"SELECT {cols} FROM search_docs ORDER BY id")
        out: list[dict[str, Any]] = []
        wanted = list(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            out += self._rows(f"SELECT {cols} FROM search_docs WHERE id IN"
                              f" ({','.join('?' * len(chunk))})", chunk)
        return out

    def search_version(self) -> tuple[int, int]:
        """(documents, highest id): changes whenever the index does (the vector cache's key)."""
        row = self._row("SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS top FROM search_docs")
        assert row is not None
        return int(row["n"]), int(row["top"])

    # repositories a paper names (tools/repos.py) ----------------------------------------------
    def save_repo_links(self, paper_id: str, links: Iterable[RepoLink],
                        events: Iterable[RepoEvent] = ()) -> None:
        """Store a paper's links (one row per URL; its first sighting is kept) and the changes
        a check found, in one transaction."""
        rows = [(paper_id, k.url, k.kind, k.name, k.found_in, k.status, k.http_status,
                 k.final_url, k.first_seen or utc_now(), k.checked_at) for k in links]
        found = [(e.paper_id, e.event, e.kind, e.url, e.detail, e.at) for e in events]
        with self._tx() as c:
            c.executemany(
                "INSERT INTO repo_links (paper_id, url, kind, name, found_in, status,"
                " http_status, final_url, first_seen, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?,"
                " ?, ?, ?) ON CONFLICT (paper_id, url) DO UPDATE SET kind=excluded.kind,"
                " name=excluded.name, status=excluded.status,"
                " http_status=excluded.http_status, final_url=excluded.final_url,"
                " checked_at=COALESCE(excluded.checked_at, repo_links.checked_at)", rows)
            c.executemany(
                "INSERT INTO repo_events (paper_id, event, kind, url, detail, at)"
                " VALUES (?, ?, ?, ?, ?, ?)", found)

    def repo_links(self, paper_id: str) -> list[RepoLink]:
        """The repositories a paper names, in the order they were first seen."""
        rows = self._rows("SELECT * FROM repo_links WHERE paper_id=? ORDER BY first_seen, url",
                          (paper_id,))
        return [RepoLink(**r) for r in rows]

    def repo_events(self, since: str) -> list[RepoEvent]:
        """Changes found on or after `since` (an ISO date or timestamp, UTC), oldest first:
        "code released" …, for the weekly edition."""
        rows = self._rows("SELECT paper_id, event, kind, url, detail, at FROM repo_events"
                          " WHERE at >= ? ORDER BY at, id", (since,))
        return [RepoEvent(**r) for r in rows]

    def featured_since(self, since: str) -> list[tuple[str, str, str]]:
        """Papers featured in editions first published on or after `since` (ISO, UTC):
        (paper id, the edition that featured it, when it was published), newest first, each
        paper once."""
        rows = self._rows(
            "SELECT i.paper_id, e.id, e.published_at FROM published_items i"
            " JOIN editions e ON e.id = i.edition_id WHERE e.published_at IS NOT NULL"
            " AND e.format != 'weekly'"
            " AND e.published_at >= ? ORDER BY e.published_at DESC, e.id, i.position", (since,))
        seen: dict[str, tuple[str, str, str]] = {}
        for r in rows:
            seen.setdefault(r["paper_id"], (r["paper_id"], r["id"], r["published_at"]))
        return list(seen.values())

    # editor decisions -----------------------------------------------------------------------
    def record_decision(self, d: Decision) -> None:
        """Store a decision; recording the same (edition, seq) again is a no-op (a node that
        re-runs after a crash records nothing twice)."""
        with self._tx() as c:
            c.execute(
                "INSERT INTO decisions (edition_id, seq, at, editor, command, args, reason, round,"
                " paper_id, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (edition_id, seq) DO NOTHING",
                (d.edition_id, d.seq, d.at, d.editor, d.command, json.dumps(d.args), d.reason,
                 d.round, d.paper_id, json.dumps(d.context)),
            )

    def decisions(self, edition_id: str) -> list[Decision]:
        """An edition's decisions in the order they were made."""
        rows = self._rows("SELECT * FROM decisions WHERE edition_id=? ORDER BY seq",
                          (edition_id,))
        return [Decision(**{**r, "args": json.loads(r["args"]),
                            "context": json.loads(r["context"])}) for r in rows]

    # the editor's examples (the learned ranker's labels) ----------------------------------------
    def record_examples(self, examples: Iterable[Example]) -> None:
        """Store examples; a later one on the same paper of the same edition replaces it (pin,
        then drop: the drop counts)."""
        rows = [(e.edition_id, e.paper.arxiv_id, e.at, e.command, int(e.featured), e.score,
                 e.hype, e.weight, e.model, e.paper.model_dump_json()) for e in examples]
        if not rows:
            return
        with self._tx() as c:
            c.executemany(
                "INSERT INTO examples (edition_id, paper_id, at, command, featured, score, hype,"
                " weight, model, paper) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (edition_id, paper_id) DO UPDATE SET at=excluded.at,"
                " command=excluded.command, featured=excluded.featured, score=excluded.score,"
                " hype=excluded.hype, weight=excluded.weight, model=excluded.model,"
                " paper=excluded.paper", rows)

    def examples(self) -> list[Example]:
        """Every stored example, oldest first."""
        rows = self._rows("SELECT * FROM examples ORDER BY at, edition_id, paper_id")
        return [Example(paper=Paper.model_validate_json(r["paper"]), edition_id=r["edition_id"],
                        at=r["at"], command=r["command"], featured=bool(r["featured"]),
                        score=r["score"], hype=r["hype"], weight=r["weight"], model=r["model"])
                for r in rows]


_PG_DOC = "to_tsvector('english', title || ' ' || body)"
"""The document PostgreSQL's word search indexes and matches (one expression: the index's)."""


class _Translating:
    """A connection view that takes `?` SQL (the store's dialect) on either backend."""

    def __init__(self, conn: Any, translate: Any) -> None:
        self._conn = conn
        self._t = translate

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._conn.execute(self._t(sql), tuple(args))

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if isinstance(self._conn, sqlite3.Connection):
            self._conn.executemany(self._t(sql), rows)
        else:
            with self._conn.cursor() as cur:
                cur.executemany(self._t(sql), rows)


@retry(retry=retry_if_exception(lambda e: isinstance(e, sqlite3.OperationalError)
                                 and "locked" in str(e)),
       wait=wait_exponential(multiplier=0.05, max=1), stop=stop_after_delay(30), reraise=True)
def _wal(conn: sqlite3.Connection) -> None:
    """Switch a SQLite file to WAL (lets the checkpointer's connection and ours work on it at
    once). Two first runs on a fresh file both switch it, and SQLite answers the loser "locked"
    at once, without waiting its busy timeout: wait and try again."""
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode=WAL")


def is_database_error(exc: BaseException) -> bool:
    """Whether an exception comes from the database driver (SQLite or psycopg)."""
    return isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("psycopg")


def storage_error(exc: BaseException, where: Path | str | None, *, when: str = "using",
                  resume: str | None = None) -> StorageError:
    """One line for a database failure: which file (or server), what went wrong, what to do."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    name = redact(str(where)) if where and "://" in str(where) else str(where or "the database")
    low = first.lower()
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        advice = (f"the file is corrupt: move it aside (e.g. mv {name} {name}.broken) and run "
                  "again (a new database is made; its editions start from scratch) or restore "
                  "a backup")
    elif "full" in low or "no space" in low:
        advice = "free disk space, then " + (f"resume with: {resume}" if resume else "run again")
    elif "://" not in name and _read_only(Path(name)):
        return StorageError(
            f"database error {when} {name}: {_read_only(Path(name))} is read-only "
            "(or not writable by this user): make it writable or point FLASHNEWS_HOME "
            "elsewhere")
    else:
        advice = (f"resume with: {resume}" if resume else "fix it and run again")
    return StorageError(f"database error {when} {name}: {first}; {advice}")


def _read_only(path: Path) -> Path | None:
    """The nearest existing folder of `path` (or the file itself) this process cannot write."""
    import os

    if path.exists() and not os.access(path, os.W_OK):
        return path
    for folder in path.parents:
        if folder.exists():
            return None if os.access(folder, os.W_OK) else folder
    return None


def pg_connect(url: str, **options: Any) -> Any:
    """A psycopg connection in autocommit mode (transactions are explicit), or a ConfigError
    naming the server without its password."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigError("FLASHNEWS_DATABASE_URL is PostgreSQL but psycopg is not installed; "
                          "install flashnews[postgres]") from None
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10, **options)
    except psycopg.OperationalError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"cannot connect to PostgreSQL ({redact(url)}): {first}") from None


def redact(url: str) -> str:
    """A database URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        user = f"{parts.username}:***@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        parts = parts._replace(netloc=f"{user}{host}{port}")
    return urlunsplit(parts)

