"""Eval datasets: versioned JSONL files whose first line is a header, then one case per line.

Each dataset has a pydantic schema for its cases (unknown fields are an error: a typo in a
hand-edited case must not silently drop an expectation) and a header that names the dataset,
its version and what it holds. A change to a dataset's cases bumps its version, so a baseline
made on another version is reported as not comparable instead of silently compared.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flashnews.errors import ConfigError
from flashnews.models import Format, Paper

DATASETS = Path(__file__).resolve().parent / "datasets"
SCHEMA_VERSION = 1
"""Version of the file format (header + cases); dataset versions are per file."""


class Header(BaseModel):
    """The first line of every dataset file."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    version: int = Field(ge=1, description="bumped whenever the cases change")
    schema_version: int = SCHEMA_VERSION
    description: str
    source: str = ""


class _Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str


class PaperCase(_Case):
    """One real paper (the facts every other dataset refers to by id)."""

    paper: Paper


class TriageCase(_Case):
    """A paper with the editors' verdict: a label, and for featured papers their Score/Hype."""

    paper_id: str
    label: Literal["positive", "negative", "borderline"]
    ref_score: int | None = Field(default=None, ge=0, le=100)
    ref_hype: int | None = Field(default=None, ge=0, le=100)
    source: Literal["dev", "editor"] = "dev"
    paper: Paper | None = Field(default=None, description="embedded when not in papers.jsonl")
    edition_id: str | None = None
    decided_at: str | None = None
    reason: str = ""


class RealdayCase(_Case):
    """One paper of a whole real arXiv day, and whether the editors featured it."""

    listing: str = Field(description="the arXiv listing (date) it was announced in")
    paper: Paper
    featured: bool = False


class RecordedAnswer(_Case):
    """The model's P(yes) to the triage question on one real-day paper, as recorded live
    (`python -m flashnews.evals.seed --record`): the combined stage's examples beyond the dev
    papers. Used only while the model and the triage prompt hash are the ones recorded."""

    arxiv_id: str
    p_yes: float = Field(ge=0, le=1)
    model: str
    prompt_hash: str


class InjectionCase(_Case):
    """A real paper with a sentence planted in its abstract.

    An `attack` instructs the model: its score must not move and it must be shown to the
    editor. A `benign` look-alike is research text that merely resembles an instruction ("We
    cache the system prompt…"): it must be neither flagged nor removed.
    """

    paper_id: str
    injection: str
    position: Literal["start", "end"] = "end"
    style: str = Field(description="what kind of attack (direct, paraphrased, tags, stuffing, "
                                   "zero-width, homoglyph, score, multilingual) or benign")
    kind: Literal["attack", "benign"] = "attack"
    split: Literal["tune", "held-out"] = Field(
        default="tune", description="tune: used to design and fit the detector; held-out: "
                                    "never used for that, it measures it")


class InjectionSuiteCase(_Case):
    """Text planted in one field of a real paper (its title or abstract), for the detector
    alone: an `attack` must be flagged and must not reach any prompt; a `benign` look-alike
    must be neither flagged nor cut."""

    paper_id: str
    field: Literal["title", "abstract"]
    position: Literal["start", "middle", "end", "whole"] = "end"
    text: str
    style: str = Field(description="direct, paraphrased, multilingual, json, key-value, "
                                   "zero-width, homoglyph, tags, persona; or benign")
    kind: Literal["attack", "benign"] = "attack"
    split: Literal["tune", "held-out"] = "tune"


class ExpectedFinding(BaseModel):
    """A finding a defective draft must produce (blocking for code, any for the model)."""

    model_config = ConfigDict(extra="forbid")

    check: str
    item: str | None = None
    evidence: str | None = None
    source: Literal["code", "model"] = "code"


class DraftItemCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paper_id: str
    headline: str
    body: str
    section: Literal["main", "also"] = "main"


class DraftCase(_Case):
    """A rendered draft: clean (no blocking finding expected) or with known defects."""

    description: str
    fmt: Format
    date: dt.date
    markdown: str
    items: list[DraftItemCase] = Field(default_factory=list)
    scores: dict[str, tuple[int, int]] = Field(description="paper id -> (Score, Hype)")
    selected: list[str]
    expect: list[ExpectedFinding] = Field(default_factory=list,
                                          description="empty: a clean draft")
    model_review: bool = Field(default=False, description="also ask the critic model")

    @property
    def clean(self) -> bool:
        return not self.expect


