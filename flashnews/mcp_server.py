"""The read-only MCP server (`flashnews mcp`): the published editions, the archive's search and
every paper flashnews saw, for agents, over stdio (docs/mcp.md).

Three tools, each answering with structured JSON (the pydantic models below, published as the
tool's output schema) and the same JSON as text: `latest_edition`, `search` and `paper`. A
question it cannot answer (an unknown paper, a malformed date, nothing published yet) is a tool
error, `isError` with one line naming what was wrong, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, Field

from flashnews.config import Settings
from flashnews.errors import ConfigError, FlashnewsError
from flashnews.models import SearchHit, split_arxiv_id
from flashnews.service import EditionService
from flashnews.tools.publish import Publication, PublishedItem
from flashnews.tools.store import is_database_error, storage_error

try:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ToolAnnotations
except ImportError as exc:  # the optional `mcp` extra
    if (exc.name or "mcp").split(".")[0] not in ("mcp", "mcp_types"):
        raise
    raise ConfigError("flashnews mcp needs the MCP SDK: pip install 'flashnews[mcp]'") from None

log = logging.getLogger(__name__)
T = TypeVar("T")

NAME = "flashnews"
INSTRUCTIONS = (
    "Inference Ecosystem — Flash News: daily bulletins of arXiv papers on LLM inference "
    "(serving, kernels, KV caches, quantization, accelerators). Every item carries Score (how "
    "relevant, 0-100) and Hype (how much the abstract oversells, 0-100). Read-only: "
    "latest_edition for the newest bulletin, search for what was covered, paper for one arXiv "
    "paper's record, the editions that featured it and its assessment.")
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                            open_world_hint=False)


class UnknownPaper(ToolError):
    """An id that is not an arXiv id, or a paper no edition ever fetched."""


class InvalidArgument(ToolError):
    """An argument the schema accepts but flashnews cannot read (a malformed date)."""


class NothingPublished(ToolError):
    """No edition (of the format asked for) has been published yet."""


class Unanswered(ToolError):
    """flashnews' own one-line error: the database cannot be read, a model is missing."""


# --- results --------------------------------------------------------------------------------


class EditionItem(BaseModel):
    """One item of a published edition."""

    arxiv_id: str
    title: str
    link: str
    section: str
    """"main" or "also" (also notable)."""
    score: int | None = None
    """Score: how relevant the paper is to people who build and run LLM inference (0-100)."""
    hype: int | None = None
    """Hype: how much the abstract oversells its results (0-100)."""
    headline: str = ""
    body: str = ""

    @classmethod
    def of(cls, item: PublishedItem) -> EditionItem:
        return cls(arxiv_id=item.arxiv_id, title=item.title, link=item.link,
                   section=item.section, score=item.score, hype=item.hype,
                   headline=item.headline, body=item.body)


class CorrectionNote(BaseModel):
    """A correction published with a later revision."""

    revision: int
    note: str
    at: str


class LatestEdition(BaseModel):
    """The latest published edition, as published (its latest revision)."""

    edition_id: str
    date: str
    format: str
    revision: int
    """0 as first published; 1, 2 … after each correction."""
    title: str
    published_at: str
    updated_at: str
    markdown: str
    """The bulletin as published, correction notes included."""
    items: list[EditionItem]
    corrections: list[CorrectionNote] = Field(default_factory=list)

    @classmethod
    def of(cls, pub: Publication) -> LatestEdition:
        return cls(edition_id=pub.edition_id, date=pub.date, format=pub.format,
                   revision=pub.revision, title=pub.title, published_at=pub.published_at,
                   updated_at=pub.updated_at, markdown=pub.markdown,
                   items=[EditionItem.of(i) for i in pub.items],
                   corrections=[CorrectionNote(revision=c.revision, note=c.note, at=c.at)
                                for c in pub.corrections])


class Featured(BaseModel):
    """An edition that featured the paper, and its item there."""

    edition_id: str
    date: str
    format: str
    revision: int
    section: str
    score: int | None = None
    hype: int | None = None
    headline: str = ""
    body: str = ""


class PaperAssessment(BaseModel):
    """The paper's latest assessment by triage."""

    edition_id: str | None
    """The edition that scored it; None for the model's cached verdict alone (no checkpoint of
    the edition is in this store, e.g. an edition run on LangGraph Server)."""
    relevant: bool
    score: int
    hype: int
    method: str
    """How it was scored: rules, ranking, logprob, generated, or editor (rescored at review)."""
    rationale: str
    topics: list[str] = Field(default_factory=list)
    key_claims: list[str] = Field(default_factory=list)
    drivers: list[str] = Field(default_factory=list)
    """The features that moved the Score most (log-odds)."""
    hype_drivers: list[str] = Field(default_factory=list)
    model: str


class PaperReport(BaseModel):
    """One arXiv paper as flashnews stored it, where it was featured, how it was assessed."""

    arxiv_id: str
    version: int
    title: str
    authors: list[str]
    abstract: str
    categories: list[str]
    primary_category: str | None = None
    submitted: str | None = None
    link: str
    featured: list[Featured]
    """Every published edition that featured it, oldest first (empty: seen, never featured)."""
    assessment: PaperAssessment | None = None


class SearchResults(BaseModel):
    """The archive's best hits, best first."""

    query: str
    since: str | None = None
    hits: list[SearchHit]


# --- the tools ---------------------------------------------------------------------------------


