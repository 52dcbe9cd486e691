"""Database failures end in one line naming the file and what to do, exit 13, the run report
written, and the edition resumable; `eval add-decisions` reads the configured store."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from flashnews.service import EditionService
from flashnews.testing import FakeChatModel, fake_factory, grounded_responder
from flashnews.tools.arxiv import demo_snapshot
from tests.conftest import DEMO


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flashnews", *args], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("FLASHNEWS_") and k != "OPENAI_API_KEY"}
    e.update(FLASHNEWS_HOME=str(tmp_path / "home"), FLASHNEWS_BASE_URL="http://127.0.0.1:9/v1")
    return e


def test_a_corrupt_database_is_one_line_exit_13_and_a_report(env, tmp_path) -> None:
    db = Path(env["FLASHNEWS_HOME"]) / "flashnews.sqlite"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database, it was overwritten by something else\n" * 200)
    snapshot = tmp_path / "day.jsonl"
    shutil.copy(demo_snapshot(), snapshot)
    report = tmp_path / "run.json"
    done = _cli(["run", "--date", "2026-02-25", "--source", str(snapshot), "--headless",
                 "--out", str(tmp_path / "out"), "--report", str(report)], env)
    assert done.returncode == 13, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert str(db) in lines[0] and "file is not a database" in lines[0]
    assert "move it aside" in lines[0]
    data = json.loads(report.read_text())
    assert (data["outcome"], data["exit_code"], data["reason"]) == ("failed", 13,
                                                                    "storage-error")
    # Every other command says the same in one line.
    status = _cli(["status"], env)
    assert status.returncode == 13 and len(status.stderr.strip().splitlines()) == 1
    # Moved aside as told, the edition runs from scratch.
    db.rename(db.with_suffix(".broken"))
    assert _cli(["history"], env).returncode == 0


def _fill_the_disk_at_first_writer_call(svc: EditionService) -> FakeChatModel:
    """A real SQLITE_FULL: the store's connection may grow the file no further."""
    def responder(request):  # type: ignore[no-untyped-def]
        if request.tool in ("ItemText", "Headline", "ItemPhrase") and not getattr(responder, "done", False):
            responder.done = True  # type: ignore[attr-defined]
            conn = svc.store._conn
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")
            # Fill what room is left in the ledger's pages: its next row has none.
            try:
                while True:
                    conn.execute("INSERT INTO ledger (edition_id, role, model, input_tokens,"
                                 " output_tokens, seconds, ok, prompt_hash, at) VALUES"
                                 " ('ballast', 'x', 'x', 0, 0, 0, 1, 'x', 'x')")
                    conn.commit()  # a failed statement may roll back its whole transaction
            except sqlite3.OperationalError as exc:
                assert "full" in str(exc)
        return grounded_responder(request)

    return FakeChatModel(responder=responder)


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_a_full_disk_mid_run_fails_cleanly_and_resumes(settings, tmp_path) -> None:
    svc = EditionService(settings)
    fake = _fill_the_disk_at_first_writer_call(svc)
    svc.model_factory = fake_factory(fake)
    out = tmp_path / "out"
    result = svc.run(DEMO, source=None, out_dir=out)
    assert (result.outcome, result.exit_code) == ("failed", 13), result.message
    assert str(settings.db_path) in result.message
    assert "database or disk is full" in result.message and "free disk space" in result.message
    assert result.resume_command == f"flashnews resume {DEMO.id} --out {out.resolve()}"
    assert result.step == "write"
    triage_calls = fake.kinds()["triage"]
    svc.close()

    # Space freed (a new connection has no page limit): the resume starts at write.
    again = EditionService(settings, model_factory=fake_factory(fake))
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute("DELETE FROM ledger WHERE edition_id = 'ballast'")
    done = again.run(DEMO, source=None, out_dir=out, resume_only=True)
    assert done.outcome == "published", done.message
    assert fake.kinds()["triage"] == triage_calls  # triage was not repeated
    again.close()


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_an_edition_whose_failure_could_not_be_recorded_shows_as_stopped(settings, env,
                                                                         tmp_path) -> None:
    svc = EditionService(settings)
    fake = FakeChatModel()
    svc.model_factory = fake_factory(fake)

    def crash(request):  # type: ignore[no-untyped-def]
        if request.tool in ("ItemText", "Headline", "ItemPhrase"):
            raise KeyboardInterrupt  # the process dies here, like a SIGKILL, recording nothing
        return grounded_responder(request)

    fake.responder = crash
    with pytest.raises(KeyboardInterrupt):
        svc.run(DEMO, source=None, out_dir=tmp_path / "out")
    assert svc.store.edition(DEMO.id).status == "running"  # type: ignore[union-attr]
    svc.close()
    env = dict(env, FLASHNEWS_HOME=str(settings.home))
    done = _cli(["status", DEMO.id, "--json"], env)
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)["status"]
    assert state.startswith("stopped at step write") and "flashnews resume" in state


