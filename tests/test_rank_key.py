"""One house order for assessments: Score, then Hype, then arXiv id, everywhere they are ranked."""

from __future__ import annotations

from flashnews.agents.selection import select
from flashnews.models import Assessment, Draft, DraftItem, Paper, rank_key
from flashnews.tools.publish import build_publication


def _a(pid: str, score: int, hype: int) -> Assessment:
    return Assessment(paper_id=pid, relevant=True, score=score, hype=hype, rationale="r",
                      topics=[pid], prompt_hash="h", model="m")


SCORES = {a.paper_id: a for a in [_a("2602.00003", 80, 10), _a("2602.00001", 80, 10),
                                   _a("2602.00002", 80, 60), _a("2602.00004", 90, 0)]}
ORDER = ["2602.00004", "2602.00002", "2602.00001", "2602.00003"]


def test_rank_key_orders_by_score_then_hype_then_id() -> None:
    assert [a.paper_id for a in sorted(SCORES.values(), key=rank_key)] == ORDER
    assert select(SCORES, main=4, also=0).main == ORDER


def test_the_publication_ranks_its_assessments_the_same_way() -> None:
    papers = {pid: Paper(arxiv_id=pid, title=f"Paper {pid}", abstract="An abstract.")
              for pid in SCORES}
    draft = Draft(edition_id="2026-02-25-flash", format="flash",
                  markdown="# Inference Ecosystem — Flash News\n",
                  items=[DraftItem(paper_id="2602.00004", headline="H", body="B")])
    pub = build_publication(edition_id="2026-02-25-flash", date="2026-02-25", fmt="flash",
                            revision=0, draft=draft, papers=papers, assessments=SCORES,
                            corrections=[], published_at=None)
    # A tie on Score is broken by Hype, as in the review table and the selection.
    assert [a["paper_id"] for a in pub.assessments] == ORDER
