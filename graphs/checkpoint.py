"""The checkpointer: SqliteSaver on the data dir's SQLite file, or PostgresSaver when
`FLASHNEWS_DATABASE_URL` points at PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Durability

from flashnews.config import Settings
from flashnews.errors import ConfigError

# Every step's checkpoint is written before the next step starts. LangGraph's default
# ("async") writes it while the next step runs, so a process killed in that step (SIGKILL
# during a webhook POST) could leave only the previous step's checkpoint.
DURABILITY: Durability = "sync"


def pending_steps(snap: Any) -> tuple[str, ...]:
    """The nodes a state snapshot still has to run or finish, in order, no repeats.

    `snap.next` leaves out a task whose writes were saved when its step's own checkpoint was
    not (a process killed between the two): such a state is not finished, and resuming it
    applies the saved writes without running the node again. `snap.tasks` lists it.
    """
    return tuple(dict.fromkeys([*snap.next, *(t.name for t in snap.tasks)]))


@contextmanager
def open_checkpointer(settings: Settings) -> Iterator[BaseCheckpointSaver[Any]]:
    """The configured checkpointer, set up (tables created) and closed on exit."""
    if settings.database_url:
        with _postgres(settings.database_url.get_secret_value()) as saver:
            yield saver
        return
    from flashnews.tools.store import storage_error

    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(settings.db_path, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise storage_error(exc, settings.db_path, when="opening") from None
    try:
        saver = SqliteSaver(conn)
        try:
            saver.setup()
        except sqlite3.Error as exc:
            raise storage_error(exc, settings.db_path, when="opening") from None
        yield saver
    finally:
        conn.close()


@contextmanager
def _postgres(url: str) -> Iterator[BaseCheckpointSaver[Any]]:
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigError("FLASHNEWS_DATABASE_URL is PostgreSQL but langgraph-checkpoint-postgres"
                          " is not installed; install flashnews[postgres]") from None
    from flashnews.tools.store import pg_connect

    # The settings PostgresSaver documents: autocommit, dict rows, no prepared statements (safe
    # behind pgbouncer).
    conn = pg_connect(url, prepare_threshold=0, row_factory=dict_row)
    try:
        saver = PostgresSaver(conn)
        # Concurrent first runs must not race on the checkpoint tables' migrations.
        conn.execute("SELECT pg_advisory_lock(4243)")
        try:
            saver.setup()
        finally:
            conn.execute("SELECT pg_advisory_unlock(4243)")
        yield saver
    finally:
        conn.close()