def read_latest_edition(service: EditionService,
                        fmt: Literal["flash", "digest", "weekly"] | None = None
                        ) -> LatestEdition:
    """The latest published edition (of one format, if given)."""
    pub = service.latest_publication(fmt)
    if pub is None:
        kind = f"{fmt} edition" if fmt else "edition"
        raise NothingPublished(f"no {kind} published yet")
    return LatestEdition.of(pub)


def read_paper(service: EditionService, arxiv_id: str) -> PaperReport:
    """A paper's record, the editions that featured it and its latest assessment."""
    try:
        base, _ = split_arxiv_id(arxiv_id)
    except ValueError:
        raise UnknownPaper(f"unknown paper {arxiv_id.strip()[:80]!r}: not an arXiv id "
                           "(expected e.g. 2602.20732 or 2602.20732v2)") from None
    paper = service.paper(base)
    if paper is None:
        raise UnknownPaper(f"unknown paper {base}: flashnews never fetched it (it reads "
                           "the days it ran, in its categories)")
    featured = [Featured(edition_id=pub.edition_id, date=pub.date, format=pub.format,
                         revision=pub.revision, section=item.section, score=item.score,
                         hype=item.hype, headline=item.headline, body=item.body)
                for pub, item in service.featured(base)]
    found = service.latest_assessment(base)
    assessment = None
    if found is not None:
        edition_id, a = found
        assessment = PaperAssessment(
            edition_id=edition_id, relevant=a.relevant, score=a.score, hype=a.hype,
            method=a.method, rationale=a.rationale, topics=a.topics,
            key_claims=[k.claim for k in a.key_claims], drivers=a.drivers,
            hype_drivers=a.hype_drivers, model=a.model)
    return PaperReport(arxiv_id=paper.arxiv_id, version=paper.version, title=paper.title,
                       authors=paper.authors, abstract=paper.abstract,
                       categories=paper.categories, primary_category=paper.primary_category,
                       submitted=paper.submitted.isoformat() if paper.submitted else None,
                       link=paper.link, featured=featured, assessment=assessment)


def search_archive(service: EditionService, query: str, since: str | None = None,
                   limit: int = 10) -> SearchResults:
    """The archive's best hits for `query`, from editions of `since` (YYYY-MM-DD) on."""
    day = None
    if since is not None and since.strip():
        try:
            day = dt.date.fromisoformat(since.strip())
        except ValueError:
            raise InvalidArgument(f"invalid since {since.strip()[:40]!r}: expected a date, "
                                  "YYYY-MM-DD") from None
    hits = service.search(query, since=day, limit=limit)
    return SearchResults(query=query, since=day.isoformat() if day else None, hits=hits)


def _answered(service: EditionService, call: Callable[[], T]) -> T:
    """`call()`, with flashnews' errors and a database's as one-line tool errors."""
    try:
        return call()
    except ToolError:
        raise
    except FlashnewsError as exc:
        raise Unanswered(str(exc)) from None
    except Exception as exc:
        if not is_database_error(exc):
            raise  # a crash: the SDK logs it and tells the client only the tool's name
        settings = service.settings
        where = (settings.database_url.get_secret_value() if settings.database_url
                 else settings.db_path)
        raise Unanswered(str(storage_error(exc, where, when="reading"))) from None


def build_server(service: EditionService) -> MCPServer:
    """The MCP server over one service's store (the caller closes the service)."""
    server: MCPServer = MCPServer(NAME, instructions=INSTRUCTIONS, version=_version())

    @server.tool(name="latest_edition", annotations=READ_ONLY)
    def latest_edition(
        format: Annotated[Literal["flash", "digest", "weekly"] | None, Field(
            description="Only editions of this format; default: any.")] = None,
    ) -> LatestEdition:
        """The latest published edition: id, date, format, revision, title, the bulletin's
        Markdown and its items (arXiv id, title, link, section, Score, Hype, headline, body)."""
        return _answered(service, lambda: read_latest_edition(service, format))

    @server.tool(name="paper", annotations=READ_ONLY)
    def paper(
        arxiv_id: Annotated[str, Field(description="An arXiv id, e.g. 2602.20732 (a version "
                                                   "suffix or an abs URL is accepted).")],
    ) -> PaperReport:
        """One arXiv paper flashnews saw: its record (title, authors, abstract, categories,
        link), every edition that featured it with its Score, Hype and text there, and its
        latest assessment. An unknown id is an error."""
        return _answered(service, lambda: read_paper(service, arxiv_id))

    @server.tool(name="search", annotations=READ_ONLY)
    def search(
        query: Annotated[str, Field(description="What to look for, in plain words.")],
        since: Annotated[str | None, Field(
            description="Only editions of this day or later, YYYY-MM-DD.")] = None,
        limit: Annotated[int, Field(ge=1, le=50, description="At most this many hits.")] = 10,
    ) -> SearchResults:
        """Search every published item, its claims and the editor's notes, by words and by
        meaning; each hit with its edition, link, Score and Hype, best first."""
        return _answered(service, lambda: search_archive(service, query, since, limit))

    return server


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flashnews")
    except PackageNotFoundError:
        return "0"


def serve(settings: Settings) -> None:
    """Serve the MCP server on stdin/stdout until the client closes it (logs on stderr)."""
    service = EditionService(settings)
    try:
        log.info("flashnews mcp: serving %s over stdio", service.store.backend)
        build_server(service).run("stdio")
    finally:
        service.close()
