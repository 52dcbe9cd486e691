"""The editor's commands: what may be typed at review, how a typed line or a resume value is
read into an `EditorCommand` (resolved to paper ids). Applying them is agents/editor.py's."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, Field, ValidationError

if TYPE_CHECKING:
    from flashnews.agents.editor_screen import Row

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
        return EditorCommand.model_validate({"command": verb})
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
        return EditorCommand.model_validate({"command": verb, "n": row.n, "paper_id": row.paper_id,
                                             "reason": rest[1] if len(rest) > 1 else ""})
    if verb == "move":
        return _parse_move(rest, table)
    if verb == "rescore":
        return _parse_rescore(rest, table)
    raise ValueError(f"unknown command {verb!r} (`help` lists them)")


def _parse_move(rest: list[str], table: list[Row]) -> EditorCommand:
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


def _parse_rescore(rest: list[str], table: list[Row]) -> EditorCommand:
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


# --- reading a resume value -------------------------------------------------------------------


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
