"""Review: the editor's commands on a draft, or the headless auto-approve policy.

Everything here is a pure function of the review state (the "desk": selection, assessments,
draft, themes) except `review`, which pauses the graph. drop, pin, move and rescore re-render the
bulletin with `writer.render` and re-check it with the deterministic critic: no model call.
`rewrite` is the only command that needs a model; the graph routes it back to the writer.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from typing import Any, Literal, get_args

from flashnews.agents import critic
from flashnews.agents.triage import Selection
from flashnews.agents.writer import ITEM_WORDS, ThemeText, complete_sentences, render
from flashnews.tools import grounding
from langgraph.types import interrupt
from pydantic import BaseModel, Field, ValidationError

from flashnews.models import Assessment, Decision, Draft, DraftItem, Finding, Paper, rank_key
from flashnews.text import first_sentence

Verb = Literal["approve", "hold", "drop", "pin", "move", "rescore", "edit", "rewrite",
               "show", "diff", "help", "quit"]
STATE_CHANGING = ("drop", "pin", "move", "rescore", "edit")
"""Commands the review node applies itself, with no model call."""
LOCAL = ("show", "diff", "help", "quit")
"""Commands the editor's terminal answers alone (they never reach the graph)."""
GRAPH_VERBS = tuple(v for v in get_args(Verb) if v not in LOCAL)
"""Commands a resume value at review may carry."""

HELP: list[tuple[str, str]] = [
    ("approve", "publish the draft (refused while a blocking finding remains)"),
    ("drop N [\"reason\"]", "take item N out of the bulletin"),
    ("pin N [\"reason\"]", "force paper N into the bulletin (prose quoted from its abstract "
                           "until a rewrite)"),
    ("move N up|down|to K", "reorder: item N one place up, down, or to place K"),
    ("rescore N SCORE HYPE \"reason\"", "replace paper N's Score and Hype (0-100)"),
    ("edit", "open $EDITOR on the draft; the result is re-checked before it can be approved"),
    ("rewrite [\"instruction\"]", "the writer writes every item again (with the instruction), "
                                   "then the critic checks it: the only command that calls a model"),
    ("show N", "abstract and assessment of paper N"),
    ("diff", "this draft against the previous one"),
    ("quit", "stop here; `flashnews review EDITION` continues exactly here later"),
    ("help", "this list"),
]
EVAL_OF = {"rescore": "triage", "drop": "selection", "pin": "selection", "move": "selection",
           "edit": "writer", "rewrite": "writer", "approve": "writer", "hold": "writer"}
"""Which prompt-regression eval a decision is a case for (`flashnews decisions --format jsonl`):
a rescore is a reference score for triage; drops, pins and moves say what to select; an edit or
a rewrite marks a draft the editor would not publish, an approval one they would."""
CANDIDATES = 10
"""Papers outside the bulletin listed for pinning (the best-scored ones)."""


class EditorCommand(BaseModel):
    """One command typed at review, resolved to paper ids (the graph's resume value)."""

    command: Verb
    n: int | None = None
    """The row number the editor typed."""
    paper_id: str | None = None
    where: str | None = None
    """move: 'up', 'down' or 'to'."""
    to: int | None = None
    """move: the 1-based place in the bulletin the item goes to."""
    score: int | None = Field(default=None, ge=0, le=100)
    hype: int | None = Field(default=None, ge=0, le=100)
    reason: str = ""
    instruction: str | None = None
    markdown: str | None = None
    """edit: the edited bulletin."""
    by: str = "editor"
    at: str = ""

    def args(self) -> dict[str, Any]:
        """What the command said, for the decision record (the edited text is in its context)."""
        keep = ("n", "paper_id", "where", "to", "score", "hype", "instruction")
        return {k: v for k in keep if (v := getattr(self, k)) is not None}


