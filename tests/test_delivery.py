"""Delivery guarantees: webhook redirects, the URL checked at config time, deliveries of unknown
outcome after a crash (SIGKILL between the POST and recording it), and concurrent publishers
sharing one output dir's feed."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest
from pydantic import SecretStr

from flashnews.config import Settings
from flashnews.errors import PublishError
from flashnews.testing import StubServer
from flashnews.tools import publish
from flashnews.tools.arxiv import demo_snapshot
from flashnews.tools.publish import Publication, Publisher, post_webhook
from flashnews.tools.store import Store

EID = "2026-02-25-flash"


class Hook:
    """A webhook receiver on 127.0.0.1: scripted answers, optional redirect, optional kill."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.redirect: str | None = None
        self.kill_pid: int | None = None
        self.slow = 0.0
        """Seconds to wait after reading the body, before answering (a slow receiver)."""
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append({"path": self.path, "json": json.loads(body),
                                      "key": self.headers.get("Idempotency-Key")})
                if hook.slow:
                    time.sleep(hook.slow)
                if hook.kill_pid:
                    # The client dies after sending, before it can record the answer.
                    os.kill(hook.kill_pid, signal.SIGKILL)
                    hook.kill_pid = None
                    time.sleep(0.5)
                if hook.redirect and self.path.endswith("/secret"):
                    self.send_response(307)
                    self.send_header("Location", hook.redirect)
                    self.end_headers()
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.url = f"{self.origin}/services/T000/B000/secret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


def _pub(edition_id: str = EID, title: str = "Inference Ecosystem — Flash News") -> Publication:
    date, fmt = edition_id.rsplit("-", 1)
    return Publication(edition_id=edition_id, date=date[:10], format=fmt, title=title,
                       markdown=f"# {title}\n**{date[:10]}**\n\nText of {edition_id}.\n",
                       published_at="2026-02-26T01:00:00+00:00",
                       updated_at="2026-02-26T01:00:00+00:00")


# -- redirects and the URL ------------------------------------------------------------------------

def test_a_redirect_to_another_origin_is_not_followed(hook) -> None:
    elsewhere = Hook()
    try:
        hook.redirect = f"{elsewhere.origin}/collect"
        with pytest.raises(PublishError) as err:
            post_webhook(hook.url, _pub(), wait=0.01)
        assert f"redirecting to {elsewhere.origin}; not followed" in str(err.value)
        assert "secret" not in str(err.value)
        assert elsewhere.received == [] and len(hook.received) == 1
    finally:
        elsewhere.close()


def test_a_redirect_within_the_same_origin_is_followed(hook) -> None:
    hook.redirect = f"{hook.origin}/services/T000/B000/moved"
    assert post_webhook(hook.url, _pub(), wait=0.01) == hook.origin
    assert [r["path"] for r in hook.received] == ["/services/T000/B000/secret",
                                                  "/services/T000/B000/moved"]


@pytest.mark.parametrize(("url", "ok"), [
    ("https://hooks.slack.com/services/T/B/secret", True),
    ("http://127.0.0.1:8080/hook", True),
    ("http://localhost/hook", True),
    ("http://hooks.example.com/services/T/B/secret", False),  # plain http off this machine
    ("ftp://hooks.example.com/x", False),
    ("hooks.slack.com/services/T/B/secret", False),            # no scheme
    ("https:///services/x", False),                              # no host
])
def test_the_webhook_url_is_checked_at_config_time(url: str, ok: bool, tmp_path) -> None:
    make = lambda: Settings(home=tmp_path, webhook_url=SecretStr(url))  # noqa: E731
    if ok:
        assert make().active_channels()[-1] == "webhook"
        return
    with pytest.raises(ValueError, match="FLASHNEWS_WEBHOOK_URL") as err:
        make()
    assert "secret" not in str(err.value).split("FLASHNEWS_WEBHOOK_URL", 1)[1]


