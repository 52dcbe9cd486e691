"""Fetcher: the edition's papers from its source, stored once, with one explicit outcome.

Outcomes: `ok` (N papers), `quiet-day` (a weekend or arXiv holiday: no bulletin, not an error),
`empty-unexpected` (a working day with no papers: something is wrong upstream). Failures raise
SourceError subclasses whose `outcome` is `rate-limited`, `malformed-response` or
`source-error`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from flashnews.config import Settings
from flashnews.errors import ConfigError, SourceError
from flashnews.models import Edition, Finding, Paper
from flashnews.tools.arxiv import DEMO_DATE, SnapshotSource, Source, demo_snapshot
from flashnews.tools.store import Store


def quiet_reason(settings: Settings, date: dt.date) -> str | None:
    """Why arXiv has no listing dated `date` (a weekend, a holiday), or None when it has one."""
    from flashnews.tools.arxiv import Schedule

    return Schedule(settings.holidays).quiet_reason(date)


def version_findings(store: Store, edition_id: str, papers: list[Paper]) -> list[Finding]:
    """New versions of papers featured in earlier editions: flagged, never featured again."""
    earlier = store.published_versions(edition_id)
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


def fetch(source: Source | None, store: Store, settings: Settings, edition_id: str,
          date: dt.date) -> dict[str, Any]:
    """Fetch and store the papers; return the state update (ids, fetch outcome, findings)."""
    if source is None:
        raise SourceError("no paper source given (use --source arxiv or --source PATH.jsonl)")
    name = source.name
    if not isinstance(source, SnapshotSource) and not getattr(source, "fixed_window", None):
        why = quiet_reason(settings, date)
        if why:
            return {"paper_ids": [], "fetch": {
                "outcome": "quiet-day", "count": 0, "source": name,
                "message": f"{why}: arXiv announces no new papers, so there is no bulletin"}}
    papers = source.papers(date)
    if not papers:
        return {"paper_ids": [], "fetch": {
            "outcome": "empty-unexpected", "count": 0, "source": name,
            "message": f"{name} returned no papers for {date.isoformat()}, a working day; "
                       "check https://arxiv.org/list/cs.DC/new before re-running"}}
    store.save_papers(edition_id, papers)
    skipped = list(getattr(source, "skipped", []) or [])
    findings = [*version_findings(store, edition_id, papers),
                *(Finding(check="no-abstract", severity="warning", source="code",
                          message=f"{s}: no title or abstract in the source; skipped (not "
                                  "scored, not in the bulletin)") for s in skipped)]
    note = f"; {len(skipped)} skipped without an abstract: {', '.join(skipped)}" \
        if skipped else ""
    return {"paper_ids": [p.arxiv_id for p in papers],
            "fetch_findings": [f.model_dump() for f in findings],
            "fetch": {"outcome": "ok", "count": len(papers), "source": name,
                      "message": f"{len(papers)} papers from {name}{note}"}}


def run_input(values: dict[str, Any]) -> dict[str, Any]:
    """A run's input, checked and completed (LangGraph Server clients send it as JSON).

    `date` is required, `format` defaults to flash; `edition_id` is derived (and must match if
    given); `source` defaults as in the CLI: the bundled snapshot on its day, else arxiv.
    """
    expected = ('expected {"date": "YYYY-MM-DD", "format": "flash"|"digest"|"weekly", '
                '"source": "arxiv"|"PATH.jsonl" (optional)}')
    if not values.get("date"):
        raise ConfigError(f"invalid run input: no date; {expected}", step="fetch")
    try:
        edition = Edition.model_validate(
            {k: values[k] for k in ("date", "format") if values.get(k) is not None})
    except ValidationError as exc:
        why = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid run input ({why}); {expected}", step="fetch") from None
    if values.get("edition_id") and values["edition_id"] != edition.id:
        raise ConfigError(f"invalid run input: edition_id {values['edition_id']!r} is not "
                          f"{edition.id!r} (its date and format)", step="fetch")
    source = values.get("source") or (str(demo_snapshot()) if edition.date == DEMO_DATE
                                      else "arxiv")
    return {"edition_id": edition.id, "date": edition.date.isoformat(),
            "format": edition.format, "source": source, "round": int(values.get("round") or 0)}
