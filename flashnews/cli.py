"""The `flashnews` command."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import signal
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from flashnews.config import Settings, config_problems
from flashnews.errors import ConfigError, FlashnewsError
from flashnews.models import Assessment, Edition


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM. Not a KeyboardInterrupt: click would turn that into "Aborted!"."""


# Help pages in click's plain layout: it wraps each option's help under the option at any
# width, where the boxed layout left the help column a dozen characters wide at 80 columns.
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Write the Inference Ecosystem — Flash News bulletin from arXiv papers.")
out = Console()
err = Console(stderr=True)
SinceOpt = Annotated[str | None, typer.Option(
    help="Explicit window start, YYYY-MM-DD[THH:MM] US Eastern (instead of the announcement "
         "window of --date).")]
UntilOpt = Annotated[str | None, typer.Option(help="Explicit window end (inclusive day).")]
DateOpt = Annotated[str | None, typer.Option(
    help="Listing date, YYYY-MM-DD (default: arXiv's latest listing, in US Eastern time).")]
FormatOpt = Annotated[Literal["flash", "digest", "weekly"], typer.Option(
    "--format", "-f", help="Bulletin format: flash, digest, or weekly (the week in review of "
                           "the daily editions published in the 7 days to --date).")]


class _JsonLines(logging.Formatter):
    """One JSON object per log record (for log collectors)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"at": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
                 "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage()}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


_LOG = {"format": "text"}


@app.callback()
def _options(
    log_format: Annotated[Literal["text", "json"], typer.Option(
        "--log-format", help="Logs on stderr: text (rich on a terminal) or JSON lines.")] = "text",
    log_level: Annotated[str, typer.Option(
        "--log-level", envvar="FLASHNEWS_LOG_LEVEL", help="DEBUG, INFO, WARNING, ERROR.")] = "WARNING",
) -> None:
    """Write the Inference Ecosystem — Flash News bulletin from arXiv papers."""
    _LOG["format"] = log_format
    handler: logging.Handler
    if log_format == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_JsonLines())
    elif err.is_terminal:
        from rich.logging import RichHandler

        handler = RichHandler(console=err, show_path=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(log_level.upper())


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {config_problems(exc)}") from None
    except Exception as exc:  # a settings source that cannot be read at all
        raise ConfigError(f"invalid configuration: {' '.join(str(exc).split())[:400]}") from None


def _as_storage_error(exc: Exception, settings: Settings | None) -> FlashnewsError | None:
    """A database driver's error as the one-line StorageError (exit 13); None for any other."""
    from flashnews.tools.store import is_database_error, storage_error

    if not is_database_error(exc):
        return None
    where: str | Path | None = None
    if settings is not None:
        where = (settings.database_url.get_secret_value() if settings.database_url
                 else settings.db_path)
    return storage_error(exc, where, when="reading")


def _fail(exc: FlashnewsError) -> None:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(exc.exit_code)


def _progress_printer(tokens: Any = None) -> tuple[Any, Any]:
    """A rich progress display on a terminal (steps, items done of total, tokens so far);
    nothing otherwise, and nothing with JSON logs."""
    if not err.is_terminal or _LOG["format"] == "json":
        return None, lambda step, done, total: None
    bar = Progress(TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[tokens]}"), TimeElapsedColumn(), console=err,
                   transient=True)
    tasks: dict[str, Any] = {}

    def update(step: str, done: int, total: int) -> None:
        used = f"{tokens():,} tokens" if tokens else ""
        if step not in tasks:
            tasks[step] = bar.add_task(step, total=total, tokens=used)
        bar.update(tasks[step], completed=done, total=total, tokens=used)

    return bar, update


def _print_findings(findings: list[dict[str, Any]]) -> None:
    if not findings:
        out.print("[green]critic: no findings[/]")
        return
    table = _table("critic findings")
    for col in ("severity", "check", "item"):
        table.add_column(col, no_wrap=True)
    table.add_column("message", ratio=1, min_width=24)
    for f in findings:
        style = "red" if f["severity"] == "blocking" else "yellow"
        table.add_row(Text(f["severity"], style=style), Text(f["check"]),
                      Text(f.get("item") or ""), Text(f["message"]))
    out.print(table)


def _write_report(path: Path | None, report: dict[str, Any]) -> None:
    """The run report (`--report`): one JSON object, written atomically, for every outcome."""
    if path is None:
        return
    from flashnews.tools.publish import atomic_write

    try:
        atomic_write(path, json.dumps(report, indent=2, default=str) + "\n")
    except FlashnewsError as exc:
        err.print(f"[bold red]error:[/] cannot write the run report: {escape(str(exc))}", highlight=False)


def _execute(edition: Edition, *, source: str | None, out_dir: Path | None, headless: bool,
             resume_only: bool, report: Path | None = None,
             limits: tuple[int | None, int | None, float | None] = (None, None, None),
             unknown: Literal["resend", "assume-delivered"] | None = None,
             timings: bool = False) -> None:
    raise typer.Exit(_run_one(edition, source=source, out_dir=out_dir, headless=headless,
                              resume_only=resume_only, report=report, limits=limits,
                              unknown=unknown, timings=timings))


