"""The critique node: the deterministic check, and the model's review when asked."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flashnews.agents import critic
from flashnews.graphs.context import Context, context_of
from flashnews.models import Finding
from flashnews.state import EditionState, encode, view
from flashnews.text import grounding


def critique_node(state: EditionState, runtime: Runtime[Context]) -> dict[str, Any]:
    """The deterministic check, and the model's review when asked."""
    ctx = context_of(state, runtime)
    v = view(state)
    draft, papers = v.draft, ctx.store.papers(state["edition_id"])
    assert draft is not None
    found = critic.deterministic(draft, date=v.date, papers=papers,
                                 assessments=v.assessments, selected=set(v.selection.ids))
    if not v.skip.get("model_review", not ctx.settings.critic_use_model):
        found += critic.model_review(ctx.models, draft, papers,
                                     threshold=ctx.settings.critic_threshold)
    return encode(findings=found) | {"revise": _revise(state, ctx, found)}


def _revise(state: EditionState, ctx: Context, found: list[Finding]) -> bool:
    """Whether to write again: blocking findings remain, rounds and budget allowing."""
    if state.get("edited"):
        # The editor's own text: the writer must not overwrite it; the editor sees the
        # findings at review.
        return False
    blocked = {f.item for f in grounding.blocking(found)}
    rounds = state["round"] - state.get("round_base", 0)
    if not blocked or rounds > ctx.settings.critic_rounds:
        return False
    # A revision rewrites the blocked items (and the lead) and is reviewed again.
    return ctx.budget.allows(len(blocked) + 2)
