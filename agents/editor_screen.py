"""What the editor sees at review: the ranked table and the pause's payload (JSON-able). The
terminal that draws them is flashnews/review.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from flashnews.agents.selection import off_beat
from flashnews.models import Finding, Paper, rank_key
from flashnews.text import grounding

if TYPE_CHECKING:
    from flashnews.agents.editor import Desk

CANDIDATES = 10
"""Papers outside the bulletin listed for pinning (the best-scored ones)."""


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
    drivers: list[str] = Field(default_factory=list)
    """The three features that moved the Score most (agents/learner.py)."""
    hype_drivers: list[str] = Field(default_factory=list)


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
        elif off_beat(a) and pid not in desk.pinned:
            flags.append("about training: main only if pinned")
        if pid in items and items[pid].origin == "abstract":
            flags.append("abstract prose")
        flags += sorted({f.check for f in notes if f.item == pid})
        section: Literal["main", "also", ""] = (
            "main" if pid in desk.selection.main else
            "also" if pid in desk.selection.also else "")
        out.append(Row(n=n, paper_id=pid, title=papers[pid].title, score=a.score, hype=a.hype,
                       topic=a.topics[0] if a.topics else "", section=section,
                       flags=flags, method=a.method, rationale=a.rationale,
                       key_claims=[c.claim for c in a.key_claims], drivers=a.drivers,
                       hype_drivers=a.hype_drivers))
    return out


def rows_of(payload: dict[str, Any]) -> list[Row]:
    """The ranked table of a pause's payload, as rows."""
    return [Row.model_validate(r) for r in payload.get("rows", [])]


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