def test_a_bad_webhook_url_is_a_one_line_config_error(tmp_path) -> None:
    env = {"PATH": os.environ["PATH"], "FLASHNEWS_HOME": str(tmp_path / "home"),
           "FLASHNEWS_WEBHOOK_URL": "http://hooks.example.com/services/T/B/s3cr3t"}
    done = subprocess.run([sys.executable, "-m", "flashnews", "config"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "must use https" in done.stderr and "s3cr3t" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1


# -- a crash between sending and recording --------------------------------------------------------

@pytest.fixture
def env(tmp_path: Path, hook: Hook):
    with StubServer() as stub:
        e = {k: v for k, v in os.environ.items()
             if not k.startswith("FLASHNEWS_") and k != "OPENAI_API_KEY"}
        snapshot = tmp_path / "day.jsonl"
        shutil.copy(demo_snapshot(), snapshot)
        e.update(FLASHNEWS_HOME=str(tmp_path / "home"), FLASHNEWS_BASE_URL=stub.base_url,
                 FLASHNEWS_MAX_RETRIES="0", FLASHNEWS_WEBHOOK_URL=hook.url,
                 FLASHNEWS_WEBHOOK_BACKOFF="0.01", SNAPSHOT=str(snapshot))
        yield e


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flashnews", *args], env=env,
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)


def _crash_after_the_post(env: dict[str, str], hook: Hook, out: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "flashnews", "run", "--date", "2026-02-25",
                             "--source", env["SNAPSHOT"], "--out", str(out), "--headless"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    hook.kill_pid = proc.pid
    proc.communicate(timeout=180)
    assert proc.returncode == -signal.SIGKILL
    assert len(hook.received) == 1


def _webhook_row(env: dict[str, str]) -> Any:
    store = Store(Path(env["FLASHNEWS_HOME"]) / "flashnews.sqlite")
    try:
        return store.delivery(EID, "webhook", 0)
    finally:
        store.close()


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_a_delivery_of_unknown_outcome_is_held_then_resent_on_request(env, hook,
                                                                      tmp_path) -> None:
    out = tmp_path / "out"
    _crash_after_the_post(env, hook, out)
    assert _webhook_row(env).status == "sending"  # recorded before it was sent

    held = _cli(["resume", EID, "--headless"], env)
    assert held.returncode == 5, held.stdout + held.stderr
    assert "outcome was never recorded" in held.stderr and "--resend" in held.stderr
    assert "Slack ignores it" in held.stderr and "secret" not in held.stderr
    assert len(hook.received) == 1  # not posted again behind the editor's back

    sent = _cli(["resume", EID, "--headless", "--resend"], env)
    assert sent.returncode == 0, sent.stderr
    assert "outcome: published" in sent.stdout
    assert [r["key"] for r in hook.received] == [f"flashnews:{EID}:r0"] * 2
    row = _webhook_row(env)
    assert (row.status, row.attempts) == ("delivered", 2)
    assert _cli(["resume", EID, "--headless", "--resend"], env).returncode == 0
    assert len(hook.received) == 2  # published: nothing more


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_a_delivery_the_editor_saw_arrive_is_recorded_without_sending(env, hook,
                                                                      tmp_path) -> None:
    _crash_after_the_post(env, hook, tmp_path / "out")
    done = _cli(["resume", EID, "--headless", "--assume-delivered"], env)
    assert done.returncode == 0, done.stderr
    assert len(hook.received) == 1 and _webhook_row(env).status == "delivered"


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_a_receiver_that_honours_the_key_gets_it_again_by_itself(env, hook, tmp_path) -> None:
    env = dict(env, FLASHNEWS_WEBHOOK_IDEMPOTENT="true")
    _crash_after_the_post(env, hook, tmp_path / "out")
    done = _cli(["resume", EID, "--headless"], env)
    assert done.returncode == 0, done.stderr
    assert [r["key"] for r in hook.received] == [f"flashnews:{EID}:r0"] * 2


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_a_slow_receiver_gets_the_bulletin_once_and_the_outcome_is_held(env, hook,
                                                                       tmp_path) -> None:
    # The receiver reads the body, then answers after the client's timeout: it may have
    # posted the bulletin. Before, that read timeout was retried like a failure (3 posts).
    hook.slow = 1.5
    env = dict(env, FLASHNEWS_WEBHOOK_TIMEOUT="0.5")
    out = tmp_path / "out"
    first = _cli(["run", "--date", "2026-02-25", "--source", env["SNAPSHOT"], "--out", str(out),
                  "--headless"], env)
    assert first.returncode == 5, first.stdout + first.stderr
    assert "did not answer within 0.5 s" in first.stderr and "--assume-delivered" in first.stderr
    assert "secret" not in first.stderr
    time.sleep(1.2)  # the receiver's late answer
    assert len(hook.received) == 1
    assert _webhook_row(env).status == "sending"  # unknown, not failed
    held = _cli(["resume", EID, "--headless"], env)
    assert held.returncode == 5 and len(hook.received) == 1  # still held, not re-sent
    hook.slow = 0.0
    done = _cli(["resume", EID, "--headless", "--assume-delivered"], env)
    assert done.returncode == 0, done.stderr
    assert len(hook.received) == 1 and _webhook_row(env).status == "delivered"


def test_a_slow_receiver_that_honours_the_key_is_retried(hook) -> None:
    from flashnews.tools.publish import UnknownDelivery, post_webhook

    hook.slow = 0.6
    with pytest.raises(UnknownDelivery):
        post_webhook(hook.url, _pub(), timeout=0.2, attempts=3, wait=0.01)
    time.sleep(0.6)
    assert len(hook.received) == 1
    hook.received.clear()
    with pytest.raises(PublishError, match="failed after 3 attempts: ReadTimeout"):
        post_webhook(hook.url, _pub(), timeout=0.2, attempts=3, wait=0.01, repeatable=True)
    time.sleep(0.7)
    assert len(hook.received) == 3


# -- concurrent publishers on one output dir ------------------------------------------------------

def _publish_in_child(home: str, out: str, edition_id: str, start: Any, slow: float) -> None:
    if slow:
        # Widen the read-modify-write window of the feed, as a loaded machine would.
        original = publish.render_feed

        def slow_render(*a: Any, **k: Any) -> str:
            time.sleep(slow)
            return original(*a, **k)

        publish.render_feed = slow_render  # type: ignore[assignment]
    settings = Settings(home=Path(home), channels=["markdown", "atom"])
    store = Store(settings.db_path)
    start.wait(30)
    Publisher(settings, store, Path(out)).deliver(_pub(edition_id))
    store.close()


@pytest.mark.parametrize("slow", [0.0, 0.5])
def test_two_concurrent_publishers_keep_every_feed_entry(tmp_path, slow: float) -> None:
    """Two data dirs (a flash and a digest job) publishing to one --out at the same moment."""
    ctx = multiprocessing.get_context("fork")
    out = tmp_path / "out"
    start = ctx.Event()
    ids = ["2026-02-25-flash", "2026-02-25-digest", "2026-02-26-flash", "2026-02-26-digest"]
    procs = [ctx.Process(target=_publish_in_child,
                         args=(str(tmp_path / f"home{n}"), str(out), eid, start, slow))
             for n, eid in enumerate(ids)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    feed = feedparser.parse((out / "feed.xml").read_text())
    assert not feed.bozo
    assert sorted(e.id.rsplit(":", 1)[1] for e in feed.entries) == sorted(ids)
    jfeed = json.loads((out / "feed.json").read_text())
    assert sorted(i["id"].rsplit(":", 1)[1] for i in jfeed["items"]) == sorted(ids)
    assert all((out / f"{eid}.md").exists() for eid in ids)


def test_a_feed_entry_published_from_another_data_dir_survives_a_correction(tmp_path) -> None:
    out = tmp_path / "out"
    a = Settings(home=tmp_path / "a", channels=["atom"])
    b = Settings(home=tmp_path / "b", channels=["atom"])
    sa, sb = Store(a.db_path), Store(b.db_path)
    Publisher(a, sa, out).deliver(_pub("2026-02-25-flash"))
    Publisher(b, sb, out).deliver(_pub("2026-02-25-digest"))
    fixed = _pub("2026-02-25-flash").model_copy(update={
        "revision": 1, "updated_at": "2026-02-27T01:00:00+00:00"})
    Publisher(a, sa, out).deliver(fixed)
    feed = feedparser.parse((out / "feed.xml").read_text())
    assert len(feed.entries) == 2
    assert feed.entries[0].title.endswith("(corrected)")  # newest first
    items = json.loads((out / "feed.json").read_text())["items"]
    assert len(items) == 2 and items[0]["title"].endswith("(corrected)")
    sa.close()
    sb.close()
