"""flashnews on a real LangGraph API server, driven only through langgraph-sdk.

`langgraph dev` (langgraph-cli with the in-memory runtime) serves the graph that langgraph.json
names, in its own process group, on 127.0.0.1 and a free port, from a temp data folder, with
flashnews configured against the stub model server of `flashnews.testing`. Model calls are
counted on the stub (every call the server makes) and in the store's ledger (per edition).
`.ci/run` sets TEST_LANGGRAPH_REQUIRED=1: there a missing server package fails, never skips.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flashnews.agents.editor import InvalidAnswer, command
from flashnews.agents.fetcher import run_input
from flashnews.config import Settings
from flashnews.errors import ConfigError, LocalModelError
from flashnews.graphs.server import ServerModels, edition_thread_id
from flashnews.testing import StubServer
from flashnews.tools.arxiv import demo_snapshot
from flashnews.tools.publish import with_repo_notes
from flashnews.tools.store import Store
from tests.conftest import REPO

REQUIRED = os.environ.get("TEST_LANGGRAPH_REQUIRED") == "1"
SERVER_PACKAGES = ("langgraph_cli", "langgraph_api", "langgraph_runtime_inmem", "langgraph_sdk")
ASSISTANT = "edition"  # the graph id in langgraph.json
# Every server run ranks the day on the real embedding model.
pytestmark = pytest.mark.embed
FLASH, DIGEST = "2026-02-25-flash", "2026-02-25-digest"


def _need_server_packages() -> None:
    missing = [m for m in SERVER_PACKAGES if importlib.util.find_spec(m) is None]
    if missing:
        why = f"{', '.join(missing)} not installed (pip install -e '.[server]')"
        if REQUIRED:
            pytest.fail(why + " but TEST_LANGGRAPH_REQUIRED=1")
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Served:
    """A running `langgraph dev` and what the test needs to drive and inspect it."""

    url: str
    port: int
    proc: subprocess.Popen[bytes]
    root: Path
    home: Path
    out: Path
    log: Path

    def client(self) -> Any:
        from langgraph_sdk import get_sync_client

        return get_sync_client(url=self.url, timeout=120)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def _stop(proc: subprocess.Popen[bytes], root: Path) -> None:
    """End the server's whole process group and remove its data folder."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # anything of the group still there
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
    if root.exists():
        for path in (root, *root.rglob("*")):  # a dir the test locked must not stop the removal
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    path.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def langgraph_dev(env_extra: dict[str, str], *, jobs: int = 2,
                  wrap: list[str] | None = None) -> Iterator[Served]:
    """Start `langgraph dev --no-browser` from the repo's langgraph.json; always clean up.

    The process, its port and its data folder (the server's `.langgraph_api` in its working
    dir, flashnews' home and output dir) go away when the block ends, also when it raises, and
    at interpreter exit if a finaliser never ran.
    """
    root = Path(tempfile.mkdtemp(prefix="flashnews-langgraph-"))
    home, out = root / "home", root / "out"
    out.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FLASHNEWS_") and k != "OPENAI_API_KEY"}
    env.update(FLASHNEWS_HOME=str(home), FLASHNEWS_OUT_DIR=str(out), FLASHNEWS_MAX_RETRIES="0",
               # Nothing leaves the machine: no CLI analytics, no tracing.
               LANGGRAPH_CLI_NO_ANALYTICS="1", LANGSMITH_TRACING="false",
               LANGCHAIN_TRACING_V2="false", **env_extra)
    cli = Path(sys.executable).with_name("langgraph")
    cmd = [*(wrap or []), str(cli), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1",
           "--port", str(port), "--n-jobs-per-worker", str(jobs),
           "--config", str(REPO / "langgraph.json")]
    log = root / "server.log"
    with log.open("wb") as sink:
        # Its own process group (session), so one killpg ends the server and any child of it.
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def cleanup() -> None:
        _stop(proc, root)

    atexit.register(cleanup)
    served = Served(url=f"http://127.0.0.1:{port}", port=port, proc=proc, root=root, home=home,
                    out=out, log=log)
    try:
        deadline = time.monotonic() + 90
        while True:
            # The port it prints: langgraph dev takes another one if ours was taken meanwhile.
            found = re.search(rb"API: (?:\x1b\[[0-9;]*m)?http://127\.0\.0\.1:(\d+)",
                              log.read_bytes())
            if found and _port_open(int(found.group(1))):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"langgraph dev exited with {proc.returncode}:\n"
                                   f"{served.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"langgraph dev did not listen in 90 s:\n{served.log_tail()}")
            time.sleep(0.2)
        served.port = int(found.group(1))
        served.url = f"http://127.0.0.1:{served.port}"
        served.client().http.get("/ok")
        yield served
    finally:
        cleanup()
        atexit.unregister(cleanup)


