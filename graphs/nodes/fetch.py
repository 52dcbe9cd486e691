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
    if start["format"] == "weekly":
        return start | _week(ctx, start)
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


def _week(ctx: Context, start: dict[str, Any]) -> dict[str, Any]:
    """A weekly edition's input: the week's published editions, gathered from the store (no
    source, no triage: each paper keeps the Score it was published with)."""
    from flashnews.agents import weekly
    from flashnews.state import encode

    date = dt.date.fromisoformat(start["date"])
    ctx.progress("fetch", 0, 1)
    week = weekly.gather(ctx.store, date, ctx.embedder)
    ctx.progress("fetch", 1, 1)
    span = f"{week.start.isoformat()} to {date.isoformat()}"
    if week.quiet:
        message = f"a quiet week: no daily edition was published from {span}, so there is " \
                  "no week in review"
        return {"paper_ids": [], "outcome": "quiet-day", "message": message,
                "fetch": {"outcome": "quiet-day", "count": 0, "source": "store",
                          "message": message}}
    ctx.store.save_papers(start["edition_id"], week.papers.values())
    n = len(week.editions)
    return encode(assessments=week.assessments(), selection=weekly.selection(week)) | {
        "paper_ids": list(week.papers), "weekly": weekly.to_state(week),
        "skip": {"themes": False, "model_review": not ctx.settings.critic_use_model},
        "fetch": {"outcome": "ok", "count": len(week.papers), "source": "store",
                  "message": f"{len(week.featured)} papers from {n} edition"
                             f"{'s' if n != 1 else ''} published from {span}; "
                             f"{len(week.updates)} updates"}}
