"""The fetch node: the run's input checked, the day's papers fetched and stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

from langgraph.runtime import Runtime

from flashnews.agents import fetcher
from flashnews.graphs.context import Context, context_of
from flashnews.state import EditionState
from flashnews.tools.arxiv import source_from_spec


def fetch_node(state: EditionState, runtime: Runtime[Context]) -> dict[str, Any]:
    """The run's input checked, the day's papers fetched and stored."""
    ctx = context_of(state, runtime)
    # The run's input, checked (an API client may send only the date and format).
    start = fetcher.run_input(dict(state))
    row = ctx.store.edition(start["edition_id"])
    if row and row.status == "published":
        # A new run on a published edition's thread (LangGraph Server): a no-op that says so.
        return {"outcome": "already-published",
                "message": f"{row.id} was already published ({row.path}); nothing to do"}
    if ctx.source is None:
        # On LangGraph Server the source comes in with the run's input.
        ctx.source = source_from_spec(start["source"], ctx.settings)
    ctx.progress("fetch", 0, 1)
    update = start | fetcher.fetch(ctx.source, ctx.store, ctx.settings, start["edition_id"],
                                   dt.date.fromisoformat(start["date"]))
    ctx.progress("fetch", 1, 1)
    outcome = update["fetch"]["outcome"]
    if outcome != "ok":
        update |= {"outcome": outcome, "message": update["fetch"]["message"]}
    return update