def _root_wrap() -> list[str]:
    """As root, run the server without the capability that ignores file permissions, so a
    directory with mode 555 is unwritable for it (as for any other user)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        if REQUIRED:
            pytest.fail("running as root without setpriv (util-linux)")
        pytest.skip("running as root without setpriv: cannot make a dir unwritable")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


@dataclass
class World:
    served: Served
    stub: StubServer
    threads: dict[str, str]

    def calls(self) -> Counter[str]:
        return Counter(self.stub.counts)

    def ledger(self, edition_id: str | None) -> dict[str, int]:
        """Model calls per role (and total) that the server booked in flashnews' ledger to one
        edition, or to any (None)."""
        store = Store(self.served.home / "flashnews.sqlite")
        try:
            return {role: u.calls for role, u in store.usage(edition_id).items()}
        finally:
            store.close()

    def state(self, edition_id: str) -> dict[str, Any]:
        return self.served.client().threads.get_state(self.threads[edition_id])  # type: ignore[no-any-return]

    def status(self, edition_id: str) -> str:
        return self.served.client().threads.get(self.threads[edition_id])["status"]  # type: ignore[no-any-return]

    def pause(self, edition_id: str) -> dict[str, Any]:
        """The editor payload the thread is waiting with at review."""
        state = self.state(edition_id)
        assert list(state["next"]) == ["review"], state["next"]
        assert len(state["interrupts"]) == 1
        return state["interrupts"][0]["value"]  # type: ignore[no-any-return]

    def resume(self, edition_id: str, value: Any, **options: Any) -> Any:
        return self.served.client().runs.wait(self.threads[edition_id], ASSISTANT,
                                              command={"resume": value}, **options)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One server; the flash and digest editions of 2026-02-25 run in parallel to review."""
    _need_server_packages()
    wrap = _root_wrap()
    with StubServer(latency=0.05) as stub, \
            langgraph_dev({"FLASHNEWS_BASE_URL": stub.base_url}, wrap=wrap) as served:
        client = served.client()
        threads = {}
        for eid in (FLASH, DIGEST):
            thread = client.threads.create(thread_id=edition_thread_id(eid), if_exists="raise",
                                           metadata={"edition_id": eid})
            threads[eid] = thread["thread_id"]
        runs = {eid: client.runs.create(threads[eid], ASSISTANT,
                                        input={"date": "2026-02-25", "format": eid[11:]})
                for eid in (FLASH, DIGEST)}
        both_running = False
        deadline = time.monotonic() + 300
        while True:
            status = {eid: client.runs.get(threads[eid], r["run_id"])["status"]
                      for eid, r in runs.items()}
            both_running |= all(s == "running" for s in status.values())
            if all(s not in ("pending", "running") for s in status.values()):
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
        assert status == {FLASH: "success", DIGEST: "success"}, served.log_tail()
        # The two editions ran at the same time, each on its own thread.
        assert both_running, "the server ran the editions one after the other"
        yield World(served, stub, threads)


