"""The checkpointer: SqliteSaver on the data dir's SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from langgraph.checkpoint.sqlite import SqliteSaver

from flashnews.config import Settings


@contextmanager
def open_checkpointer(settings: Settings) -> Iterator[SqliteSaver]:
    """A SqliteSaver on `<home>/flashnews.sqlite`, closed on exit."""
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(settings.db_path, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()
