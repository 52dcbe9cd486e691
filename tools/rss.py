"""arXiv's per-category RSS feeds: exactly what the latest announcement carried.

Each feed (`https://rss.arxiv.org/rss/<category>`) lists the latest listing of one category;
every item has an `arxiv:announce_type`: `new`, `cross` (a cross-list), `replace` or
`replace-cross` (a new version of an older paper). New papers and cross-lists are the day's
papers; replacements are counted, never featured. The channel's `pubDate` is the listing's date:
a feed of another date is stale (the announcement has not happened yet, or the request is for
an earlier day, which the export API serves: `--source arxiv`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import requests
from pydantic import ValidationError

from flashnews.errors import MalformedResponse, RateLimited, SourceError
from flashnews.models import Paper
from flashnews.tools.http import HttpClient, Transient

log = logging.getLogger(__name__)
RSS_URL = "https://rss.arxiv.org/rss/"
_GUID = re.compile(r"(?:oai:arXiv\.org:|arxiv\.org/abs/)(?P<id>[^\s]+?)(?:v(?P<v>\d+))?$")
_DESCRIPTION = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.S)


class StaleFeed(SourceError):
    """The RSS feed holds another day's listing than the one asked for."""

    outcome = "stale-feed"


class RssSource:
    """The latest announcement, read from the beat's per-category RSS feeds.

    Same politeness as the API source: `delay` seconds between requests, a timeout on each,
    retries with exponential backoff (or Retry-After) on 429, 5xx, timeouts and connection
    errors. `counts` holds, after `papers`, how many were new, cross-listed and replaced.
    """

    def __init__(self, categories: Iterable[str], *, delay: float = 3.0, retries: int = 4,
                 timeout: float = 30.0, backoff: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep, url: str = RSS_URL) -> None:
        self.categories = list(categories)
        self.retries = retries
        self.url = url
        self.name = "rss"
        self.counts: Counter[str] = Counter()
        self.http = HttpClient(delay=delay, retries=retries, timeout=timeout, backoff=backoff,
                               sleep=sleep)

    @property
    def requests(self) -> int:
        """Requests sent to arXiv (every try counts)."""
        return self.http.requests

    def papers(self, date: dt.date) -> list[Paper]:
        """New and cross-listed papers of the listing dated `date` (replacements left out)."""
        found: dict[str, tuple[str, Paper]] = {}
        replaced: set[str] = set()
        for category in self.categories:
            feed = self._feed(category)
            listed = _listing_date(feed)
            if listed is not None and listed != date:
                later = "an earlier day: the export API serves those (--source arxiv)" \
                    if listed > date else "a later one: arXiv has not announced it yet"
                raise StaleFeed(f"the arXiv RSS feed of {category} is the listing of "
                                f"{listed.isoformat()}, not {date.isoformat()}; RSS carries only "
                                f"the latest announcement, and {date.isoformat()} is {later}")
            for entry in feed.entries:
                kind = str(entry.get("arxiv_announce_type", "new")).strip().lower()
                paper = _paper(entry, category)
                if kind.startswith("replace"):
                    replaced.add(paper.arxiv_id)
                    continue
                seen = found.get(paper.arxiv_id)
                # A paper is `new` in its primary category's feed and `cross` in the others.
                if seen is None or (seen[0] != "new" and kind == "new"):
                    found[paper.arxiv_id] = (kind, paper)
        self.counts = Counter(kind for kind, _ in found.values())
        self.counts["replaced"] = len(replaced - set(found))
        return [p for _, p in found.values()]

    def _feed(self, category: str) -> Any:
        try:
            return self.http.retrying(lambda: self._fetch(category))
        except Transient as exc:
            if exc.status in (429, 503):
                raise RateLimited(f"arXiv RSS kept answering HTTP {exc.status} after "
                                  f"{self.retries + 1} tries; try again later") from None
            raise MalformedResponse(f"arXiv RSS: {exc} after {self.retries + 1} tries") from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise SourceError(f"arXiv RSS unreachable after {self.retries + 1} tries "
                              f"({type(exc).__name__})") from None

    def _fetch(self, category: str) -> Any:
        import feedparser

        resp = self.http.get(self.url + category)
        if resp.status_code != 200:
            raise MalformedResponse(f"arXiv RSS answered HTTP {resp.status_code} for {category}")
        feed = feedparser.parse(resp.content)
        if feed.bozo or feed.get("version", "") not in ("rss20", "rss10", "rss090", "rss091u",
                                                        "rss092", "rss093", "rss094"):
            why = getattr(feed, "bozo_exception", None) or "not an RSS feed"
            raise MalformedResponse(f"malformed arXiv RSS feed of {category}: {why}")
        return feed


def _listing_date(feed: Any) -> dt.date | None:
    """The date of the listing a feed holds: its channel pubDate, in the zone it is given in."""
    raw = feed.feed.get("published") or feed.feed.get("updated")
    if not raw:
        return None
    try:
        return email.utils.parsedate_to_datetime(raw).date()
    except (TypeError, ValueError):
        return None


def _paper(entry: Any, category: str) -> Paper:
    guid = str(entry.get("id") or entry.get("link") or "")
    m = _GUID.search(guid)
    if not m:
        raise MalformedResponse(f"arXiv RSS item without an arXiv id in {category}: {guid!r}")
    abstract = _DESCRIPTION.sub("", str(entry.get("summary", ""))).strip()
    authors = str(entry.get("author", "")).replace(" and ", ", ")
    try:
        return Paper(arxiv_id=m.group("id"), version=int(m.group("v") or 1),
                     title=str(entry.get("title", "")), abstract=abstract,
                     authors=[a.strip() for a in authors.split(",") if a.strip()],
                     categories=[t.get("term", "") for t in entry.get("tags", [])
                                 if t.get("term")] or [category])
    except (ValueError, ValidationError) as exc:
        raise MalformedResponse(f"malformed arXiv RSS item {guid}: "
                                f"{str(exc).splitlines()[0]}") from None
