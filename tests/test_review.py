"""The editor's review: parsing commands, applying them to a draft, and the review loop in the
graph (no model call for drop/pin/move/rescore; rewrite runs writer and critic; quit keeps it)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest

from flashnews.agents import editor
from flashnews.agents.editor import EditorCommand, Row
from flashnews.models import Assessment, Draft, DraftItem, Finding, Paper
from flashnews.service import EditionService
from flashnews.testing import FakeChatModel, HashingEmbedder, Request, fake_factory, grounded_responder
from flashnews.tools.publish import with_repo_notes
from tests.conftest import DEMO

DAY = dt.date(2026, 2, 25)


def _paper(n: int, abstract: str = "") -> Paper:
    return Paper(arxiv_id=f"2602.{20000 + n}", title=f"Engine{n}: fast serving number {n}",
                 abstract=abstract or f"Engine{n} serves models. It is 3x faster than baselines.")


def _desk(n_main: int = 3, n_also: int = 1, extra: int = 2) -> tuple[editor.Desk,
                                                                  dict[str, Paper]]:
    papers = {p.arxiv_id: p for p in (_paper(n) for n in range(n_main + n_also + extra))}
    ids = list(papers)
    assessments = {pid: Assessment(paper_id=pid, relevant=True, score=90 - 5 * k, hype=50 + k,
                                   rationale="r", topics=["serving"], prompt_hash="h", model="m")
                   for k, pid in enumerate(ids)}
    items = [DraftItem(paper_id=pid, headline=f"Idea {k}", body=f"Body of item {k}.",
                       section="main" if k < n_main else "also")
             for k, pid in enumerate(ids[:n_main + n_also])]
    from flashnews.agents.writer import render
    from flashnews.models import Selection

    selection = Selection(main=ids[:n_main], also=ids[n_main:n_main + n_also])
    md = render(DAY, "flash", "A lead.", items, papers, assessments)
    draft = Draft(edition_id=DEMO.id, format="flash", lead="A lead.", items=items, markdown=md)
    return editor.Desk(selection=selection, assessments=assessments, draft=draft), papers


def _do(text: str, desk: editor.Desk, papers: dict[str, Paper],
        findings: list[Finding] | None = None) -> editor.Outcome:
    cmd = editor.parse(text, editor.rows(desk, papers))
    return editor.decide(cmd, desk, findings or [], papers=papers, date=DAY, seq=1)


def test_rows_list_the_bulletin_in_order_then_candidates_by_score() -> None:
    desk, papers = _desk()
    table = editor.rows(desk, papers)
    assert [r.section for r in table] == ["main", "main", "main", "also", "", ""]
    assert [r.n for r in table] == [1, 2, 3, 4, 5, 6]
    assert table[4].score > table[5].score


@pytest.mark.parametrize("text, error", [
    ("", "type a command"), ("frobnicate", "unknown command"), ("drop 9", "no row '9'"),
    ("drop 5", "not in the bulletin; `pin 5`"), ("pin 1", "already in the bulletin"),
    ("move 1 up", "cannot move item 1 up"), ("move 4 down", "places 1-4"),
    ("move 2 sideways", "usage: move"), ("rescore 1 80 40", "the reason is required"),
    ("rescore 1 180 40 'too high'", "0-100"), ("approve now", "takes no arguments"),
    ('drop 1 "unclosed', "cannot read that"),
])
def test_parse_says_what_is_wrong(text: str, error: str) -> None:
    desk, papers = _desk()
    with pytest.raises(ValueError, match=error):
        editor.parse(text, editor.rows(desk, papers))


def test_parse_resolves_rows_to_papers() -> None:
    desk, papers = _desk()
    table = editor.rows(desk, papers)
    cmd = editor.parse('rescore 5 77 12 "the editors featured it"', table)
    assert (cmd.paper_id, cmd.score, cmd.hype, cmd.reason) == (
        table[4].paper_id, 77, 12, "the editors featured it")
    assert editor.parse("move 3 to 1", table).to == 1
    assert editor.parse("move 3 up", table).to == 2
    assert editor.parse('rewrite "shorter, no adjectives"', table).instruction == \
        "shorter, no adjectives"
    assert editor.parse("rewrite", table).instruction is None
    assert editor.parse("drop 2 'off the beat'", table).reason == "off the beat"


def test_drop_removes_the_item_and_rerenders() -> None:
    desk, papers = _desk()
    gone = desk.selection.main[1]
    done = _do("drop 2 'not news'", desk, papers)
    assert gone not in done.desk.selection.ids and gone in done.desk.dropped
    assert papers[gone].link not in done.desk.draft.markdown
    assert done.route == "review" and done.decision is not None
    assert done.decision.context["item"]["body"] == "Body of item 1."
    assert done.decision.reason == "not news" and done.decision.paper_id == gone
    # The dropped paper is a candidate again and can be pinned back.
    row = next(r for r in editor.rows(done.desk, papers) if r.paper_id == gone)
    assert row.section == "" and "dropped" in row.flags


def test_pin_adds_a_main_item_in_the_abstracts_words() -> None:
    desk, papers = _desk()
    pid = editor.rows(desk, papers)[4].paper_id
    done = _do("pin 5", desk, papers)
    assert done.desk.selection.main[-1] == pid
    item = next(i for i in done.desk.draft.items if i.paper_id == pid)
    assert item.origin == "abstract" and item.body in papers[pid].abstract
    assert papers[pid].link in done.desk.draft.markdown
    # Its number ("3x") is in its abstract: nothing blocking.
    assert not [f for f in done.findings if f.severity == "blocking"]
    assert "abstract prose" in editor.rows(done.desk, papers)[3].flags


def test_move_reorders_and_crosses_sections() -> None:
    desk, papers = _desk()
    also = desk.selection.also[0]
    done = _do("move 4 to 1", desk, papers)
    assert done.desk.selection.main[0] == also and len(done.desk.selection.main) == 3
    assert done.desk.selection.also == [desk.selection.main[2]]
    md = done.desk.draft.markdown
    assert md.index(papers[also].link) < md.index(papers[desk.selection.main[0]].link)


def test_rescore_changes_the_rendered_score_and_keeps_the_models() -> None:
    desk, papers = _desk()
    pid = desk.selection.main[0]
    done = _do('rescore 1 61 99 "overhyped"', desk, papers)
    assert "Score: 61 | Hype: 99" in done.desk.draft.markdown
    assert done.desk.assessments[pid].method == "editor"
    assert done.desk.rescored[pid] == [90, 50]
    assert done.decision.context["before"]["score"] == 90  # type: ignore[union-attr]
    assert not [f for f in done.findings if f.check == "score"]


def test_edit_is_rechecked_and_approve_refused_while_blocking() -> None:
    desk, papers = _desk()
    bad = desk.draft.markdown.replace("Body of item 0.", "It is 42x faster. Would you like me "
                                                         "to add more?")
    cmd = EditorCommand(command="edit", markdown=bad)
    done = editor.decide(cmd, desk, [], papers=papers, date=DAY, seq=1)
    assert done.desk.draft.edited and done.desk.draft.markdown == bad
    checks = {f.check for f in done.findings if f.severity == "blocking"}
    assert checks == {"number", "chatter"} and "2 blocking" in done.notice
    refused = editor.decide(EditorCommand(command="approve"), done.desk, done.findings,
                            papers=papers, date=DAY, seq=2)
    assert refused.route == "review" and refused.decision is None
    assert "not approved: 2 blocking" in refused.notice
    fixed = editor.decide(EditorCommand(command="edit", markdown=desk.draft.markdown.replace(
        "Body of item 0.", "It is 3x faster.")), done.desk, done.findings, papers=papers,
        date=DAY, seq=2)
    assert not [f for f in fixed.findings if f.severity == "blocking"]
    ok = editor.decide(EditorCommand(command="approve"), fixed.desk, fixed.findings,
                       papers=papers, date=DAY, seq=3)
    assert ok.route == "publish" and ok.decision.context["edited"]  # type: ignore[union-attr]


# --- the review loop in the graph ---------------------------------------------------------------


def scripted(commands: list[str], seen: list[dict[str, Any]]
             ) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """A reviewer typing `commands` in order; 'quit' (or running out) quits."""
    queue = list(commands)

    def reviewer(payload: dict[str, Any]) -> dict[str, Any] | None:
        seen.append(payload)
        if not queue or queue[0] == "quit":
            if queue:
                queue.pop(0)
            return None
        cmd = editor.parse(queue.pop(0), [Row(**r) for r in payload["rows"]])
        return cmd.model_dump()

    return reviewer


def test_drop_pin_move_rescore_make_no_model_call_and_rewrite_does(settings, tmp_path) -> None:
    fake = FakeChatModel()
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    seen: list[dict[str, Any]] = []
    typed = scripted(["drop 2", "pin 8", "move 1 down", 'rescore 1 12 34 "meh"', "quit"], seen)
    counts: list[int] = []

    def counting(payload: dict[str, Any]) -> dict[str, Any] | None:
        counts.append(len(fake.calls))
        return typed(payload)

    held = svc.run(DEMO, source=None, out_dir=tmp_path / "out", policy="interactive",
                   reviewer=counting)
    assert held.outcome == "needs-review" and len(seen) == 5
    first = seen[0]
    assert [r["section"] for r in first["rows"]][:7] == ["main"] * 5 + ["also"] * 2
    calls = len(fake.calls)
    # No model call from the first pause on: drop, pin, move and rescore made none.
    assert counts == [calls] * 5 and calls > 0
    assert seen[1]["notice"].startswith("dropped") and seen[2]["notice"].startswith("pinned")
    assert "Score: 12 | Hype: 34" in seen[4]["markdown"]
    assert [d.command for d in svc.store.decisions(DEMO.id)] == ["drop", "pin", "move",
                                                                 "rescore"]

    # A new service (a new process) continues exactly there.
    fresh = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    again: list[dict[str, Any]] = []
    fresh.run(DEMO, source=None, out_dir=tmp_path / "out", policy="interactive",
              resume_only=True, reviewer=scripted(["quit"], again))
    assert again[0]["markdown"] == seen[4]["markdown"] and len(fake.calls) == calls
    assert again[0]["rows"] == seen[4]["rows"]

    done = fresh.run(DEMO, source=None, out_dir=tmp_path / "out", policy="interactive",
                     resume_only=True,
                     reviewer=scripted(['rewrite "say who benefits"', "approve"], again))
    assert done.outcome == "published", done.message
    new = fake.calls[calls:]
    assert {c.kind for c in new} == {"writer", "critic"}
    items = [c for c in new if c.tool == "Headline"]
    assert len(items) == 5  # every main item's headline, the pinned one included
    assert all("The editor asks for this change: say who benefits" in c.text for c in items)
    assert again[-1]["notice"].startswith("rewritten") and again[-1]["previous_markdown"]
    assert "abstract prose" not in str(again[-1]["rows"])
    commands = [d.command for d in fresh.store.decisions(DEMO.id)]
    assert commands == ["drop", "pin", "move", "rescore", "rewrite", "approve"]
    text = (tmp_path / "out" / f"{DEMO.id}.md").read_text()
    assert "Score: 12 | Hype: 34" in text  # the editor's score survived the rewrite
    fresh.close()
    svc.close()


def test_a_held_back_approve_and_an_edit_in_the_graph(settings, tmp_path, monkeypatch) -> None:
    # The writer's own lead check would replace this chatter; without it the critic blocks.
    monkeypatch.setattr("flashnews.agents.writer.lead_problems", lambda text: [])

    def responder(req: Request):
        if req.tool == "LeadLine":
            return {"lead": "Here's the bulletin I've drafted for you"}
        return grounded_responder(req)

    fake = FakeChatModel(responder=responder)
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    seen: list[dict[str, Any]] = []
    svc.run(DEMO, source=None, out_dir=tmp_path / "out", policy="interactive",
            reviewer=scripted(["approve", "quit"], seen))
    assert seen[0]["blocking"] >= 1 and "not approved" in seen[1]["notice"]
    assert not (tmp_path / "out").exists()
    fixed = seen[1]["markdown"].replace("Here's the bulletin I've drafted for you.",
                                        "Serving got cheaper today.")
    # The editor also deletes the last also-notable line by hand.
    lines = fixed.rstrip("\n").splitlines()
    cut = lines.pop()
    assert cut.startswith("- [")
    fixed = "\n".join(lines) + "\n"
    gone = re.search(r"abs/([0-9.]+)\)", cut).group(1)  # type: ignore[union-attr]
    answers = iter([EditorCommand(command="edit", markdown=fixed).model_dump(),
                    EditorCommand(command="approve").model_dump()])
    calls = len(fake.calls)
    done = svc.run(DEMO, source=None, out_dir=tmp_path / "out", policy="interactive",
                   reviewer=lambda payload: next(answers))
    assert done.outcome == "published" and len(fake.calls) == calls
    published = (tmp_path / "out" / f"{DEMO.id}.md").read_text()
    # The editor's text as published: only the code-and-weights line under each item is added.
    assert with_repo_notes(published, {}) == fixed and "No code or weights named." in published
    featured = [p["arxiv_id"] for p in svc.store.history()[0]["papers"]]  # type: ignore[index]
    assert len(featured) == 6 and gone not in featured  # it may be featured another day
    edit = svc.store.decisions(DEMO.id)[0]
    assert edit.command == "edit" and "drafted" in edit.context["before"]
    svc.close()


def test_headless_runs_record_no_decision(service, tmp_path) -> None:
    assert service.run(DEMO, source=None, out_dir=tmp_path / "out").outcome == "published"
    assert service.store.decisions(DEMO.id) == []


def test_a_digest_keeps_its_sections_and_themes_through_drop_pin_and_rescore(settings,
                                                                            tmp_path) -> None:
    fake = FakeChatModel()
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    digest = DEMO.model_copy(update={"format": "digest"})
    seen: list[dict[str, Any]] = []
    reviewer = scripted(["drop 1", "pin 12", 'rescore 2 40 40 "incremental"', "approve",
                         "rewrite", "approve"], seen)
    counts: list[int] = []

    def counting(payload: dict[str, Any]) -> dict[str, Any] | None:
        counts.append(len(fake.calls))
        return reviewer(payload)

    done = svc.run(digest, source=None, out_dir=tmp_path / "out", policy="interactive",
                   reviewer=counting)
    assert done.outcome == "published", seen[-1]["notice"]
    # The dropped paper leaves a theme citing one paper: the critic blocks, approve is refused.
    assert seen[4]["notice"].startswith("not approved: 1 blocking") and "theme" in seen[4]["notice"]
    assert len(set(counts[:5])) == 1  # no model call before the rewrite
    assert counts[5] > counts[4]
    text = (tmp_path / "out" / f"{digest.id}.md").read_text()
    for section in ("## Highlights", "## Also Noteworthy", "## Cross-Cutting Themes"):
        assert section in text
    dropped = seen[0]["rows"][0]["paper_id"]
    assert f"abs/{dropped})" not in text  # gone from its item and from the themes
    assert "Score: 40 | Hype: 40" in text
    svc.close()


def test_pin_and_rescore_need_an_assessed_paper(papers) -> None:
    desk, _ = _desk()
    stranger = next(iter(papers.values()))
    known = {**_desk()[1], stranger.arxiv_id: stranger}
    for verb in ("pin", "rescore"):
        cmd = EditorCommand(command=verb, paper_id=stranger.arxiv_id, score=1, hype=1,
                            reason="r")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="never assessed"):
            editor.decide(cmd, desk, [], papers=known, date=DAY, seq=1)


def test_a_correction_is_reviewed_like_an_edition(settings, fake, tmp_path) -> None:
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    out = tmp_path / "out"
    svc.run(DEMO, source=None, out_dir=out)
    text = (out / f"{DEMO.id}.md").read_text()
    first = text.index("**[")
    bad = text[:first] + text[first:].replace(": ", ": It is 417x faster. ", 1)
    svc.correct(DEMO, "Added a speedup figure.", bad)
    calls = len(fake.calls)
    seen: list[dict[str, Any]] = []
    answers = iter([EditorCommand(command="approve").model_dump(),
                    EditorCommand(command="edit", markdown=bad.replace(
                        "It is 417x faster. ", "")).model_dump(),
                    EditorCommand(command="approve").model_dump()])

    def reviewer(payload: dict[str, Any]) -> dict[str, Any] | None:
        seen.append(payload)
        return next(answers)

    done = svc.run(DEMO, source=None, out_dir=None, resume_only=True, policy="interactive",
                   reviewer=reviewer)
    assert seen[0]["edited"] and seen[0]["blocking"] == 1  # the correction's text, checked
    assert seen[1]["notice"].startswith("not approved: 1 blocking")
    assert done.outcome == "published" and "correction 1" in done.message
    assert len(fake.calls) == calls
    assert "417x" not in (out / f"{DEMO.id}.md").read_text()
    assert [d.command for d in svc.store.decisions(DEMO.id)] == ["edit", "approve"]
    svc.close()


def test_exported_decisions_become_eval_cases(settings, fake, tmp_path, monkeypatch) -> None:
    """The review loop's `decisions --format jsonl` export, read by `flashnews eval
    add-decisions`: a drop is a negative case, a pin a positive one, a rescore the editor's
    Score/Hype; moves are skipped."""
    import json
    import shutil

    from typer.testing import CliRunner

    from flashnews.cli import app
    from flashnews.evals import schema
    from flashnews.evals.decisions import add_decisions

    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    seen: list[dict[str, Any]] = []
    svc.run(DEMO, source=None, out_dir=tmp_path / "out", policy="interactive",
            reviewer=scripted(['drop 2 "old news"', "pin 8", "move 1 down",
                               'rescore 1 12 34 "not inference"', "quit"], seen))
    rows = {r["n"]: r["paper_id"] for r in seen[0]["rows"]}
    rescored = seen[3]["rows"][0]["paper_id"]  # row 1 when the rescore was typed
    svc.close()
    monkeypatch.setenv("FLASHNEWS_HOME", str(settings.home))
    export = CliRunner().invoke(app, ["decisions", DEMO.id, "--format", "jsonl"])
    assert export.exit_code == 0, export.output
    path = tmp_path / "decisions.jsonl"
    path.write_text(export.output)
    assert [json.loads(line)["command"] for line in export.output.splitlines()] == [
        "drop", "pin", "move", "rescore"]

    root = tmp_path / "datasets"
    shutil.copytree(schema.DATASETS, root)
    changed, skipped, _ = add_decisions(path, root=root)
    assert (changed, skipped) == (3, 1)
    _, cases = schema.read("editor", schema.TriageCase, root=root)
    got = {c.paper_id: c for c in cases}
    assert got[rows[2]].label == "negative" and got[rows[8]].label == "positive"
    assert (got[rescored].ref_score, got[rescored].ref_hype) == (12, 34)
    assert got[rescored].reason == "not inference" and got[rescored].source == "editor"
