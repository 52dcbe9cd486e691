"""The edition graph: fetch -> triage -> select -> write -> critique (-> write) -> review -> publish.

Only wiring lives here: each node adapts state to an agent (agents/) and back. State holds ids
and small records; paper texts live once in the store. One thread per edition (thread id =
edition id), checkpointed after every node, so a failure resumes at the node that failed.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypedDict

from flashnews.agents import critic, editor, fetcher
from flashnews.agents.triage import (
    Selection,
    Triage,
    fit_to_budget,
    injection_findings,
    select,
    watch_findings,
)
from flashnews.agents.writer import ThemeText, Writer
from flashnews.tools.arxiv import source_from_spec
from flashnews.tools.grounding import linked_papers
from flashnews.tools.publish import Publisher, build_publication
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from flashnews.models import Assessment, Draft, Finding, Paper
from flashnews.runtime import Runtime


class EditionState(TypedDict, total=False):
    """Checkpointed state of one edition (JSON-able values only)."""

    edition_id: str
    date: str
    format: str
    source: str
    fetch: dict[str, Any]
    fetch_findings: list[dict[str, Any]]
    paper_ids: list[str]
    assessments: dict[str, dict[str, Any]]
    triage_findings: list[dict[str, Any]]
    selection: dict[str, list[str]]
    draft: dict[str, Any] | None
    themes: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    round: int
    skip: dict[str, bool]
    degraded: list[str]
    review: dict[str, Any]
    # The editor's review (see agents/editor.py): every command is checkpointed here.
    pinned: list[str]
    dropped: list[str]
    rescored: dict[str, list[int]]
    previous_markdown: str
    notice: str
    decisions: int
    rewrite: dict[str, Any]
    round_base: int
    published: dict[str, str]
    edited: bool
    """The draft's text is the editor's (a correction or an edit), not the writer's."""
    revision: int
    """0, or the correction being prepared / published (`flashnews correct`)."""
    path: str
    outcome: str
    message: str


def _papers(rt: Runtime, state: EditionState) -> dict[str, Paper]:
    return rt.store.papers(state["edition_id"])


def _assessments(state: EditionState) -> dict[str, Assessment]:
    return {k: Assessment.model_validate(v) for k, v in state.get("assessments", {}).items()}


