"""One process per edition: an exclusive, non-blocking lock.

A scheduler that fires twice, or an editor and a cron job on the same edition, must not run it
twice in parallel. On one machine that is a file lock in the data dir; with a shared PostgreSQL
database (several machines) also a PostgreSQL advisory lock. Both die with their process (the
kernel drops the file lock, the server drops the session's lock), so a crash never leaves an
edition locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flashnews.errors import EditionLocked

# The advisory lock's first key: "fl" — keeps flashnews' locks apart from other applications'.
_PG_KEY = 0x666C


@contextmanager
def edition_lock(settings: Any, edition_id: str) -> Iterator[None]:
    """Hold the edition's lock(s), or raise EditionLocked naming who holds it."""
    with _file_lock(settings.home, edition_id):
        if settings.database_url:
            with _pg_lock(settings.database_url.get_secret_value(), edition_id):
                yield
        else:
            yield


def _busy(edition_id: str, holder: str) -> EditionLocked:
    return EditionLocked(f"edition {edition_id} is being run by another process ({holder}); "
                         "nothing was done, try again when it ends")


@contextmanager
def _file_lock(home: Path, edition_id: str) -> Iterator[None]:
    path = home / "locks" / f"{edition_id}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise _busy(edition_id, f"pid {holder}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _pg_lock(url: str, edition_id: str) -> Iterator[None]:
    import psycopg

    from flashnews.tools.store import pg_connect

    me = f"flashnews pid {os.getpid()} on {socket.gethostname()}"
    conn = pg_connect(url)
    try:
        conn.execute("SELECT set_config('application_name', %s, false)", (me[:63],))
        got = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))",
                           (_PG_KEY, edition_id)).fetchone()[0]
        if not got:
            row = conn.execute(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a"
                " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
                " AND l.classid = %s AND l.objid::bigint = (hashtext(%s)::bigint + 4294967296)"
                " %% 4294967296", (_PG_KEY, edition_id)).fetchone()
            raise _busy(edition_id, row[0] if row and row[0] else "on the shared database")
        try:
            yield
        finally:
            # If the connection is gone, the lock went with it.
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (_PG_KEY, edition_id))
    finally:
        conn.close()


@contextmanager
def dir_lock(path: Path, enabled: bool = True, timeout: float = 120.0) -> Iterator[None]:
    """Hold an exclusive lock on a directory (flock on the directory itself: no lock file).

    The output dir's shared files (feed.xml above all) are read, changed and written by every
    edition published there, from any data dir or process; this serialises those writers.
    Waits up to `timeout` seconds, then raises PublishError.
    """
    if not enabled:
        yield
        return
    import time

    from flashnews.errors import PublishError

    try:
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise PublishError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PublishError(f"{path} stayed locked by another publisher for "
                                       f"{timeout:.0f} s; try again") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
