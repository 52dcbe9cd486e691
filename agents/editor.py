"""Review: the editor's commands applied to a draft, or the headless auto-approve policy.

Everything here is a pure function of the review state (the "desk": selection, assessments,
draft, themes) except `review`, which pauses the graph. drop, pin, move and rescore re-render the
bulletin with `writer.render` and re-check it with the deterministic critic: no model call.
`rewrite` is the only command that needs a model; the graph routes it back to the writer.
Reading commands is agents/editor_commands.py's; what the editor sees, agents/editor_screen.py's.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from langgraph.types import interrupt
from pydantic import BaseModel, Field

from flashnews.agents import critic
from flashnews.agents.editor_commands import (
    GRAPH_VERBS,
    HELP,
    LOCAL,
    STATE_CHANGING,
    EditorCommand,
    InvalidAnswer,
    Verb,
    command,
    parse,
)
from flashnews.agents.editor_screen import CANDIDATES, Row, payload, rows
from flashnews.agents.writer import ITEM_WORDS, complete_sentences, render
from flashnews.models import (
    Assessment,
    Decision,
    Draft,
    DraftItem,
    Finding,
    Paper,
    Selection,
    ThemeText,
)
from flashnews.state import EditionView, encode
from flashnews.text import first_sentence, grounding

log = logging.getLogger(__name__)

__all__ = ["CANDIDATES", "EVAL_OF", "GRAPH_VERBS", "HELP", "LOCAL", "STATE_CHANGING", "Desk",
           "EditorCommand", "InvalidAnswer", "Outcome", "Row", "Verb", "at_review", "command",
           "decide", "parse", "payload", "quoted_prose", "recheck", "rerender", "review", "rows"]

EVAL_OF = {"rescore": "triage", "drop": "selection", "pin": "selection", "move": "selection",
           "edit": "writer", "rewrite": "writer", "approve": "writer", "hold": "writer"}
"""Which prompt-regression eval a decision is a case for (`flashnews decisions --format jsonl`):
a rescore is a reference score for triage; drops, pins and moves say what to select; an edit or
a rewrite marks a draft the editor would not publish, an approval one they would."""
DECISION_OF = {"publish": "approve", "end": "hold", "write": "rewrite", "review": "continue"}
"""The review decision the graph routes on, for each route a command takes."""


class Desk(BaseModel):
    """What review commands change; checkpointed with the edition after every command."""

    selection: Selection
    assessments: dict[str, Assessment]
    draft: Draft
    themes: list[ThemeText] = Field(default_factory=list)
    pinned: list[str] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)
    rescored: dict[str, list[int]] = Field(default_factory=dict)
    """paper id -> the [score, hype] the model gave, for papers the editor rescored."""

    @classmethod
    def from_state(cls, state: EditionView) -> Desk:
        draft = state.draft
        assert draft is not None, "review needs a draft"
        if state.get("edited"):  # the text of a correction (`flashnews correct --markdown`)
            draft = draft.model_copy(update={"edited": True})
        return cls(selection=state.selection, assessments=state.assessments, draft=draft,
                   themes=state.themes, pinned=list(state.get("pinned", [])),
                   dropped=list(state.get("dropped", [])),
                   rescored=dict(state.get("rescored", {})))

    def to_state(self) -> dict[str, Any]:
        return encode(selection=self.selection, assessments=self.assessments, draft=self.draft,
                      edited=self.draft.edited, themes=self.themes, pinned=self.pinned,
                      dropped=self.dropped, rescored=self.rescored)


class Outcome(BaseModel):
    """What one command did: the new desk and findings, where the graph goes, what to record."""

    desk: Desk
    findings: list[Finding]
    route: Literal["review", "write", "publish", "end"]
    notice: str = ""
    decision: Decision | None = None


# --- applying a command -----------------------------------------------------------------------


def quoted_prose(paper: Paper, assessment: Assessment | None, fmt: str, section: str) -> str:
    """Prose for a pinned item before the writer has written it: the abstract's own words (a
    key-claim span, else its opening sentence), so every number in it is grounded."""
    spans = [c.span for c in assessment.key_claims] if assessment else []
    text = spans[0] if spans else first_sentence(paper.abstract)
    limit = ITEM_WORDS[(fmt, section)] * 9  # the writer's own cap (see writer.item_schema)
    if len(text) > limit:
        text = complete_sentences(text[:limit])
    return text


def rerender(desk: Desk, papers: dict[str, Paper], date: dt.date) -> Desk:
    """The bulletin rendered again from the desk's items, scores and themes (no model)."""
    d = desk.draft
    if d.format == "weekly":
        from flashnews.agents import weekly

        cited = {p: papers[p] for p in desk.selection.ids if p in papers}
        md = weekly.render(date, d.lead, desk.themes, d.items, cited, desk.assessments)
    else:
        md = render(date, d.format, d.lead, d.items, papers, desk.assessments,
                    desk.themes or None)
    return desk.model_copy(update={"draft": d.model_copy(update={"markdown": md,
                                                                 "edited": False})})