def _date(state: EditionState) -> dt.date:
    return dt.date.fromisoformat(state["date"])


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
        update = start | fetcher.fetch(rt, start["edition_id"], dt.date.fromisoformat(start["date"]))
        rt.progress("fetch", 1, 1)
        outcome = update["fetch"]["outcome"]  # type: ignore[index]
        if outcome != "ok":
            update |= {"outcome": outcome, "message": update["fetch"]["message"]}  # type: ignore[index]
        return update

    def triage_node(state: EditionState) -> dict[str, Any]:
        papers = _papers(rt, state)
        ordered = [papers[i] for i in state["paper_ids"]]
        if rt.embedder is None:
            from flashnews.tools.embeddings import load_embedder

            rt.embedder = load_embedder(rt.settings)
        triage = Triage(rt.models, rt.store, rt.settings, embedder=rt.embedder,
                        history=rt.store.featured_before(state["edition_id"]))
        result = triage.run(ordered, progress=lambda d, t: rt.progress("triage", d, t))
        warnings = [f.model_dump() for p in ordered
                    for f in [*injection_findings(p), *watch_findings(p, rt.settings)]]
        return {"assessments": {k: a.model_dump(mode="json") for k, a in result.items()},
                "triage_findings": warnings}

    def select_node(state: EditionState) -> dict[str, Any]:
        s = rt.settings
        main, also = ((s.flash_items, s.flash_also) if state["format"] == "flash"
                      else (s.digest_highlights, s.digest_also))
        earlier = rt.store.published_elsewhere(state["edition_id"])
        selection = select(_assessments(state), main=main, also=also, exclude=earlier)
        skip, notes = {"themes": False, "model_review": not s.critic_use_model}, []
        if rt.budget.limited and selection.main:
            selection, skip, notes = fit_to_budget(selection, state["format"], rt.budget,
                                                   model_review=s.critic_use_model)
        update: dict[str, Any] = {"selection": selection.model_dump(), "skip": skip,
                                  "degraded": notes}
        if not selection.main:
            update |= {"outcome": "needs-review",
                       "message": "no paper passed triage: nothing to publish"}
        return update

    def write_node(state: EditionState) -> dict[str, Any]:
        previous = Draft.model_validate(state["draft"]) if state.get("draft") else None
        findings = [Finding.model_validate(f) for f in state.get("findings", [])]
        themes = [ThemeText.model_validate(t) for t in state.get("themes", [])] or None
        rewrite = state.get("rewrite") or {}
        draft, themes_out = Writer(rt.models).write(
            edition_id=state["edition_id"], date=_date(state), fmt=state["format"],  # type: ignore[arg-type]
            selection=Selection.model_validate(state["selection"]), papers=_papers(rt, state),
            assessments=_assessments(state), previous=previous, findings=findings,
            themes=themes, want_themes=not state.get("skip", {}).get("themes"),
            progress=lambda d, t: rt.progress("write", d, t),
            instruction=rewrite.get("instruction"), rewrite_all=bool(rewrite.get("pending")))
        update: dict[str, Any] = {"draft": draft.model_dump(mode="json"), "edited": False,
                                  "themes": [t.model_dump() for t in themes_out],
                                  "round": draft.round}
        if previous:  # for the editor's `diff`
            update["previous_markdown"] = previous.markdown
        if rewrite.get("pending"):
            update["rewrite"] = {**rewrite, "pending": False}
        return update

    def critique_node(state: EditionState) -> dict[str, Any]:
        draft = Draft.model_validate(state["draft"])
        papers = _papers(rt, state)
        selected = set(Selection.model_validate(state["selection"]).ids)
        found = critic.deterministic(draft, date=_date(state), papers=papers,
                                     assessments=_assessments(state), selected=selected)
        if not state.get("skip", {}).get("model_review", not rt.settings.critic_use_model):
            found += critic.model_review(rt.models, draft, papers,
                                         threshold=rt.settings.critic_threshold)
        return {"findings": [f.model_dump() for f in found]}

    def review_node(state: EditionState) -> dict[str, Any]:
        findings = [Finding.model_validate(f) for f in state.get("findings", [])]
        notes = [Finding.model_validate(f) for f in
                 [*state.get("fetch_findings", []), *state.get("triage_findings", [])]]
        papers = _papers(rt, state)
        desk = editor.Desk.from_state(state)  # type: ignore[arg-type]
        pause = editor.payload(state["edition_id"], desk, findings, notes, papers,
                               previous=state.get("previous_markdown", ""),
                               notice=state.get("notice", ""))
        try:
            cmd = editor.review(rt.policy, pause, [*notes, *findings])
        except editor.InvalidAnswer as exc:  # a bad resume value: say so, stay at review
            return {"review": {"decision": "continue"}, "notice": f"not done: {exc}"}
        if cmd.by == "auto-policy":
            return {"review": {"decision": "approve", "by": "auto-policy"}}
        seq = state.get("decisions", 0) + 1
        try:
            done = editor.decide(cmd, desk, findings, papers=papers, date=_date(state), seq=seq)
        except ValueError as exc:  # a command that does not fit the state: say so, stay here
            return {"review": {"decision": "continue"}, "notice": f"not done: {exc}"}
        update: dict[str, Any] = {
            **done.desk.to_state(), "findings": [f.model_dump() for f in done.findings],
            "notice": done.notice,
            "review": {"decision": {"publish": "approve", "end": "hold", "write": "rewrite",
                                    "review": "continue"}[done.route],
                       "by": cmd.by, "at": cmd.at, "command": cmd.command}}
        if done.decision:
            rt.store.record_decision(done.decision)
            update["decisions"] = seq
        if cmd.command in editor.STATE_CHANGING:
            update["previous_markdown"] = desk.draft.markdown
        if done.route == "write":
            # A rewrite gets its own critic rounds.
            update |= {"rewrite": {"instruction": cmd.instruction, "pending": True},
                       "round_base": state.get("round", 0)}
        if done.route == "end":
            update |= {"outcome": "needs-review", "message": "the editor held the edition"}
        return update

    def publish_node(state: EditionState) -> dict[str, Any]:
        eid = state["edition_id"]
        revision = state.get("revision", 0)
        papers = _papers(rt, state)
        row = rt.store.edition(eid)
        pub = build_publication(
            edition_id=eid, date=state["date"], fmt=state["format"], revision=revision,
            draft=Draft.model_validate(state["draft"]), papers=papers,
            assessments=_assessments(state), corrections=rt.store.corrections(eid),
            published_at=row.published_at if row else None)
        published = Publisher(rt.settings, rt.store, rt.out_dir,
                              unknown=rt.unknown_outcome).deliver(pub)
        featured = Selection.model_validate(state["selection"]).ids
        if state.get("edited") or state["draft"].get("edited"):  # type: ignore[union-attr]
            # An item the editor deleted by hand was not featured (and may be featured later).
            linked = set(linked_papers(state["draft"]["markdown"]))  # type: ignore[index]
            featured = [pid for pid in featured if pid in linked]
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
        blocked = {f.get("item") for f in state.get("findings", []) if f["severity"] == "blocking"}
        rounds = state["round"] - state.get("round_base", 0)
        if not blocked or rounds > rt.settings.critic_rounds:
            return "review"
        # A revision rewrites the blocked items (and the lead) and is reviewed again.
        return "write" if rt.budget.allows(len(blocked) + 2) else "review"

    def after_review(state: EditionState) -> str:
        return {"approve": "publish", "rewrite": "write",
                "continue": "review"}.get(state["review"]["decision"], END)

    def bound(node: Callable[[EditionState], dict[str, Any]]
              ) -> Callable[[EditionState], dict[str, Any]]:
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