def _no_embedded_model(served: Served) -> None:
    """The server used the configured endpoint only: no model assembled, no llama.cpp server.
    (home/models may hold the embedding model's checksum mark: the ranking stage runs there.)"""
    assert not list((served.home / "models").glob("*.gguf*"))
    assert not (served.home / "logs" / "local-model.log").exists()
    ps = subprocess.run(["ps", "-o", "args=", "-g", str(served.proc.pid)], capture_output=True,
                        text=True, check=False).stdout
    assert "llama" not in ps, ps


def test_each_edition_pauses_at_review_with_the_editor_payload(world: World) -> None:
    for eid in (FLASH, DIGEST):
        assert world.status(eid) == "interrupted"
        pause = world.pause(eid)
        assert pause["edition_id"] == eid
        assert pause["markdown"].startswith("# Inference Ecosystem")
        main = [r for r in pause["rows"] if r["section"] == "main"]
        assert len(main) == 5 and [r["n"] for r in pause["rows"]][:5] == [1, 2, 3, 4, 5]
        assert all(f"Score: {r['score']} | Hype: {r['hype']}" in pause["markdown"] for r in main)
        assert pause["blocking"] == 0 and pause["notice"] == ""
    # Both threads' calls were booked to their own edition, and nothing else called the stub.
    flash, digest = world.ledger(FLASH), world.ledger(DIGEST)
    assert flash["total"] > 0 and digest["total"] > 0
    assert flash["total"] + digest["total"] == world.ledger(None)["total"] \
        == sum(world.calls().values())
    print(f"\nfirst runs to review, model calls: {FLASH} {flash}, {DIGEST} {digest} "
          f"(the stub answered {dict(world.calls())})")
    _no_embedded_model(world.served)


def test_invalid_resume_is_answered_clearly_and_the_thread_stays_at_review(world: World) -> None:
    before, pause = world.calls(), world.pause(FLASH)
    for bad, says in (({"command": "publish-now"}, "unknown command 'publish-now'"),
                      ("approve", "invalid review answer 'approve': expected {\"command\""),
                      ({"command": "rescore", "n": 1, "score": 300, "hype": 50},
                       "score: Input should be less than or equal to 100"),
                      ({"command": "drop", "n": 99}, "no row 99"),
                      ({"command": "quit"}, "answered by the editor's terminal")):
        world.resume(FLASH, bad)
        assert world.status(FLASH) == "interrupted"
        again = world.pause(FLASH)
        assert again["notice"].startswith("not done: invalid review answer"), again["notice"]
        assert says in again["notice"]
        assert again["markdown"] == pause["markdown"] and again["rows"] == pause["rows"]
    assert world.calls() == before
    print(f"\nan invalid resume value: 0 model calls; the editor sees: {again['notice']}")


def test_editor_commands_as_resume_values_then_publish_through_the_outbox(world: World) -> None:
    before = world.calls()
    pause = world.pause(FLASH)
    dropped = pause["rows"][1]
    world.resume(FLASH, {"command": "drop", "paper_id": dropped["paper_id"],
                         "reason": "covered last week", "by": "ana"})
    pause = world.pause(FLASH)
    assert pause["notice"].startswith(f"dropped {dropped['paper_id']}")
    assert f"arxiv.org/abs/{dropped['paper_id']}" not in pause["markdown"]
    first = pause["rows"][0]
    # `n` is a row of the payload's table, as the editor sees it.
    world.resume(FLASH, {"command": "rescore", "n": 1, "score": 88, "hype": 42,
                         "reason": "operators ask about this", "by": "ana"})
    pause = world.pause(FLASH)
    assert pause["notice"].startswith(f"rescored {first['paper_id']}")
    assert "Score: 88 | Hype: 42" in pause["markdown"]
    assert world.calls() == before  # drop and rescore: no model call

    done = world.resume(FLASH, {"command": "approve", "by": "ana"})
    assert done["outcome"] == "published", done
    state = world.state(FLASH)
    assert list(state["next"]) == [] and world.status(FLASH) == "idle"
    published = world.served.out / f"{FLASH}.md"
    assert state["values"]["published"] == {"markdown": str(published)}
    text = published.read_text()
    # As reviewed, with the code-and-weights line publishing adds under each item.
    assert with_repo_notes(text, {}) == pause["markdown"] and "Score: 88 | Hype: 42" in text
    assert world.calls() == before  # approve and publish: no model call

    store = Store(world.served.home / "flashnews.sqlite")
    try:
        assert [(d.channel, d.status) for d in store.deliveries(FLASH)] == [("markdown",
                                                                              "delivered")]
        assert store.edition(FLASH).status == "published"  # type: ignore[union-attr]
        decisions = [(d.command, d.editor) for d in store.decisions(FLASH)]
        assert decisions == [("drop", "ana"), ("rescore", "ana"), ("approve", "ana")]
    finally:
        store.close()

    # A new run on the published edition's thread is a no-op that says so.
    again = world.served.client().runs.wait(world.threads[FLASH], ASSISTANT,
                                            input={"date": "2026-02-25", "format": "flash"})
    assert again["outcome"] == "already-published", again
    assert published.read_text() == text and world.calls() == before
    _no_embedded_model(world.served)


