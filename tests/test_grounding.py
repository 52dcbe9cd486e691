"""The deterministic critic catches every defect seen in real bulletins, and only real ones."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from flashnews.agents.writer import ThemeText, render
from flashnews.evals import build, schema
from flashnews.tools.grounding import blocking, check_bulletin, name_matches

from flashnews.models import Assessment, DraftItem, Paper

DATE = dt.date(2026, 2, 25)
SHARED = Path(__file__).resolve().parents[2] / "shared"
CHESS, KNAP, TOM, FAST, REVIVE, ISO = ("2602.20732", "2602.20217", "2602.20662", "2602.20515",
                                       "2602.21140", "2602.19594")


@pytest.fixture
def scores(papers: dict[str, Paper]) -> dict[str, Assessment]:
    out = {pid: Assessment(paper_id=pid, relevant=True, score=80, hype=40, rationale="test",
                           prompt_hash="h", model="m") for pid in papers}
    out[TOM] = out[TOM].model_copy(update={"score": 87, "hype": 53})
    return out


def _items(papers: dict[str, Paper]) -> list[DraftItem]:
    body = {CHESS: "It keeps 1% of the KV cache and reaches up to 4.56x throughput.",
            KNAP: "Draft layers are chosen as a knapsack problem, for up to 1.47x speedup.",
            TOM: "Ternary weights live in ROM, reaching 3,306 TPS.",
            FAST: "An FPGA design for sparse prefill with 2.5x lower TTFT.",
            REVIVE: "MoE serving recovers from hardware failures without restarting."}
    items = [DraftItem(paper_id=pid, headline="A headline", body=text) for pid, text in
             body.items()]
    items.append(DraftItem(paper_id=ISO, headline="Bench", body="54 real optimization tasks.",
                           section="also"))
    return items


@pytest.fixture
def clean(papers: dict[str, Paper], scores: dict[str, Assessment]) -> str:
    return render(DATE, "flash", "Memory is today's bottleneck", _items(papers), papers, scores)


def check(md: str, papers: dict[str, Paper], scores: dict[str, Assessment], fmt: str = "flash"):
    selected = {CHESS, KNAP, TOM, FAST, REVIVE, ISO}
    return check_bulletin(md, papers=papers, assessments=scores, fmt=fmt, date=DATE,  # type: ignore[arg-type]
                          selected=selected)


def test_clean_draft_has_no_findings(clean: str, papers, scores) -> None:
    assert check(clean, papers, scores) == []


DRAFTS = schema.read("drafts", schema.DraftCase)[1]


def test_the_drafts_dataset_is_what_its_builder_makes(papers) -> None:
    # The dataset is the clean draft above with one defect each (evals/build.py); a change to
    # rendering or to the cases must rebuild it (and bump its version).
    assert [c.model_dump() for c in build.draft_cases(papers)] == [
        c.model_dump() for c in DRAFTS]


@pytest.mark.parametrize("case", DRAFTS, ids=lambda c: c.case_id)
def test_each_defect_is_caught_and_clean_drafts_pass(case: schema.DraftCase, papers) -> None:
    scores = {pid: Assessment(paper_id=pid, relevant=True, score=s, hype=h, rationale="test",
                              prompt_hash="h", model="m") for pid, (s, h) in case.scores.items()}
    found = blocking(check_bulletin(case.markdown, papers=papers, assessments=scores,
                                    fmt=case.fmt, date=case.date, selected=set(case.selected)))
    expected = [e for e in case.expect if e.source == "code"]
    if not expected:  # clean, or a defect only the critic model can see
        assert found == [], case.description
    for e in expected:
        hits = [f for f in found if f.check == e.check and (e.item is None or f.item == e.item)]
        assert hits, f"{case.description} not caught: {found}"
        if e.evidence:
            assert any(e.evidence in f.evidence for f in hits)


def test_first_person_copied_from_the_abstract_is_a_warning(clean, papers, scores) -> None:
    md = clean.replace("Ternary weights live in ROM", "We propose putting ternary weights in ROM")
    found = check(md, papers, scores)
    assert [(f.check, f.severity, f.item) for f in found] == [("voice", "warning", TOM)]


def test_digest_needs_sections_and_themes_citing_two_papers(papers, scores) -> None:
    items = _items(papers)
    md = render(DATE, "digest", "Lead", items, papers, scores,
                [ThemeText(title="Memory", text="KV cache and ROM.", paper_ids=[CHESS, TOM])])
    assert check(md, papers, scores, "digest") == []
    one = render(DATE, "digest", "Lead", items, papers, scores,
                 [ThemeText(title="Memory", text="Only one.", paper_ids=[CHESS])])
    assert [f.check for f in blocking(check(one, papers, scores, "digest"))] == ["theme"]
    missing = md.replace("## Also Noteworthy", "## Other")
    assert any(f.check == "section" for f in blocking(check(missing, papers, scores, "digest")))


def test_name_matches_a_title() -> None:
    assert name_matches("Scaling SSMs on Multiple GPUs",
                        "Scaling State-Space Models on Multiple GPUs with Tensor Parallelism")
    assert not name_matches("CHESS", "KnapSpec: Self-Speculative Decoding via Adaptive Layers")


def _what(f) -> tuple[str, str, str]:
    """A finding as (check, item, the number it is about)."""
    quoted = re.match(r'"([^"]+)"', f.evidence) if f.check == "number" else None
    return f.check, f.item or "", quoted.group(1) if quoted else ""


@pytest.mark.skipif(not (SHARED / "reference").is_dir(), reason="../shared/reference not present")
def test_reference_bulletins_report_only_real_problems(papers) -> None:
    refs = [json.loads(line) for line in (SHARED / "data/references-dev.jsonl").open()]
    scores = {r["arxiv_id"]: Assessment(paper_id=r["arxiv_id"], relevant=True, score=r["score"],
                                        hype=r["hype"], rationale="editor", prompt_hash="-",
                                        model="editor") for r in refs}
    report = {}
    for name, fmt in [("flash", "flash"), ("digest-a", "digest"), ("digest-b", "digest")]:
        md = (SHARED / f"reference/bulletin-2026-02-25-{name}.md").read_text()
        found = check_bulletin(md, papers=papers, assessments=scores, fmt=fmt, date=DATE)
        assert all(f.evidence for f in found), found
        report[name] = sorted(_what(f) for f in found)
    # TOM's "~500 MB" and "~1.2 GB" are not in its abstract; the also-notable items lack scores.
    assert report["flash"] == [("number", TOM, "~1.2 GB"), ("number", TOM, "~500 MB"),
                               ("score", "2602.19594", ""), ("score", "2602.19938", "")]
    # Digest A: one theme names no paper of the edition.
    assert [c for c, _, _ in report["digest-a"]] == ["theme"]
    # Digest B: no Highlights section; "50–80%" is in no cited abstract; two themes do not
    # name two papers.
    assert report["digest-b"] == [("number", "", "50–80%"), ("section", "", ""),
                                  ("theme", "", ""), ("theme", "", "")]
