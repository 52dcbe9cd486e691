"""Records that cross a boundary (files, the model, the store, the checkpoint), as pydantic models."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Format = Literal["flash", "digest", "weekly"]
Severity = Literal["blocking", "warning", "info"]

_ID_RE = re.compile(r"^(?P<base>(\d{4}\.\d{4,5})|([a-z\-]+(\.[A-Z]{2})?/\d{7}))(v(?P<v>\d+))?$")


def split_arxiv_id(raw: str) -> tuple[str, int | None]:
    """Split '2602.20732v2' (or an abs URL) into ('2602.20732', 2); version None when absent."""
    text = raw.strip().rsplit("/abs/", 1)[-1]
    m = _ID_RE.match(text)
    if not m:
        raise ValueError(f"not an arXiv id: {raw!r}")
    return m.group("base"), int(m.group("v")) if m.group("v") else None


class Paper(BaseModel):
    """One arXiv paper as announced: the only source of facts a bulletin may use."""

    model_config = ConfigDict(extra="ignore")

    arxiv_id: str
    version: int = 1
    title: str
    authors: list[str] = Field(default_factory=list)
    abstract: str
    categories: list[str] = Field(default_factory=list)
    primary_category: str | None = None
    submitted: dt.date | None = None
    label: str | None = Field(default=None, description="Editor label in curated datasets only.")

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: object) -> object:
        if isinstance(data, dict):
            data = dict(data)
            base, version = split_arxiv_id(str(data.get("arxiv_id", "")))
            data["arxiv_id"] = base
            if version and not data.get("version"):
                data["version"] = version
            prim = data.get("primary_category")
            cats = list(data.get("categories") or [])
            if prim and prim not in cats:
                cats.insert(0, prim)
            data["categories"] = cats
        return data

    @field_validator("title", "abstract")
    @classmethod
    def _squash(cls, v: str) -> str:
        # arXiv wraps titles and abstracts at fixed columns; one space is what a reader sees.
        v = " ".join(v.split())
        if not v:
            raise ValueError("must not be empty")
        return v

    @property
    def link(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def short_name(self) -> str:
        """The name a bulletin uses: the part of the title before a colon, when it is short."""
        head = self.title.split(":", 1)[0].strip()
        return head if ":" in self.title and len(head) <= 40 else self.title


class KeyClaim(BaseModel):
    """A claim of the paper with the abstract span that supports it (checked by code)."""

    claim: str
    span: str


class Assessment(BaseModel):
    """The triage verdict on one paper."""

    paper_id: str
    version: int = 1
    relevant: bool
    score: int = Field(ge=0, le=100)
    hype: int = Field(ge=0, le=100)
    rationale: str
    topics: list[str] = Field(default_factory=list)
    key_claims: list[KeyClaim] = Field(default_factory=list)
    method: Literal["rules", "ranking", "logprob", "generated", "editor"] = "generated"
    """rules: the editor's exclude keywords; ranking: the ranking stage alone (not sent to the
    model); logprob / generated: the model's verdict combined with the ranking; editor: rescored
    at review."""
    prompt_hash: str
    model: str
    signals: dict[str, float] = Field(default_factory=dict)
    """What the score was computed from (similarities, P(yes), hype evidence), for the record."""
    drivers: list[str] = Field(default_factory=list)
    """The three features that moved the Score most, signed (log-odds), for the editor."""
    hype_drivers: list[str] = Field(default_factory=list)
    """The same for Hype."""


def rank_key(a: Assessment) -> tuple[int, float, int, str]:
    """The house order of assessments: Score, then the unrounded Score (ties between equal
    integers broken by what they were rounded from), then Hype, then arXiv id."""
    return (-a.score, -a.signals.get("score_value", 0.0), -a.hype, a.paper_id)


class DraftItem(BaseModel):
    """One item of a draft: the prose is the model's, links, names and scores are code's."""

    paper_id: str
    headline: str
    body: str
    section: Literal["main", "also"] = "main"
    origin: Literal["writer", "abstract"] = "writer"
    """Who wrote the prose: the writer model, or the paper's abstract (an item the editor pinned
    at review, quoted until a `rewrite` has the writer write it)."""
    name: str = ""
    """The method's name the body starts with (it carries the link), or ""."""
    notes: list[str] = Field(default_factory=list)
    """What the writer could not do as asked (a fallback it took): shown as warnings."""


class Draft(BaseModel):
    """A rendered bulletin and the items it was rendered from."""

    edition_id: str
    format: Format
    round: int = 1
    lead: str = ""
    items: list[DraftItem] = Field(default_factory=list)
    markdown: str
    prompt_hash: str = ""
    edited: bool = False
    """The editor changed the Markdown by hand at review (`edit`)."""
    notes: list[str] = Field(default_factory=list)
    """The writer's notes on the lead and themes (a fallback it took): shown as warnings."""


