"""Paper sources: JSONL snapshots (demo, replay, tests) and the arXiv export API."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from flashnews.errors import SourceError
from flashnews.models import Paper

log = logging.getLogger(__name__)
EASTERN = ZoneInfo("America/New_York")
DEMO_DATE = dt.date(2026, 2, 25)


class Source(Protocol):
    """Where an edition's papers come from."""

    name: str

    def papers(self, date: dt.date) -> list[Paper]: ...


def demo_snapshot() -> Path:
    """The bundled real papers of the 2026-02-25 demo day."""
    return Path(str(resources.files("flashnews").joinpath("data/papers-2026-02-25.jsonl")))


def read_snapshot(path: Path) -> list[Paper]:
    """Read a JSONL snapshot; a bad line is an error naming the file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SourceError(f"snapshot not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read snapshot {path}: {exc}") from None
    papers: dict[str, Paper] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            paper = Paper.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            first = str(exc).splitlines()[0] if isinstance(exc, json.JSONDecodeError) else \
                "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise SourceError(f"malformed paper record at {path}:{number}: {first}") from None
        papers.setdefault(paper.arxiv_id, paper)
    return list(papers.values())


def write_snapshot(path: Path, papers: Iterable[Paper]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for p in papers:
            f.write(p.model_dump_json(exclude_none=True) + "\n")
    tmp.replace(path)


class SnapshotSource:
    """A JSONL file of Paper records, taken as the whole of the edition's day."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)

    def papers(self, date: dt.date) -> list[Paper]:
        return read_snapshot(self.path)


def announcement_window(date: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """Submission window (UTC) behind the listing dated `date`; None for a weekend.

    arXiv announces Sunday to Thursday at 20:00 US Eastern; a listing dated Monday to Friday holds
    what was submitted between the 14:00 Eastern cut-offs of the two working days before it.
    """
    if date.weekday() >= 5:
        return None
    end_day = date - dt.timedelta(days=1)
    while end_day.weekday() >= 5:
        end_day -= dt.timedelta(days=1)
    start_day = end_day - dt.timedelta(days=1)
    while start_day.weekday() >= 5:
        start_day -= dt.timedelta(days=1)
    cut = dt.time(14, 0, tzinfo=EASTERN)
    start = dt.datetime.combine(start_day, cut).astimezone(dt.UTC)
    end = dt.datetime.combine(end_day, cut).astimezone(dt.UTC)
    return start, end


class ArxivSource:
    """The arXiv export API through the `arxiv` package: the beat's categories, one listing day."""

    def __init__(self, categories: list[str], *, page_size: int = 200, delay: float = 3.0,
                 retries: int = 4) -> None:
        self.categories = categories
        self.page_size = page_size
        self.delay = delay
        self.retries = retries
        self.name = "arxiv"

    def query(self, start: dt.datetime, end: dt.datetime) -> str:
        cats = " OR ".join(f"cat:{c}" for c in self.categories)
        fmt = "%Y%m%d%H%M"
        return f"({cats}) AND submittedDate:[{start.strftime(fmt)} TO {end.strftime(fmt)}]"

    def papers(self, date: dt.date) -> list[Paper]:
        import arxiv

        window = announcement_window(date)
        if window is None:
            return []
        client = arxiv.Client(page_size=self.page_size, delay_seconds=self.delay,
                              num_retries=self.retries)
        search = arxiv.Search(query=self.query(*window), max_results=None,
                              sort_by=arxiv.SortCriterion.SubmittedDate)
        papers: dict[str, Paper] = {}
        try:
            for result in client.results(search):
                paper = Paper(
                    arxiv_id=result.get_short_id(), title=result.title,
                    authors=[a.name for a in result.authors], abstract=result.summary,
                    categories=list(result.categories), primary_category=result.primary_category,
                    submitted=result.published.date(),
                )
                papers.setdefault(paper.arxiv_id, paper)  # cross-lists arrive once per category
        except arxiv.HTTPError as exc:
            raise SourceError(f"arXiv API failed with HTTP {exc.status} after {self.retries} "
                              "retries") from None
        except (arxiv.UnexpectedEmptyPageError, ValidationError) as exc:
            raise SourceError(f"malformed arXiv response: {exc}") from None
        return list(papers.values())
