"""The editor's terminal at review: the ranked table, the draft beside the critic's findings, and
a prompt for commands (reading them is agents/editor_commands.py's, applying them
agents/editor.py's)."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.prompt import Confirm
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from flashnews.agents.editor_commands import HELP, parse
from flashnews.agents.editor_screen import Row, rows_of
from flashnews.models import Paper
from flashnews.text.grounding import linked_papers

PROMPT = "review> "
STYLE = {"blocking": "bold red", "warning": "yellow", "info": "cyan"}


def _finding(f: dict[str, Any]) -> Text:
    line = Text(f"{f['severity']} ", style=STYLE.get(f["severity"], ""))
    line.append(f"{f['check']}: {f['message']}")
    return line


class ReviewScreen:
    """A reviewer for EditionService.run: shows each pause, returns the editor's command (as a
    resume value) or None when the editor quits (the pause stays saved)."""

    def __init__(self, console: Console, papers: Callable[[], dict[str, Paper]], *,
                 ask: Callable[[], str] | None = None, who: str | None = None) -> None:
        self.console = console
        self.papers = papers
        self.ask = ask or (lambda: console.input(f"[bold]{PROMPT}[/]"))
        self.who = who or os.environ.get("USER") or "editor"

    # --- showing -------------------------------------------------------------------------------
    def show(self, payload: dict[str, Any], rows: list[Row]) -> None:
        c = self.console
        edited = ", edited by hand" if payload.get("edited") else ""
        c.print(Rule(f"review {payload['edition_id']} — draft round {payload.get('round', 1)}"
                     f"{edited}"))
        # Title, the features that moved the Score most and the flags share one wide column:
        # seven columns side by side leave each a few characters at 80 columns.
        table = Table(title="ranked papers (items in bulletin order, then candidates; under "
                            "each title what moved its Score most, in log-odds)",
                      title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for col in ("#", "in", "score", "hype"):
            table.add_column(col, no_wrap=True, justify="left" if col == "in" else "right")
        table.add_column("paper", ratio=1, min_width=30)
        for r in rows:
            style = "" if r.section else "dim"
            cell = Text(r.title)
            if r.drivers:
                cell.append("\n" + "; ".join(r.drivers), style="dim")
            if r.flags:
                cell.append("\n" + ", ".join(r.flags), style="yellow")
            table.add_row(str(r.n), r.section or "-", str(r.score), str(r.hype), cell,
                          style=style)
        c.print(table)
        self.show_draft(payload, rows)
        if payload.get("notice"):
            c.print(Text(payload["notice"], style="bold"))
        n = payload.get("blocking", 0)
        warnings = sum(f["severity"] != "blocking" for f in payload["findings"])
        state = Text(f"{n} blocking", style="bold red") if n else Text("nothing blocking",
                                                                       style="green")
        c.print(Text.assemble(state, f", {warnings} warning(s). Type a command (`help` lists "
                                     "them)."))

    def show_draft(self, payload: dict[str, Any], rows: list[Row]) -> None:
        """The draft paragraph by paragraph, each beside the critic's findings on its items."""
        number = {r.paper_id: r.n for r in rows}
        findings = payload["findings"]
        placed: set[int] = set()
        table = Table(title="draft and critic findings", title_justify="left", show_lines=True,
                      expand=True)
        table.add_column("#", justify="right", width=3)
        table.add_column("draft", ratio=3)
        table.add_column("critic", ratio=2)
        for para in re.split(r"\n\s*\n", payload["markdown"].strip()):
            ids = linked_papers(para)
            mine = [k for k, f in enumerate(findings) if f.get("item") in ids]
            placed.update(mine)
            notes = Text("\n").join(_finding(findings[k]) for k in mine) if mine else Text("")
            table.add_row(",".join(str(number[i]) for i in ids if i in number),
                          Markdown(para), notes)
        rest = [f for k, f in enumerate(findings) if k not in placed]
        if rest:
            table.add_row("", Text("whole bulletin", style="italic"),
                          Text("\n").join(_finding(f) for f in rest))
        self.console.print(table)

    def show_paper(self, row: Row) -> None:
        paper = self.papers().get(row.paper_id)
        lines = [f"[bold]{row.title}[/]", f"https://arxiv.org/abs/{row.paper_id}"
                 + (f"v{paper.version}" if paper and paper.version > 1 else "")]
        if paper and paper.authors:
            lines.append(", ".join(paper.authors[:6]) + (" …" if len(paper.authors) > 6 else ""))
        lines += ["", paper.abstract if paper else "(abstract not in the store)", "",
                  f"[bold]Score {row.score} | Hype {row.hype}[/] ({row.method})"
                  + (f" — {', '.join(row.flags)}" if row.flags else ""),
                  f"Score moved most by: {'; '.join(row.drivers) or '-'}",
                  f"Hype moved most by: {'; '.join(row.hype_drivers) or '-'}",
                  f"rationale: {row.rationale}"]
        lines += [f"claim: {c}" for c in row.key_claims]
        self.console.print(Panel("\n".join(lines), title=f"#{row.n} {row.paper_id}",
                                 title_align="left"))

    def show_diff(self, payload: dict[str, Any]) -> None:
        before = payload.get("previous_markdown") or ""
        if not before:
            self.console.print("no previous draft: this is the first one")
            return
        lines = list(difflib.unified_diff(before.splitlines(), payload["markdown"].splitlines(),
                                          "previous", "current", lineterm="", n=1))
        if not lines:
            self.console.print("no difference from the previous draft")
        for line in lines:
            style = ("green" if line.startswith("+") else "red" if line.startswith("-") else
                     "cyan" if line.startswith("@@") else "")
            self.console.print(Text(line, style=style), soft_wrap=True)

    def show_help(self) -> None:
        table = Table(title="commands (N is a row of the ranked table)", title_justify="left",
                      box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("command", no_wrap=True)
        table.add_column("what it does", ratio=1, min_width=30)
        for cmd, what in HELP:
            table.add_row(cmd, what)
        self.console.print(table)

    # --- editing -------------------------------------------------------------------------------
    def edit(self, markdown: str, edition_id: str) -> str | None:
        """The draft after `$VISUAL`/`$EDITOR` (vi if neither is set); None if unchanged."""
        command = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
        with tempfile.TemporaryDirectory(prefix="flashnews-edit-") as tmp:
            path = Path(tmp) / f"{edition_id}.md"
            path.write_text(markdown, encoding="utf-8")
            try:
                done = subprocess.run([*command, str(path)], check=False)
            except OSError as exc:
                self.console.print(f"[red]cannot start the editor {command[0]!r}: {exc}[/]")
                return None
            if done.returncode != 0:
                self.console.print(f"[red]the editor exited with {done.returncode}: the draft is "
                                   "unchanged[/]")
                return None
            text = path.read_text(encoding="utf-8")
        if text.strip() == markdown.strip():
            self.console.print("no change to the draft")
            return None
        return text

    # --- the loop ------------------------------------------------------------------------------
    def __call__(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        rows = rows_of(payload)
        self.show(payload, rows)
        eid = payload["edition_id"]
        while True:
            try:
                text = self.ask()
            except EOFError:
                text = "quit"
            try:
                cmd = parse(text, rows)
            except ValueError as exc:
                self.console.print(Text(str(exc), style="red"))
                continue
            if cmd.command == "help":
                self.show_help()
                continue
            if cmd.command == "show":
                self.show_paper(rows[(cmd.n or 1) - 1])
                continue
            if cmd.command == "diff":
                self.show_diff(payload)
                continue
            if cmd.command == "quit":
                self.console.print(f"saved; continue with: flashnews review {eid}",
                                   highlight=False)
                return None
            if cmd.command == "hold":
                self.console.print("[red]`hold` is for API clients: here, `quit` keeps the "
                                   "edition waiting[/]")
                continue
            if payload.get("edited") and cmd.command in ("drop", "pin", "move", "rescore",
                                                         "rewrite") and not Confirm.ask(
                    f"{cmd.command} renders the draft again from its items and discards your "
                    "hand edits; go on?", console=self.console, default=False):
                continue
            if cmd.command == "edit":
                edited = self.edit(payload["markdown"], eid)
                if edited is None:
                    continue
                cmd.markdown = edited
            if cmd.command == "rewrite":
                self.console.print("rewriting: the writer and the critic run again …")
            cmd.by = self.who
            cmd.at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            return cmd.model_dump()
