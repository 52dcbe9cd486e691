"""Publishing channels. Files are written atomically: a temp file in the target dir, then rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flashnews.errors import PublishError


def atomic_write(path: Path, text: str) -> Path:
    """Write `text` to `path` so that readers see the old file or the new one, never half."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise PublishError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PublishError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def publish_markdown(edition_id: str, markdown: str, out_dir: Path) -> Path:
    """The markdown channel: `<out_dir>/<edition_id>.md`."""
    return atomic_write(out_dir / f"{edition_id}.md", markdown)