class Finding(BaseModel):
    """One problem the critic found, with the evidence that shows it."""

    check: str
    severity: Severity
    message: str
    item: str | None = Field(default=None, description="arXiv id of the item concerned, if any.")
    evidence: str = ""
    source: Literal["code", "model", "triage"] = "code"


class Edition(BaseModel):
    """One bulletin: an announcement day in one format."""

    date: dt.date
    format: Format = "flash"

    @property
    def id(self) -> str:
        return f"{self.date.isoformat()}-{self.format}"

    @classmethod
    def parse(cls, edition_id: str) -> Edition:
        m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})-(flash|digest|weekly)", edition_id.strip())
        if not m:
            raise ValueError(
                f"not an edition id: {edition_id!r} (expected DATE-FORMAT, e.g. 2026-02-25-flash)"
            )
        return cls.model_validate({"date": dt.date.fromisoformat(m.group(1)),
                                   "format": m.group(2)})


class ModelCall(BaseModel):
    """One model call as recorded in the run ledger."""

    edition_id: str
    role: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    ok: bool = True
    prompt_hash: str = ""


class Decision(BaseModel):
    """One editor decision at review, stored with the edition (and exported as an eval case)."""

    edition_id: str
    seq: int
    """Order of the decision within its edition, from 1."""
    at: str
    """When it was made (ISO 8601, UTC)."""
    editor: str
    command: str
    args: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""
    round: int = 0
    """The draft round the decision was made on."""
    paper_id: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    """What the decision was about (the item, the scores before and after, the drafts …)."""


class Example(BaseModel):
    """An editor's decision as a labelled example for the learned ranker (agents/learner.py),
    stored the moment it is made, with the paper itself (nothing is lost if it leaves the day's
    store). A later decision on the same paper in the same edition replaces it."""

    paper: Paper
    edition_id: str
    at: str
    command: str
    featured: bool
    """Whether the editor wants papers like this one in the bulletin."""
    score: float | None = None
    hype: float | None = None
    weight: float = 1.0
    model: float | None = None
    """The model's P(yes) on it, when the model was asked."""


class Selection(BaseModel):
    """Which papers an edition features, in order."""

    main: list[str] = Field(default_factory=list)
    also: list[str] = Field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [*self.main, *self.also]


class SearchHit(BaseModel):
    """One hit of `flashnews search`: a published item (or an editor's note on an edition),
    with the edition and link a reader follows."""

    edition_id: str
    date: str
    format: str
    paper_id: str | None = None
    """The item's arXiv id; None for a note on the edition as a whole (a correction)."""
    title: str
    link: str
    """The paper's arXiv page (the edition's file for a note on the edition)."""
    score: int | None = None
    hype: int | None = None
    kind: Literal["item", "claim", "note"] = "item"
    """What matched best: the item's text, one of its claims, or an editor's note."""
    snippet: str = ""
    rank: float = 0.0
    """Fused rank (higher is better): reciprocal ranks of the word and meaning searches."""
    matched: list[str] = Field(default_factory=list)
    """"words", "meaning" or both."""


class ThemeText(BaseModel):
    """One theme of a digest: its title, its text and the papers it draws on."""

    title: str
    text: str
    paper_ids: list[str]


RepoKind = Literal["code", "weights", "data"]
RepoStatus = Literal["ok", "moved", "missing", "unchecked"]


class RepoLink(BaseModel):
    """A code, weights or data repository a paper names (in its abstract or on its arXiv page),
    and what the last look at it found (`tools/repos.py`, docs/links.md)."""

    paper_id: str
    url: str
    """The repository's own address (https://github.com/OWNER/REPO), as the paper names it."""
    kind: RepoKind
    """"code" (GitHub, GitLab, …), "weights" (a Hugging Face model or collection), "data" (a
    Hugging Face dataset)."""
    name: str
    """OWNER/REPO as shown to the reader."""
    found_in: Literal["abstract", "arxiv-page"] = "abstract"
    status: RepoStatus = "unchecked"
    """ok: answers 2xx as the same repository; moved: redirects to another one or another host
    (flagged, not trusted); missing: 404 or 410; unchecked: never answered (no network, a
    timeout, 5xx)."""
    http_status: int | None = None
    final_url: str | None = None
    """Where the link ends after redirects (moved: the repository it now points at)."""
    first_seen: str = ""
    checked_at: str | None = None
    """When a check last got an answer (None: never)."""

    @property
    def trusted(self) -> bool:
        return self.status == "ok"


class RepoEvent(BaseModel):
    """A change in what a featured paper's links say, found by `flashnews recheck`: "code
    released", "weights released", "data released", "link now missing", "link now redirects
    elsewhere", "link works again"."""

    paper_id: str
    event: str
    kind: RepoKind
    url: str
    at: str
    detail: str = ""
