"""The edition graph's context schema: what one run gives every node (LangGraph's
`context_schema`, read in a node as `runtime.context`), never stored in a checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from langgraph.runtime import Runtime

from flashnews.budget import Budget, Progress, _no_progress
from flashnews.config import Settings
from flashnews.errors import ConfigError
from flashnews.tools.arxiv import Source
from flashnews.tools.embeddings import Embedder
from flashnews.tools.llm import Models
from flashnews.tools.store import Store


@dataclass
class Context:
    """Config, store, models, source, output dir, review policy and budget of one run."""

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


@dataclass
class ServerRunContext:
    """The context schema of the graph LangGraph Server serves: a run there brings nothing
    (the server builds it from the run's JSON `context`), so each node gets the server
    process's `Context` (graphs/server.py)."""


_default: list[Callable[[], Context]] = []


def use_default(factory: Callable[[], Context]) -> None:
    """The context of runs that bring none: LangGraph Server's (graphs/server.py)."""
    _default[:] = [factory]


def context_of(state: Any, runtime: Runtime[Context]) -> Context:
    """A node's context, with its model calls booked to the state's edition (on LangGraph
    Server the thread id is a UUID, and the context is made before the state is known)."""
    ctx: Any = runtime.context
    if not isinstance(ctx, Context):
        if not _default:
            raise ConfigError("the edition graph runs with a Context: "
                              "graph.invoke(..., context=Context(...))")
        ctx = _default[0]()
    if state.get("edition_id"):
        ctx.models.edition_id = state["edition_id"]
    return ctx
