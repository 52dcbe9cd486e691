"""The edition graph end to end on the scripted fake: checkpoints, resume, no repeated work."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import openai
import pytest

from flashnews.config import Settings
from flashnews.service import EditionService
from flashnews.testing import FakeChatModel, HashingEmbedder, Request, fake_factory, grounded_responder
from tests.conftest import DEMO


def test_demo_edition_publishes_a_grounded_bulletin(service, fake, tmp_path) -> None:
    result = service.run(DEMO, source=None, out_dir=tmp_path / "out")
    assert result.outcome == "published" and result.exit_code == 0
    path = Path(result.path or "")
    assert path == tmp_path / "out" / "2026-02-25-flash.md"
    text = path.read_text()
    assert text.startswith("# Inference Ecosystem — Flash News\n**2026-02-25**")
    assert text.count("Score: ") == 7 and "https://arxiv.org/abs/" in text
    assert not list(path.parent.glob(".*.tmp"))
    kinds = fake.kinds()
    # The critic model: one question per claim sentence of the 5 main items (the "what it
    # does" sentence, and the result sentence of those whose abstract gives a figure a clause).
    assert kinds["triage"] > 0 and kinds["writer"] > 0 and 5 <= kinds["critic"] <= 10
    assert service.store.usage(DEMO.id)["total"].calls == sum(kinds.values())
    # Each step's seconds, in the order the steps ran; no embedded server was started.
    assert list(result.timings) == ["fetch", "triage", "select", "write", "critique", "review",
                                    "publish"]
    assert all(v >= 0 for v in result.timings.values()) and result.timings["triage"] > 0


def test_published_edition_is_a_no_op(db_settings, fake, tmp_path) -> None:
    service = EditionService(db_settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    service.run(DEMO, source=None, out_dir=tmp_path / "out")
    before = len(fake.calls)
    again = service.run(DEMO, source=None, out_dir=tmp_path / "elsewhere")
    assert again.outcome == "already-published" and again.exit_code == 0
    assert "already published" in again.message
    assert len(fake.calls) == before
    assert not (tmp_path / "elsewhere").exists()


def test_unwritable_output_then_resume_publishes_without_model_calls_or_fetch(
        db_settings, fake, tmp_path, monkeypatch) -> None:
    settings = db_settings
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the output dir should be")
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    failed = svc.run(DEMO, source=None, out_dir=blocker / "out")
    assert failed.outcome == "failed" and failed.step == "publish" and failed.exit_code == 5
    assert str(blocker / "out") in failed.message
    assert failed.resume_command == f"flashnews resume {DEMO.id} --out {blocker / 'out'}"
    calls = len(fake.calls)

    # Resuming must neither fetch (the source is gone) nor call a model.
    def no_fetch(*a, **k):
        raise AssertionError("fetched again")

    monkeypatch.setattr("flashnews.tools.arxiv.SnapshotSource.papers", no_fetch)
    ok = svc.run(DEMO, source=None, out_dir=tmp_path / "good", resume_only=True)
    assert ok.outcome == "published", ok.message
    assert len(fake.calls) == calls
    assert (tmp_path / "good" / f"{DEMO.id}.md").is_file()


def test_writer_failure_resumes_at_write_without_triage_calls(db_settings, tmp_path) -> None:
    settings = db_settings
    down = {"writer": True}

    def responder(req: Request):
        if req.kind == "writer" and down["writer"]:
            return openai.APIConnectionError(request=httpx.Request("POST", "http://x"))
        return grounded_responder(req)

    fake = FakeChatModel(responder=responder)
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    failed = svc.run(DEMO, source=None, out_dir=tmp_path / "out")
    assert (failed.outcome, failed.step, failed.exit_code) == ("failed", "write", 4)
    assert "unreachable" in failed.message
    triage_calls = fake.kinds()["triage"]
    assert triage_calls > 0

    down["writer"] = False
    ok = svc.run(DEMO, source=None, out_dir=tmp_path / "out", resume_only=True)
    assert ok.outcome == "published"
    assert fake.kinds()["triage"] == triage_calls  # zero triage calls on resume
    assert fake.kinds()["writer"] > 0


def test_scores_are_cached_across_editions_of_the_day(service, fake, tmp_path) -> None:
    service.run(DEMO, source=None, out_dir=tmp_path / "out")
    triage_calls = fake.kinds()["triage"]
    digest = DEMO.model_copy(update={"format": "digest"})
    result = service.run(digest, source=None, out_dir=tmp_path / "out")
    assert result.outcome == "published"
    assert fake.kinds()["triage"] == triage_calls
    assert "## Cross-Cutting Themes" in (result.markdown or "")


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_the_writer_rejects_an_invented_number_itself(settings, tmp_path) -> None:
    first = {"done": False}

    def responder(req: Request):
        reply = grounded_responder(req)
        if req.tool == "ItemPhrase" and not first["done"]:
            first["done"] = True
            return {"headline": "Too good", "what": "It is 37.5x faster than anything."}
        return reply

    fake = FakeChatModel(responder=responder)
    svc = EditionService(settings.model_copy(update={"writer_phrasing": "model"}),
                         model_factory=fake_factory(fake))
    result = svc.run(DEMO, source=None, out_dir=tmp_path / "out")
    assert result.outcome == "published"
    assert "37.5x" not in (result.markdown or "")
    retries = [c for c in fake.calls if "Your previous sentence was rejected" in c.text
               and "37.5x" in c.text]
    assert len(retries) == 1


def test_a_digest_publishes_headless_with_themes_that_cite_two_papers(settings,
                                                                      tmp_path) -> None:
    fake = FakeChatModel()
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    from flashnews.models import Edition

    digest = Edition(date=DEMO.date, format="digest")
    result = svc.run(digest, source=None, out_dir=tmp_path / "out")
    assert result.outcome == "published", result.message
    themes = (result.markdown or "").split("## Cross-Cutting Themes", 1)[1]
    lines = [line for line in themes.splitlines() if line.startswith("**")]
    assert lines and all(line.count("](https://arxiv.org/abs/") >= 2 for line in lines)
    # No theme is written by the model: it only answers yes or no about each candidate.
    assert not [c for c in fake.calls if c.tool == "Themes"]


def test_chatter_in_the_lead_is_caught_by_the_writer(settings, tmp_path) -> None:
    def responder(req: Request):
        if req.tool == "LeadLine":
            return {"lead": "Here's the bulletin I've drafted for you"}
        return grounded_responder(req)

    fake = FakeChatModel(responder=responder)
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    result = svc.run(DEMO, source=None, out_dir=tmp_path / "out")
    assert result.outcome == "published" and "drafted" not in (result.markdown or "")
    assert len([c for c in fake.calls if c.tool == "LeadLine"]) == 2  # asked again once


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_a_blocking_finding_that_survives_the_rounds_blocks_headless_publish(
        settings, tmp_path, monkeypatch) -> None:
    from flashnews.agents.writer import Writer
    from flashnews.models import Edition

    # The writer checks every sentence it writes, so a writer that fails is simulated: its
    # lead is chatter in every round, which the critic blocks.
    monkeypatch.setattr(Writer, "_lead", lambda self, *a, **k: (
        "Here's the bulletin I've drafted for you.", []))
    digest = Edition(date=DEMO.date, format="digest")
    fake = FakeChatModel()
    svc = EditionService(settings, model_factory=fake_factory(fake))
    result = svc.run(digest, source=None, out_dir=tmp_path / "out")
    assert result.outcome == "needs-review" and result.exit_code == 3
    assert not (tmp_path / "out").exists()
    # Running it again headless neither calls a model nor publishes.
    before = len(fake.calls)
    again = svc.run(digest, source=None, out_dir=tmp_path / "out")
    assert again.outcome == "needs-review" and len(fake.calls) == before


def test_interactive_review_approves_through_interrupt(settings, fake, tmp_path) -> None:
    seen = []

    def reviewer(payload):
        seen.append(payload)
        return {"decision": "approve", "by": "test"}

    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    result = svc.run(DEMO, source=None, out_dir=tmp_path / "out", policy="interactive",
                     reviewer=reviewer)
    assert result.outcome == "published" and len(seen) == 1
    assert seen[0]["markdown"].startswith("# Inference Ecosystem")


def test_quit_at_review_keeps_the_pause(db_settings, fake, tmp_path) -> None:
    svc = EditionService(db_settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    held = svc.run(DEMO, source=None, out_dir=tmp_path / "out", policy="interactive",
                   reviewer=lambda payload: None)
    assert held.outcome == "needs-review"
    calls = len(fake.calls)
    ok = svc.run(DEMO, source=None, out_dir=tmp_path / "out", policy="interactive",
                 reviewer=lambda payload: {"decision": "approve"})
    assert ok.outcome == "published" and len(fake.calls) == calls


def test_empty_snapshot_is_an_explicit_outcome(service, tmp_path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = service.run(DEMO, source=str(empty), out_dir=tmp_path / "out")
    assert result.outcome == "empty-unexpected" and result.exit_code == 9
    assert not (tmp_path / "out").exists()


def test_malformed_snapshot_fails_fetch_with_the_line(service, tmp_path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"arxiv_id": "2602.20732", "title": "t"}\n')
    result = service.run(DEMO, source=str(bad), out_dir=tmp_path / "out")
    assert result.outcome == "failed" and result.step == "fetch" and result.exit_code == 6
    assert f"{bad}:1" in result.message and "abstract" in result.message


def test_resume_of_unknown_edition_is_clear(service) -> None:
    from flashnews.errors import FlashnewsError

    with pytest.raises(FlashnewsError, match="has never run"):
        service.run(DEMO, source=None, out_dir=None, resume_only=True)


def _budgeted(settings, fake, tmp_path, calls: int):
    from flashnews.budget import Budget

    # K = 19 papers asked, in 5 batches of 4 (what the budgets below are sized by)
    settings = settings.model_copy(update={"triage_model_papers": 19})
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    return svc, svc.run(DEMO, source=None, out_dir=tmp_path / "out",
                        budget=Budget(max_calls=calls))


def test_a_tight_budget_degrades_the_edition_and_says_so(settings, fake, tmp_path) -> None:
    # 5 triage calls, then 5 items and the lead, and up to two critic questions per main item:
    # 21 calls fit all of it but the two also-noteworthy items.
    _, result = _budgeted(settings, fake, tmp_path, calls=21)
    triage = fake.kinds()["triage"]
    assert triage == 5  # the 19 best-ranked papers, 4 per call
    assert result.outcome == "published" and len(fake.calls) <= 21  # critic: 2 per main item
    assert result.degraded == ["budget: 2 also-noteworthy item(s) left out"]
    assert (result.markdown or "").count("Score: ") == 5


def test_a_tighter_budget_drops_the_model_review_then_main_items(settings, fake, tmp_path) -> None:
    _, result = _budgeted(settings, fake, tmp_path, calls=8)
    assert result.outcome == "published" and len(fake.calls) <= 8
    assert result.degraded == ["budget: 2 also-noteworthy item(s) left out",
                               "budget: no model review (deterministic checks only)",
                               "budget: 2 main item(s) instead of 5"]
    assert fake.kinds()["critic"] == 0 and (result.markdown or "").count("Score: ") == 2


def test_a_budget_that_cannot_write_anything_fails_clearly(settings, fake, tmp_path) -> None:
    _, result = _budgeted(settings, fake, tmp_path, calls=5)
    assert (result.outcome, result.step, result.exit_code) == ("failed", "select", 10)
    assert "budget too small to write even one item" in result.message
    assert not (tmp_path / "out").exists()


def test_budget_exhausted_in_triage_keeps_what_was_scored(settings, fake, tmp_path) -> None:
    svc, result = _budgeted(settings, fake, tmp_path, calls=3)
    assert (result.outcome, result.step, result.exit_code) == ("failed", "triage", 10)
    assert "budget exhausted before a triage call: 3 calls" in result.message
    assert fake.kinds()["triage"] == 3
    ok = svc.run(DEMO, source=None, out_dir=tmp_path / "out", resume_only=True)
    assert ok.outcome == "published"
    assert fake.kinds()["triage"] == 5  # only the two batches never scored


def test_a_run_killed_between_a_nodes_writes_and_its_checkpoint_resumes(settings, fake, tmp_path,
                                                                         monkeypatch) -> None:
    """A process killed after the review node's writes were saved but before its step's
    checkpoint was (the window a SIGKILL during the webhook POST hit under LangGraph's default
    "async" durability): `snap.next` is empty, yet the edition is not finished. Resuming must
    publish from the saved writes, with no model call and not as a silent "failed"."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    put = SqliteSaver.put

    def lose_the_step_before_publish(self, config, checkpoint, metadata, new_versions):
        if "branch:to:publish" in new_versions:  # the checkpoint that would say "publish next"
            return {"configurable": {**config["configurable"], "checkpoint_id": checkpoint["id"]}}
        return put(self, config, checkpoint, metadata, new_versions)

    monkeypatch.setattr(SqliteSaver, "put", lose_the_step_before_publish)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the output dir should be")  # so publish stops the run
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    failed = svc.run(DEMO, source=None, out_dir=blocker / "out")
    assert (failed.outcome, failed.step) == ("failed", "review"), failed.message
    snap = svc.state(DEMO.id)
    assert snap.next == () and [t.name for t in snap.tasks] == ["review"]
    assert svc.status_report(DEMO.id)["step"] == "review"
    calls = len(fake.calls)

    monkeypatch.setattr(SqliteSaver, "put", put)
    ok = svc.run(DEMO, source=None, out_dir=tmp_path / "out", resume_only=True)
    assert ok.outcome == "published" and ok.exit_code == 0, ok.message
    assert len(fake.calls) == calls
    assert (tmp_path / "out" / f"{DEMO.id}.md").is_file()
    svc.close()