def test_rewrite_is_the_one_command_that_calls_the_model(world: World) -> None:
    before, pause = world.calls(), world.pause(DIGEST)
    world.resume(DIGEST, {"command": "rewrite", "instruction": "say which hardware each paper "
                          "targets", "by": "ana"})
    again = world.pause(DIGEST)
    assert again["round"] > pause["round"]
    spent = world.calls() - before
    assert spent["writer"] > 0 and spent["critic"] > 0 and spent["triage"] == 0
    print(f"\na rewrite of {DIGEST} at review: {dict(spent)}")


def test_failed_publish_resumes_through_the_api_without_a_model_call(world: World) -> None:
    out = world.served.out
    before = world.calls()
    out.chmod(0o555)
    try:
        failed = world.resume(DIGEST, {"command": "approve", "by": "ana"}, raise_error=False)
        assert world.status(DIGEST) == "error"
    finally:
        out.chmod(0o755)
    error = failed["__error__"]
    assert error["error"] == "PublishError", failed
    assert f"{out / DIGEST}.md" in error["message"] and "Permission denied" in error["message"]
    state = world.state(DIGEST)
    assert list(state["next"]) == ["publish"]
    assert not (out / f"{DIGEST}.md").exists()

    # The output dir is writable again: a run with no input continues at publish.
    done = world.served.client().runs.wait(world.threads[DIGEST], ASSISTANT, input=None)
    assert done["outcome"] == "published", done
    assert with_repo_notes((out / f"{DIGEST}.md").read_text(), {}) == \
        state["values"]["draft"]["markdown"]
    assert world.status(DIGEST) == "idle"
    assert world.calls() == before
    print(f"\na failed publish and its resume through the API: "
          f"{sum((world.calls() - before).values())} model calls")
    _no_embedded_model(world.served)


def test_without_an_endpoint_the_server_refuses_the_embedded_model_and_cleans_up() -> None:
    """No endpoint and no FLASHNEWS_SERVER_EMBEDDED: the run fails at its first model call
    with what to set, and no model is started; the server is cleaned up though the block
    fails."""
    _need_server_packages()
    seen: dict[str, Any] = {}
    with pytest.raises(RuntimeError, match="the test failed here"), \
            langgraph_dev({}, jobs=1) as served:
        seen.update(pid=served.proc.pid, port=served.port, root=served.root)
        client = served.client()
        thread = client.threads.create(thread_id=edition_thread_id(FLASH))
        failed = client.runs.wait(thread["thread_id"], ASSISTANT,
                                  input={"date": "2026-02-25", "format": "flash"},
                                  raise_error=False)
        error = failed["__error__"]
        assert error["error"] == "ConfigError", failed
        assert "FLASHNEWS_BASE_URL" in error["message"]
        assert "FLASHNEWS_SERVER_EMBEDDED=true" in error["message"]
        # Fetched and saved before the first model call: a resume once configured goes on.
        assert list(client.threads.get_state(thread["thread_id"])["next"]) == ["triage"]
        _no_embedded_model(served)
        bad = client.runs.wait(client.threads.create()["thread_id"], ASSISTANT,
                               input={"date": "2026-02-30"}, raise_error=False)
        assert bad["__error__"]["error"] == "ConfigError"
        assert "invalid run input (date:" in bad["__error__"]["message"]
        raise RuntimeError("the test failed here")
    assert not _group_alive(seen["pid"])
    assert not _port_open(seen["port"])
    assert not seen["root"].exists()


