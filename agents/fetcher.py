"""Fetcher: the edition's papers from its source, stored once, with one explicit outcome."""

from __future__ import annotations

import datetime as dt

from flashnews.tools.arxiv import SnapshotSource, announcement_window

from flashnews.errors import SourceError
from flashnews.runtime import Runtime


def fetch(rt: Runtime, edition_id: str, date: dt.date) -> dict[str, object]:
    """Fetch and store the papers; return the state update (ids and the fetch outcome)."""
    if rt.source is None:
        raise SourceError("no paper source given (use --source arxiv or --source PATH.jsonl)")
    if not isinstance(rt.source, SnapshotSource) and announcement_window(date) is None:
        return {"paper_ids": [], "fetch": {
            "outcome": "quiet-day", "count": 0, "source": rt.source.name,
            "message": f"{date.isoformat()} is a {date.strftime('%A')}: arXiv announces no new "
                       "papers, so there is no bulletin"}}
    papers = rt.source.papers(date)
    if not papers:
        return {"paper_ids": [], "fetch": {
            "outcome": "empty-unexpected", "count": 0, "source": rt.source.name,
            "message": f"{rt.source.name} returned no papers for {date.isoformat()}, a working "
                       "day; check arXiv's listing before re-running"}}
    rt.store.save_papers(edition_id, papers)
    return {"paper_ids": [p.arxiv_id for p in papers], "fetch": {
        "outcome": "ok", "count": len(papers), "source": rt.source.name,
        "message": f"{len(papers)} papers from {rt.source.name}"}}