def test_a_paper_without_an_abstract_is_skipped_not_blocking(service, tmp_path) -> None:
    # Before: one record with an empty abstract made the whole snapshot "malformed" (exit 6).
    from flashnews.tools.arxiv import demo_snapshot, read_snapshot, write_snapshot

    papers = read_snapshot(demo_snapshot())
    snap = tmp_path / "day.jsonl"
    write_snapshot(snap, papers)
    lines = snap.read_text().splitlines()
    bad = json.loads(lines[0])
    bad["abstract"] = "   "
    snap.write_text("\n".join([json.dumps(bad), *lines[1:]]) + "\n")
    result = service.run(DEMO, source=str(snap), out_dir=tmp_path / "out")
    assert result.outcome == "published" and result.exit_code == 0, result.message
    report = service.status_report(DEMO.id)
    assert f"1 skipped without an abstract: {bad['arxiv_id']}" in report["fetch"]["message"]
    notes = " ".join(report["notes"])
    assert f"no-abstract: {bad['arxiv_id']}" in notes and "ranker: " in notes
    assert bad["arxiv_id"] not in service.store.papers(DEMO.id)
    assert bad["arxiv_id"] not in (tmp_path / "out" / "2026-02-25-flash.md").read_text()


def test_a_checkpoint_written_before_the_graph_idiom_still_resumes(tmp_path) -> None:
    """An edition paused at review by flashnews before the nodes became top-level functions
    with a context schema (the fake model, the demo day): the new graph resumes it, with no
    triage call, and publishes the draft the editor approved."""
    import gzip

    home = tmp_path / "home"
    home.mkdir()
    fixture = Path(__file__).parent / "fixtures" / "edition-at-review-before-graph-idiom.sqlite.gz"
    (home / "flashnews.sqlite").write_bytes(gzip.decompress(fixture.read_bytes()))
    settings = Settings(home=home, base_url="http://127.0.0.1:9/v1")
    fake = FakeChatModel()
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    try:
        snap = svc.state(DEMO.id)
        assert snap.next == ("review",) and snap.interrupts
        draft = snap.values["draft"]["markdown"]
        done = svc.run(DEMO, source=None, out_dir=tmp_path / "out", policy="interactive",
                       resume_only=True, reviewer=lambda payload: {"command": "approve"})
    finally:
        svc.close()
    assert done.outcome == "published", done.message
    assert fake.kinds().get("triage", 0) == 0
    published = (tmp_path / "out" / f"{DEMO.id}.md").read_text()
    assert draft.splitlines()[0] in published
    assert all(line in published for line in draft.splitlines() if line.strip())


