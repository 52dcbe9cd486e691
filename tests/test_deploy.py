"""The deployment recipes in deploy/ and langgraph.json, each checked against the real CLI."""

from __future__ import annotations

import configparser
import importlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml

from flashnews.cli import app
from tests.conftest import REPO

DEPLOY = REPO / "deploy"


def parse_cli(argv: list[str]) -> str:
    """Parse a flashnews command line exactly as the CLI would; return the subcommand."""
    group = typer.main.get_command(app)
    ctx = group.make_context("flashnews", list(argv))
    # The subcommand's name is kept apart from its arguments (`protected_args`; private in the
    # click that typer vendors).
    protected = getattr(ctx, "protected_args", None) or getattr(ctx, "_protected_args", [])
    rest = [*protected, *ctx.args]
    name, command, args = group.resolve_command(ctx, rest)
    assert command is not None, argv
    command.make_context(name or "", args, parent=ctx)  # raises on unknown or bad options
    return name or ""


def flashnews_args(command_line: str) -> list[str]:
    words = shlex.split(command_line.split(">>")[0])
    start = next(i for i, w in enumerate(words) if w.endswith("bin/flashnews"))
    return words[start + 1:]


def test_crontab_line() -> None:
    lines = [ln for ln in (DEPLOY / "crontab").read_text().splitlines()
             if ln.strip() and not ln.startswith("#") and "=" not in ln.split()[0]]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    assert fields[:5] == ["30", "21", "*", "*", "0-4"]  # after Sun-Thu 20:00 announcements
    args = flashnews_args(fields[5].split("&&", 1)[1])
    assert parse_cli(args) == "run" and "--headless" in args and "--catch-up" in args


def test_systemd_units() -> None:
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.read(DEPLOY / "flashnews.service")
    assert service["Service"]["Type"] == "oneshot"
    args = flashnews_args(service["Service"]["ExecStart"])
    assert parse_cli(args) == "run" and "--headless" in args
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(DEPLOY / "flashnews.timer")
    assert timer["Timer"]["Unit"] == "flashnews.service"
    assert timer["Timer"]["Persistent"] == "true"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_units_verify(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("flashnews")
    for name in ("flashnews.service", "flashnews.timer"):
        text = (DEPLOY / name).read_text().replace("/srv/flashnews/.venv/bin/flashnews", str(exe))
        text = text.replace("WorkingDirectory=/srv/flashnews", f"WorkingDirectory={tmp_path}")
        (tmp_path / name).write_text(text)
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "flashnews.service"),
                           str(tmp_path / "flashnews.timer")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(DEPLOY / "flashnews.timer")
    cal = subprocess.run(["systemd-analyze", "calendar", timer["Timer"]["OnCalendar"]],
                         capture_output=True, text=True)
    assert cal.returncode == 0, cal.stderr


def test_github_actions_workflow() -> None:
    wf = yaml.safe_load((DEPLOY / "github-actions.yml").read_text())
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"] == "30 2 * * 1-5"
    assert wf["concurrency"]["cancel-in-progress"] is False
    runs = [s["run"] for s in wf["jobs"]["edition"]["steps"] if "run" in s]
    command = next(line for r in runs for line in r.splitlines() if "bin/flashnews" in line)
    args = flashnews_args(command)
    assert parse_cli(args) == "run" and "--headless" in args and "--report" in args
    assert "OPENAI_API_KEY" in wf["jobs"]["edition"]["env"]  # from secrets, never in the file
    steps = wf["jobs"]["edition"]["steps"]
    out = args[args.index("--out") + 1]
    # The bulletin is published (Pages) and kept (an artifact), not just the run report.
    uploads = {s["uses"].split("@")[0]: s["with"]["path"] for s in steps
               if "upload" in s.get("uses", "")}
    assert uploads == {"actions/upload-artifact": out, "actions/upload-pages-artifact": out}
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in steps)
    # The model path is explicit: an endpoint, or the embedded model's `local` extra.
    install = next(s["run"] for s in steps if s.get("name", "").startswith("Install"))
    assert "FLASHNEWS_BASE_URL" in install
    assert "make install-core" in install and "make install-local" in install
    # State in PostgreSQL (the secret set) needs its drivers, on either path.
    assert "FLASHNEWS_DATABASE_URL" in install and "'.[postgres]'" in install
    # Every run needs the ranking model; the embedded model needs the `local` extra too.
    make = (REPO / "Makefile").read_text()
    core = make.split("$(VENV)/.core: $(VENV)/.base")[1].split("\n\n")[0]
    local = make.split("$(VENV)/.local: $(VENV)/.base")[1].split("\n\n")[0]
    assert "'.[embed]'" in core and "'.[local]'" in local
    # State survives: never in an (evictable) cache; committed to a branch after every run.
    home = wf["jobs"]["edition"]["env"]["FLASHNEWS_HOME"]
    caches = [s["with"]["path"] for s in steps if s.get("uses", "").startswith("actions/cache")]
    assert all("state" not in c and ".flashnews" not in c for c in caches)
    save = next(s for s in steps if s.get("name", "").startswith("Save state"))
    assert save["if"] == "always()" and "git push origin flashnews-state" in save["run"]
    assert home.endswith("state/data") and out.startswith("state/")
    # The job ends with the run's exit code, after saving.
    assert "steps.run.outputs.code" in steps[-1]["run"]


