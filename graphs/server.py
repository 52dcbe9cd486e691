"""The edition graph for LangGraph Server (named in langgraph.json).

The server brings its own checkpointer (Postgres) and answers `interrupt()` at review through its
API (a resume value is {"decision": "approve"|"hold"} or an editor command, see
agents/editor.py EditorCommand); flashnews brings the rest from the same configuration as the CLI
(FLASHNEWS_* env). Input of a run: {"edition_id", "date", "format", "source", "round": 0}.
"""

from __future__ import annotations

from typing import Any

from flashnews.graphs.edition import build_graph
from flashnews.tools.llm import Models
from flashnews.tools.store import Store

from flashnews.config import Settings
from flashnews.runtime import Runtime


def make_graph(config: dict[str, Any] | None = None) -> Any:
    """Build the compiled edition graph for one server process."""
    settings = Settings()
    store = Store.open(settings)
    thread = ((config or {}).get("configurable") or {}).get("thread_id", "server")
    rt = Runtime(settings, store, Models(settings, store, str(thread)), settings.editions_dir,
                 policy="interactive")
    return build_graph(rt, checkpointer=None)