def recheck(desk: Desk, findings: list[Finding], papers: dict[str, Paper],
            date: dt.date) -> list[Finding]:
    """The deterministic critic on the current draft, plus the model's earlier findings that
    still quote it (the model is not asked again)."""
    fresh = critic.deterministic(desk.draft, date=date, papers=papers,
                                 assessments=desk.assessments, selected=set(desk.selection.ids))
    # Links read as their text: an item's prose starts with the linked name ("[CHESS](…) is").
    plain = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", desk.draft.markdown).replace("*", "")
    text = " ".join(plain.split()).lower()
    kept = [f for f in findings if f.source == "model" and f.item in desk.selection.ids
            and " ".join(f.evidence.split()).lower().strip(" .\"'") in text]
    return fresh + kept


def _brief(paper: Paper, a: Assessment | None) -> dict[str, Any]:
    out: dict[str, Any] = {"arxiv_id": paper.arxiv_id, "version": paper.version,
                           "title": paper.title}
    if a:
        out |= {"score": a.score, "hype": a.hype, "method": a.method}
    return out


def _with_items(desk: Desk, items: list[DraftItem], main: int,
                removed: str | None = None) -> Desk:
    """The desk with this item order; the first `main` items are the main section. A week in
    review keeps the papers it cites in its themes only (all but `removed`, being dropped)."""
    items = [i.model_copy(update={"section": "main" if n < main else "also"})
             for n, i in enumerate(items)]
    ids = {i.paper_id for i in items}
    kept = [p for p in desk.selection.ids if p not in ids and p != removed] \
        if desk.draft.format == "weekly" else []
    selection = Selection(main=[i.paper_id for i in items[:main]],
                          also=[i.paper_id for i in items[main:]] + kept)
    return desk.model_copy(update={"selection": selection,
                                   "draft": desk.draft.model_copy(update={"items": items})})


@dataclass
class _Call:
    """One command being applied: what every handler reads, and the two ways it ends."""

    cmd: EditorCommand
    desk: Desk
    findings: list[Finding]
    papers: dict[str, Paper]
    date: dt.date
    seq: int

    @property
    def pid(self) -> str:
        assert self.cmd.paper_id is not None  # checked by `decide` for commands on a paper
        return self.cmd.paper_id

    @property
    def paper(self) -> Paper:
        return self.papers[self.pid]

    def record(self, context: dict[str, Any]) -> Decision:
        d, cmd = self.desk.draft, self.cmd
        return Decision(edition_id=d.edition_id, seq=self.seq,
                        at=cmd.at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                        editor=cmd.by, command=cmd.command, args=cmd.args(), reason=cmd.reason,
                        round=d.round, paper_id=cmd.paper_id, context=context)

    def changed(self, new: Desk, note: str, context: dict[str, Any]) -> Outcome:
        """The desk changed: render it again, re-check it, stay at review."""
        new = rerender(new, self.papers, self.date)
        return Outcome(desk=new, findings=recheck(new, self.findings, self.papers, self.date),
                       route="review", notice=note, decision=self.record(context))


def _approve(c: _Call) -> Outcome:
    d = c.desk.draft
    blocking = grounding.blocking(c.findings)
    if blocking:
        why = "; ".join(f"{f.item or 'bulletin'}: {f.message}" for f in blocking[:3])
        return Outcome(desk=c.desk, findings=c.findings, route="review",
                       notice=f"not approved: {len(blocking)} blocking finding(s) remain — "
                              f"{why}. Fix them with edit, drop or rewrite.")
    return Outcome(desk=c.desk, findings=c.findings, route="publish", notice="approved",
                   decision=c.record({"markdown": d.markdown, "edited": d.edited,
                                      "warnings": len(c.findings)}))


def _hold(c: _Call) -> Outcome:
    return Outcome(desk=c.desk, findings=c.findings, route="end", notice="held",
                   decision=c.record({}))


def _drop(c: _Call) -> Outcome:
    desk, d, pid, paper = c.desk, c.desk.draft, c.pid, c.paper
    item = next((i for i in d.items if i.paper_id == pid), None)
    # A week in review also cites papers in its themes only: those can be dropped too.
    if item is None and not (d.format == "weekly" and pid in desk.selection.ids):
        raise ValueError(f"{pid} is not in the bulletin")
    items = [i for i in d.items if i.paper_id != pid]
    main = len(desk.selection.main) - (pid in desk.selection.main)
    new = _with_items(desk, items, main, removed=pid)
    themes = [t.model_copy(update={"paper_ids": [p for p in t.paper_ids if p != pid]})
              for t in desk.themes]
    new = new.model_copy(update={
        "themes": themes, "pinned": [p for p in desk.pinned if p != pid],
        "dropped": [*desk.dropped, pid]})
    return c.changed(new, f"dropped {pid} ({paper.short_name})", {
        "paper": _brief(paper, desk.assessments.get(pid)),
        "item": item.model_dump() if item else None,
        "place": d.items.index(item) + 1 if item else None})


