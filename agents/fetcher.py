"""Fetcher: the edition's papers from its source, stored once, with one explicit outcome.

Outcomes: `ok` (N papers), `quiet-day` (a weekend or arXiv holiday: no bulletin, not an error),
`empty-unexpected` (a working day with no papers: something is wrong upstream). Failures raise
SourceError subclasses whose `outcome` is `rate-limited`, `malformed-response` or
`source-error`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flashnews.tools.arxiv import SnapshotSource

from flashnews.config import Settings
from flashnews.errors import SourceError
from flashnews.models import Finding, Paper
from flashnews.runtime import Runtime


def quiet_reason(settings: Settings, date: dt.date) -> str | None:
    """Why arXiv has no listing dated `date` (a weekend, a holiday), or None when it has one."""
    from flashnews.tools.arxiv import Schedule

    return Schedule(settings.holidays).quiet_reason(date)


def version_findings(rt: Runtime, edition_id: str, papers: list[Paper]) -> list[Finding]:
    """New versions of papers featured in earlier editions: flagged, never featured again."""
    earlier = rt.store.published_versions(edition_id)
    out = []
    for p in papers:
        if p.arxiv_id in earlier:
            edition, version = earlier[p.arxiv_id]
            what = f"v{p.version} of" if p.version > version else "again"
            out.append(Finding(
                check="already-featured", severity="info", item=p.arxiv_id, source="code",
                evidence=f"{p.arxiv_id}v{p.version}",
                message=f"{p.arxiv_id} ({what} a paper featured in {edition} as v{version}) is "
                        "not featured again"))
    return out


def fetch(rt: Runtime, edition_id: str, date: dt.date) -> dict[str, Any]:
    """Fetch and store the papers; return the state update (ids, fetch outcome, findings)."""
    if rt.source is None:
        raise SourceError("no paper source given (use --source arxiv or --source PATH.jsonl)")
    name = rt.source.name
    if not isinstance(rt.source, SnapshotSource) and not getattr(rt.source, "fixed_window", None):
        why = quiet_reason(rt.settings, date)
        if why:
            return {"paper_ids": [], "fetch": {
                "outcome": "quiet-day", "count": 0, "source": name,
                "message": f"{why}: arXiv announces no new papers, so there is no bulletin"}}
    papers = rt.source.papers(date)
    if not papers:
        return {"paper_ids": [], "fetch": {
            "outcome": "empty-unexpected", "count": 0, "source": name,
            "message": f"{name} returned no papers for {date.isoformat()}, a working day; "
                       "check https://arxiv.org/list/cs.DC/new before re-running"}}
    rt.store.save_papers(edition_id, papers)
    return {"paper_ids": [p.arxiv_id for p in papers],
            "fetch_findings": [f.model_dump() for f in version_findings(rt, edition_id, papers)],
            "fetch": {"outcome": "ok", "count": len(papers), "source": name,
                      "message": f"{len(papers)} papers from {name}"}}
