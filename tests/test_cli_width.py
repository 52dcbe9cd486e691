"""Every table the CLI prints, and every help page, read at 80 and 100 columns: no line runs past
the terminal, nothing is cut to an ellipsis, and a reason column is wide enough to read."""

from __future__ import annotations

import io
import os
import re
from typing import Any

import pytest
from rich.console import Console
from typer.main import get_command
from typer.testing import CliRunner

from flashnews import cli
from flashnews.models import Decision
from flashnews.service import EditionService
from flashnews.testing import FakeChatModel, HashingEmbedder, fake_factory
from tests.conftest import DEMO

REASON = "training-side work, not inference; the abstract is about pretraining throughput"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A data dir with a published flash edition and two editor decisions on it."""
    from flashnews.config import Settings

    root = tmp_path_factory.mktemp("width")
    with pytest.MonkeyPatch.context() as mp:
        # Module-scoped: the per-test isolation of conftest.py has not run yet.
        for name in list(os.environ):
            if name.startswith("FLASHNEWS_") or name == "OPENAI_API_KEY":
                mp.delenv(name)
        settings = Settings(home=root / "home", base_url="http://127.0.0.1:9/v1")
    service = EditionService(settings, model_factory=fake_factory(FakeChatModel()),
                             embedder=HashingEmbedder())
    try:
        assert service.run(DEMO, source=None, out_dir=root / "out").outcome == "published"
        for seq, (command, args, reason) in enumerate(
                [("drop", {"n": 1}, REASON), ("score", {"score": 88, "hype": 50}, "narrow")], 1):
            service.store.record_decision(Decision(
                edition_id=DEMO.id, seq=seq, at="2026-12-07T20:05:11.123456+00:00",
                editor="alice.editor", command=command, args=args, reason=reason,
                paper_id="2602.20662"))
    finally:
        service.close()
    return str(root / "home")


def _run(args: list[str], width: int, home: str, monkeypatch: pytest.MonkeyPatch) -> str:
    buf = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=buf, width=width, color_system=None))
    monkeypatch.setattr(cli, "err", Console(file=buf, width=width, color_system=None))
    monkeypatch.setenv("FLASHNEWS_HOME", home)
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("TERMINAL_WIDTH", str(width))
    result = CliRunner().invoke(cli.app, args, terminal_width=width)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return buf.getvalue() + result.output


def _check(text: str, width: int, what: str) -> None:
    for line in text.splitlines():
        assert len(line) <= width, f"{what} at {width} columns: {line!r}"
    assert "…" not in text, f"{what} at {width} columns cuts text:\n{text}"


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("args", [["status"], ["status", DEMO.id], ["history"],
                                  ["decisions", DEMO.id], ["config"]])
def test_tables_read_at_80_and_100_columns(args, width, home, monkeypatch) -> None:
    text = _run(args, width, home, monkeypatch)
    _check(text, width, " ".join(args))
    words = re.findall(r"\S+", text)
    if args[0] == "decisions":
        # The reason column is wide enough that none of the reason's words is folded.
        for word in REASON.replace(",", "").replace(";", "").split():
            assert any(word in w for w in words), (word, text)
    if args == ["status", DEMO.id]:
        assert "Read-only Memory Accelerator" in " ".join(words)  # a title, whole


def _commands(group: Any, prefix: list[str]) -> list[list[str]]:
    found = [prefix]
    for name, sub in group.commands.items():
        if hasattr(sub, "commands"):  # a group (Typer's own click, or click's)
            found += _commands(sub, [*prefix, name])
        else:
            found.append([*prefix, name])
    return found


@pytest.mark.parametrize("width", [80, 100])
def test_every_help_page_reads_at_80_and_100_columns(width, home, monkeypatch) -> None:
    root = get_command(cli.app)
    pages = _commands(root, [])
    assert len(pages) > 10
    for page in pages:
        _check(_run([*page, "--help"], width, home, monkeypatch), width,
               "flashnews " + " ".join([*page, "--help"]))