def _pin(c: _Call) -> Outcome:
    desk, d, pid, paper = c.desk, c.desk.draft, c.pid, c.paper
    if pid in desk.selection.ids:
        raise ValueError(f"{pid} is already in the bulletin")
    main = len(desk.selection.main)
    a = desk.assessments.get(pid)
    item = DraftItem(paper_id=pid, headline=paper.short_name, section="main",
                     body=quoted_prose(paper, a, d.format, "main"), origin="abstract")
    mains = [i for i in d.items if i.section == "main"]
    alsos = [i for i in d.items if i.section != "main"]
    new = _with_items(desk, [*mains, item, *alsos], main + 1)
    new = new.model_copy(update={"pinned": [*desk.pinned, pid],
                                 "dropped": [p for p in desk.dropped if p != pid]})
    return c.changed(new, f"pinned {pid} ({paper.short_name}) as main item {main + 1}, in the "
                          "abstract's words until a rewrite", {"paper": _brief(paper, a)})


def _move(c: _Call) -> Outcome:
    desk, pid, paper, to = c.desk, c.pid, c.paper, c.cmd.to
    assert to is not None
    items = list(desk.draft.items)
    place = next(n for n, i in enumerate(items) if i.paper_id == pid)
    item = items.pop(place)
    items.insert(to - 1, item)
    new = _with_items(desk, items, len(desk.selection.main))
    return c.changed(new, f"moved {pid} ({paper.short_name}) from place {place + 1} to {to}",
                     {"paper": _brief(paper, desk.assessments.get(pid)),
                      "from": place + 1, "to": to})


def _rescore(c: _Call) -> Outcome:
    desk, pid, paper, cmd = c.desk, c.pid, c.paper, c.cmd
    if cmd.score is None or cmd.hype is None:
        raise ValueError("rescore needs a score and a hype")
    a = desk.assessments[pid]
    assessments = dict(desk.assessments)
    assessments[pid] = a.model_copy(update={"score": cmd.score, "hype": cmd.hype,
                                            "method": "editor"})
    rescored = dict(desk.rescored)
    rescored.setdefault(pid, [a.score, a.hype])
    new = desk.model_copy(update={"assessments": assessments, "rescored": rescored})
    return c.changed(new, f"rescored {pid} ({paper.short_name}): {a.score}/{a.hype} -> "
                          f"{cmd.score}/{cmd.hype}", {
        "paper": {**_brief(paper, a), "abstract": paper.abstract},
        "before": {"score": a.score, "hype": a.hype, "method": a.method,
                   "rationale": a.rationale, "model": a.model, "prompt_hash": a.prompt_hash},
        "after": {"score": cmd.score, "hype": cmd.hype}})


def _edit(c: _Call) -> Outcome:
    d, text = c.desk.draft, c.cmd.markdown
    if not text or not text.strip():
        raise ValueError("edit needs the edited text")
    new = c.desk.model_copy(update={"draft": d.model_copy(update={
        "markdown": text if text.endswith("\n") else text + "\n", "edited": True})})
    found = recheck(new, c.findings, c.papers, c.date)
    n = len(grounding.blocking(found))
    note = "edit saved; the deterministic critic " + (
        f"found {n} blocking problem(s): approve is refused until they are fixed" if n
        else "found nothing blocking")
    return Outcome(desk=new, findings=found, route="review", notice=note,
                   decision=c.record({"before": d.markdown, "after": new.draft.markdown,
                                      "blocking": n}))


def _rewrite(c: _Call) -> Outcome:
    d, instruction = c.desk.draft, c.cmd.instruction
    return Outcome(desk=c.desk, findings=c.findings, route="write",
                   notice="rewritten" + (f" ({instruction})" if instruction else ""),
                   decision=c.record({"before": d.markdown, "prompt_hash": d.prompt_hash}))


HANDLERS: dict[str, Callable[[_Call], Outcome]] = {
    "approve": _approve, "hold": _hold, "drop": _drop, "pin": _pin, "move": _move,
    "rescore": _rescore, "edit": _edit, "rewrite": _rewrite}
"""The command each graph verb runs (the terminal answers the others)."""


