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

from flashnews.errors import ConfigError, MalformedResponse, RateLimited, SourceError
from flashnews.models import Paper
from flashnews.tools.http import HttpClient, Transient

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


def read_snapshot(path: Path, skipped: list[str] | None = None) -> list[Paper]:
    """Read a JSONL snapshot; a bad line is an error naming the file and line.

    With `skipped`, a record whose title or abstract is empty is left out and its id (and
    line) added there instead: one paper without an abstract must not block the day."""
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
            if skipped is not None and isinstance(exc, ValidationError) and all(
                    e["loc"] in (("title",), ("abstract",)) and "empty" in e["msg"]
                    for e in exc.errors()):
                record = json.loads(line)
                skipped.append(f"{record.get('arxiv_id') or '?'} (line {number})")
                continue
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
        self.skipped: list[str] = []
        """Records left out of the last read: no title or no abstract."""

    def papers(self, date: dt.date) -> list[Paper]:
        self.skipped = []
        return read_snapshot(self.path, self.skipped)


ANNOUNCE_AT = dt.time(20, 0)
CUTOFF_AT = dt.time(14, 0)


class Schedule:
    """arXiv's announcement calendar, holidays included, in US Eastern time.

    arXiv takes a submission cut-off at 14:00 Eastern on working days (Monday to Friday) and
    announces at 20:00 Eastern Sunday to Thursday; an announcement carries everything submitted
    since the cut-off its predecessor carried, up to the latest cut-off, and its listing is
    dated the next day. A holiday (`FLASHNEWS_HOLIDAYS`, the days arXiv's notices name: "no
    announcement on D") has neither a cut-off nor an announcement, so the next announcement
    carries the days before it; an announcement with no new cut-off (a Sunday after a Friday
    holiday) does not happen. Consecutive listings' windows therefore meet exactly: no
    submission lands in two editions or in none (tested over whole years, DST changes included).
    """

    def __init__(self, holidays: Iterable[str] = ()) -> None:
        self.holidays = frozenset(holidays)

    def is_holiday(self, day: dt.date) -> bool:
        return day.strftime("%m-%d") in self.holidays or day.isoformat() in self.holidays

    def cutoff_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and not self.is_holiday(day)

    def announce_day(self, day: dt.date) -> bool:
        return day.weekday() in (6, 0, 1, 2, 3) and not self.is_holiday(day)

    def last_cutoff(self, day: dt.date) -> dt.date:
        """The latest cut-off day on or before `day`."""
        for back in range(60):
            d = day - dt.timedelta(days=back)
            if self.cutoff_day(d):
                return d
        raise ConfigError(f"no arXiv working day in the 60 days before {day}: check "
                          "FLASHNEWS_HOLIDAYS")

    def _previous_announcement(self, day: dt.date) -> dt.date:
        d = day - dt.timedelta(days=1)
        for _ in range(60):
            if self.announce_day(d):
                return d
            d -= dt.timedelta(days=1)
        raise ConfigError(f"no arXiv announcement in the 60 days before {day}: check "
                          "FLASHNEWS_HOLIDAYS")

    def window(self, listing: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """Submission window (UTC) behind the listing dated `listing`; None: no such listing."""
        announced = listing - dt.timedelta(days=1)
        if not self.announce_day(announced):
            return None
        end = self.last_cutoff(announced)
        start = self.last_cutoff(self._previous_announcement(announced))
        if start == end:
            return None  # nothing was cut off since the last announcement
        return (_eastern(start, CUTOFF_AT), _eastern(end, CUTOFF_AT))

    def quiet_reason(self, listing: dt.date) -> str | None:
        """Why there is no listing dated `listing`, or None when there is one."""
        if self.window(listing) is not None:
            return None
        if listing.weekday() >= 5:
            return f"{listing.isoformat()} is a {listing.strftime('%A')}"
        announced = listing - dt.timedelta(days=1)
        if self.is_holiday(announced):
            return (f"{listing.isoformat()} has no listing: {announced.isoformat()} is an arXiv "
                    "holiday (no announcement)")
        return (f"{listing.isoformat()} has no listing: the arXiv holiday before it left "
                f"nothing new to announce on {announced.isoformat()}")

    def latest_listing(self, now: dt.datetime) -> dt.date:
        """The date of the latest listing arXiv has announced at `now` (any time zone)."""
        if now.tzinfo is None:
            raise ValueError("latest_listing needs an aware datetime")
        local = now.astimezone(EASTERN)
        day = local.date() if local.time() >= ANNOUNCE_AT else local.date() - dt.timedelta(1)
        for _ in range(60):
            if self.window(day + dt.timedelta(days=1)) is not None:
                return day + dt.timedelta(days=1)
            day -= dt.timedelta(days=1)
        raise ConfigError("no arXiv listing in the last 60 days: check FLASHNEWS_HOLIDAYS")


def _eastern(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=EASTERN).astimezone(dt.UTC)


def now_utc() -> dt.datetime:
    """The clock (one place, so tests can set it)."""
    return dt.datetime.now(dt.UTC)


def latest_listing_date(holidays: Iterable[str] = (), now: dt.datetime | None = None) -> dt.date:
    """The default edition date: arXiv's latest listing, computed in US Eastern time whatever
    the host's zone (a run at 21:30 Eastern on Sunday is Monday's edition)."""
    return Schedule(holidays).latest_listing(now or now_utc())


def announcement_window(date: dt.date, holidays: Iterable[str] = ()
                        ) -> tuple[dt.datetime, dt.datetime] | None:
    """Submission window (UTC) behind the listing dated `date`; None when there is no listing
    (a weekend, or the day after an arXiv holiday). See Schedule."""
    return Schedule(holidays).window(date)


ARXIV_API = "https://export.arxiv.org/api/query"
_API_ERROR = "arxiv.org/api/errors"


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
                 sleep: Callable[[float], None] = time.sleep, api_url: str = ARXIV_API,
                 holidays: Iterable[str] = ()) -> None:
        self.categories = categories
        self.holidays = list(holidays)
        self.page_size = page_size
        self.retries = retries
        self.fixed_window = window
        self.api_url = api_url
        self.name = "arxiv"
        self.http = HttpClient(delay=delay, retries=retries, timeout=timeout, backoff=backoff,
                               sleep=sleep)

    @property
    def requests(self) -> int:
        """Requests sent to the API (every try counts)."""
        return self.http.requests

    def window(self, date: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        return self.fixed_window or announcement_window(date, self.holidays)

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
        """One page, parsed; transient failures retried with backoff (tools/http.py)."""
        try:
            return self.http.retrying(
                lambda: self._fetch_page(url, first=first, expected=expected))
        except Transient as exc:
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

        resp = self.http.get(url)  # arXiv asks for one request every 3 seconds: `delay`
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
            raise Transient("empty page before the end of the results")
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
    """`arxiv`, `arxiv:SINCE/UNTIL`, `rss`, or a path to a JSONL snapshot."""
    if spec == "rss":
        from flashnews.tools.rss import RssSource

        return RssSource(settings.categories, delay=settings.arxiv_delay,
                         retries=settings.arxiv_retries, timeout=settings.arxiv_timeout)
    if spec == "arxiv" or spec.startswith("arxiv:"):
        window = None
        if spec.startswith("arxiv:"):
            since, _, until = spec[6:].partition("/")
            window = (parse_when(since), parse_when(until, end=True))
            if window[0] >= window[1]:
                raise ConfigError(f"--since {since} is not before --until {until}")
        return ArxivSource(settings.categories, page_size=settings.arxiv_page_size,
                           delay=settings.arxiv_delay, retries=settings.arxiv_retries,
                           timeout=settings.arxiv_timeout, window=window,
                           holidays=settings.holidays)
    return SnapshotSource(Path(spec).expanduser().resolve())