# --- the server's pieces without a server (no server package needed) ------------------------


def test_server_models_start_the_embedded_model_only_when_configured(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    try:
        endpoint = Settings(home=tmp_path, base_url="http://127.0.0.1:9/v1")
        assert ServerModels(endpoint, store, "").base_url() == "http://127.0.0.1:9/v1"
        with pytest.raises(ConfigError, match="FLASHNEWS_SERVER_EMBEDDED=true"):
            ServerModels(Settings(home=tmp_path), store, "").base_url()
        assert not (tmp_path / "models").exists()  # nothing assembled
        # Configured to: it goes to start the embedded model (here a file that is not there).
        opted = Settings(home=tmp_path, server_embedded=True, local_model=tmp_path / "no.gguf")
        with pytest.raises(LocalModelError, match=r"no\.gguf"):
            ServerModels(opted, store, "").base_url()
    finally:
        store.close()


def test_run_input_is_checked_and_completed() -> None:
    assert run_input({"date": "2026-02-25"}) == {
        "edition_id": FLASH, "date": "2026-02-25", "format": "flash",
        "source": str(demo_snapshot()), "round": 0}
    assert run_input({"date": "2026-03-02", "format": "digest", "edition_id": "2026-03-02-digest"}
                     )["source"] == "arxiv"
    for bad, says in (({}, "invalid run input: no date"),
                      ({"date": "2026-02-30"}, "invalid run input (date:"),
                      ({"date": "2026-02-25", "format": "monthly"}, "invalid run input (format:"),
                      ({"date": "2026-02-25", "edition_id": DIGEST}, "is not '2026-02-25-flash'")):
        with pytest.raises(ConfigError) as err:
            run_input(bad)
        assert says in str(err.value) and "\n" not in str(err.value)


def test_resume_values_are_editor_commands() -> None:
    rows = [{"n": 1, "paper_id": "2602.20515"}, {"n": 2, "paper_id": "2602.21140"}]
    assert command({"decision": "approve", "by": "ana"}, rows).command == "approve"
    drop = command({"command": "drop", "n": 2, "reason": "old"}, rows)
    assert (drop.paper_id, drop.reason) == ("2602.21140", "old")
    assert command({"command": "pin", "paper_id": "2602.1", "n": 1}, rows).paper_id == "2602.1"
    for bad, says in ((None, "invalid review answer None"),
                      ({"command": "show", "n": 1}, "answered by the editor's terminal"),
                      ({"command": ["drop"]}, "unknown command ['drop']"),
                      ({"command": "move", "n": 1, "to": "top"}, "to: Input should be"),
                      ({"command": "drop", "n": 3}, "no row 3 (rows are numbered 1-2)")):
        with pytest.raises(InvalidAnswer) as err:
            command(bad, rows)
        assert says in str(err.value), str(err.value)


def test_langgraph_cli_builds_a_dockerfile_for_the_self_hosted_server(tmp_path: Path) -> None:
    """What `langgraph build` puts in the image: the repo installed, the graph by module."""
    _need_server_packages()
    cli = Path(sys.executable).with_name("langgraph")
    done = subprocess.run([str(cli), "dockerfile", str(tmp_path / "Dockerfile"), "-c",
                           str(REPO / "langgraph.json")], capture_output=True, text=True,
                          env={**os.environ, "LANGGRAPH_CLI_NO_ANALYTICS": "1"}, timeout=120)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "Dockerfile").read_text()
    assert "LANGSERVE_GRAPHS='{\"edition\": \"flashnews.graphs.server:graph\"}'" in text
    assert "pip install" in text and "-e ." in text


