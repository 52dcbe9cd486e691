"""Running an edition: the graph, its checkpointer and models, ending in one explicit outcome."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langgraph.types import Command
from pydantic import BaseModel

from flashnews.budget import Budget, Progress, _no_progress
from flashnews.config import Role, Settings
from flashnews.errors import ConfigError, EditionLocked, FlashnewsError
from flashnews.graphs.checkpoint import DURABILITY, open_checkpointer, pending_steps
from flashnews.graphs.context import Context
from flashnews.graphs.edition import build_graph
from flashnews.models import Assessment, Decision, Edition, Paper, RepoEvent, RepoLink, SearchHit
from flashnews.state import encode, view
from flashnews.tools.arxiv import source_from_spec
from flashnews.tools.embeddings import Embedder, load_embedder
from flashnews.tools.lock import edition_lock
from flashnews.tools.publish import Publication, PublishedItem
from flashnews.tools.search import By, SearchIndex
from flashnews.tools.store import (
    EditionRow,
    Store,
    Usage,
    is_database_error,
    redact,
    storage_error,
)

log = logging.getLogger(__name__)

Outcome = Literal["published", "already-published", "quiet-day", "needs-review", "failed",
                  "empty-unexpected"]
EXIT_CODES: dict[str, int] = {"published": 0, "already-published": 0, "quiet-day": 0,
                              "needs-review": 3, "empty-unexpected": 9}
Reviewer = Callable[[dict[str, Any]], dict[str, Any] | None]


class RunResult(BaseModel):
    """How a run ended."""

    edition_id: str
    outcome: Outcome
    message: str
    exit_code: int = 0
    step: str | None = None
    path: str | None = None
    markdown: str | None = None
    usage: Usage = Usage()
    """Ledger totals of the edition across all its runs."""
    run_calls: int = 0
    """Model calls made by this run alone."""
    degraded: list[str] = []
    """What the run left out: to stay within its budget, or a flagged paper (headless)."""
    flags: list[str] = []
    """Papers whose title or abstract addresses the model ("<id>: what was found")."""
    resume_command: str | None = None
    timings: dict[str, float] = {}
    """Seconds this run spent in each step, in the order they ran ("model start": the embedded
    server's start, taken out of the step that first needed it)."""


def _flags(values: dict[str, Any]) -> list[str]:
    """The prompt-injection notes of a state's values, one line each."""
    return [f"{n.item}: {n.message}" for n in view(values).notes
            if n.check == "prompt-injection"]


def _timed(graph: Any, inp: Any, config: Any, ctx: Context, models: Any,
           timings: dict[str, float]) -> None:
    """Run the graph until it ends or pauses, adding each step's seconds to `timings`.

    LangGraph's `tasks` stream says when each step starts and ends (a step that fails ends too,
    with its error, before the run raises it), so a failed run still shows what it spent. The
    embedded model's start is counted on its own, not in the step that first asked for it.
    """
    begun: dict[str, float] = {}
    started = models.start_seconds
    for event in graph.stream(inp, config, context=ctx, durability=DURABILITY,
                              stream_mode="tasks"):
        now = time.monotonic()
        if "input" in event:  # a step starts
            begun[event["id"]] = now
            continue
        since = begun.pop(event["id"], None)
        if since is None:
            continue
        spent = now - since
        if models.start_seconds != started:
            timings["model start"] = models.start_seconds
            spent -= models.start_seconds
            started = models.start_seconds
        name = event["name"]
        timings[name] = timings.get(name, 0.0) + max(spent, 0.0)


class RecheckRow(BaseModel):
    """One featured paper looked at again by `flashnews recheck`."""

    paper_id: str
    edition_id: str
    """The edition that featured it (the latest, when several did)."""
    title: str = ""
    links: list[RepoLink] = []
    """Its repositories after this look (as stored)."""
    events: list[RepoEvent] = []
    """What changed ("code released" …), as recorded for the weekly edition."""
    problem: str = ""
    """Why it could not be checked in full (offline, rate-limited); nothing stored was lost."""
    settled: bool = False
    """Not looked at: its code is out and every link works (`--all` looks anyway)."""


class RecheckReport(BaseModel):
    """What `flashnews recheck` found."""

    since: str
    days: int
    papers: list[RecheckRow] = []
    exit_code: int = 0
    """0; 6 when a paper could not be checked (arXiv or the hosts unreachable); 7 when arXiv
    kept rate-limiting."""


def _rounded(timings: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in timings.items()}


class EditionService:
    """Runs, resumes and reports editions for one configuration."""

    def __init__(self, settings: Settings, *,
                 model_factory: Callable[[Role, str], BaseChatModel] | None = None,
                 progress: Progress = _no_progress, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.store = Store.open(settings)
        self.model_factory = model_factory
        self.progress = progress
        self.embedder = embedder or load_embedder(settings)
        """The ranking stage's embedder (loaded on its first text), shared by the editions this
        service runs."""
        self._search: SearchIndex | None = None

    def close(self) -> None:
        self.store.close()

    def state(self, edition_id: str) -> Any:
        """The edition's latest checkpoint (a StateSnapshot); empty values if it never ran."""
        with open_checkpointer(self.settings) as saver:
            graph = self._graph(edition_id, saver)
            return graph.get_state({"configurable": {"thread_id": edition_id}})

    def _graph(self, edition_id: str, saver: Any) -> Any:
        """The edition's graph outside a run (to read or update its state; no node runs)."""
        return build_graph(saver)

    def run(self, edition: Edition, *, source: str | None, out_dir: Path | None,
            policy: Literal["auto", "interactive"] = "auto", resume_only: bool = False,
            reviewer: Reviewer | None = None, budget: Budget | None = None,
            unknown: Literal["resend", "assume-delivered"] | None = None) -> RunResult:
        """Start or continue an edition; never repeat finished work; return its outcome.

        `unknown` says what publish does with a delivery whose outcome is unknown (a run
        stopped between sending and recording it); None holds it for the editor.
        """
        before = self.store.usage(edition.id)["total"].calls
        with edition_lock(self.settings, edition.id):
            result = self._run(edition, source=source, out_dir=out_dir, policy=policy,
                               resume_only=resume_only, reviewer=reviewer,
                               budget=budget or Budget(), unknown=unknown)
        result.usage = self.store.usage(edition.id)["total"]
        result.run_calls = result.usage.calls - before
        return result

    def _run(self, edition: Edition, *, source: str | None, out_dir: Path | None,
             policy: Literal["auto", "interactive"], resume_only: bool,
             reviewer: Reviewer | None, budget: Budget,
             unknown: Literal["resend", "assume-delivered"] | None = None) -> RunResult:
        from flashnews.tools.llm import Models

        eid = edition.id
        out = (out_dir or self.publication_dir(eid) or self.settings.editions_dir
               ).expanduser().resolve()
        row = self.store.edition(eid)
        if row and row.status == "published":
            return RunResult(edition_id=eid, outcome="already-published", path=row.path,
                             message=f"{eid} was already published ({row.path}); nothing to do")
        config: Any = {"configurable": {"thread_id": eid}}
        with open_checkpointer(self.settings) as saver, \
                Models(self.settings, self.store, eid, factory=self.model_factory,
                       budget=budget if budget.limited else None) as models:
            ctx = Context(self.settings, self.store, models, out, policy=policy,
                          progress=self.progress, budget=budget, unknown_outcome=unknown,
                          embedder=self.embedder)
            graph = build_graph(saver)
            snap = graph.get_state(config)
            if (edition.format == "weekly" and snap.values and not resume_only
                    and snap.values.get("outcome") == "quiet-day" and not pending_steps(snap)):
                # A quiet week is looked at again: its input is the store, which the week's
                # daily editions may have filled since (a day's arXiv listing never changes).
                saver.delete_thread(eid)
                snap = graph.get_state(config)
            if not snap.values:
                if resume_only:
                    raise FlashnewsError(f"edition {eid} has never run; start it with: "
                                         f"flashnews run --date {edition.date} "
                                         f"--format {edition.format}")
                if source is None:
                    source = str(self._default_source(edition.date))
                inp: Any = {"edition_id": eid, "date": edition.date.isoformat(),
                            "format": edition.format, "source": source, "round": 0}
            else:
                inp = None
                source = source or snap.values.get("source")
            ctx.source = source_from_spec(source, self.settings) if source else None
            pending = pending_steps(snap)
            if snap.values and not pending:
                return self._finished(eid, snap.values, out)
            if snap.next == ("review",) and policy == "auto" and snap.interrupts:
                return self._held(eid, snap, out)
            self.store.set_edition(eid, status="running", step=(pending or ("fetch",))[0])
            timings: dict[str, float] = {}
            try:
                _timed(graph, inp, config, ctx, models, timings)
                snap = graph.get_state(config)
                while snap.interrupts and policy == "interactive" and reviewer is not None:
                    answer = reviewer(snap.interrupts[0].value)
                    if answer is None:  # the editor quit: the pause is saved
                        break
                    _timed(graph, Command(resume=answer), config, ctx, models, timings)
                    snap = graph.get_state(config)
            except Exception as exc:
                resume = f"flashnews resume {eid} --out {out}"
                if not isinstance(exc, FlashnewsError):
                    if not is_database_error(exc):
                        raise
                    # Disk full, a corrupt page, a lost server: the last checkpoint (before the
                    # node that failed) is intact, so the edition resumes from there.
                    exc = storage_error(exc, self._db_name(), when="writing", resume=resume)
                try:
                    step = pending_steps(graph.get_state(config))
                except Exception:  # the database may not even be readable
                    step = ()
                where = step[0] if step else (exc.step or "unknown")
                try:
                    self.store.set_edition(eid, status=getattr(exc, "outcome", "failed"),
                                           step=where, message=str(exc))
                except Exception as again:
                    # Unrecordable (the disk is still full): `status` shows the edition as
                    # stopped, since no process holds its lock.
                    log.warning("could not record the failure of %s: %s", eid, again)
                return RunResult(edition_id=eid, outcome="failed", step=where, message=str(exc),
                                 exit_code=exc.exit_code, resume_command=resume,
                                 timings=_rounded(timings))
            result = self._held(eid, snap, out) if snap.interrupts \
                else self._finished(eid, snap.values, out)
            result.timings = _rounded(timings)
            return result

    def _db_name(self) -> str:
        if self.settings.database_url:
            return redact(self.settings.database_url.get_secret_value())
        return str(self.settings.db_path)

    def correct(self, edition: Edition, note: str, markdown: str | None = None) -> int:
        """Reopen a published edition for review as correction N (returned).

        The edition goes back to its review step with its draft (or the corrected text, which
        the deterministic critic checks first); publishing it again adds a dated note in every
        channel. Nothing is re-fetched, re-scored or re-written.
        """
        from flashnews.agents import critic

        eid = edition.id
        note = " ".join(note.split())
        if not note:
            raise FlashnewsError("a correction needs a note saying what was corrected (--note)")
        with edition_lock(self.settings, eid):
            row = self.store.edition(eid)
            if row is None or row.status != "published":
                state = row.status if row else "never run"
                raise FlashnewsError(f"edition {eid} is not published ({state}); only a "
                                     "published edition can be corrected")
            with open_checkpointer(self.settings) as saver:
                graph = self._graph(eid, saver)
                config: Any = {"configurable": {"thread_id": eid}}
                values = view(graph.get_state(config).values)
                draft = values.draft
                if draft is None:
                    raise FlashnewsError(f"edition {eid} has no saved draft to correct")
                update: dict[str, Any] = {"review": {}, "outcome": "", "message": "",
                                          "revise": False}
                if markdown is not None:
                    draft = draft.model_copy(update={"markdown": markdown.strip() + "\n"})
                    found = critic.deterministic(
                        draft, date=edition.date, papers=self.store.papers(eid),
                        assessments=values.assessments, selected=set(values.selection.ids))
                    update |= encode(draft=draft, edited=True, findings=found)
                revision = self.store.open_correction(eid, note)
                update["revision"] = revision
                # As if the critic had just run: the next step is the editor's review.
                graph.update_state(config, update, as_node="critique")
        return revision

    def publication_dir(self, edition_id: str) -> Path | None:
        """The output dir an edition was published to (corrections go to the same place)."""
        where = self.store.publication_dir(edition_id)
        return Path(where) if where else None

    # --- what the CLI reads ----------------------------------------------------------------------

    def edition(self, edition_id: str) -> EditionRow | None:
        """The edition's row (status, step, path), or None if it never ran."""
        return self.store.edition(edition_id)

    def editions(self) -> list[EditionRow]:
        """Every edition's row."""
        return self.store.editions()

    def papers(self, edition_id: str) -> dict[str, Paper]:
        """The papers fetched for an edition, by id."""
        return self.store.papers(edition_id)

    def papers_by_edition(self, edition_ids: set[str]) -> dict[str, dict[str, Paper]]:
        """The papers of each of these editions."""
        return {eid: self.store.papers(eid) for eid in edition_ids}

    def tokens(self, edition_id: str) -> int:
        """Tokens the edition's model calls have used so far (input and output)."""
        u = self.store.usage(edition_id)["total"]
        return u.input_tokens + u.output_tokens

    def history(self) -> list[dict[str, Any]]:
        """Published editions and the papers each featured."""
        return self.store.history()

    # --- what the MCP server reads (flashnews/mcp_server.py) --------------------------------------

    def latest_publication(self, fmt: str | None = None) -> Publication | None:
        """The latest published edition (of one format, if given) as published, or None."""
        record = self.store.latest_publication(fmt)
        return Publication.model_validate_json(record) if record else None

    def paper(self, arxiv_id: str) -> Paper | None:
        """The newest record stored of a paper (from the latest day that fetched it), or None
        if no edition ever fetched it."""
        records = self.store.paper_records(arxiv_id)
        return max((p for _, p in records), key=lambda p: p.version) if records else None

    def featured(self, arxiv_id: str) -> list[tuple[Publication, PublishedItem]]:
        """Every published edition that featured a paper, oldest first, with its item there."""
        out = []
        for record in self.store.featuring(arxiv_id):
            pub = Publication.model_validate_json(record)
            item = next((i for i in pub.items if i.arxiv_id == arxiv_id), None)
            if item is not None:
                out.append((pub, item))
        return out

    def latest_assessment(self, arxiv_id: str) -> tuple[str | None, Assessment] | None:
        """A paper's latest assessment and the edition it is from: as the latest edition that
        scored it showed it (the Score and Hype its editor saw); else, when no checkpoint holds
        one (an edition run on LangGraph Server), the model's cached verdict (edition None)."""
        for edition_id, _ in self.store.paper_records(arxiv_id):
            if Edition.parse(edition_id).format == "weekly":
                continue  # a week in review scores nothing: it shows the daily edition's Score
            scored = (self.state(edition_id).values or {}).get("assessments", {}).get(arxiv_id)
            if scored:
                return edition_id, Assessment.model_validate(scored)
        cached = self.store.latest_assessment(arxiv_id)
        return (None, cached) if cached else None

    def decisions(self, edition_id: str) -> list[Decision]:
        """The editor's decisions on an edition, in order; FlashnewsError if it never ran."""
        if self.store.edition(edition_id) is None:
            raise FlashnewsError(f"edition {edition_id} has never run")
        return self.store.decisions(edition_id)

    def last_published(self, fmt: str, until: dt.date) -> dt.date | None:
        """The date of the latest published edition of `fmt` on or before `until`."""
        dates = [r.date for r in self.store.editions() if r.format == fmt
                 and r.status == "published" and r.date <= until.isoformat()]
        return dt.date.fromisoformat(max(dates)) if dates else None

    def search(self, query: str, *, since: dt.date | None = None, limit: int = 10,
               by: By = "both") -> list[SearchHit]:
        """The archive's best hits for `query` (tools/search.py): every published item, claim
        and editor note since `since`, by words and meaning; the index is brought up to date
        with the publications first."""
        if self._search is None:
            self._search = SearchIndex(self.store, self.embedder)
        return self._search.search(query, since=since, limit=limit, by=by)

    def recheck(self, days: int = 7, *, every: bool = False, now: dt.datetime | None = None,
                checker: Any = None, arxiv: Any = None) -> RecheckReport:
        """Look again at the code and weights of every paper featured in the editions published
        in the last `days` days: its arXiv page (comments and abstract) and every link it names
        (docs/links.md). Changes are stored as repo events; a paper whose code is out and whose
        links all work is skipped unless `every`.

        `checker` (tools/repos.Checker) and `arxiv` (an HttpClient for arxiv.org) are for tests.
        A paper that cannot be checked keeps what was stored and is named in the report.
        """
        from flashnews.tools.http import HttpClient
        from flashnews.tools.repos import (
            Checker,
            PageUnreachable,
            fetch_abs_page,
            recheck_paper,
            settled,
        )

        s = self.settings
        if not s.repo_check:
            raise ConfigError("recheck checks links, and FLASHNEWS_REPO_CHECK is false")
        now = now or dt.datetime.now(dt.UTC)
        at = now.isoformat(timespec="seconds")
        since = (now - dt.timedelta(days=days)).isoformat(timespec="seconds")
        checker = checker or Checker(timeout=s.repo_timeout)
        http = arxiv or HttpClient(delay=s.arxiv_delay, retries=min(s.arxiv_retries, 2),
                                   timeout=s.arxiv_timeout)
        stop: list[PageUnreachable] = []  # arXiv is not asked again once it is unreachable

        def page(arxiv_id: str) -> str:
            if stop:
                raise stop[0]
            try:
                return str(fetch_abs_page(arxiv_id, http))
            except PageUnreachable as exc:
                if exc.why != "answer":
                    stop.append(exc)
                raise

        report = RecheckReport(since=since, days=days)
        for pid, eid, published_at in self.store.featured_since(since):
            paper = self.store.papers(eid).get(pid)
            prior = self.store.repo_links(pid)
            row = RecheckRow(paper_id=pid, edition_id=eid, title=paper.title if paper else "")
            if settled(prior) and not every:
                report.papers.append(row.model_copy(update={"links": prior, "settled": True}))
                continue
            found = recheck_paper(pid, paper.abstract if paper else "", prior, checker, page, at)
            after = (now.date() - dt.date.fromisoformat(published_at[:10])).days
            events = [e.model_copy(update={"detail": "; ".join(x for x in (
                f"now at {e.detail}" if e.detail else "",
                f"{after} day(s) after {eid} was published") if x)}) for e in found.events]
            self.store.save_repo_links(pid, found.links, events)
            report.papers.append(row.model_copy(update={
                "links": self.store.repo_links(pid), "events": events,
                "problem": found.problem}))
        if any(p.problem for p in report.papers):
            report.exit_code = 7 if any(e.why == "rate-limited" for e in stop) else 6
        return report

    def being_run(self, edition_id: str) -> bool:
        """Whether a process holds the edition's lock right now."""
        try:
            with edition_lock(self.settings, edition_id):
                return False
        except EditionLocked:
            return True

    def status_report(self, edition_id: str) -> dict[str, Any]:
        """Where an edition is (JSON-able): its state, step, scores, outbox and model usage."""
        snap = self.state(edition_id)
        row = self.store.edition(edition_id)
        values = view(snap.values)
        papers = self.store.papers(edition_id)
        pending = pending_steps(snap)
        if not snap.values:
            state = "not started"
        elif snap.interrupts:
            state = "waiting for review"
        elif pending:
            state = row.status if row else "in progress"
            if state == "running" and not self.being_run(edition_id):
                # A run that died without recording its end (SIGKILL, a full disk).
                state = (f"stopped at step {pending[0]} (no process is running it); resume "
                         f"with: flashnews resume {edition_id}")
        else:
            state = values.get("outcome", "done")
        return {
            "edition": edition_id,
            "status": state,
            "step": pending[0] if pending else None,
            "message": (row.message if row else None) or values.get("message"),
            "fetch": values.get("fetch"),
            "selection": values.get("selection"),
            "findings": len(values.get("findings", [])),
            # What fetch and triage noticed: injections, watched papers, skipped records, which
            # ranker scored the day.
            "notes": [f"{n.check}: {n.message}" for n in values.notes],
            "published": values.get("published", {}),
            "revision": row.revision if row else 0,
            "corrections": [c.model_dump() for c in self.store.corrections(edition_id)],
            "deliveries": [d.model_dump() for d in self.store.deliveries(edition_id)],
            "scores": [{"paper_id": a.paper_id, "score": a.score, "hype": a.hype,
                        "relevant": a.relevant, "method": a.method, "drivers": a.drivers,
                        "hype_drivers": a.hype_drivers,
                        "title": papers[a.paper_id].title if a.paper_id in papers else ""}
                       for a in values.ranked()],
            "usage": {k: v.model_dump() for k, v in self.store.usage(edition_id).items()},
        }

    def _default_source(self, date: dt.date) -> str:
        from flashnews.tools.arxiv import DEMO_DATE, demo_snapshot

        return str(demo_snapshot()) if date == DEMO_DATE else "arxiv"

    def _held(self, eid: str, snap: Any, out: Path) -> RunResult:
        payload = snap.interrupts[0].value
        n = payload.get("blocking", 0)
        why = f"{n} blocking finding(s) remain" if n else "waiting for the editor"
        self.store.set_edition(eid, status="needs-review", step="review", message=why)
        return RunResult(edition_id=eid, outcome="needs-review", step="review",
                         exit_code=EXIT_CODES["needs-review"], markdown=payload.get("markdown"),
                         degraded=snap.values.get("degraded", []),
                         flags=_flags(snap.values),
                         message=f"{eid} needs review: {why}; nothing was published",
                         resume_command=f"flashnews review {eid} --out {out}")

    def _finished(self, eid: str, values: dict[str, Any], out: Path) -> RunResult:
        outcome = values.get("outcome", "failed")
        message = values.get("message", "")
        path = values.get("path") or values.get("published", {}).get("markdown")
        status = "published" if outcome == "published" else outcome
        self.store.set_edition(eid, status=status, step=None, message=message, path=path)
        return RunResult(edition_id=eid, outcome=outcome, message=message, path=path,
                         exit_code=EXIT_CODES.get(outcome, 1),
                         markdown=(values.get("draft") or {}).get("markdown"),
                         degraded=values.get("degraded", []), flags=_flags(values))
