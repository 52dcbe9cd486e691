"""The select node: the main and also-notable papers by Score, within the run's budget."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flashnews.agents import editor
from flashnews.agents.triage import fit_to_budget, select
from flashnews.graphs.context import Context, context_of
from flashnews.state import EditionState, encode, view


def select_node(state: EditionState, runtime: Runtime[Context]) -> dict[str, Any]:
    """The main and also-notable papers by Score, within the run's budget."""
    ctx = context_of(state, runtime)
    v, s = view(state), ctx.settings
    main, also = ((s.flash_items, s.flash_also) if v.format == "flash"
                  else (s.digest_highlights, s.digest_also))
    earlier = ctx.store.published_elsewhere(v.edition_id)
    # A paper whose title or abstract addresses the model is never published headless:
    # the edition goes out without it and says so (an editor may pin it at review).
    flagged = editor.flagged(v.notes) if ctx.policy == "auto" else {}
    selection = select(v.assessments, main=main, also=also, exclude=[*earlier, *flagged],
                       off_beat_training=s.off_beat_training)
    skip = {"themes": False, "model_review": not s.critic_use_model}
    notes: list[str] = []
    if ctx.budget.limited and selection.main:
        selection, skip, notes = fit_to_budget(selection, v.format, ctx.budget,
                                               model_review=s.critic_use_model)
    notes += [f"left out of this headless edition: {pid} ({why})"
              for pid, why in flagged.items()
              if pid in v.assessments and v.assessments[pid].relevant]
    update = encode(selection=selection, skip=skip, degraded=notes)
    if not selection.main:
        update |= {"outcome": "needs-review",
                   "message": "no paper passed triage: nothing to publish"}
    return update