def test_the_archive_search_route_answers_beside_the_api(world: World) -> None:
    import requests

    from flashnews.tools.publish import Publication, PublishedItem

    store = Store(world.served.home / "flashnews.sqlite")
    try:  # an edition of another day, published to the server's store
        store.save_publication(Publication(
            edition_id="2026-02-20-flash", date="2026-02-20", format="flash", title="T",
            markdown="# T\n", items=[PublishedItem(
                arxiv_id="2602.00042", title="Quokka: paged attention for tiny devices",
                link="https://arxiv.org/abs/2602.00042", section="main", score=81, hype=40,
                headline="Quokka pages attention", body="It serves long prompts on phones.")],
            published_at="2026-02-20T01:00:00+00:00", updated_at="2026-02-20T01:00:00+00:00"),
            str(world.served.out))
    finally:
        store.close()
    url = f"{world.served.url}/flashnews/search"
    got = requests.get(url, params={"q": "quokka", "by": "words"}, timeout=60)
    assert got.status_code == 200, got.text
    hits = got.json()["hits"]
    assert [(h["edition_id"], h["paper_id"], h["score"]) for h in hits] == [
        ("2026-02-20-flash", "2602.00042", 81)]
    # By meaning too (the server's embedding model), and the FTS syntax read as text.
    got = requests.get(url, params={"q": "paged attention on phones (", "limit": 3}, timeout=120)
    assert got.status_code == 200 and got.json()["hits"][0]["paper_id"] == "2602.00042"
    assert requests.get(url, params={"q": "quokka", "since": "2026-02-21"},
                        timeout=60).json()["hits"] == []
    bad = requests.get(url, params={"q": "quokka", "since": "soon"}, timeout=60)
    assert bad.status_code == 400 and "since must be YYYY-MM-DD" in bad.json()["error"]


def test_a_week_in_review_runs_on_the_server_like_any_edition(world: World) -> None:
    from flashnews.tools.arxiv import read_snapshot
    from flashnews.tools.publish import Publication, PublishedItem

    day, week = "2026-02-10-flash", "2026-02-12-weekly"
    papers = [p for p in read_snapshot(demo_snapshot())
              if p.arxiv_id in {"2602.20732", "2602.20217", "2602.20515", "2602.20662"}]
    store = Store(world.served.home / "flashnews.sqlite")
    try:  # a daily edition of an earlier week, published to the server's store
        store.save_papers(day, papers)
        store.save_publication(Publication(
            edition_id=day, date=day[:10], format="flash", title="T", markdown="# T\n",
            items=[PublishedItem(arxiv_id=p.arxiv_id, title=p.title, link=p.link,
                                 section="main", score=90 - n, hype=50, headline="",
                                 body=p.abstract.split(". ")[0] + ".")
                   for n, p in enumerate(papers)],
            published_at="2026-02-10T01:00:00+00:00", updated_at="2026-02-10T01:00:00+00:00"),
            str(world.served.out))
        store.set_edition(day, status="published")
    finally:
        store.close()
    client = world.served.client()
    thread = client.threads.create(thread_id=edition_thread_id(week), if_exists="raise")
    client.runs.wait(thread["thread_id"], ASSISTANT, input={"date": "2026-02-12",
                                                            "format": "weekly"})
    state = client.threads.get_state(thread["thread_id"])
    assert list(state["next"]) == ["review"], state["values"].get("message")
    pause = state["interrupts"][0]["value"]
    assert "· the week in review" in pause["markdown"] and pause["blocking"] == 0
    assert "## Themes" in pause["markdown"] and "## Top Papers" in pause["markdown"]
    done = client.runs.wait(thread["thread_id"], ASSISTANT,
                            command={"resume": {"command": "approve", "by": "ana"}})
    assert done["outcome"] == "published", done
    assert (world.served.out / f"{week}.md").read_text().startswith(
        "# Inference Ecosystem — Flash News\n**2026-02-12** · the week in review")
