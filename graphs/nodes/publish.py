"""The publish node: every channel delivered through the outbox, the edition recorded."""

from __future__ import annotations

import logging
from typing import Any

from langgraph.runtime import Runtime

from flashnews.graphs.context import Context, context_of
from flashnews.state import EditionState, view
from flashnews.tools.publish import Publisher, build_publication, featured_papers
from flashnews.tools.repos import Checker, publication_links
from flashnews.tools.store import utc_now

log = logging.getLogger(__name__)


def publish_node(state: EditionState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Every channel delivered through the outbox, the edition recorded."""
    ctx = context_of(state, runtime)
    v = view(state)
    eid, revision, draft = v.edition_id, v.get("revision", 0), v.draft
    assert draft is not None
    papers = ctx.store.papers(state["edition_id"])
    row = ctx.store.edition(eid)
    # The code and weights each item's paper names: a HEAD per link, once (docs/links.md).
    checker = Checker(timeout=ctx.settings.repo_timeout, enabled=ctx.settings.repo_check)
    repos = publication_links(ctx.store, papers, [i.paper_id for i in draft.items], checker,
                              utc_now())
    pub = build_publication(
        edition_id=eid, date=state["date"], fmt=v.format, revision=revision, draft=draft,
        papers=papers, assessments=v.assessments, corrections=ctx.store.corrections(eid),
        published_at=row.published_at if row else None,
        flags=[n for n in v.notes if n.check == "prompt-injection"], repos=repos)
    published = Publisher(ctx.settings, ctx.store, ctx.out_dir,
                          unknown=ctx.unknown_outcome).deliver(pub)
    featured = featured_papers(v.selection.ids, draft, edited=v.edited)
    ctx.store.mark_published(eid, [(pid, papers[pid].version) for pid in featured])
    if revision:
        ctx.store.finish_correction(eid, revision)
    target = published.get("markdown") or next(iter(published.values()), "")
    verb = f"published correction {revision} of" if revision else "published"
    message = f"{verb} {eid}: " + ", ".join(published.values())
    # Recorded here, not only by the CLI's service: a run on LangGraph Server has no
    # service around it, and `flashnews status/history` and `run` read this row.
    ctx.store.set_edition(eid, status="published", step=None, message=message, path=target)
    _index(ctx, eid)
    return {"published": published, "outcome": "published", "message": message,
            "path": target}


def _index(ctx: Context, edition_id: str) -> None:
    """The edition into the archive's search now (tools/search.py), so that the first search
    after it embeds nothing. A failure here loses nothing: the next search catches up."""
    from flashnews.tools.search import SearchIndex

    if ctx.embedder is None:
        return
    try:
        SearchIndex(ctx.store, ctx.embedder).sync(only=edition_id)
    except Exception as exc:
        log.warning("search: %s not indexed at publish (the next search indexes it): %s",
                    edition_id, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