def test_langgraph_json_names_a_loadable_graph(monkeypatch) -> None:
    config = json.loads((REPO / "langgraph.json").read_text())
    module, _, attr = config["graphs"]["edition"].partition(":")
    # A module path, not a file path: the server resolves file paths against its working dir.
    assert not module.endswith(".py")
    server = importlib.import_module(module)
    monkeypatch.setenv("FLASHNEWS_BASE_URL", "http://127.0.0.1:9/v1")
    try:
        # One compiled graph, the CLI's: no factory, no graph per run.
        graph = getattr(server, attr)
        assert set(graph.get_graph().nodes) >= {"fetch", "triage", "select", "write",
                                                "critique", "review", "publish"}
        assert graph.checkpointer is None  # the server brings its own
        # A server run brings no context: its nodes get the process's, review by the editor.
        ctx = server.server_context()
        assert ctx.policy == "interactive" and ctx.store is server.server_context().store
    finally:
        server.close()  # the process-wide store of this test's data dir


def _preflight(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(REPO / "deploy" / "preflight"), *args], env=env,
                          capture_output=True, text=True, timeout=30)


def test_an_old_python_or_no_compiler_stops_make_with_one_line(tmp_path) -> None:
    env = {"PATH": os.environ["PATH"]}
    assert _preflight(["python", sys.executable], env).returncode == 0
    # Any binary on PATH stands for the compilers: this machine need not have one.
    assert _preflight(["compiler"], {**env, "CC": "sh", "CXX": "sh"}).returncode == 0
    old = tmp_path / "python3.9"
    # A Python 3.9 as the check sees it: it says 3.9 when asked its version, and fails the
    # version test.
    old.write_text('#!/bin/sh\ncase "$2" in *print*) echo 3.9 ;; *) exit 1 ;; esac\n')
    old.chmod(0o755)
    done = _preflight(["python", str(old)], env)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "needs Python 3.11 or newer" in done.stderr and "is 3.9" in done.stderr
    assert "make PYTHON=" in done.stderr
    missing = _preflight(["python", "no-such-python"], env)
    assert missing.returncode == 2 and "no 'no-such-python' on PATH" in missing.stderr
    # No C++ compiler: what to install, and how to run without the embedded model.
    nocc = _preflight(["compiler"], {**env, "CXX": "no-such-c++"})
    line = nocc.stderr.strip()
    assert nocc.returncode == 2 and len(line.splitlines()) == 1
    assert "build-essential" in line and "FLASHNEWS_BASE_URL" in line and "install-core" in line
    # make runs these checks before it creates the venv, and before it compiles llama.cpp.
    make = (REPO / "Makefile").read_text()
    base = make.split("$(VENV)/.base:")[1].split("\n\n")[0]
    assert base.splitlines()[1].strip() == "@deploy/preflight python $(PYTHON)"
    assert "deploy/preflight compiler" in make.split("\nllama:")[1].split("\n\n")[0]
