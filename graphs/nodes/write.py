"""The write node: the draft (items, lead, themes), or a revision of its blocked items."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flashnews.agents.writer import Writer
from flashnews.graphs.context import Context, context_of
from flashnews.models import Selection
from flashnews.state import EditionState, encode, view


def write_node(state: EditionState, runtime: Runtime[Context]) -> dict[str, Any]:
    """The draft (items, lead, themes), or a revision of its blocked items."""
    ctx = context_of(state, runtime)
    v = view(state)
    previous, rewrite = v.draft, v.rewrite
    if v.format == "weekly":
        return _weekly(state, ctx)
    draft, themes_out = Writer(ctx.models).write(
        edition_id=v.edition_id, date=v.date, fmt=v.format,
        selection=v.selection, papers=ctx.store.papers(state["edition_id"]), assessments=v.assessments,
        previous=previous, findings=v.findings, themes=v.themes or None,
        want_themes=not v.skip.get("themes"),
        progress=lambda d, t: ctx.progress("write", d, t),
        instruction=rewrite.get("instruction"), rewrite_all=bool(rewrite.get("pending")))
    update = encode(draft=draft, edited=False, themes=themes_out, round=draft.round)
    if previous:  # for the editor's `diff`
        update["previous_markdown"] = previous.markdown
    if rewrite.get("pending"):
        update["rewrite"] = {**rewrite, "pending": False}
    return update


def _weekly(state: EditionState, ctx: Context) -> dict[str, Any]:
    """The week in review, composed by code from the week's published items (agents/weekly.py);
    a revision leaves out what the critic blocked."""
    from flashnews.agents import weekly
    from flashnews.text import grounding

    v = view(state)
    papers = ctx.store.papers(v.edition_id)
    week = weekly.from_state(state["weekly"], v.date, papers)
    blocked: list[str] = []
    if v.draft is not None and not v.rewrite.get("pending"):
        found = grounding.blocking(v.findings)
        blocked = [f.item for f in found if f.item]
        blocked += [t.title for t in v.themes for f in found
                    if f.check == "theme" and t.title in f.evidence]
    ctx.progress("write", 0, 1)
    draft, themes_out = weekly.compose(
        ctx.models, week, edition_id=v.edition_id, chosen=v.selection,
        assessments=v.assessments, blocked=blocked, round_=state.get("round", 0) + 1,
        background={pid: p for eid in week.editions
                    for pid, p in ctx.store.papers(eid).items()})
    ctx.progress("write", 1, 1)
    update = encode(draft=draft, edited=False, themes=themes_out, round=draft.round)
    if blocked:  # what was left out is out of the selection too (the editor's table agrees)
        gone = set(blocked)
        update |= encode(selection=Selection(
            main=[p for p in v.selection.main if p not in gone],
            also=[p for p in v.selection.also if p not in gone]))
    if v.draft is not None:
        update["previous_markdown"] = v.draft.markdown
    if v.rewrite.get("pending"):
        update["rewrite"] = {**v.rewrite, "pending": False}
    return update
