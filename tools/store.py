"""flashnews' own tables (editions, papers, assessment cache, run ledger, outbox) in SQLite.

They live in the same file as the LangGraph checkpoints. Schema changes are numbered migrations.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel

from flashnews.models import Assessment, Decision, ModelCall, Paper

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
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
    """,
    # 2: the editor's decisions at review (plain types and a composite key: portable SQL)
    """
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
    """,
]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


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


class Usage(BaseModel):
    """Model calls and tokens summed over a ledger selection."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    failed: int = 0


class Store:
    """flashnews' tables in one SQLite file; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._conn.row_factory = sqlite3.Row
        # WAL lets the checkpointer's connection and ours work on the same file.
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._conn:
            yield self._conn

    def _migrate(self) -> None:
        with self._tx() as c:
            c.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
            done = {r[0] for r in c.execute("SELECT version FROM schema_migrations")}
        for number, sql in enumerate(MIGRATIONS, start=1):
            if number in done:
                continue
            with self._tx() as c:
                c.executescript("BEGIN;" + sql + f"; INSERT INTO schema_migrations VALUES ({number});"
                                "COMMIT;")

    # editions -------------------------------------------------------------------------------
    def edition(self, edition_id: str) -> EditionRow | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM editions WHERE id=?", (edition_id,)).fetchone()
        return EditionRow(**dict(row)) if row else None

    def editions(self) -> list[EditionRow]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM editions ORDER BY date, format").fetchall()
        return [EditionRow(**dict(r)) for r in rows]

    def set_edition(self, edition_id: str, *, status: str, step: str | None = None,
                    message: str | None = None, path: str | None = None) -> None:
        date, fmt = edition_id.rsplit("-", 1)
        now = _now()
        with self._tx() as c:
            c.execute(
                """INSERT INTO editions (id, date, format, status, step, message, path,
                       created_at, updated_at, published_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET status=excluded.status, step=excluded.step,
                       message=excluded.message, path=COALESCE(excluded.path, editions.path),
                       updated_at=excluded.updated_at,
                       published_at=COALESCE(excluded.published_at, editions.published_at)""",
                (edition_id, date, fmt, status, step, message, path, now, now,
                 now if status == "published" else None),
            )

    # papers ---------------------------------------------------------------------------------
    def save_papers(self, edition_id: str, papers: Iterable[Paper]) -> None:
        with self._tx() as c:
            c.executemany(
                "INSERT OR REPLACE INTO papers VALUES (?, ?, ?, ?)",
                [(edition_id, p.arxiv_id, p.version, p.model_dump_json()) for p in papers],
            )

    def papers(self, edition_id: str) -> dict[str, Paper]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT record FROM papers WHERE edition_id=? ORDER BY rowid", (edition_id,)
            ).fetchall()
        papers = [Paper.model_validate_json(r[0]) for r in rows]
        return {p.arxiv_id: p for p in papers}

    # assessment cache ----------------------------------------------------------------------
    def cached_assessment(self, paper: Paper, prompt_hash: str, model: str) -> Assessment | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT record FROM assessments WHERE paper_id=? AND version=? AND prompt_hash=?"
                " AND model=?", (paper.arxiv_id, paper.version, prompt_hash, model),
            ).fetchone()
        return Assessment.model_validate_json(row[0]) if row else None

    def cache_assessment(self, a: Assessment) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO assessments VALUES (?, ?, ?, ?, ?, ?)",
                (a.paper_id, a.version, a.prompt_hash, a.model, a.model_dump_json(), _now()),
            )

    # published items (cross-edition memory) ------------------------------------------------
    def mark_published(self, edition_id: str, items: Iterable[tuple[str, int]]) -> None:
        with self._tx() as c:
            c.executemany("INSERT OR REPLACE INTO published_items VALUES (?, ?, ?)",
                          [(edition_id, pid, v) for pid, v in items])

    def published_elsewhere(self, edition_id: str) -> dict[str, str]:
        """Papers featured on other days: arXiv id -> the edition that featured it first.

        The flash and digest editions of one day cover the same papers, so they do not exclude
        each other.
        """
        return {pid: ed for pid, (ed, _) in self.published_versions(edition_id).items()}

    def published_versions(self, edition_id: str) -> dict[str, tuple[str, int]]:
        """Papers featured on other days: arXiv id -> (first edition, highest version featured)."""
        day = edition_id.rsplit("-", 1)[0]
        with self._lock:
            rows = self._conn.execute(
                "SELECT paper_id, MIN(edition_id), MAX(version) FROM published_items"
                " WHERE substr(edition_id, 1, 10) != ? GROUP BY paper_id", (day,),
            ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def history(self) -> list[dict[str, object]]:
        """Published editions with their featured papers (id, version, title), oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT e.id, e.published_at, e.path, i.paper_id, i.version, p.record"
                " FROM editions e JOIN published_items i ON i.edition_id = e.id"
                " LEFT JOIN papers p ON p.edition_id = e.id AND p.arxiv_id = i.paper_id"
                " WHERE e.status = 'published' ORDER BY e.date, e.format, i.rowid").fetchall()
        out: dict[str, dict[str, object]] = {}
        for eid, at, path, pid, version, record in rows:
            entry = out.setdefault(eid, {"edition": eid, "published_at": at, "path": path,
                                         "papers": []})
            title = Paper.model_validate_json(record).title if record else ""
            entry["papers"].append({"arxiv_id": pid, "version": version,  # type: ignore[union-attr]
                                    "title": title})
        return list(out.values())

    # ledger ---------------------------------------------------------------------------------
    def record_call(self, call: ModelCall) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO ledger (edition_id, role, model, input_tokens, output_tokens, seconds,"
                " ok, prompt_hash, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (call.edition_id, call.role, call.model, call.input_tokens, call.output_tokens,
                 call.seconds, int(call.ok), call.prompt_hash, _now()),
            )

    def usage(self, edition_id: str | None = None) -> dict[str, Usage]:
        """Ledger totals per role (and 'total'), for one edition or all."""
        sql = ("SELECT role, COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(seconds),"
               " SUM(1 - ok) FROM ledger")
        args: tuple[str, ...] = ()
        if edition_id:
            sql += " WHERE edition_id=?"
            args = (edition_id,)
        with self._lock:
            rows = self._conn.execute(sql + " GROUP BY role", args).fetchall()
        out: dict[str, Usage] = {}
        total = Usage()
        for role, calls, tin, tout, secs, failed in rows:
            u = Usage(calls=calls, input_tokens=tin or 0, output_tokens=tout or 0,
                      seconds=round(secs or 0.0, 2), failed=failed or 0)
            out[role] = u
            total = Usage(calls=total.calls + u.calls,
                          input_tokens=total.input_tokens + u.input_tokens,
                          output_tokens=total.output_tokens + u.output_tokens,
                          seconds=round(total.seconds + u.seconds, 2),
                          failed=total.failed + u.failed)
        out["total"] = total
        return out

    # outbox ---------------------------------------------------------------------------------
    def delivered(self, edition_id: str, channel: str) -> str | None:
        """The target a channel was delivered to, or None if it was not (yet)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT target FROM outbox WHERE edition_id=? AND channel=? AND status='delivered'",
                (edition_id, channel),
            ).fetchone()
        return row[0] if row else None

    def record_delivery(self, edition_id: str, channel: str, target: str) -> None:
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO outbox VALUES (?, ?, 'delivered', ?, ?)",
                      (edition_id, channel, target, _now()))

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
        with self._lock:
            rows = self._conn.execute(
                "SELECT edition_id, seq, at, editor, command, args, reason, round, paper_id,"
                " context FROM decisions WHERE edition_id=? ORDER BY seq", (edition_id,),
            ).fetchall()
        return [Decision(edition_id=r[0], seq=r[1], at=r[2], editor=r[3], command=r[4],
                         args=json.loads(r[5]), reason=r[6], round=r[7], paper_id=r[8],
                         context=json.loads(r[9])) for r in rows]
