"""What one process gives the graph's nodes: config, store, models, source, output dir, policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from flashnews.config import Settings
from flashnews.tools.arxiv import Source
from flashnews.tools.llm import Models
from flashnews.tools.store import Store

Progress = Callable[[str, int, int], None]


def _no_progress(step: str, done: int, total: int) -> None:
    return None


@dataclass
class Runtime:
    """Injected into every node; never stored in a checkpoint."""

    settings: Settings
    store: Store
    models: Models
    out_dir: Path
    source: Source | None = None
    policy: Literal["auto", "interactive"] = "auto"
    progress: Progress = field(default=_no_progress)