class Row(BaseModel):
    """One line of the ranked table: the bulletin's items in order, then candidates by score."""

    n: int
    paper_id: str
    title: str
    score: int
    hype: int
    topic: str = ""
    section: Literal["main", "also", ""] = ""
    flags: list[str] = Field(default_factory=list)
    method: str = ""
    rationale: str = ""
    key_claims: list[str] = Field(default_factory=list)


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
    def from_state(cls, state: dict[str, Any]) -> Desk:
        draft = Draft.model_validate(state["draft"])
        if state.get("edited"):  # the text of a correction (`flashnews correct --markdown`)
            draft = draft.model_copy(update={"edited": True})
        return cls(selection=Selection.model_validate(state["selection"]),
                   assessments={k: Assessment.model_validate(v)
                                for k, v in state.get("assessments", {}).items()},
                   draft=draft,
                   themes=[ThemeText.model_validate(t) for t in state.get("themes", [])],
                   pinned=list(state.get("pinned", [])), dropped=list(state.get("dropped", [])),
                   rescored=dict(state.get("rescored", {})))

    def to_state(self) -> dict[str, Any]:
        return {"selection": self.selection.model_dump(),
                "assessments": {k: a.model_dump(mode="json") for k, a in self.assessments.items()},
                "draft": self.draft.model_dump(mode="json"), "edited": self.draft.edited,
                "themes": [t.model_dump() for t in self.themes], "pinned": self.pinned,
                "dropped": self.dropped, "rescored": self.rescored}


class Outcome(BaseModel):
    """What one command did: the new desk and findings, where the graph goes, what to record."""

    desk: Desk
    findings: list[Finding]
    route: Literal["review", "write", "publish", "end"]
    notice: str = ""
    decision: Decision | None = None


# --- the ranked table ------------------------------------------------------------------------


def rows(desk: Desk, papers: dict[str, Paper], notes: list[Finding] | None = None,
         candidates: int = CANDIDATES) -> list[Row]:
    """The bulletin's items in bulletin order, then the best-scored other papers."""
    notes = notes or []
    items = {i.paper_id: i for i in desk.draft.items}
    ranked = sorted(desk.assessments.values(), key=rank_key)
    inside = desk.selection.ids
    # Papers triage judged off the beat are listed too: pinning a paper the model missed is
    # exactly what an editor is there for.
    others = [a.paper_id for a in ranked if a.paper_id not in inside and a.paper_id in papers]
    out: list[Row] = []
    for n, pid in enumerate([*inside, *others[:candidates]], start=1):
        a = desk.assessments[pid]
        flags = []
        if pid in desk.pinned:
            flags.append("pinned")
        if pid in desk.dropped:
            flags.append("dropped")
        if pid in desk.rescored:
            was = desk.rescored[pid]
            flags.append(f"rescored (model: {was[0]}/{was[1]})")
        if not a.relevant:
            flags.append(f"off the beat ({a.method})")
        if pid in items and items[pid].origin == "abstract":
            flags.append("abstract prose")
        flags += sorted({f.check for f in notes if f.item == pid})
        section = ("main" if pid in desk.selection.main else
                   "also" if pid in desk.selection.also else "")
        out.append(Row(n=n, paper_id=pid, title=papers[pid].title, score=a.score, hype=a.hype,
                       topic=a.topics[0] if a.topics else "", section=section,  # type: ignore[arg-type]
                       flags=flags, method=a.method, rationale=a.rationale,
                       key_claims=[c.claim for c in a.key_claims]))
    return out


# --- parsing what the editor typed ------------------------------------------------------------


def _row(table: list[Row], word: str) -> Row:
    if not word.isdigit() or not 1 <= int(word) <= len(table):
        raise ValueError(f"no row {word!r}: rows are numbered 1-{len(table)}")
    return table[int(word) - 1]


def _item(table: list[Row], word: str) -> Row:
    row = _row(table, word)
    if not row.section:
        raise ValueError(f"row {row.n} ({row.paper_id}) is not in the bulletin; "
                         f"`pin {row.n}` puts it in")
    return row


