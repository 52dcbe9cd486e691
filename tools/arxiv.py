"""Paper sources: JSONL snapshots (demo, replay, tests) and the arXiv export API."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests
from lxml import etree
from pydantic import ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from flashnews.errors import ConfigError, MalformedResponse, RateLimited, SourceError
from flashnews.models import Paper

if TYPE_CHECKING:
    from flashnews.config import Settings

log = logging.getLogger(__name__)
EASTERN = ZoneInfo("America/New_York")
DEMO_DATE = dt.date(2026, 2, 25)


class Source(Protocol):
    """Where an edition's papers come from."""

    name: str

    def papers(self, date: dt.date) -> list[Paper]: ...


def demo_snapshot() -> Path:
    """The bundled real papers of the 2026-02-25 demo day."""
    return Path(str(resources.files("flashnews.data").joinpath("papers-2026-02-25.jsonl")))


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


ARXIV_API = "https://export.arxiv.org/api/query"
_API_ERROR = "arxiv.org/api/errors"


class _Transient(Exception):
    """A response worth retrying: 429, 5xx, or an empty page before the end of the results."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def parse_when(text: str, *, end: bool = False) -> dt.datetime:
    """`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` in US Eastern time (arXiv's clock), as UTC."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise SourceError(f"not a date or datetime: {text!r} (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") \
            from None
    if len(text) == 10 and end:
        value += dt.timedelta(days=1)
    if value.tzinfo is None:
        value = value.replace(tzinfo=EASTERN)
    return value.astimezone(dt.UTC)


class ArxivSource:
    """The arXiv export API: the beat's categories over one announcement window.

    Pages through every result, waits `delay` seconds between requests, gives every request a
    timeout, and retries 429, 5xx, timeouts and connection errors with exponential backoff (or
    the server's Retry-After). Cross-listed papers are returned once, at their latest version.
    """

    def __init__(self, categories: list[str], *, page_size: int = 200, delay: float = 3.0,
                 retries: int = 4, timeout: float = 30.0, backoff: float = 5.0,
                 window: tuple[dt.datetime, dt.datetime] | None = None,
                 sleep: Callable[[float], None] = time.sleep, api_url: str = ARXIV_API) -> None:
        self.categories = categories
        self.page_size = page_size
        self.delay = delay
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.fixed_window = window
        self.sleep = sleep
        self.api_url = api_url
        self.name = "arxiv"
        self.requests = 0
        self._last: float | None = None
        self._session = requests.Session()

    def window(self, date: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        return self.fixed_window or announcement_window(date)

    def query(self, start: dt.datetime, end: dt.datetime) -> str:
        cats = " OR ".join(f"cat:{c}" for c in self.categories)
        fmt = "%Y%m%d%H%M"
        return f"({cats}) AND submittedDate:[{start.strftime(fmt)} TO {end.strftime(fmt)}]"

    def page_url(self, query: str, start: int) -> str:
        return f"{self.api_url}?" + urlencode({
            "search_query": query, "start": start, "max_results": self.page_size,
            "sortBy": "submittedDate", "sortOrder": "ascending"})

    def papers(self, date: dt.date) -> list[Paper]:
        window = self.window(date)
        if window is None:
            return []
        query = self.query(*window)
        found: dict[str, Paper] = {}
        start, total = 0, None
        while total is None or start < total:
            feed = self._page(self.page_url(query, start), first=start == 0,
                              expected=None if total is None else total - start)
            total = feed.header.total_results if total is None else total
            for result in feed.results:
                paper = _paper(result)
                seen = found.get(paper.arxiv_id)
                if seen is None or paper.version > seen.version:
                    found[paper.arxiv_id] = paper  # a cross-list or an older version
            if not feed.results:
                break
            start += len(feed.results)
        return list(found.values())

    def _page(self, url: str, *, first: bool, expected: int | None) -> Any:
        """One page, parsed; transient failures retried with backoff."""

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            retry_after = getattr(exc, "retry_after", None)
            exp = self.backoff * 2 ** (state.attempt_number - 1)
            return float(min(max(retry_after or 0.0, exp), 300.0))

        retrying = Retrying(
            retry=retry_if_exception_type((_Transient, requests.Timeout,
                                           requests.ConnectionError)),
            stop=stop_after_attempt(self.retries + 1), wait=wait, sleep=self.sleep, reraise=True)
        try:
            return retrying(self._fetch_page, url, first=first, expected=expected)
        except _Transient as exc:
            if exc.status in (429, 503):
                raise RateLimited(
                    f"arXiv kept answering HTTP {exc.status} after {self.retries + 1} tries; "
                    "try again later") from None
            raise MalformedResponse(f"arXiv API: {exc} after {self.retries + 1} tries") from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise SourceError(f"arXiv API unreachable after {self.retries + 1} tries "
                              f"({type(exc).__name__})") from None

    def _fetch_page(self, url: str, *, first: bool, expected: int | None) -> Any:
        from arxiv import _feed

        if self._last is not None:
            # arXiv asks for one request every 3 seconds.
            gap = self.delay - (time.monotonic() - self._last)
            if gap > 0:
                self.sleep(gap)
        self.requests += 1
        try:
            resp = self._session.get(url, timeout=self.timeout,
                                     headers={"User-Agent": "flashnews (arXiv digest)"})
        finally:
            self._last = time.monotonic()
        if resp.status_code == 429 or resp.status_code >= 500:
            after = resp.headers.get("Retry-After")
            raise _Transient(f"HTTP {resp.status_code}", resp.status_code,
                             float(after) if after and after.isdigit() else None)
        if resp.status_code != 200:
            raise MalformedResponse(f"arXiv API answered HTTP {resp.status_code}")
        try:
            etree.fromstring(resp.content, parser=etree.XMLParser(resolve_entities=False,
                                                                   no_network=True))
        except etree.XMLSyntaxError as exc:
            raise MalformedResponse(f"malformed arXiv response (not valid Atom XML: {exc})") \
                from None
        feed = _feed.parse(resp.content)
        for result in feed.results:
            if _API_ERROR in result.entry_id:
                raise MalformedResponse(f"arXiv API error: {' '.join(result.summary.split())}")
        if b"opensearch" not in resp.content or b"<feed" not in resp.content:
            raise MalformedResponse("malformed arXiv response (not an API result feed)")
        if not feed.results and not first and expected:
            raise _Transient("empty page before the end of the results")
        return feed


def _paper(result: Any) -> Paper:
    try:
        return Paper(arxiv_id=result.get_short_id(), title=result.title,
                     authors=[a.name for a in result.authors], abstract=result.summary,
                     categories=list(result.categories),
                     primary_category=result.primary_category or None,
                     submitted=result.published.date())
    except (ValueError, ValidationError) as exc:
        raise MalformedResponse(f"malformed arXiv entry {result.entry_id}: "
                                f"{str(exc).splitlines()[0]}") from None


def arxiv_spec(since: str | None, until: str | None) -> str:
    """The source spec of arXiv over an explicit window (`arxiv:SINCE/UNTIL`)."""
    if bool(since) != bool(until):
        raise ConfigError("--since and --until go together")
    return f"arxiv:{since}/{until}" if since else "arxiv"


def source_from_spec(spec: str, settings: Settings) -> Source:
    """`arxiv`, `arxiv:SINCE/UNTIL`, or a path to a JSONL snapshot."""
    if spec == "arxiv" or spec.startswith("arxiv:"):
        window = None
        if spec.startswith("arxiv:"):
            since, _, until = spec[6:].partition("/")
            window = (parse_when(since), parse_when(until, end=True))
            if window[0] >= window[1]:
                raise ConfigError(f"--since {since} is not before --until {until}")
        return ArxivSource(settings.categories, page_size=settings.arxiv_page_size,
                           delay=settings.arxiv_delay, retries=settings.arxiv_retries,
                           timeout=settings.arxiv_timeout, window=window)
    return SnapshotSource(Path(spec).expanduser().resolve())
