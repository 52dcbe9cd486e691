"""The editor's review in a real terminal: `flashnews` driven in tmux (send-keys, capture-pane)
against the stub model server, with `$EDITOR` set to a script, a quit and a resume in a new
process, and a rewrite (the only command that calls a model)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flashnews.testing import StubServer
from flashnews.tools.arxiv import demo_snapshot

EID = "2026-02-25-flash"
LEAD = "Today's papers work on the cost and speed of serving large models."
EDITED_LEAD = "Serving got cheaper today, from MoE load balancing to GPU memory."
pytestmark = pytest.mark.skipif(not shutil.which("tmux"),
                                reason="tmux is not installed (apt-get install tmux)")


def _flat(screen: str) -> str:
    """The screen's words in order, table rules dropped: a sentence wrapped inside a table
    column reads whole again."""
    return " ".join(screen.replace("│", " ").split())


class Terminal:
    """A tmux server of our own (its own socket and config) with a fixed-size window."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.socket = f"flashnews-test-{uuid.uuid4().hex[:10]}"
        self.conf = tmp / "tmux.conf"
        self.conf.write_text("set -g history-limit 100000\nset -g remain-on-exit on\n")
        self.env = env
        self.sessions = 0

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, "-f", str(self.conf), *args],
                              env=self.env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, args: list[str]) -> str:
        """Run `flashnews ARGS` in a new 80x50 session (the narrowest terminal the review
        screen is laid out for); its exit code is printed at the end."""
        self.sessions += 1
        name = f"s{self.sessions}"
        cmd = shlex.join([sys.executable, "-m", "flashnews", *args])
        self.tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "50",
                  f"{cmd}; echo EXIT=$?; sleep 600")
        return name

    def screen(self, name: str) -> str:
        """Everything the session printed so far (history included, wrapped lines joined)."""
        return self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", name)

    def type(self, name: str, text: str) -> None:
        self.tmux("send-keys", "-t", name, "-l", text)
        self.tmux("send-keys", "-t", name, "Enter")

    def wait(self, name: str, text: str, *, count: int = 1, timeout: float = 60) -> str:
        """Wait until `text` has appeared `count` times on the session's screen."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen(name)
            # Compared word by word: at 80 columns a prompt or a sentence may wrap.
            if _flat(shown).count(_flat(text)) >= count:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} (x{count}) never appeared; screen:\n{shown[-4000:]}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env,
                       capture_output=True, timeout=30)


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


@pytest.fixture
def term(tmp_path: Path, stub: StubServer) -> Iterator[Terminal]:
    editor = tmp_path / "edit-lead"
    # $EDITOR: a script that rewrites the lead line of the file it is given.
    editor.write_text(f"#!{sys.executable}\nimport pathlib, sys\np = pathlib.Path(sys.argv[1])\n"
                      f"p.write_text(p.read_text().replace({LEAD!r}, {EDITED_LEAD!r}))\n")
    editor.chmod(0o755)
    snapshot = tmp_path / "day.jsonl"
    shutil.copy(demo_snapshot(), snapshot)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FLASHNEWS_", "TMUX")) and k not in ("OPENAI_API_KEY", "VISUAL")}
    env.update(FLASHNEWS_HOME=str(tmp_path / "home"), FLASHNEWS_BASE_URL=stub.base_url,
               FLASHNEWS_MAX_RETRIES="0", EDITOR=str(editor), TERM="xterm-256color",
               USER="ed", SNAPSHOT=str(snapshot), OUT=str(tmp_path / "out"))
    t = Terminal(tmp_path, env)
    yield t
    t.close()


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_review_drop_pin_move_rescore_edit_quit_resume_rewrite_approve(term, stub) -> None:
    env = term.env
    run = term.start(["run", "--date", "2026-02-25", "--source", env["SNAPSHOT"], "--out",
                      env["OUT"]])
    first = term.wait(run, "review> ")
    assert "ranked papers" in first and "draft and critic findings" in first
    # At 80 columns nothing is cut to an ellipsis (capture-pane -J joins wrapped lines, so
    # line length says nothing here).
    assert "…" not in first
    assert "Score: " in first and "nothing blocking" in first
    table = first[first.index("ranked papers"):first.index("draft and critic findings")]
    assert re.search(r"(?m)^\s*8\s+-\s+\d", table), table  # row 8: a candidate outside the bulletin
    # The paper pinned below: its name before the title's colon (which one the stub ranks 8th
    # follows from the ranking stage, so it is read off the table).
    pinned = re.search(r"(?m)^\s*8\s+-\s+\d+\s+\d+\s+([^:\n]+):", table).group(1).strip()
    calls = dict(stub.counts)
    # The critic model: one question per claim sentence of the 5 main items (what it does and
    # what it reports; one item's abstract states no numbered result).
    assert calls["triage"] > 0 and calls["writer"] > 0 and calls["critic"] == 9

    term.type(run, "drop 2 'not news'")
    term.wait(run, "dropped 2602.")
    term.type(run, "pin 8 'the editors want it'")
    term.wait(run, "pinned 2602.")
    term.type(run, "move 5 to 1")
    term.wait(run, "from place 5 to 1")
    term.type(run, 'rescore 1 12 34 "a recovery paper, not a serving win"')
    shown = term.wait(run, "-> 12/34")
    assert "Score: 12 | Hype: 34" in shown.split("-> 12/34")[0].rsplit("draft and critic", 1)[1]
    term.type(run, "show 1")
    term.wait(run, "rationale:")
    term.type(run, "drop 99")
    term.wait(run, "no row '99': rows are numbered 1-")
    assert dict(stub.counts) == calls  # drop, pin, move, rescore, show: no model call

    term.type(run, "edit")
    term.wait(run, "edit saved; the deterministic critic found nothing blocking")
    term.type(run, "diff")
    shown = term.wait(run, f"+{EDITED_LEAD}")
    assert f"-{LEAD}" in shown
    term.type(run, "quit")
    shown = term.wait(run, "EXIT=3")
    assert f"saved; continue with: flashnews review {EID}" in shown, shown[-3000:]
    assert dict(stub.counts) == calls

    # A new process continues exactly there: the edit, the pin, the move and the new score.
    again = term.start(["review", EID, "--out", env["OUT"]])
    shown = term.wait(again, "review> ")
    assert "edited by hand" in shown and EDITED_LEAD in _flat(shown)
    rows = shown[shown.index("ranked papers"):shown.index("draft and critic findings")]
    assert re.search(rf"(?m)^\s*1\s+main\s+12\s+34\s+{re.escape(pinned)}", rows), rows
    assert "pinned" in rows and "rescored (model:" in rows and "dropped" in rows
    assert dict(stub.counts) == calls

    term.type(again, 'rewrite "name the hardware each paper targets"')
    term.wait(again, "discards your hand edits; go on?")
    term.type(again, "y")
    shown = term.wait(again, "rewritten (name the hardware each paper targets)")
    after = dict(stub.counts)
    assert after["triage"] == calls["triage"]
    # Every main item's headline (the pinned one too) and the lead: code writes the sentences.
    assert after["writer"] - calls["writer"] == 6
    assert after["critic"] - calls["critic"] == 9  # per claim sentence of the 5 main items
    term.type(again, "approve")
    shown = term.wait(again, "EXIT=0")
    assert "outcome: published" in shown
    text = (Path(env["OUT"]) / f"{EID}.md").read_text()
    assert "Score: 12 | Hype: 34" in text and f"[{pinned}]" in text

    done = subprocess.run([sys.executable, "-m", "flashnews", "decisions", EID, "--format",
                           "jsonl"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    cases = [json.loads(line) for line in done.stdout.splitlines()]
    assert [c["command"] for c in cases] == ["drop", "pin", "move", "rescore", "edit", "rewrite",
                                             "approve"]
    assert all(c["editor"] == "ed" and c["at"] for c in cases)
    rescore = cases[3]
    assert rescore["eval"] == "triage" and rescore["reason"] == "a recovery paper, not a serving win"
    assert rescore["context"]["after"] == {"score": 12, "hype": 34}
    assert rescore["context"]["paper"]["abstract"]
    assert cases[0]["reason"] == "not news" and cases[0]["context"]["item"]["body"]
    assert EDITED_LEAD in cases[4]["context"]["after"]
    assert cases[5]["args"]["instruction"] == "name the hardware each paper targets"