def _run_one(edition: Edition, *, source: str | None, out_dir: Path | None, headless: bool,
             resume_only: bool, report: Path | None = None,
             limits: tuple[int | None, int | None, float | None] = (None, None, None),
             unknown: Literal["resend", "assume-delivered"] | None = None,
             timings: bool = False) -> int:
    """Run one edition, print its outcome (the last line), write its report; the exit code."""
    from flashnews.service import EditionService

    started = dt.datetime.now(dt.UTC)
    base: dict[str, Any] = {"edition": edition.id, "started_at": started.isoformat()}

    def finish(outcome: str, code: int, **extra: Any) -> None:
        ended = dt.datetime.now(dt.UTC)
        _write_report(report, {**base, "outcome": outcome, "exit_code": code, **extra,
                               "finished_at": ended.isoformat(),
                               "seconds": round((ended - started).total_seconds(), 2)})

    interactive = not headless and sys.stdin.isatty()
    try:
        settings = _settings()
        if not headless and not interactive:
            err.print("stdin is not a terminal: running headless (auto-approve only when "
                      "nothing blocks)")
        # Opening the database can fail too (a corrupt file): that is a run outcome, with its
        # report, like any other failure.
        service = EditionService(settings)
    except FlashnewsError as exc:
        finish("failed", exc.exit_code, step=exc.step, message=str(exc),
               reason=getattr(exc, "outcome", type(exc).__name__))
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code

    bar, update = _progress_printer(lambda: service.tokens(edition.id))
    service.progress = update
    reviewer = None
    if interactive:
        from flashnews.review import ReviewScreen

        screen = ReviewScreen(out, lambda: service.papers(edition.id))

        def reviewer(payload: dict[str, Any]) -> dict[str, Any] | None:
            # The progress display is live on stderr: it ends when the editor's screen starts
            # (restarted, rich's transient display would erase lines of the review it never drew).
            if bar:
                bar.stop()
            return screen(payload)
    try:
        if bar:
            bar.start()
        try:
            from flashnews.budget import Budget

            result = service.run(edition, source=source, out_dir=out_dir,
                                 policy="interactive" if interactive else "auto",
                                 resume_only=resume_only,
                                 reviewer=reviewer,
                                 budget=Budget(*limits), unknown=unknown)
        except Exception as exc:
            # A database that opens but cannot be read (a corrupt page) fails before the graph.
            storage = _as_storage_error(exc, settings)
            if storage is None:
                raise
            raise storage from None
        finally:
            if bar:
                bar.stop()
    except FlashnewsError as exc:
        finish("failed", exc.exit_code, step=exc.step, message=str(exc),
               reason=getattr(exc, "outcome", type(exc).__name__))
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except (Interrupted, KeyboardInterrupt):
        where = f" --out {out_dir}" if out_dir else ""
        finish("failed", 130, message="interrupted", resume_command=f"flashnews resume "
               f"{edition.id}{where}")
        err.print(f"interrupted: finished steps are saved; continue with: flashnews resume "
                  f"{edition.id}{where}", highlight=False, soft_wrap=True)
        return 130
    finally:
        service.close()
    finish(result.outcome, result.exit_code, **result.model_dump(
        exclude={"edition_id", "outcome", "exit_code", "markdown"}))
    u = result.usage
    for note in result.degraded:
        err.print(f"[yellow]{escape(note)}[/]", highlight=False)
    for flag in result.flags:
        err.print(f"[yellow]prompt-injection: {escape(flag)}[/]", highlight=False, soft_wrap=True)
    # An editor who quit review has just seen the draft: it is not printed again.
    if result.markdown and result.outcome in ("published", "already-published", "needs-review") \
            and not (interactive and result.outcome == "needs-review"):
        out.print(Markdown(result.markdown))
    if timings and result.timings:
        out.print("stage times: " + ", ".join(f"{k} {_seconds(v)}" for k, v in
                                              result.timings.items()), highlight=False)
    if result.outcome == "failed":
        err.print(f"[bold red]error:[/] {result.step} failed: {escape(result.message)}. Finished work is "
                  f"saved; resume with: {result.resume_command}", highlight=False, soft_wrap=True)
    else:
        extra = f" — {result.resume_command}" if result.resume_command else ""
        out.print(f"outcome: {result.outcome} — {escape(result.message)}{escape(extra)} "
                  f"[dim](this run: {result.run_calls} model calls; edition: {u.calls} calls, "
                  f"{u.input_tokens}+{u.output_tokens} tokens)[/]",
                  highlight=False, soft_wrap=True)
    return result.exit_code


def _seconds(s: float) -> str:
    """12.3s, or 2m05s."""
    return f"{s:.1f}s" if s < 60 else f"{int(s // 60)}m{int(s % 60):02d}s"


TimingsOpt = Annotated[bool, typer.Option(
    "--timings", help="Before the outcome line, print how long each step of this run took.")]
MaxCalls = Annotated[int | None, typer.Option("--max-calls", help="Model calls this run may make.")]
MaxTokens = Annotated[int | None, typer.Option("--max-tokens", help="Tokens this run may use.")]
MaxSeconds = Annotated[float | None, typer.Option("--max-seconds",
                                                  help="Seconds this run may take.")]
ReportOpt = Annotated[Path | None, typer.Option(
    "--report", help="Write a JSON run report here (every outcome, failures included).")]


@app.command(short_help='Run an edition end to end, or continue it.')
def run(
    date: DateOpt
    = None,
    format: FormatOpt = "flash",
    source: Annotated[str | None, typer.Option(
        help="'arxiv' (the export API), 'rss' (the latest announcement exactly; with "
             "--catch-up, earlier days come from the API) or a JSONL snapshot (default: the "
             "bundled snapshot for the demo day 2026-02-25, arXiv otherwise).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output dir for bulletins.")] = None,
    headless: Annotated[bool, typer.Option(help="Never prompt: approve automatically only when "
                                                "the critic found nothing blocking.")] = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    report: ReportOpt = None,
    catch_up: Annotated[bool, typer.Option(
        "--catch-up", help="Also run every announcement day missed since the last published "
                           "edition of this format, oldest first.")] = False,
    max_calls: MaxCalls = None,
    max_tokens: MaxTokens = None,
    max_seconds: MaxSeconds = None,
    timings: TimingsOpt = False,
) -> None:
    """Run an edition end to end (or continue it where it stopped)."""
    day = _day(date)
    limits = (max_calls, max_tokens, max_seconds)
    if format == "weekly" and (catch_up or since or until or source):
        _fail(ConfigError("a weekly edition is written from the week's published editions: "
                          "no --source, --since, --until or --catch-up"))
    if catch_up:
        if since or until:
            _fail(ConfigError("--catch-up runs whole announcement days; not with --since/--until"))
        raise typer.Exit(_catch_up(day, format, source=source, out_dir=out_dir,
                                   headless=headless, report=report, limits=limits))
    if since or until:
        if source not in (None, "arxiv"):
            _fail(ConfigError("--since/--until select an arXiv window; they do not go with a "
                              "snapshot"))
        source = _arxiv_spec(since, until)
    _execute(Edition(date=day, format=format), source=source, out_dir=out_dir,
             headless=headless, resume_only=False, report=report, limits=limits,
             timings=timings)


