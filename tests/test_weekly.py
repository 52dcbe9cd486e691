"""The week in review: a real edition (checkpointed, reviewed, published) from the week's
published daily editions."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from flashnews.agents import editor, weekly
from flashnews.agents.editor import Row
from flashnews.models import Edition, Paper, RepoEvent
from flashnews.service import EditionService
from flashnews.state import view
from flashnews.testing import HashingEmbedder, fake_factory
from flashnews.text.grounding import check_bulletin
from flashnews.tools.arxiv import read_snapshot
from flashnews.tools.publish import Publication, PublishedItem
from flashnews.tools.store import Store
from tests.conftest import REPO
from tests.test_review import scripted

REALDAY = REPO.parent / "shared" / "data" / "realday"
WEEK = Edition(date=dt.date(2026, 2, 25), format="weekly")
LINK = re.compile(r"\]\(https://arxiv\.org/abs/([\d.]+)\)")


def _days(svc: EditionService, out: Path, days: tuple[str, ...] = ("2026-02-24", "2026-02-25"),
          fmt: str = "flash") -> None:
    """Run and publish the daily editions of the real days (headless, fake model)."""
    if not REALDAY.is_dir():
        pytest.skip(f"no real days at {REALDAY} (FLASHNEWS_EVAL_DATA)")
    for day in days:
        ed = Edition(date=dt.date.fromisoformat(day), format=fmt)
        got = svc.run(ed, source=str(REALDAY / f"{day}.jsonl"), out_dir=out)
        assert got.outcome == "published", got.message


@pytest.fixture
def svc(settings, fake) -> EditionService:
    every = settings.model_copy(update={"channels": ["markdown", "html", "json", "atom"]})
    s = EditionService(every, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    yield s
    s.close()


def _section(markdown: str, name: str) -> str:
    return markdown.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]


def test_the_week_of_the_real_days_is_reviewed_published_and_grounded(svc, fake,
                                                                       tmp_path: Path) -> None:
    out = tmp_path / "out"
    _days(svc, out)
    daily = {it["arxiv_id"]: it for d in ("2026-02-24-flash", "2026-02-25-flash")
             for it in json.loads(svc.store.publication_record(d) or "{}")["items"]}
    calls = len(fake.calls)
    got = svc.run(WEEK, source=None, out_dir=out)
    assert got.outcome == "published", got.message
    md = (out / f"{WEEK.id}.md").read_text()
    assert md.startswith("# Inference Ecosystem — Flash News\n**2026-02-25** · the week in review")
    assert "across two editions" in md
    # 3-5 themes, each naming and linking two or more of the week's papers.
    themes = [ln for ln in _section(md, "Themes").splitlines() if ln.startswith("**")]
    assert 3 <= len(themes) <= 5, themes
    for line in themes:
        cited = set(LINK.findall(line))
        assert len(cited) >= 2 and cited <= set(daily), line
    # The top papers by Score, each with the Score and the text it was published with.
    top = [ln for ln in _section(md, "Top Papers").splitlines() if ln.startswith("- ")]
    ids = [LINK.search(ln).group(1) for ln in top]  # type: ignore[union-attr]
    best = sorted(daily.values(), key=lambda i: (-i["score"], -i["hype"], i["arxiv_id"]))[:5]
    assert ids == [i["arxiv_id"] for i in best]
    for line, item in zip(top, best, strict=True):
        assert f"Score: {item['score']} | Hype: {item['hype']}" in line
        assert item["body"].strip() in line
    assert "Nothing featured before this week changed." in md
    # Grounded like a daily edition: the critic found nothing blocking; `check` agrees.
    v = view(svc.state(WEEK.id).values)
    assert not [f for f in v.findings if f.severity == "blocking"], v.findings
    papers = svc.store.papers(WEEK.id)
    assert not [f for f in check_bulletin(md, papers=papers, fmt="weekly", date=WEEK.date)
                if f.severity == "blocking"]
    # No re-scoring: the week's model calls are the writer's theme judgements and the
    # critic's, none of triage's.
    roles = {r for r, u in svc.store.usage(WEEK.id).items() if r != "total" and u.calls}
    assert roles <= {"writer", "critic"} and len(fake.calls) > calls
    # Every channel, and the archive's search finds it.
    for ext in ("md", "html", "json"):
        assert (out / f"{WEEK.id}.{ext}").is_file()
    assert WEEK.id in (out / "feed.xml").read_text()
    assert any(h.edition_id == WEEK.id for h in svc.search(best[0]["title"], by="words"))
    # A second run is a no-op.
    assert svc.run(WEEK, source=None, out_dir=out).outcome == "already-published"


def test_an_empty_week_is_quiet_and_writes_nothing(svc, tmp_path: Path) -> None:
    got = svc.run(Edition(date=dt.date(2026, 3, 10), format="weekly"), source=None,
                  out_dir=tmp_path / "out")
    assert got.outcome == "quiet-day" and got.exit_code == 0
    assert "a quiet week" in got.message and "2026-03-04 to 2026-03-10" in got.message
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_quiet_week_is_looked_at_again_once_its_editions_are_published(svc,
                                                                       tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert svc.run(WEEK, source=None, out_dir=out).outcome == "quiet-day"
    _days(svc, out, ("2026-02-25",))
    got = svc.run(WEEK, source=None, out_dir=out)
    assert got.outcome == "published", got.message


def test_a_week_with_one_edition_says_so(svc, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _days(svc, out, ("2026-02-25",))
    got = svc.run(WEEK, source=None, out_dir=out)
    assert got.outcome == "published", got.message
    md = (out / f"{WEEK.id}.md").read_text()
    assert "A quiet week: one edition was published" in md


def test_the_editor_drops_a_paper_from_the_weekly_at_review(svc, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _days(svc, out)
    seen: list[dict[str, Any]] = []
    got = svc.run(WEEK, source=None, out_dir=out, policy="interactive",
                  reviewer=scripted(['drop 1 "not the story of the week"', "approve"], seen))
    assert got.outcome == "published", got.message
    dropped = seen[0]["rows"][0]["paper_id"]
    assert f"abs/{dropped})" not in (out / f"{WEEK.id}.md").read_text()
    assert [d.command for d in svc.decisions(WEEK.id)] == ["drop", "approve"]
    # The ranker learns from daily editions only: the weekly's drop is not an example.
    assert all(e.edition_id != WEEK.id for e in svc.store.examples())


def test_the_editor_pins_a_paper_of_the_week_into_the_top_papers(svc, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _days(svc, out)
    seen: list[dict[str, Any]] = []
    held = svc.run(WEEK, source=None, out_dir=out, policy="interactive",
                   reviewer=scripted(["quit"], seen))
    assert held.outcome == "needs-review"
    pid = next(r["paper_id"] for r in seen[0]["rows"] if r["section"] == "also")
    queue = ['drop {n} "make room"', "pin {n}", "approve"]

    def by_paper(payload: dict[str, Any]) -> dict[str, Any] | None:
        """The next command, on the row the paper has in this payload's table."""
        n = next((r["n"] for r in payload["rows"] if r["paper_id"] == pid), 0)
        rows = [Row(**r) for r in payload["rows"]]
        return editor.parse(queue.pop(0).format(n=n), rows).model_dump()

    # Cited in the week's other papers only: drop it, then pin it among the top papers.
    got = svc.run(WEEK, source=None, out_dir=out, policy="interactive", resume_only=True,
                  reviewer=by_paper)
    assert got.outcome == "published", got.message
    assert f"abs/{pid})" in _section((out / f"{WEEK.id}.md").read_text(), "Top Papers")


