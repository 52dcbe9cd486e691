"""The review node: the editor's command (an interrupt), or the headless policy."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flashnews.agents import editor
from flashnews.graphs.context import Context, context_of
from flashnews.state import EditionState, view


def review_node(state: EditionState, runtime: Runtime[Context]) -> dict[str, Any]:
    """The editor's command (an interrupt), or the headless policy."""
    ctx = context_of(state, runtime)
    v = view(state)
    papers = ctx.store.papers(state["edition_id"])
    update, decision = editor.at_review(v, papers, ctx.policy)
    if decision:
        ctx.store.record_decision(decision)
        editor.learn_from(ctx.store, ctx.settings, ctx.embedder, decision, v, papers)
    return update