def _catch_up(until: dt.date, fmt: str, *, source: str | None, out_dir: Path | None,
              headless: bool, report: Path | None,
              limits: tuple[int | None, int | None, float | None]) -> int:
    """Every day after the last published edition of `fmt`, up to `until`, oldest first.

    Each day is its own edition (thread); weekends and holidays end as quiet days without a
    request. The first day that does not end cleanly stops the catch-up, so bulletins are never
    published out of order.
    """
    from flashnews.service import EditionService

    service = EditionService(_settings())
    try:
        last = service.last_published(fmt, until)
    finally:
        service.close()
    start = last + dt.timedelta(days=1) if last else until
    days = [start + dt.timedelta(days=n) for n in range((until - start).days + 1)]
    if not days:
        out.print(f"outcome: already-published — nothing missed up to {until.isoformat()}")
        return 0
    out.print(f"catching up {len(days)} day(s): {days[0].isoformat()} to {days[-1].isoformat()}",
              highlight=False)
    code = 0
    for day in days:
        path = report.with_name(f"{report.stem}-{day.isoformat()}{report.suffix}") \
            if report else None
        # RSS carries only the latest announcement: earlier days come from the export API.
        day_source = "arxiv" if source == "rss" and day != until else source
        code = _run_one(Edition.model_validate({"date": day, "format": fmt}),
                        source=day_source, out_dir=out_dir,
                        headless=headless, resume_only=False, report=path, limits=limits)
        if code != 0:
            err.print(f"catch-up stopped at {day.isoformat()}; later days were not run",
                      highlight=False)
            break
    return code


def _day(date: str | None) -> dt.date:
    """--date, or arXiv's latest listing (computed in US Eastern time, not the host's zone)."""
    if not date:
        from flashnews.tools.arxiv import latest_listing_date

        return latest_listing_date(_settings().holidays)
    try:
        return dt.date.fromisoformat(date)
    except ValueError:
        _fail(ConfigError(f"--date must be YYYY-MM-DD, got {date!r}"))
        raise  # unreachable: _fail exits


def _arxiv_spec(since: str | None, until: str | None) -> str:
    from flashnews.tools.arxiv import arxiv_spec

    try:
        return arxiv_spec(since, until)
    except ConfigError as exc:
        _fail(exc)
        raise


