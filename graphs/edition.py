"""The edition graph: fetch -> triage -> select -> write -> critique (-> write) -> review -> publish.

Only wiring lives here: each node adapts state to an agent (agents/) and back. State holds ids
and small records; paper texts live once in the store. One thread per edition (thread id =
edition id), checkpointed after every node, so a failure resumes at the node that failed.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from flashnews.agents import critic, editor, fetcher, learner
from flashnews.agents.triage import (
    Triage,
    fit_to_budget,
    injection_findings,
    select,
    watch_findings,
)
from flashnews.agents.writer import Writer
from flashnews.graphs.runtime import Runtime
from flashnews.models import Finding, Paper
from flashnews.state import EditionState, encode, view
from flashnews.text import grounding
from flashnews.tools.arxiv import source_from_spec
from flashnews.tools.publish import Publisher, build_publication, featured_papers

__all__ = ["EditionState", "build_graph"]


def _papers(rt: Runtime, state: EditionState) -> dict[str, Paper]:
    return rt.store.papers(state["edition_id"])


def build_graph(rt: Runtime, checkpointer: BaseCheckpointSaver[Any] | None
                ) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Wire the nodes around an injected runtime (models, store, source, output dir)."""

    def fetch_node(state: EditionState) -> dict[str, Any]:
        # The run's input, checked (an API client may send only the date and format).
        start = fetcher.run_input(dict(state))
        row = rt.store.edition(start["edition_id"])
        if row and row.status == "published":
            # A new run on a published edition's thread (LangGraph Server): a no-op that says so.
            return {"outcome": "already-published",
                    "message": f"{row.id} was already published ({row.path}); nothing to do"}
        if rt.source is None:
            # On LangGraph Server the source comes in with the run's input.
            rt.source = source_from_spec(start["source"], rt.settings)
        rt.progress("fetch", 0, 1)
        update = start | fetcher.fetch(rt.source, rt.store, rt.settings, start["edition_id"],
                                       dt.date.fromisoformat(start["date"]))
        rt.progress("fetch", 1, 1)
        outcome = update["fetch"]["outcome"]
        if outcome != "ok":
            update |= {"outcome": outcome, "message": update["fetch"]["message"]}
        return update

    def triage_node(state: EditionState) -> dict[str, Any]:
        papers = _papers(rt, state)
        ordered = [papers[i] for i in state["paper_ids"]]
        if rt.embedder is None:
            from flashnews.tools.embeddings import load_embedder

            rt.embedder = load_embedder(rt.settings)
        liked, disliked = learner.taste(rt.store, state["edition_id"])
        triage = Triage(rt.models, rt.store, rt.settings, embedder=rt.embedder,
                        history=liked, disliked=disliked)
        result = triage.run(ordered, progress=lambda d, t: rt.progress("triage", d, t))
        warnings = [f for p in ordered
                    for f in [*injection_findings(p), *watch_findings(p, rt.settings)]]
        # Which ranker scored the day (cold: the seed, no editor decision learned yet).
        warnings.append(Finding(check="ranker", severity="info", source="triage",
                                message=f"ranker: {triage.ranker.note}"))
        return encode(assessments=result, triage_findings=warnings)

    def select_node(state: EditionState) -> dict[str, Any]:
        v, s = view(state), rt.settings
        main, also = ((s.flash_items, s.flash_also) if v.format == "flash"
                      else (s.digest_highlights, s.digest_also))
        earlier = rt.store.published_elsewhere(v.edition_id)
        # A paper whose title or abstract addresses the model is never published headless:
        # the edition goes out without it and says so (an editor may pin it at review).
        flagged = editor.flagged(v.notes) if rt.policy == "auto" else {}
        selection = select(v.assessments, main=main, also=also, exclude=[*earlier, *flagged],
                           off_beat_training=s.off_beat_training)
        skip = {"themes": False, "model_review": not s.critic_use_model}
        notes: list[str] = []
        if rt.budget.limited and selection.main:
            selection, skip, notes = fit_to_budget(selection, v.format, rt.budget,
                                                   model_review=s.critic_use_model)
        notes += [f"left out of this headless edition: {pid} ({why})"
                  for pid, why in flagged.items()
                  if pid in v.assessments and v.assessments[pid].relevant]
        update = encode(selection=selection, skip=skip, degraded=notes)
        if not selection.main:
            update |= {"outcome": "needs-review",
                       "message": "no paper passed triage: nothing to publish"}
        return update

    def write_node(state: EditionState) -> dict[str, Any]:
        v = view(state)
        previous, rewrite = v.draft, v.rewrite
        draft, themes_out = Writer(rt.models).write(
            edition_id=v.edition_id, date=v.date, fmt=v.format,
            selection=v.selection, papers=_papers(rt, state), assessments=v.assessments,
            previous=previous, findings=v.findings, themes=v.themes or None,
            want_themes=not v.skip.get("themes"),
            progress=lambda d, t: rt.progress("write", d, t),
            instruction=rewrite.get("instruction"), rewrite_all=bool(rewrite.get("pending")))
        update = encode(draft=draft, edited=False, themes=themes_out, round=draft.round)
        if previous:  # for the editor's `diff`
            update["previous_markdown"] = previous.markdown
        if rewrite.get("pending"):
            update["rewrite"] = {**rewrite, "pending": False}
        return update

    def critique_node(state: EditionState) -> dict[str, Any]:
        v = view(state)
        draft, papers = v.draft, _papers(rt, state)
        assert draft is not None
        found = critic.deterministic(draft, date=v.date, papers=papers,
                                     assessments=v.assessments, selected=set(v.selection.ids))
        if not v.skip.get("model_review", not rt.settings.critic_use_model):
            found += critic.model_review(rt.models, draft, papers,
                                         threshold=rt.settings.critic_threshold)
        return encode(findings=found)

    def review_node(state: EditionState) -> dict[str, Any]:
        v = view(state)
        papers = _papers(rt, state)
        update, decision = editor.at_review(v, papers, rt.policy)
        if decision:
            rt.store.record_decision(decision)
            editor.learn_from(rt.store, rt.settings, rt.embedder, decision, v, papers)
        return update

    def publish_node(state: EditionState) -> dict[str, Any]:
        v = view(state)
        eid, revision, draft = v.edition_id, v.get("revision", 0), v.draft
        assert draft is not None
        papers = _papers(rt, state)
        row = rt.store.edition(eid)
        pub = build_publication(
            edition_id=eid, date=state["date"], fmt=v.format, revision=revision, draft=draft,
            papers=papers, assessments=v.assessments, corrections=rt.store.corrections(eid),
            published_at=row.published_at if row else None,
            flags=[n for n in v.notes if n.check == "prompt-injection"])
        published = Publisher(rt.settings, rt.store, rt.out_dir,
                              unknown=rt.unknown_outcome).deliver(pub)
        featured = featured_papers(v.selection.ids, draft, edited=v.edited)
        rt.store.mark_published(eid, [(pid, papers[pid].version) for pid in featured])
        if revision:
            rt.store.finish_correction(eid, revision)
        target = published.get("markdown") or next(iter(published.values()), "")
        verb = f"published correction {revision} of" if revision else "published"
        message = f"{verb} {eid}: " + ", ".join(published.values())
        # Recorded here, not only by the CLI's service: a run on LangGraph Server has no
        # service around it, and `flashnews status/history` and `run` read this row.
        rt.store.set_edition(eid, status="published", step=None, message=message, path=target)
        return {"published": published, "outcome": "published", "message": message,
                "path": target}

    def after_fetch(state: EditionState) -> str:
        if state.get("outcome") == "already-published":
            return END
        return "triage" if state["fetch"]["outcome"] == "ok" else END

    def after_select(state: EditionState) -> str:
        return "write" if state["selection"]["main"] else END

    def after_critique(state: EditionState) -> str:
        if state.get("edited"):
            # The editor's own text: the writer must not overwrite it; the editor sees the
            # findings at review.
            return "review"
        blocked = {f.item for f in grounding.blocking(view(state).findings)}
        rounds = state["round"] - state.get("round_base", 0)
        if not blocked or rounds > rt.settings.critic_rounds:
            return "review"
        # A revision rewrites the blocked items (and the lead) and is reviewed again.
        return "write" if rt.budget.allows(len(blocked) + 2) else "review"

    def after_review(state: EditionState) -> str:
        return {"approve": "publish", "rewrite": "write",
                "continue": "review"}.get(state["review"]["decision"], END)

    def bound(node: Callable[[EditionState], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        """The node with its model calls booked to the state's edition (on LangGraph Server
        the thread id is a UUID, and the runtime is built before the state is known)."""

        @functools.wraps(node)
        def run(state: EditionState) -> dict[str, Any]:
            if state.get("edition_id"):
                rt.models.edition_id = state["edition_id"]
            return node(state)

        return run

    g: StateGraph[Any] = StateGraph(EditionState)
    g.add_node("fetch", bound(fetch_node))
    g.add_node("triage", bound(triage_node))
    g.add_node("select", bound(select_node))
    g.add_node("write", bound(write_node))
    g.add_node("critique", bound(critique_node))
    g.add_node("review", bound(review_node))
    g.add_node("publish", bound(publish_node))
    g.add_edge(START, "fetch")
    g.add_conditional_edges("fetch", after_fetch, ["triage", END])
    g.add_edge("triage", "select")
    g.add_conditional_edges("select", after_select, ["write", END])
    g.add_edge("write", "critique")
    g.add_conditional_edges("critique", after_critique, ["write", "review"])
    g.add_conditional_edges("review", after_review, ["publish", "write", "review", END])
    g.add_edge("publish", END)
    return g.compile(checkpointer=checkpointer)
