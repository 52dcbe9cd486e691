"""The triage node: every paper scored (ranking, the model for the best K, the learned
ranker), and the injection and watch findings."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flashnews.agents import learner
from flashnews.agents.triage import Triage, injection_findings, watch_findings
from flashnews.graphs.context import Context, context_of
from flashnews.models import Finding
from flashnews.state import EditionState, encode


def triage_node(state: EditionState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Every paper scored; the injection and watch findings; which ranker scored the day."""
    ctx = context_of(state, runtime)
    papers = ctx.store.papers(state["edition_id"])
    ordered = [papers[i] for i in state["paper_ids"]]
    if ctx.embedder is None:
        from flashnews.tools.embeddings import load_embedder

        ctx.embedder = load_embedder(ctx.settings)
    liked, disliked = learner.taste(ctx.store, state["edition_id"])
    triage = Triage(ctx.models, ctx.store, ctx.settings, embedder=ctx.embedder,
                    history=liked, disliked=disliked)
    result = triage.run(ordered, progress=lambda d, t: ctx.progress("triage", d, t))
    warnings = [f for p in ordered
                for f in [*injection_findings(p), *watch_findings(p, ctx.settings)]]
    # Which ranker scored the day (cold: the seed, no editor decision learned yet).
    warnings.append(Finding(check="ranker", severity="info", source="triage",
                            message=f"ranker: {triage.ranker.note}"))
    return encode(assessments=result, triage_findings=warnings)