@app.command(short_help="Save a day's papers as a snapshot.")
def fetch(
    date: DateOpt
    = None,
    save: Annotated[Path, typer.Option(help="Write the papers to this JSONL snapshot.")] = Path(
        "papers.jsonl"),
    source: Annotated[str, typer.Option(
        help="'arxiv' (the export API), 'rss' (the day's announcement exactly), both "
             "('rss,arxiv': both counts are reported, the first is saved), or a JSONL "
             "snapshot to re-save.")] = "arxiv",
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Fetch one announcement day (or an explicit window) and save it as a snapshot."""
    from flashnews.agents.fetcher import quiet_reason
    from flashnews.errors import SourceError
    from flashnews.tools.arxiv import SnapshotSource, source_from_spec, write_snapshot

    settings = _settings()
    day = _day(date)
    specs = [s.strip() for s in source.split(",") if s.strip()] or ["arxiv"]
    if since or until:
        if specs != ["arxiv"]:
            _fail(ConfigError("--since/--until select an arXiv API window; not with "
                              f"--source {source}"))
        specs = [_arxiv_spec(since, until)]
    got: list[tuple[Any, list[Any]]] = []
    try:
        for spec in specs:
            src = source_from_spec(spec, settings)
            if not isinstance(src, SnapshotSource) and not (since or until):
                why = quiet_reason(settings, day)
                if why:
                    out.print(f"outcome: quiet-day — {why}: arXiv announces no new papers")
                    raise typer.Exit(0)
            got.append((src, src.papers(day)))
    except SourceError as exc:
        err.print(f"[bold red]error:[/] {getattr(exc, 'outcome', 'source-error')}: {escape(str(exc))}",
                  highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    for src, papers in got:
        counts = getattr(src, "counts", None)
        detail = (f" ({counts['new']} new, {counts['cross']} cross-listed; "
                  f"{counts['replaced']} replacement(s) not featured)") if counts else ""
        out.print(f"{src.name}: {len(papers)} papers{detail}", highlight=False)
    if len(got) == 2:
        (a, pa), (b, pb) = got
        ia, ib = {p.arxiv_id for p in pa}, {p.arxiv_id for p in pb}
        out.print(f"in both: {len(ia & ib)}; only in {a.name}: {len(ia - ib)}; only in "
                  f"{b.name}: {len(ib - ia)}", highlight=False)
    src, papers = got[0]
    if not papers:
        err.print(f"[bold red]error:[/] empty-unexpected: {src.name} returned no papers for "
                  f"{day.isoformat()}, a working day; check arXiv's listing", highlight=False,
                  soft_wrap=True)
        raise typer.Exit(9)
    write_snapshot(save, papers)
    out.print(f"outcome: ok — {len(papers)} papers saved to {save}"
              + (f" (from {src.name})" if len(got) > 1 else ""), highlight=False)


@app.command(short_help='Lint a bulletin against its sources.')
def check(
    bulletin: Annotated[Path, typer.Argument(help="A bulletin in Markdown.")],
    papers: Annotated[Path, typer.Option(help="JSONL of the papers it may cite.")],
    scores: Annotated[Path | None, typer.Option(
        help="JSONL of {arxiv_id, score, hype}: every item's Score/Hype must match.")] = None,
    format: Annotated[Literal["flash", "digest", "weekly"] | None, typer.Option(
        "--format", "-f", help="Format to check sections for (default: guessed).")] = None,
    date: Annotated[str | None, typer.Option(help="Expected date line (default: not checked).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Lint any bulletin against its sources; exit 3 when a finding is blocking."""
    from flashnews.text import grounding
    from flashnews.text.grounding import check_bulletin
    from flashnews.tools.arxiv import read_snapshot

    try:
        text = bulletin.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(ConfigError(f"cannot read {bulletin}: {exc.strerror or exc}"))
    try:
        known = {p.arxiv_id: p for p in read_snapshot(papers)}
    except FlashnewsError as exc:
        _fail(exc)
    assessments = _read_scores(scores) if scores else None
    # The flash format has no `##` sections; the digest's and the weekly's are their skeleton.
    fmt = format or ("weekly" if re.search(r"^## Top Papers$", text, re.M) else
                     "digest" if re.search(r"^## ", text, re.M) else "flash")
    found = check_bulletin(text, papers=known, assessments=assessments, fmt=fmt,
                           date=_day(date) if date else None)
    blocking = grounding.blocking(found)
    if as_json:
        out.print_json(json.dumps([f.model_dump() for f in found]))
    else:
        _print_findings([f.model_dump() for f in found])
        out.print(f"{len(found)} finding(s), {len(blocking)} blocking ({fmt} format)")
    raise typer.Exit(3 if blocking else 0)


def _read_scores(path: Path) -> dict[str, Assessment]:
    out: dict[str, Assessment] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        _fail(ConfigError(f"cannot read {path}: {exc.strerror or exc}"))
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            pid = rec.get("arxiv_id") or rec["paper_id"]
            out[pid] = Assessment(paper_id=pid, relevant=True, score=int(rec["score"]),
                                  hype=int(rec["hype"]), rationale="from --scores",
                                  prompt_hash="-", model="-", method="editor")
        except (ValueError, KeyError, TypeError) as exc:
            _fail(ConfigError(f"bad score record at {path}:{n}: {exc}"))
    return out


@app.command(short_help='Published editions and their papers.')
def history(as_json: Annotated[bool, typer.Option(
        "--json", help="Machine-readable output.")] = False) -> None:
    """Published editions and the papers each featured (never featured again)."""
    from flashnews.service import EditionService

    service = EditionService(_settings())
    try:
        rows = service.history()
    finally:
        service.close()
    if as_json:
        out.print_json(json.dumps(rows))
        return
    if not rows:
        out.print("no edition published yet")
        return
    for r in rows:
        fixed = f" (corrected, revision {r['revision']})" if r.get("revision") else ""
        out.print(f"[bold]{r['edition']}[/] published {_short_time(r['published_at'])} UTC"
                  f"{fixed}", highlight=False)
        out.print(Padding(Text(r["path"] or "", style="dim", overflow="fold"), (0, 0, 0, 2)))
        papers = Table.grid(padding=(0, 2), pad_edge=True)
        papers.add_column(no_wrap=True)
        papers.add_column(ratio=1)
        for p in r["papers"]:
            papers.add_row(f"{p['arxiv_id']}v{p['version']}", p["title"])
        out.print(Padding(papers, (0, 0, 0, 2)))


@app.command(short_help="Search every published item, claim and editor note.")
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    since: Annotated[str | None, typer.Option(
        "--since", help="Only editions of this day (YYYY-MM-DD) or later.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=200,
                                       help="At most this many hits.")] = 10,
    by: Annotated[Literal["both", "words", "meaning"], typer.Option(
        "--by", help="Match by words (full-text), by meaning (embeddings) or both, fused.")]
    = "both",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Search the archive: every published item, its claims and the editor's notes, by words
    and by meaning, ranked; each hit with its edition and link."""
    from flashnews.service import EditionService

    day = None
    if since:
        try:
            day = dt.date.fromisoformat(since)
        except ValueError:
            _fail(ConfigError(f"--since must be YYYY-MM-DD, got {since!r}"))
    service = EditionService(_settings())
    try:
        hits = service.search(query, since=day, limit=limit, by=by)
    finally:
        service.close()
    if as_json:
        out.print_json(json.dumps([h.model_dump() for h in hits]))
        return
    if not hits:
        where = f" since {day}" if day else ""
        out.print(f"no published item matches {escape(query)!r}{where}", highlight=False)
        return
    table = _table(escape(f"{len(hits)} hit{'s' if len(hits) != 1 else ''} for {query!r}"))
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("edition", no_wrap=True)
    table.add_column("paper and what matched", ratio=1, overflow="fold")
    table.add_column("Score", justify="right", no_wrap=True)
    for n, h in enumerate(hits, 1):
        cell = Text()
        cell.append(h.title, style="bold")
        cell.append(f"\n{h.link}", style="dim")
        cell.append(f"\n{h.kind}: {h.snippet}")
        table.add_row(str(n), h.edition_id, cell, "" if h.score is None else str(h.score))
    out.print(table)


@app.command(short_help="Look again at the code and weights of recent papers.")
def recheck(
    days: Annotated[int, typer.Option(
        "--days", min=1, max=366, help="Papers featured in editions published in the last N "
                                       "days.")] = 7,
    every: Annotated[bool, typer.Option(
        "--all", help="Also papers whose code is out and whose links all work.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Look again at the code, weights and data links of recently featured papers (their arXiv
    page and every link named) and record what changed, e.g. "code released"."""
    from flashnews.service import EditionService

    try:
        service = EditionService(_settings())
    except FlashnewsError as exc:
        _fail(exc)
        raise
    try:
        report = service.recheck(days, every=every)
    except FlashnewsError as exc:
        _fail(exc)
        raise
    finally:
        service.close()
    for row in report.papers:
        if row.problem:
            err.print(f"{row.paper_id}: not fully checked: {row.problem}; what was stored is "
                      "kept (run recheck again later)", highlight=False, markup=False,
                      soft_wrap=True)
    if as_json:
        out.print_json(report.model_dump_json())
    elif not report.papers:
        out.print(f"no paper featured in the last {days} day(s)", highlight=False)
    else:
        table = _table(f"code and weights of papers featured since {report.since[:10]}")
        table.add_column("paper", no_wrap=True)
        table.add_column("links", ratio=1, min_width=20, overflow="fold")
        table.add_column("change", ratio=1, min_width=14, overflow="fold")
        for row in report.papers:
            links = "\n".join(f"{k.kind} {k.status}: {k.name}" for k in row.links) or "none named"
            change = "; ".join(e.event for e in row.events) or (
                "settled (not asked)" if row.settled else "not checked" if row.problem
                else "no change")
            table.add_row(row.paper_id, Text(links), Text(change))
        out.print(table)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.command(short_help="Fit the ranker again on the editor's decisions.")
def learn(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Fit the ranker again on the shared examples and every editor decision in the store."""
    from flashnews.agents import learner
    from flashnews.tools.embeddings import load_embedder
    from flashnews.tools.store import Store

    settings = _settings()
    try:
        store = Store.open(settings)
    except FlashnewsError as exc:
        _fail(exc)
        raise
    try:
        fitted, path, seconds = learner.learn(store, settings, load_embedder(settings))
    except learner.RankerFileError as exc:
        _fail(ConfigError(str(exc)))
        raise
    except OSError as exc:
        _fail(ConfigError(f"cannot write the learned ranker: {exc}"))
        raise
    finally:
        store.close()
    report: dict[str, Any] = {"path": str(path), "seconds": round(seconds, 2), "cold": fitted.cold,
              "examples": fitted.examples, "cross_validated": fitted.cv,
              "weights": dict(zip(fitted.rank.names, fitted.rank.coef, strict=True)),
              "model_weights": dict(zip(fitted.combined.names, fitted.combined.coef,
                                        strict=True)), "hash": fitted.hash}
    if as_json:
        out.print_json(json.dumps(report))
        return
    state = ("cold: no editor decision yet, the seed fitted on the shared examples"
             if fitted.cold else f"{fitted.examples.get('editor', 0)} editor examples")
    out.print(f"ranker {fitted.hash} ({state}) written to {path} in {seconds:.1f} s",
              highlight=False)
    out.print("examples: " + ", ".join(f"{k} {v}" for k, v in fitted.examples.items()),
              highlight=False)
    out.print("cross-validated (each day or edition held out): " + ", ".join(
        f"{k} {v:.3g}" for k, v in fitted.cv.items() if isinstance(v, float)), highlight=False,
        soft_wrap=True)
    out.print("weights per standard deviation (log-odds): " + ", ".join(
        f"{k} {v:+.2f}" for k, v in report["weights"].items()),
        highlight=False, soft_wrap=True)


@app.command(short_help='Continue an edition from the step that failed.')
def resume(
    edition: Annotated[str, typer.Argument(help="Edition id, e.g. 2026-02-25-flash.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output dir for bulletins.")] = None,
    headless: Annotated[bool, typer.Option(help="Never prompt.")] = False,
    report: ReportOpt = None,
    max_calls: MaxCalls = None,
    max_tokens: MaxTokens = None,
    max_seconds: MaxSeconds = None,
    resend: Annotated[bool, typer.Option(
        "--resend", help="Send again every delivery of unknown outcome (a run stopped between "
                         "sending and recording it): it may arrive twice.")] = False,
    assume_delivered: Annotated[bool, typer.Option(
        "--assume-delivered", help="Record every delivery of unknown outcome as delivered "
                                   "(you checked: it arrived).")] = False,
    timings: TimingsOpt = False,
) -> None:
    """Continue an edition from the step that failed; finished steps are not repeated."""
    try:
        ed = Edition.parse(edition)
    except ValueError as exc:
        _fail(ConfigError(str(exc)))
    if resend and assume_delivered:
        _fail(ConfigError("--resend and --assume-delivered exclude each other"))
    _execute(ed, source=None, out_dir=out_dir, headless=headless, resume_only=True,
             report=report, limits=(max_calls, max_tokens, max_seconds),
             unknown="resend" if resend else "assume-delivered" if assume_delivered else None,
             timings=timings)


@app.command(short_help='Reopen a published edition for a correction.')
def correct(
    edition: Annotated[str, typer.Argument(help="A published edition, e.g. 2026-02-25-flash.")],
    note: Annotated[str, typer.Option("--note", "-n", help="What was corrected (shown, dated, "
                                      "in every channel).")],
    markdown: Annotated[Path | None, typer.Option(
        "--markdown", help="The corrected bulletin text (checked by the critic before it can "
                           "be approved); default: the published draft, to edit at review.")]
    = None,
    headless: Annotated[bool, typer.Option(help="Never prompt: publish the correction if "
                                           "nothing blocks, else stop at needs-review.")] = False,
    report: ReportOpt = None,
) -> None:
    """Reopen a published edition for review; publishing it again marks it corrected."""
    from flashnews.service import EditionService

    try:
        ed = Edition.parse(edition)
    except ValueError as exc:
        _fail(ConfigError(str(exc)))
    text = None
    if markdown is not None:
        try:
            text = markdown.read_text(encoding="utf-8")
        except OSError as exc:
            _fail(ConfigError(f"cannot read {markdown}: {exc.strerror or exc}"))
    service = EditionService(_settings())
    try:
        revision = service.correct(ed, note, text)
    except FlashnewsError as exc:
        _fail(exc)
    finally:
        service.close()
    err.print(f"{ed.id}: correction {revision} opened for review", highlight=False)
    _execute(ed, source=None, out_dir=None, headless=headless, resume_only=True, report=report)


@app.command(short_help='Review an edition that waits for its editor.')
def review(
    edition: Annotated[str, typer.Argument(help="Edition id, e.g. 2026-02-25-flash.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Output dir for bulletins.")] = None,
) -> None:
    """Review an edition that waits for its editor: approve, drop, pin, move, rescore, edit,
    rewrite (`help` at the prompt lists the commands; `quit` keeps it waiting)."""
    from flashnews.service import EditionService

    try:
        ed = Edition.parse(edition)
    except ValueError as exc:
        _fail(ConfigError(str(exc)))
    service = EditionService(_settings())
    try:
        snap = service.state(ed.id)
        row = service.edition(ed.id)
    finally:
        service.close()
    if not snap.values:
        _fail(FlashnewsError(f"edition {ed.id} has never run; start it with: flashnews run "
                             f"--date {ed.date} --format {ed.format}"))
    if row and row.status == "published":
        _fail(FlashnewsError(f"edition {ed.id} was already published ({row.path}); there is "
                             "nothing to review"))
    if snap.next != ("review",):
        from flashnews.graphs.checkpoint import pending_steps

        pending = pending_steps(snap)
        where = f"at step {pending[0]}" if pending else \
            f"finished: {snap.values.get('outcome', 'done')}"
        _fail(FlashnewsError(f"edition {ed.id} is not waiting for review ({where}); "
                             f"continue it with: flashnews resume {ed.id}"))
    if not sys.stdin.isatty():
        _fail(ConfigError("review needs a terminal: stdin is not one"))
    _execute(ed, source=None, out_dir=out_dir, headless=False, resume_only=True)


@app.command(short_help="The editor's decisions on an edition.")
def decisions(
    edition: Annotated[str, typer.Argument(help="Edition id, e.g. 2026-02-25-flash.")],
    format: Annotated[Literal["table", "jsonl"], typer.Option(
        "--format", "-f", help="table, or jsonl: one case per line for the prompt-regression "
                               "evals.")] = "table",
) -> None:
    """The editor's decisions on an edition (what, when, why), in the order they were made."""
    from flashnews.agents.editor import EVAL_OF
    from flashnews.service import EditionService

    try:
        Edition.parse(edition)
    except ValueError as exc:
        _fail(ConfigError(str(exc)))
    service = EditionService(_settings())
    try:
        rows = service.decisions(edition)
    except FlashnewsError as exc:
        _fail(exc)
        raise
    finally:
        service.close()
    if format == "jsonl":
        for d in rows:
            sys.stdout.write(json.dumps({"eval": EVAL_OF.get(d.command, "review"),
                                         **d.model_dump()}) + "\n")
        return
    if not rows:
        out.print(f"no decisions recorded for {edition}")
        return
    table = _table(f"decisions on {edition} (times in UTC)")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("when / editor", overflow="fold", max_width=16)
    table.add_column("command", no_wrap=True)
    table.add_column("paper", no_wrap=True)
    table.add_column("details and reason", ratio=1, min_width=24, overflow="fold")
    table.add_column("round", justify="right", no_wrap=True)
    for d in rows:
        args = {k: v for k, v in d.args.items() if k not in ("paper_id", "n")}
        detail = Text(" ".join(f"{k}={v}" for k, v in args.items()))
        if d.reason:
            detail.append(("; " if detail else "") + d.reason, style="italic")
        table.add_row(str(d.seq), f"{_short_time(d.at)}\n{d.editor}", d.command,
                      d.paper_id or "", detail, str(d.round))
    out.print(table)


def _table(title: str) -> Table:
    """A table that reads at 80 columns: light rules, no outer edge, wrapped cells."""
    from rich import box

    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                 pad_edge=False)


def _short_time(iso: str | None) -> str:
    """2026-12-07 20:05 (UTC) from an ISO 8601 timestamp; the text itself if it is not one."""
    if not iso:
        return ""
    try:
        t = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return (t.astimezone(dt.UTC) if t.tzinfo else t).strftime("%Y-%m-%d %H:%M")


@app.command(short_help='Where an edition is: step, scores, model calls.')
def status(
    edition: Annotated[str | None, typer.Argument(help="Edition id; all editions if omitted.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Where an edition is: its step, scores, and the model calls and tokens so far."""
    from flashnews.service import EditionService

    service = EditionService(_settings())
    try:
        if edition is None:
            rows = [r.model_dump() for r in service.editions()]
            if as_json:
                out.print_json(json.dumps(rows))
                return
            if not rows:
                out.print("no edition has run yet")
                return
            # One line per edition, its message wrapped and indented under it: a table's
            # message column is a few characters wide at 80 columns.
            head = ("edition", "status", "step", "updated (UTC)")
            cells = [(r["id"], r["status"], r["step"] or "", _short_time(r["updated_at"]))
                     for r in rows]
            widths = [max(len(c[k]) for c in [head, *cells]) for k in range(3)]

            def line(c: tuple[str, ...]) -> str:
                return "  ".join(v.ljust(w) for v, w in zip(c, widths, strict=False)) + "  " + c[3]

            out.print(Text(line(head), style="bold"))
            for r, c in zip(rows, cells, strict=True):
                out.print(line(c), highlight=False)
                if r["message"]:
                    out.print(Padding(Text(r["message"], style="dim"), (0, 0, 0, 2)))
            return
        try:
            Edition.parse(edition)
        except ValueError as exc:
            _fail(ConfigError(str(exc)))
        report = service.status_report(edition)
    finally:
        service.close()
    if as_json:
        out.print_json(json.dumps(report))
        return
    out.print(f"[bold]{edition}[/]: {report['status']}"
              + (f" at step [bold]{report['step']}[/]" if report["step"] else "")
              + (f" — {escape(report['message'])}" if report["message"] else ""), highlight=False)
    if report["scores"]:
        table = _table("scores (under each title: how it was scored, and the three features "
                       "that moved its Score most, in log-odds)")
        for col in ("#", "arXiv", "score", "hype"):
            table.add_column(col, no_wrap=True, justify="left" if col == "arXiv" else "right")
        table.add_column("paper", ratio=1, min_width=30)
        for n, s in enumerate(report["scores"], start=1):
            why = Text(s["method"] + ("" if s["relevant"] else " (not relevant)"), style="dim")
            if s.get("drivers"):
                why.append(": " + "; ".join(s["drivers"]))
            table.add_row(str(n), s["paper_id"], str(s["score"]), str(s["hype"]),
                          Text.assemble(s["title"], "\n", why))
        out.print(table)
    if report["deliveries"]:
        table = _table("outbox")
        for col in ("channel", "revision", "status", "attempts"):
            table.add_column(col, no_wrap=True)
        table.add_column("target or error", ratio=1, min_width=24, overflow="fold")
        for d in report["deliveries"]:
            style = "green" if d["status"] == "delivered" else "red"
            detail = d["target"] if d["status"] == "delivered" else (d["error"] or "")
            if d["status"] == "sending":  # recorded before sending; no outcome recorded since
                detail = f"outcome unknown: sent to {d['target']}? (resume --resend or " \
                         "--assume-delivered)"
            table.add_row(d["channel"], str(d["revision"]), Text(d["status"], style=style),
                          str(d["attempts"]), Text(detail))
        out.print(table)
    for c in report["corrections"]:
        out.print(f"correction {c['revision']} ({c['at']}): {escape(c['note'])}", highlight=False)
    usage = _table("model calls")
    for col in ("role", "calls", "input tokens", "output tokens", "seconds", "failed"):
        usage.add_column(col)
    for role, u in report["usage"].items():
        usage.add_row(role, str(u["calls"]), str(u["input_tokens"]), str(u["output_tokens"]),
                      f"{u['seconds']:.1f}", str(u["failed"]))
    out.print(usage)


@app.command(short_help='Print the configuration in effect.')
def config(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Print the configuration in effect (secrets hidden)."""
    data = _settings().public_dict()
    if as_json:
        out.print_json(json.dumps(data, default=str))
        return
    table = _table("flashnews config (env: FLASHNEWS_*, OPENAI_API_KEY)")
    table.add_column("setting", no_wrap=True)
    table.add_column("value", overflow="fold")
    for k, v in data.items():
        table.add_row(k, Text(str(v)))  # a value is text, never markup
    out.print(table)


eval_app = typer.Typer(add_completion=False, rich_markup_mode=None,
                       help="Prompt-regression evals (docs/evals.md).")
app.add_typer(eval_app, name="eval")


@eval_app.callback(invoke_without_command=True)
def eval_(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(
        help="Model name for every role (FLASHNEWS_MODEL); default: the configured one.")] = None,
    replay: Annotated[bool, typer.Option(
        "--replay/--live", help="Replay the model's recorded cassettes (deterministic, no "
                                "server), or call the configured model.")] = True,
    record: Annotated[bool, typer.Option(
        help="With --live: record the cassettes that --replay uses.")] = False,
    baseline: Annotated[Path | None, typer.Option(
        help="Compare with this baseline file; exit 11 when a metric regresses.")] = None,
    subset: Annotated[Literal["full", "smoke"], typer.Option(
        help="Every case, or the few that `make test` replays.")] = "full",
    write_baseline: Annotated[Path | None, typer.Option(
        help="Make this run the baseline of its model and subset in this file.")] = None,
    reports: Annotated[Path | None, typer.Option(
        help="Where reports go (default evals/reports).")] = None,
    scoring: Annotated[Literal["auto", "logprob", "generated"], typer.Option(
        help="Triage scoring to measure (FLASHNEWS_TRIAGE_SCORING); a method other than the "
             "model's default gets its own baseline and cassettes.")] = "auto",
    task: Annotated[Literal["all", "triage", "writer", "critic", "tldr", "items"], typer.Option(
        help="Run one task's cases only (tldr: the SciTLDR benchmark; items: the labelled "
             "item acceptability set).")] = "all",
    data: Annotated[Path | None, typer.Option(
        help="With --task tldr: any file in SciTLDR's format (e.g. its test split) instead "
             "of the bundled 100-paper dev subset; run it --live.")] = None,
    limit: Annotated[int | None, typer.Option(
        min=1, help="With --task tldr: only the first N papers.")] = None,
    phrasing: Annotated[Literal["headline", "model", "code"] | None, typer.Option(
        help="Who phrases the items (FLASHNEWS_WRITER_PHRASING); a phrasing other than "
             "headline gets its own baseline and cassettes.")] = None,
    add_to_recordings: Annotated[bool, typer.Option(
        help="With --record: keep the recordings and record only the requests they lack "
             "(byte-identical requests are answered from them).")] = False,
    calibrate: Annotated[bool, typer.Option(
        help="Fit the seed ranker on this run's labelled examples (the real days, the dev "
             "papers, the beat exemplars) and write flashnews/data/ranker.json.")] = False,
) -> None:
    """Run the evals and compare them with a baseline."""
    if ctx.invoked_subcommand:
        return
    from flashnews.evals import report as rep
    from flashnews.evals import runner

    settings = _settings()
    if model:
        settings = settings.model_copy(update={"model": model})
    if scoring != "auto":
        settings = settings.model_copy(update={"triage_scoring": scoring})
    if phrasing:
        settings = settings.model_copy(update={"writer_phrasing": phrasing})
    if write_baseline and (task != "all" or data or limit):
        _fail(ConfigError("--write-baseline needs every task and case (no --task, --data or "
                          "--limit)"))
    try:
        result = runner.run(settings, mode="replay" if replay else "live", subset=subset,
                            record=record, task=task, tldr_data=data, limit=limit,
                            calibrate_maps=calibrate, add_to_recordings=add_to_recordings)
    except FlashnewsError as exc:
        _fail(exc)
        raise
    base = rep.baseline_for(baseline, result) if baseline else None
    if baseline and base is None:
        err.print(f"note: {baseline} has no baseline for {result.model} ({result.subset}); "
                  "nothing to compare", highlight=False)
    rows = rep.comparisons(result, base)
    # A pipe or a CI log gets 80 columns by default: too few for the status column.
    wide = out if out.is_terminal and out.width >= 100 else Console(width=110)
    wide.print(rep.table(result, rows, base is not None))
    bad = rep.regressions(rows)
    if record and bad:
        runner.drop_recording(result)
        err.print("note: recordings not kept: this run regressed", highlight=False)
    elif record:
        out.print(f"recordings: {runner.keep_recording(result)}", highlight=False)
    if calibrate and result.calibration:
        from flashnews.agents import learner

        fitted = learner.Learned.model_validate(result.calibration)
        path = learner.write(fitted, learner.seed_path())
        out.print(f"seed ranker: {path} ({fitted.hash}; leave one listing out: "
                  + ", ".join(f"{k} {v:.3g}" for k, v in fitted.cv.items()
                              if isinstance(v, float)) + ")", highlight=False, soft_wrap=True)
    if write_baseline and bad:
        err.print(f"note: {write_baseline} left as it was: this run regressed", highlight=False)
    elif write_baseline:
        rep.save_baseline(write_baseline, result)
    paths = rep.write_reports(result, rows, base is not None, reports or runner.REPORTS,
                              as_baseline=write_baseline is not None and not bad)
    out.print(f"reports: {', '.join(str(p) for p in paths)}", highlight=False, soft_wrap=True)
    if bad:
        _fail(runner.EvalRegression(
            f"{len(bad)} metric(s) regressed beyond tolerance: " + ", ".join(
                f"{c.metric.name} {c.baseline} -> {c.current}" for c in bad)))
    stale = [c.metric.name for c in rows if c.status == "not comparable"]
    if stale:
        err.print(f"note: not compared (their dataset changed since the baseline): "
                  f"{', '.join(stale)}; make a new baseline", highlight=False, soft_wrap=True)
    out.print(f"evals: {result.model} ({result.mode}, {result.subset}) in {result.seconds:.0f} s"
              + (": no regression" if base else ""), highlight=False)


@eval_app.command("add-decisions", short_help="Add editor decisions to the eval set.")
def add_decisions(
    file: Annotated[Path, typer.Argument(help="Editor decisions, JSON lines "
                                              "(flashnews decisions EDITION --format jsonl).")],
    papers: Annotated[Path | None, typer.Option(
        help="A snapshot with the papers decided on (default: the data dir's editions).")] = None,
    datasets: Annotated[Path | None, typer.Option(
        help="The eval datasets folder (default evals/datasets).")] = None,
) -> None:
    """Add pin/drop/rescore decisions to the editor eval dataset as triage cases."""
    from flashnews.evals.decisions import add_decisions as add
    from flashnews.evals.decisions import read_decisions
    from flashnews.tools.arxiv import read_snapshot

    settings = _settings()
    try:
        if not file.exists():
            raise ConfigError(f"no such decisions file: {file}")
        snapshot = {p.arxiv_id: p for p in read_snapshot(papers)} if papers else None
        lookup: dict[str, Any] = {}
        if settings.database_url or settings.db_path.exists():
            from flashnews.service import EditionService

            service = EditionService(settings)  # the configured store: PostgreSQL when set
            try:
                lookup = service.papers_by_edition({d.edition_id for d in read_decisions(file)})
            finally:
                service.close()
        changed, skipped, version = add(file, lookup, papers=snapshot,
                                        threshold=settings.relevance_threshold,
                                        **({"root": datasets} if datasets else {}))
    except FlashnewsError as exc:
        _fail(exc)
        raise
    out.print(f"editor dataset v{version}: {changed} case(s) added or updated, {skipped} "
              "decision(s) skipped (not pin/drop/rescore)", highlight=False)
    if changed:
        out.print("record the new cases with `make eval-record`, then make a new baseline",
                  highlight=False)


@app.command("mcp", short_help="Serve the published editions to agents (MCP, stdio).")
def mcp_command() -> None:
    """A read-only MCP server on stdin and stdout (docs/mcp.md): the tools latest_edition,
    search and paper over the editions published from this data dir or database. Only the
    protocol goes to stdout; logs go to stderr. It ends when the client closes it."""
    settings = _settings()
    from flashnews.mcp_server import serve  # a one-line error without the `mcp` extra

    try:
        serve(settings)
    except Interrupted:
        raise typer.Exit(0) from None  # stopped by its client (SIGTERM) or Ctrl-C


def main() -> None:
    """Entry point: one clear line for every expected error, no traceback."""

    def _interrupt(signum: int, frame: object) -> None:
        # Unwind normally so the local model server and the database are closed.
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        try:
            app()
        except Exception as exc:
            # Any command reading a database with a corrupt page: one line, exit 13.
            settings = None
            with contextlib.suppress(Exception):
                settings = Settings()
            storage = _as_storage_error(exc, settings)
            if storage is None:
                raise
            raise storage from None
    except FlashnewsError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except (Interrupted, KeyboardInterrupt):
        err.print("interrupted: finished steps are saved; continue with: flashnews resume EDITION")
        sys.exit(130)
