"""One process per edition: an exclusive, non-blocking file lock in the data dir.

A scheduler that fires twice, or an editor and a cron job on the same edition, must not run it
twice in parallel. The lock dies with its process (the kernel drops it), so a crash never leaves
an edition locked.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flashnews.errors import EditionLocked


@contextmanager
def edition_lock(home: Path, edition_id: str) -> Iterator[None]:
    """Hold the edition's lock, or raise EditionLocked naming the process that holds it."""
    path = home / "locks" / f"{edition_id}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise EditionLocked(f"edition {edition_id} is being run by another process "
                                f"(pid {holder}); nothing was done, try again when it ends") \
                from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
