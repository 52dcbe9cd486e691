"""The edition's checkpointed state and a typed view over it.

The checkpoint holds JSON (dicts, lists, strings); `view` decodes the records a node reads
(assessments, selection, draft, themes, findings) at most once each, and `encode` turns records
back into the JSON the checkpoint keeps, so nodes, the service and the CLI never rebuild models
from dicts themselves. The JSON format is the one checkpoints have always had.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any, TypedDict, cast

from flashnews.models import Assessment, Draft, Finding, Format, Selection, ThemeText, rank_key


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
    revise: bool
    """The critique's verdict: blocking findings remain that another writing round (within
    its rounds and the run's budget) may fix. Absent in checkpoints made before it: review."""
    weekly: dict[str, Any]
    """A week in review's input (agents/weekly.py to_state): its editions, papers as published
    and updates."""
    revision: int
    """0, or the correction being prepared / published (`flashnews correct`)."""
    path: str
    outcome: str
    message: str


def _findings(raw: list[dict[str, Any]]) -> list[Finding]:
    return [Finding.model_validate(f) for f in raw]


class EditionView:
    """Typed records over one checkpointed state; each is decoded on first use, once."""

    def __init__(self, state: Mapping[str, Any]) -> None:
        self.raw = state

    def get(self, key: str, default: Any = None) -> Any:
        """A plain (JSON) value of the state."""
        return self.raw.get(key, default)

    @property
    def edition_id(self) -> str:
        return str(self.raw["edition_id"])

    @property
    def date(self) -> dt.date:
        return dt.date.fromisoformat(self.raw["date"])

    @property
    def format(self) -> Format:
        return cast(Format, self.raw["format"])

    @property
    def edited(self) -> bool:
        """The draft's text is the editor's: the state says so, or the draft itself does."""
        return bool(self.raw.get("edited") or (self.raw.get("draft") or {}).get("edited"))

    @property
    def skip(self) -> dict[str, bool]:
        return dict(self.raw.get("skip") or {})

    @property
    def rewrite(self) -> dict[str, Any]:
        return dict(self.raw.get("rewrite") or {})

    @cached_property
    def assessments(self) -> dict[str, Assessment]:
        return {k: Assessment.model_validate(v)
                for k, v in self.raw.get("assessments", {}).items()}

    @cached_property
    def selection(self) -> Selection:
        return Selection.model_validate(self.raw["selection"])

    @cached_property
    def draft(self) -> Draft | None:
        raw = self.raw.get("draft")
        return Draft.model_validate(raw) if raw else None

    @cached_property
    def themes(self) -> list[ThemeText]:
        return [ThemeText.model_validate(t) for t in self.raw.get("themes", [])]

    @cached_property
    def findings(self) -> list[Finding]:
        """The critic's findings on the current draft."""
        return _findings(self.raw.get("findings", []))

    @cached_property
    def notes(self) -> list[Finding]:
        """What fetch and triage noticed (injection attempts, watch-list papers)."""
        return _findings([*self.raw.get("fetch_findings", []),
                          *self.raw.get("triage_findings", [])])

    def ranked(self) -> list[Assessment]:
        """The assessments by Score, then Hype, then id."""
        return sorted(self.assessments.values(), key=rank_key)


def view(state: Mapping[str, Any] | None) -> EditionView:
    """The typed view of a checkpointed state (an empty one for a thread that never ran)."""
    return EditionView(state or {})


def _dump_findings(found: list[Finding]) -> list[dict[str, Any]]:
    return [f.model_dump() for f in found]


_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "assessments": lambda m: {k: a.model_dump(mode="json") for k, a in m.items()},
    "selection": lambda s: s.model_dump(),
    "draft": lambda d: d.model_dump(mode="json") if d is not None else None,
    "themes": lambda ts: [t.model_dump() for t in ts],
    "findings": _dump_findings,
    "fetch_findings": _dump_findings,
    "triage_findings": _dump_findings,
}


def encode(**values: Any) -> dict[str, Any]:
    """A state update: records turned into the checkpoint's JSON, other values as they are."""
    return {k: _ENCODERS[k](v) if k in _ENCODERS else v for k, v in values.items()}
