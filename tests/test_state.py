"""The typed view over the checkpointed state: records decoded from the checkpoint's JSON and
encoded back to exactly that JSON; the featured papers of a publication."""

from __future__ import annotations

import datetime as dt

from flashnews.models import Assessment, Draft, DraftItem, Finding, Selection, ThemeText
from flashnews.state import encode, view
from flashnews.tools.publish import featured_papers


def _state() -> dict:
    a = Assessment(paper_id="2602.00001", relevant=True, score=70, hype=40, rationale="r",
                   topics=["serving"], prompt_hash="h", model="m")
    b = a.model_copy(update={"paper_id": "2602.00002", "score": 70, "hype": 55})
    draft = Draft(edition_id="2026-02-25-flash", format="flash", lead="A lead.",
                  items=[DraftItem(paper_id="2602.00001", headline="H", body="B.",
                                   section="main")],
                  markdown="# Title\n\n[One](https://arxiv.org/abs/2602.00001) is fast.\n")
    return {"edition_id": "2026-02-25-flash", "date": "2026-02-25", "format": "flash",
            "assessments": {"2602.00001": a.model_dump(mode="json"),
                            "2602.00002": b.model_dump(mode="json")},
            "selection": {"main": ["2602.00001"], "also": ["2602.00002"]},
            "draft": draft.model_dump(mode="json"),
            "themes": [{"title": "T", "text": "x", "paper_ids": ["2602.00001"]}],
            "findings": [{"check": "c", "severity": "blocking", "message": "m",
                          "item": "2602.00001", "evidence": "", "source": "code"}],
            "fetch_findings": [], "triage_findings": [
                {"check": "injection", "severity": "warning", "message": "w", "item": None,
                 "evidence": "", "source": "triage"}]}


def test_view_decodes_records_and_encode_gives_back_the_same_json() -> None:
    state = _state()
    v = view(state)
    assert v.date == dt.date(2026, 2, 25) and v.edition_id == "2026-02-25-flash"
    assert isinstance(v.selection, Selection) and v.selection.ids == ["2602.00001", "2602.00002"]
    assert isinstance(v.draft, Draft) and isinstance(v.themes[0], ThemeText)
    assert all(isinstance(f, Finding) for f in [*v.findings, *v.notes])
    assert [f.check for f in v.notes] == ["injection"]
    assert v.assessments is v.assessments  # decoded once
    # Ties on Score go to the higher Hype.
    assert [a.paper_id for a in v.ranked()] == ["2602.00002", "2602.00001"]
    again = encode(assessments=v.assessments, selection=v.selection, draft=v.draft,
                   themes=v.themes, findings=v.findings, triage_findings=v.notes, round=2)
    for key in ("assessments", "selection", "draft", "themes", "findings", "triage_findings"):
        assert again[key] == state[key], key
    assert again["round"] == 2


def test_an_empty_state_has_empty_records() -> None:
    v = view(None)
    assert v.assessments == {} and v.draft is None and v.findings == [] and not v.edited


def test_featured_papers_leave_out_an_item_deleted_by_hand() -> None:
    draft = view(_state()).draft
    assert draft is not None
    ids = ["2602.00001", "2602.00002"]
    assert featured_papers(ids, draft, edited=False) == ids
    # The editor's own text links only the first paper: the second was not featured.
    assert featured_papers(ids, draft, edited=True) == ["2602.00001"]
    assert featured_papers(ids, draft.model_copy(update={"edited": True}),
                           edited=False) == ["2602.00001"]
