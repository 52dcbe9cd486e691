"""The write node: the draft (items, lead, themes), or a revision of its blocked items."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flashnews.agents.writer import Writer
from flashnews.graphs.context import Context, context_of
from flashnews.state import EditionState, encode, view


def write_node(state: EditionState, runtime: Runtime[Context]) -> dict[str, Any]:
    """The draft (items, lead, themes), or a revision of its blocked items."""
    ctx = context_of(state, runtime)
    v = view(state)
    previous, rewrite = v.draft, v.rewrite
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