def test_rescore_and_rewrite_at_review_keep_the_editors_choices(svc, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _days(svc, out)
    seen: list[dict[str, Any]] = []
    got = svc.run(WEEK, source=None, out_dir=out, policy="interactive", reviewer=scripted(
        ['drop 2 "old news"', 'rescore 1 77 33 "less central this week"',
         'rewrite "again"', "approve"], seen))
    assert got.outcome == "published", got.message
    first, second = seen[0]["rows"][0]["paper_id"], seen[0]["rows"][1]["paper_id"]
    md = (out / f"{WEEK.id}.md").read_text()
    assert f"abs/{second})" not in md  # the rewrite composed the week without it
    line = next(ln for ln in md.splitlines() if f"abs/{first})" in ln and ln.startswith("- "))
    assert "Score: 77 | Hype: 33" in line


# --- what changed since last week (gathered from a store built by hand) --------------------------

def _paper(pid: str, *, version: int = 1, authors: list[str] | None = None,
           abstract: str | None = None, title: str | None = None) -> Paper:
    return Paper(arxiv_id=pid, version=version, title=title or f"Meth{pid[-2:]}X: fast inference {pid}",
                 authors=authors or [f"Author {pid}"],
                 abstract=abstract or f"Meth{pid[-2:]}X speeds up inference. It is fast.")


def _published(store: Store, eid: str, papers: list[Paper], score: int = 80) -> None:
    store.save_papers(eid, papers)
    at = f"{eid[:10]}T01:00:00+00:00"
    store.save_publication(Publication(
        edition_id=eid, date=eid[:10], format=eid[11:], title="T", markdown="# T\n",
        items=[PublishedItem(arxiv_id=p.arxiv_id, title=p.title, link=p.link, section="main",
                             score=score, hype=40, headline="A faster method", body=p.abstract)
               for p in papers], published_at=at, updated_at=at), "out")
    store.set_edition(eid, status="published")


SPEC_V1 = ("Speculative decoding drafts tokens with a small model. SpecX verifies drafts in "
           "parallel on one GPU.")
SPEC_V2 = SPEC_V1 + " SpecX now also supports tree drafts with 3.1x speedup."


def test_a_new_version_of_a_paper_featured_before_the_week_is_an_update(settings) -> None:
    store = Store.open(settings)
    try:
        _published(store, "2026-02-10-flash", [_paper("2602.00001", abstract=SPEC_V1)], 91)
        # Announced again in the week (fetched, not featured: it was featured before).
        store.save_papers("2026-02-24-flash", [_paper("2602.00001", version=2,
                                                      abstract=SPEC_V2)])
        _published(store, "2026-02-24-flash", [_paper("2602.00002"), _paper("2602.00003")])
        week = weekly.gather(store, WEEK.date)
        [u] = week.updates
        assert (u.paper_id, u.kind, u.score) == ("2602.00001", "version", 91)
        assert "a revised version" in u.text and "tree drafts with 3.1x speedup" in u.text
        draft, _ = weekly.compose(None, week, edition_id=WEEK.id,
                                  chosen=weekly.selection(week), assessments=week.assessments())
        line = next(ln for ln in draft.markdown.splitlines() if ln.startswith("- Update: "))
        assert "abs/2602.00001)" in line and "Score: 91 | Hype: 40" in line
        found = check_bulletin(draft.markdown, papers=week.papers, fmt="weekly",
                               assessments=week.assessments(), date=WEEK.date,
                               selected=set(weekly.selection(week).ids))
        assert not [f for f in found if f.severity == "blocking"], found
    finally:
        store.close()


def test_a_follow_up_by_the_same_authors_on_the_same_subject_is_an_update(settings) -> None:
    store = Store.open(settings)
    try:
        _published(store, "2026-02-10-flash", [_paper("2602.00001", authors=["Ada Lovelace"],
                                                      abstract=SPEC_V1, title="SpecX: drafts")])
        follow = _paper("2602.00009", authors=["Ada Lovelace", "Alan Turing"],
                        abstract=SPEC_V1.replace("one GPU", "two GPUs"), title="SpecY: drafts")
        other = _paper("2602.00010", authors=["Ada Lovelace"],
                       abstract="A survey of protein folding in yeast cells. It is long.")
        _published(store, "2026-02-24-flash", [follow, other, _paper("2602.00011")])
        week = weekly.gather(store, WEEK.date, HashingEmbedder())
        assert [(u.paper_id, u.kind) for u in week.updates] == [("2602.00009", "follow-up")]
        assert "Ada Lovelace" in week.updates[0].text
        # A top paper's update is said in its own item, once: no second item for it.
        draft, _ = weekly.compose(None, week, edition_id=WEEK.id,
                                  chosen=weekly.selection(week), assessments=week.assessments())
        assert [i.paper_id for i in draft.items].count("2602.00009") == 1
        line = next(ln for ln in draft.markdown.splitlines() if "abs/2602.00009)" in ln)
        assert "Update: A follow-up by Ada Lovelace" in line
        assert "in their items above" in _section(draft.markdown, "Updates")
        found = check_bulletin(draft.markdown, papers=week.papers, fmt="weekly",
                               assessments=week.assessments(), date=WEEK.date,
                               selected=set(weekly.selection(week).ids))
        assert not [f for f in found if f.severity == "blocking"], found
        # Without an embedder nothing is called a follow-up on authors alone.
        assert weekly.gather(store, WEEK.date).updates == []
    finally:
        store.close()


def test_code_released_during_the_week_is_an_update(settings) -> None:
    store = Store.open(settings)
    try:
        _published(store, "2026-02-20-flash", [_paper("2602.00001"), _paper("2602.00002")])
        store.save_repo_links("2602.00001", [], [RepoEvent(
            paper_id="2602.00001", event="code released", kind="code",
            url="https://github.com/a/b", at="2026-02-23T09:00:00+00:00")])
        week = weekly.gather(store, WEEK.date)
        [u] = week.updates
        assert (u.paper_id, u.kind) == ("2602.00001", "code")
        assert u.text == "code released on day 5 of the week"
    finally:
        store.close()


def test_a_theme_the_critic_blocked_is_left_out_of_the_next_round(settings) -> None:
    store = Store.open(settings)
    try:
        papers = [p for p in read_snapshot(REPO / "flashnews" / "data" / "papers-2026-02-25.jsonl")
                  if p.arxiv_id in {"2602.20732", "2602.20217", "2602.20515", "2602.20662",
                                    "2602.21144", "2602.19938", "2602.21140"}]
        _published(store, "2026-02-25-flash", papers)
        week = weekly.gather(store, WEEK.date)
        chosen, ass = weekly.selection(week), week.assessments()
        _, first = weekly.compose(None, week, edition_id=WEEK.id, chosen=chosen, assessments=ass)
        assert first
        _, again = weekly.compose(None, week, edition_id=WEEK.id, chosen=chosen,
                                  assessments=ass, blocked=[first[0].title])
        assert first[0].title not in [t.title for t in again]
    finally:
        store.close()