def decide(cmd: EditorCommand, desk: Desk, findings: list[Finding], *, papers: dict[str, Paper],
           date: dt.date, seq: int) -> Outcome:
    """Apply one command to the desk. `seq` numbers the decision within the edition."""
    pid = cmd.paper_id
    if cmd.command in ("drop", "pin", "move", "rescore") and (
            pid is None or papers.get(pid) is None):
        raise ValueError(f"{cmd.command} needs a paper of this edition, got {pid!r}")
    if cmd.command in ("pin", "rescore") and pid not in desk.assessments:
        raise ValueError(f"{pid} was never assessed, so it has no Score and Hype to show")
    handler = HANDLERS.get(cmd.command)
    if handler is None:
        raise ValueError(f"{cmd.command!r} is answered by the terminal, not the graph")
    return handler(_Call(cmd, desk, findings, papers, date, seq))


# --- the pause --------------------------------------------------------------------------------


def review(policy: str, pause: dict[str, Any], findings: list[Finding]) -> EditorCommand:
    """Approve automatically when headless and nothing blocks; otherwise wait for an editor.

    `interrupt` pauses the graph (state saved); the editor's command arrives as the resume value.
    A headless run that reaches it stops with the outcome `needs-review`. The answer
    `{"decision": "approve"|"hold"}` (LangGraph Server clients, older callers) is a command too.
    """
    if policy == "auto" and not grounding.blocking(findings):
        return EditorCommand(command="approve", by="auto-policy")
    return command(interrupt(pause), pause.get("rows", []))


def at_review(state: EditionView, papers: dict[str, Paper], policy: str
              ) -> tuple[dict[str, Any], Decision | None]:
    """One pass of the review step: the state update, and the decision to record (if any).

    The update's `review.decision` is where the graph goes: approve (publish), rewrite (the
    writer), continue (review again) or hold (end).
    """
    findings, notes = state.findings, state.notes
    desk = Desk.from_state(state)
    pause = payload(state.edition_id, desk, findings, notes, papers,
                    previous=state.get("previous_markdown", ""), notice=state.get("notice", ""))
    try:
        cmd = review(policy, pause, [*notes, *findings])
    except InvalidAnswer as exc:  # a bad resume value: say so, stay at review
        return {"review": {"decision": "continue"}, "notice": f"not done: {exc}"}, None
    if cmd.by == "auto-policy":
        return {"review": {"decision": "approve", "by": "auto-policy"}}, None
    seq = state.get("decisions", 0) + 1
    try:
        done = decide(cmd, desk, findings, papers=papers, date=state.date, seq=seq)
    except ValueError as exc:  # a command that does not fit the state: say so, stay here
        return {"review": {"decision": "continue"}, "notice": f"not done: {exc}"}, None
    update: dict[str, Any] = {
        **done.desk.to_state(), **encode(findings=done.findings), "notice": done.notice,
        "review": {"decision": DECISION_OF[done.route], "by": cmd.by, "at": cmd.at,
                   "command": cmd.command}}
    if done.decision:
        update["decisions"] = seq
    if cmd.command in STATE_CHANGING:
        update["previous_markdown"] = desk.draft.markdown
    if done.route == "write":
        # A rewrite gets its own critic rounds.
        update |= {"rewrite": {"instruction": cmd.instruction, "pending": True},
                   "round_base": state.get("round", 0)}
    if done.route == "end":
        update |= {"outcome": "needs-review", "message": "the editor held the edition"}
    return update, done.decision


def flagged(notes: list[Finding]) -> dict[str, str]:
    """Papers whose title or abstract addresses the model (prompt-injection findings), with
    what was found: a headless run publishes none of them."""
    # The message's first clause ("title and abstract of … address the model"); its details
    # hold parentheses of their own ("1 sentence(s) in another language (fr)").
    return {f.item: f.message.split(" (", 1)[0]
            for f in notes if f.check == "prompt-injection" and f.item}


def learn_from(store: Any, settings: Any, embedder: Any, decision: Decision,
               state: EditionView, papers: dict[str, Paper]) -> None:
    """Store a decision's labelled examples; at approval, fit the ranker again on them all.

    Learning never stops the review: a failure is logged and the edition goes on."""
    from flashnews.agents import learner

    if state.format == "weekly":
        # A week in review chooses among papers already featured: dropping one says "not this
        # week's story", not "off the beat". The ranker learns from the daily editions only.
        return
    try:
        store.record_examples(learner.examples_of(
            decision, state.assessments, state.selection.ids, papers,
            main=len(state.selection.main)))
        if decision.command == "approve" and settings.learn_after_review:
            if embedder is None:
                from flashnews.tools.embeddings import load_embedder

                embedder = load_embedder(settings)
            fitted, path, seconds = learner.learn(store, settings, embedder)
            log.info("ranker: fitted again on %d editor examples in %.1f s: %s",
                     fitted.examples.get("editor", 0), seconds, path)
    except Exception as exc:
        log.warning("ranker: not fitted again after review: %s", str(exc).splitlines()[0])