def parse(text: str, table: list[Row]) -> EditorCommand:
    """Read one typed command against the table on screen; ValueError says what is wrong."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"cannot read that: {exc}") from None
    if not words:
        raise ValueError("type a command (`help` lists them)")
    verb, rest = words[0].lower(), words[1:]
    if verb in ("approve", "edit", "diff", "help", "quit", "hold"):
        if rest:
            raise ValueError(f"`{verb}` takes no arguments")
        return EditorCommand(command=verb)  # type: ignore[arg-type]
    if verb == "rewrite":
        instruction = " ".join(rest).strip() or None
        return EditorCommand(command="rewrite", instruction=instruction)
    if verb in ("drop", "pin", "show"):
        if not rest or len(rest) > 2 or (verb == "show" and len(rest) != 1):
            usage = "show N" if verb == "show" else f"{verb} N [\"reason\"]"
            raise ValueError(f"usage: {usage}")
        row = _item(table, rest[0]) if verb == "drop" else _row(table, rest[0])
        if verb == "pin" and row.section:
            raise ValueError(f"row {row.n} ({row.paper_id}) is already in the bulletin")
        return EditorCommand(command=verb, n=row.n, paper_id=row.paper_id,  # type: ignore[arg-type]
                             reason=rest[1] if len(rest) > 1 else "")
    if verb == "move":
        if len(rest) < 2:
            raise ValueError("usage: move N up|down|to K")
        row = _item(table, rest[0])
        items = [r for r in table if r.section]
        place = items.index(row) + 1
        where, tail = rest[1].lower(), rest[2:]
        if where == "to":
            if not tail or not tail[0].isdigit():
                raise ValueError("usage: move N to K")
            target, tail = int(tail[0]), tail[1:]
        elif where in ("up", "down"):
            target = place - 1 if where == "up" else place + 1
        else:
            raise ValueError("usage: move N up|down|to K")
        if not 1 <= target <= len(items):
            raise ValueError(f"cannot move item {place} {where}"
                             f"{' ' + str(target) if where == 'to' else ''}: the bulletin has "
                             f"places 1-{len(items)}")
        if len(tail) > 1:
            raise ValueError("usage: move N up|down|to K [\"reason\"]")
        return EditorCommand(command="move", n=row.n, paper_id=row.paper_id, where=where,
                             to=target, reason=tail[0] if tail else "")
    if verb == "rescore":
        if len(rest) != 4:
            raise ValueError('usage: rescore N SCORE HYPE "reason" (the reason is required)')
        row = _row(table, rest[0])
        try:
            score, hype = int(rest[1]), int(rest[2])
        except ValueError:
            raise ValueError("SCORE and HYPE are whole numbers 0-100") from None
        if not (0 <= score <= 100 and 0 <= hype <= 100):
            raise ValueError("SCORE and HYPE are whole numbers 0-100")
        if not rest[3].strip():
            raise ValueError("give a reason for the new scores")
        return EditorCommand(command="rescore", n=row.n, paper_id=row.paper_id, score=score,
                             hype=hype, reason=rest[3].strip())
    raise ValueError(f"unknown command {verb!r} (`help` lists them)")


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


def _with_items(desk: Desk, items: list[DraftItem], main: int) -> Desk:
    """The desk with this item order; the first `main` items are the main section."""
    items = [i.model_copy(update={"section": "main" if n < main else "also"})
             for n, i in enumerate(items)]
    selection = Selection(main=[i.paper_id for i in items[:main]],
                          also=[i.paper_id for i in items[main:]])
    return desk.model_copy(update={"selection": selection,
                                   "draft": desk.draft.model_copy(update={"items": items})})


def decide(cmd: EditorCommand, desk: Desk, findings: list[Finding], *, papers: dict[str, Paper],
           date: dt.date, seq: int) -> Outcome:
    """Apply one command to the desk. `seq` numbers the decision within the edition."""
    d = desk.draft
    pid = cmd.paper_id
    paper = papers.get(pid) if pid else None

    def record(context: dict[str, Any]) -> Decision:
        return Decision(edition_id=d.edition_id, seq=seq,
                        at=cmd.at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                        editor=cmd.by, command=cmd.command, args=cmd.args(), reason=cmd.reason,
                        round=d.round, paper_id=pid, context=context)

    def changed(new: Desk, note: str, context: dict[str, Any]) -> Outcome:
        new = rerender(new, papers, date)
        return Outcome(desk=new, findings=recheck(new, findings, papers, date), route="review",
                       notice=note, decision=record(context))

    if cmd.command in ("drop", "pin", "move", "rescore") and (pid is None or paper is None):
        raise ValueError(f"{cmd.command} needs a paper of this edition, got {pid!r}")
    if cmd.command in ("pin", "rescore") and pid not in desk.assessments:
        raise ValueError(f"{pid} was never assessed, so it has no Score and Hype to show")
    if cmd.command == "approve":
        blocking = grounding.blocking(findings)
        if blocking:
            why = "; ".join(f"{f.item or 'bulletin'}: {f.message}" for f in blocking[:3])
            return Outcome(desk=desk, findings=findings, route="review",
                           notice=f"not approved: {len(blocking)} blocking finding(s) remain — "
                                  f"{why}. Fix them with edit, drop or rewrite.")
        return Outcome(desk=desk, findings=findings, route="publish", notice="approved",
                       decision=record({"markdown": d.markdown, "edited": d.edited,
                                        "warnings": len(findings)}))
    if cmd.command == "hold":
        return Outcome(desk=desk, findings=findings, route="end", notice="held",
                       decision=record({}))
    if cmd.command == "drop":
        assert pid is not None and paper is not None
        item = next((i for i in d.items if i.paper_id == pid), None)
        if item is None:
            raise ValueError(f"{pid} is not in the bulletin")
        items = [i for i in d.items if i.paper_id != pid]
        main = len(desk.selection.main) - (pid in desk.selection.main)
        new = _with_items(desk, items, main)
        themes = [t.model_copy(update={"paper_ids": [p for p in t.paper_ids if p != pid]})
                  for t in desk.themes]
        new = new.model_copy(update={
            "themes": themes, "pinned": [p for p in desk.pinned if p != pid],
            "dropped": [*desk.dropped, pid]})
        return changed(new, f"dropped {pid} ({paper.short_name})", {
            "paper": _brief(paper, desk.assessments.get(pid)),
            "item": item.model_dump(), "place": d.items.index(item) + 1})
    if cmd.command == "pin":
        assert pid is not None and paper is not None
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
        return changed(new, f"pinned {pid} ({paper.short_name}) as main item {main + 1}, in the "
                            "abstract's words until a rewrite", {"paper": _brief(paper, a)})
    if cmd.command == "move":
        assert pid is not None and paper is not None and cmd.to is not None
        items = list(d.items)
        place = next(n for n, i in enumerate(items) if i.paper_id == pid)
        item = items.pop(place)
        items.insert(cmd.to - 1, item)
        new = _with_items(desk, items, len(desk.selection.main))
        return changed(new, f"moved {pid} ({paper.short_name}) from place {place + 1} to "
                            f"{cmd.to}", {"paper": _brief(paper, desk.assessments.get(pid)),
                                          "from": place + 1, "to": cmd.to})
    if cmd.command == "rescore":
        assert pid is not None and paper is not None
        if cmd.score is None or cmd.hype is None:
            raise ValueError("rescore needs a score and a hype")
        a = desk.assessments[pid]
        assessments = dict(desk.assessments)
        assessments[pid] = a.model_copy(update={"score": cmd.score, "hype": cmd.hype,
                                                "method": "editor"})
        rescored = dict(desk.rescored)
        rescored.setdefault(pid, [a.score, a.hype])
        new = desk.model_copy(update={"assessments": assessments, "rescored": rescored})
        return changed(new, f"rescored {pid} ({paper.short_name}): {a.score}/{a.hype} -> "
                            f"{cmd.score}/{cmd.hype}", {
            "paper": {**_brief(paper, a), "abstract": paper.abstract},
            "before": {"score": a.score, "hype": a.hype, "method": a.method,
                       "rationale": a.rationale, "model": a.model,
                       "prompt_hash": a.prompt_hash},
            "after": {"score": cmd.score, "hype": cmd.hype}})
    if cmd.command == "edit":
        if not cmd.markdown or not cmd.markdown.strip():
            raise ValueError("edit needs the edited text")
        new = desk.model_copy(update={"draft": d.model_copy(update={
            "markdown": cmd.markdown if cmd.markdown.endswith("\n") else cmd.markdown + "\n",
            "edited": True})})
        found = recheck(new, findings, papers, date)
        n = len(grounding.blocking(found))
        note = "edit saved; the deterministic critic " + (
            f"found {n} blocking problem(s): approve is refused until they are fixed" if n
            else "found nothing blocking")
        return Outcome(desk=new, findings=found, route="review", notice=note,
                       decision=record({"before": d.markdown, "after": new.draft.markdown,
                                        "blocking": n}))
    if cmd.command == "rewrite":
        return Outcome(desk=desk, findings=findings, route="write",
                       notice="rewritten" + (f" ({cmd.instruction})" if cmd.instruction else ""),
                       decision=record({"before": d.markdown, "prompt_hash": d.prompt_hash}))
    raise ValueError(f"{cmd.command!r} is answered by the terminal, not the graph")


# --- the pause --------------------------------------------------------------------------------


def payload(edition_id: str, desk: Desk, findings: list[Finding], notes: list[Finding],
            papers: dict[str, Paper], *, previous: str = "", notice: str = "") -> dict[str, Any]:
    """What the editor sees at review (JSON-able): the ranked table, the draft, the findings."""
    blocking = grounding.blocking(findings)
    return {"edition_id": edition_id, "markdown": desk.draft.markdown,
            "previous_markdown": previous, "round": desk.draft.round,
            "edited": desk.draft.edited,
            "rows": [r.model_dump() for r in rows(desk, papers, notes)],
            "findings": [f.model_dump() for f in findings],
            "notes": [f.model_dump() for f in notes],
            "blocking": len(blocking), "notice": notice}


def review(policy: str, pause: dict[str, Any], findings: list[Finding]) -> EditorCommand:
    """Approve automatically when headless and nothing blocks; otherwise wait for an editor.

    `interrupt` pauses the graph (state saved); the editor's command arrives as the resume value.
    A headless run that reaches it stops with the outcome `needs-review`. The answer
    `{"decision": "approve"|"hold"}` (LangGraph Server clients, older callers) is a command too.
    """
    if policy == "auto" and not grounding.blocking(findings):
        return EditorCommand(command="approve", by="auto-policy")
    return command(interrupt(pause), pause.get("rows", []))


class InvalidAnswer(ValueError):
    """A resume value at review that is not an editor command (the edition stays at review)."""


def command(answer: Any, rows: list[dict[str, Any]]) -> EditorCommand:
    """The editor command a resume value stands for; InvalidAnswer says in one line what is
    wrong. `n` (a row of the payload's table) stands for its paper when `paper_id` is not given."""
    if isinstance(answer, dict) and "command" not in answer and \
            answer.get("decision") in ("approve", "hold"):
        answer = {"command": answer["decision"], "by": answer.get("by") or "editor",
                  "at": answer.get("at") or ""}
    shape = ('{"command": "' + '"|"'.join(GRAPH_VERBS) + '", "paper_id" or "n", …} or '
             '{"decision": "approve"|"hold"}')
    if not isinstance(answer, dict):
        raise InvalidAnswer(f"invalid review answer {_brief_value(answer)}: expected {shape}")
    verb = answer.get("command")
    if verb not in GRAPH_VERBS:
        where = (f"{verb!r} is answered by the editor's terminal, not the graph"
                 if verb in LOCAL else f"unknown command {_brief_value(verb)}")
        raise InvalidAnswer(f"invalid review answer: {where}; expected {shape}")
    try:
        cmd = EditorCommand.model_validate(answer)
    except ValidationError as exc:
        why = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}"
                        for e in exc.errors())
        raise InvalidAnswer(f"invalid review answer {_brief_value(answer)}: {why}") from None
    if cmd.paper_id is None and cmd.n is not None:
        row = next((r for r in rows if r.get("n") == cmd.n), None)
        if row is None:
            raise InvalidAnswer(f"invalid review answer: no row {cmd.n} (rows are numbered "
                                f"1-{len(rows)})")
        cmd = cmd.model_copy(update={"paper_id": row["paper_id"]})
    return cmd


def _brief_value(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