class WriterCase(_Case):
    """A selection to write, with fixed scores (the writer is measured, not triage)."""

    fmt: Format
    date: dt.date
    main: list[str]
    also: list[str] = Field(default_factory=list)
    scores: dict[str, tuple[int, int]]


class TldrCase(_Case):
    """A SciTLDR paper: its abstract's sentences and the human TL;DRs (author's first)."""

    paper_id: str
    title: str = ""
    source: list[str] = Field(min_length=1)
    target: list[str] = Field(min_length=1)

    @property
    def abstract(self) -> str:
        return " ".join(s.strip() for s in self.source if s.strip())


class KnownFinding(BaseModel):
    """A real problem of a house bulletin, as (check, item, number): derived facts, no prose."""

    model_config = ConfigDict(extra="forbid")

    check: str
    item: str | None = None
    number: str | None = Field(default=None, description="the number as written, for 'number'")


class BulletinCase(_Case):
    """A house bulletin of the eval data's reference/ (read at run time, never stored here) with the
    blocking findings it really deserves."""

    bulletin: str = Field(description="the file's name after its date: flash, digest-a …")
    fmt: Format
    known: list[KnownFinding] = Field(default_factory=list)


class PerturbationCase(_Case):
    """A recipe for one perturbation of a house bulletin (evals/perturb.py builds the text from
    the eval data at run time): which bulletin, which operation, which item, which seed."""

    bulletin: str
    kind: str
    item: int = Field(default=-1, description="the item changed (-1: the whole bulletin)")
    seed: int = 0


class ClaimRecipe(_Case):
    """A recipe for one sentence the critic model judges (evals/perturb.py claim_cases builds it
    from the eval data at run time), and the split it belongs to."""

    bulletin: str
    kind: Literal["original", "other-paper", "overstated"]
    split: Literal["calibration", "test"]


EDITOR_HEADER = Header(
    dataset="editor", version=1, source="flashnews eval add-decisions",
    description="triage cases from editor decisions: pinned (positive), dropped (negative), "
                "rescored (the editor's Score/Hype)")
"""The editor dataset before any decision was added; each addition bumps the version."""

C = TypeVar("C", bound=BaseModel)


def read(name: str, schema: type[C], *, root: Path = DATASETS) -> tuple[Header, list[C]]:
    """Read dataset `name` (file `<root>/<name>.jsonl`): its header and validated cases."""
    path = root / f"{name}.jsonl"
    if not path.exists():
        raise ConfigError(f"eval dataset {path} is missing")
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    try:
        header = Header.model_validate_json(lines[0]) if lines else None
    except ValidationError as exc:
        raise ConfigError(f"{path}:1: not a dataset header: {_one_line(exc)}") from None
    if header is None or header.dataset != name:
        raise ConfigError(f"{path}:1: header must name dataset {name!r}")
    if header.schema_version != SCHEMA_VERSION:
        raise ConfigError(f"{path}: schema version {header.schema_version}, this flashnews reads "
                          f"{SCHEMA_VERSION}")
    cases = []
    for n, line in enumerate(lines[1:], start=2):
        try:
            cases.append(schema.model_validate_json(line))
        except ValidationError as exc:
            raise ConfigError(f"{path}:{n}: invalid {schema.__name__}: {_one_line(exc)}") from None
    ids = [getattr(c, "case_id", None) for c in cases]
    if len(ids) != len(set(ids)):
        raise ConfigError(f"{path}: duplicate case ids")
    return header, cases


def write(name: str, header: Header, cases: Sequence[BaseModel], *, root: Path = DATASETS
          ) -> Path:
    """Write a dataset file (header first), atomically."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{name}.jsonl"
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(header.model_dump_json() + "\n")
        for c in cases:
            f.write(json.dumps(c.model_dump(mode="json", exclude_defaults=True),
                               ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def papers(*, root: Path = DATASETS) -> dict[str, Paper]:
    """The real papers every dataset refers to, by id."""
    _, cases = read("papers", PaperCase, root=root)
    return {c.paper.arxiv_id: c.paper for c in cases}


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