def test_the_model_start_is_timed_apart_from_the_step_that_needed_it() -> None:
    import time
    from types import SimpleNamespace

    from langgraph.graph import END, START, StateGraph
    from typing_extensions import TypedDict

    from flashnews.service import _timed

    class S(TypedDict, total=False):
        n: int

    models = SimpleNamespace(start_seconds=0.0)

    def first(state: S) -> S:
        return {"n": 1}

    def second(state: S) -> S:
        time.sleep(0.3)  # the server starts, then the step's own work
        models.start_seconds = 0.2
        return {"n": 2}

    g = StateGraph(S)
    g.add_node("first", first)
    g.add_node("second", second)
    g.add_edge(START, "first")
    g.add_edge("first", "second")
    g.add_edge("second", END)
    timings: dict[str, float] = {}
    from langgraph.checkpoint.memory import InMemorySaver

    _timed(g.compile(InMemorySaver()), {"n": 0}, {"configurable": {"thread_id": "t"}}, None,
           models, timings)
    assert list(timings) == ["first", "model start", "second"]
    assert timings["model start"] == 0.2 and 0.05 < timings["second"] < 0.3


def test_a_failed_step_is_timed_too() -> None:
    import time
    from types import SimpleNamespace

    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph
    from typing_extensions import TypedDict

    from flashnews.service import _timed

    class S(TypedDict, total=False):
        n: int

    def fails(state: S) -> S:
        time.sleep(0.2)
        raise RuntimeError("the write failed")

    g = StateGraph(S)
    g.add_node("write", fails)
    g.add_edge(START, "write")
    g.add_edge("write", END)
    timings: dict[str, float] = {}
    with pytest.raises(RuntimeError, match="the write failed"):
        _timed(g.compile(InMemorySaver()), {"n": 0}, {"configurable": {"thread_id": "t"}},
               None, SimpleNamespace(start_seconds=0.0), timings)
    assert list(timings) == ["write"] and timings["write"] >= 0.2
