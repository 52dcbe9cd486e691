"""What one process gives the graph's nodes: config, store, models, source, output dir, policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from flashnews.budget import Budget, Progress, _no_progress
from flashnews.config import Settings
from flashnews.tools.arxiv import Source
from flashnews.tools.embeddings import Embedder
from flashnews.tools.llm import Models
from flashnews.tools.store import Store


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
    budget: Budget = field(default_factory=Budget)
    unknown_outcome: Literal["resend", "assume-delivered"] | None = None
    """What publish does with a delivery of unknown outcome (`resume --resend` /
    `--assume-delivered`); None: it holds it for the editor."""
    embedder: Embedder | None = None
    """The ranking stage's sentence embedder (loaded on first use); None: the configured one."""