def test_add_decisions_reads_the_configured_postgres_store(settings, pg_url, tmp_path,
                                                           monkeypatch) -> None:
    """The papers decided on come from FLASHNEWS_DATABASE_URL's store, not a SQLite file."""
    from typer.testing import CliRunner

    from flashnews.cli import app
    from flashnews.evals import schema

    pg = settings.model_copy(update={"database_url": SecretStr(pg_url)})
    svc = EditionService(pg, model_factory=fake_factory(FakeChatModel()))
    outsider = json.loads(demo_snapshot().read_text().splitlines()[0])
    paper = {**outsider, "arxiv_id": "2699.00001", "title": "A paper only the team store has"}
    from flashnews.models import Paper

    svc.store.set_edition(DEMO.id, status="needs-review")
    svc.store.save_papers(DEMO.id, [Paper.model_validate(paper)])
    svc.close()
    decisions = tmp_path / "d.jsonl"
    decisions.write_text(json.dumps({"edition_id": DEMO.id, "command": "pin",
                                     "args": {"paper_id": "2699.00001"}, "reason": "team"})
                         + "\n")
    root = tmp_path / "datasets"
    shutil.copytree(schema.DATASETS, root)
    monkeypatch.setenv("FLASHNEWS_HOME", str(settings.home))
    monkeypatch.setenv("FLASHNEWS_DATABASE_URL", pg_url)
    result = CliRunner().invoke(app, ["eval", "add-decisions", str(decisions), "--datasets",
                                      str(root)])
    assert result.exit_code == 0, result.output
    assert "1 case(s) added" in result.output
    _, cases = schema.read("editor", schema.TriageCase, root=root)
    assert [c.paper.title for c in cases if c.paper] == ["A paper only the team store has"]
    assert not settings.db_path.exists()  # no SQLite file was made or read


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_a_corrupt_page_in_a_valid_database_is_one_line_exit_13(env, tmp_path) -> None:
    from flashnews.testing import StubServer

    snapshot = tmp_path / "day.jsonl"
    shutil.copy(demo_snapshot(), snapshot)
    run = ["run", "--date", "2026-02-25", "--source", str(snapshot), "--headless", "--out",
           str(tmp_path / "out")]
    with StubServer() as stub:
        e = {**env, "FLASHNEWS_BASE_URL": stub.base_url, "FLASHNEWS_MAX_RETRIES": "0"}
        assert _cli(run, e).returncode == 0
    # The file still opens (its header and schema are intact); the page holding the editions
    # table is garbage, as after a torn write or a bad sector.
    db = Path(env["FLASHNEWS_HOME"]) / "flashnews.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = con.execute("SELECT rootpage FROM sqlite_master WHERE name='editions'"
                           ).fetchone()[0]
        size = con.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(db.read_bytes())
    data[size * (page - 1):size * page] = b"\xde\xad\xbe\xef" * (size // 4)
    db.write_bytes(bytes(data))
    report = tmp_path / "run.json"
    for args in (["status", "2026-02-25-flash"], ["status", "2026-02-25-flash", "--json"],
                 ["history"], [*run, "--report", str(report)]):
        done = _cli(args, e)
        assert done.returncode == 13, (args, done.stderr)
        assert "Traceback" not in done.stderr
        line, = done.stderr.strip().splitlines()
        assert str(db) in line and "malformed" in line and "move it aside" in line
    data_ = json.loads(report.read_text())
    assert (data_["outcome"], data_["exit_code"], data_["reason"]) == ("failed", 13,
                                                                       "storage-error")
