"""The read-only MCP server (`flashnews mcp`), called with the MCP SDK's own client: in memory
(the SDK connects a `Client` to an `MCPServer` in-process) and once over real stdio against
`python -m flashnews mcp`. The store reads behind it run on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult

from flashnews.config import Settings
from flashnews.mcp_server import build_server
from flashnews.models import Paper
from flashnews.service import EditionService
from flashnews.testing import FakeChatModel, HashingEmbedder, fake_factory
from flashnews.tools.publish import Publication, PublishedItem
from flashnews.tools.store import Store
from tests.conftest import DEMO

TOOLS = {"latest_edition", "paper", "search"}


def _clean_settings(home: Path) -> Settings:
    """Settings for a module-scoped fixture: conftest's per-test isolation has not run yet."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("FLASHNEWS_") or name == "OPENAI_API_KEY":
                mp.delenv(name)
        return Settings(home=home, base_url="http://127.0.0.1:9/v1")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditionService]:
    """A data dir where the 2026-02-25 flash edition was published (fake model)."""
    root = tmp_path_factory.mktemp("mcp")
    service = EditionService(_clean_settings(root / "home"),
                             model_factory=fake_factory(FakeChatModel()),
                             embedder=HashingEmbedder())
    result = service.run(DEMO, source=None, out_dir=root / "out")
    assert result.outcome == "published", result.message
    yield service
    service.close()


@pytest.fixture(scope="module")
def published(archive: EditionService) -> Publication:
    """The edition as the store recorded it (what the tools must answer)."""
    record = archive.store.latest_publication()
    assert record is not None
    return Publication.model_validate_json(record)


def _calls(service: EditionService, *calls: tuple[str, dict[str, Any]]) -> list[CallToolResult]:
    """Call tools in order on one in-memory session with the SDK's client."""

    async def go() -> list[CallToolResult]:
        async with Client(build_server(service)) as client:
            return [await client.call_tool(name, args) for name, args in calls]

    return anyio.run(go)


def _call(service: EditionService, name: str, args: dict[str, Any]) -> CallToolResult:
    return _calls(service, (name, args))[0]


def _data(result: CallToolResult) -> dict[str, Any]:
    """The structured result, checked against the text the tool sent with it."""
    assert not result.is_error, result.content
    assert result.structured_content is not None
    text = result.content[0]
    assert text.type == "text" and json.loads(text.text) == result.structured_content
    return result.structured_content


def _error(result: CallToolResult) -> str:
    assert result.is_error and result.structured_content is None
    (text,) = result.content
    assert text.type == "text" and "Traceback" not in text.text
    return text.text


# --- the tools, in memory ----------------------------------------------------------------------


def test_the_three_tools_are_listed_read_only_with_their_schemas(archive) -> None:
    async def go() -> Any:
        async with Client(build_server(archive)) as client:
            return (await client.list_tools()).tools

    tools = {t.name: t for t in anyio.run(go)}
    assert set(tools) == TOOLS
    for t in tools.values():
        assert t.annotations is not None and t.annotations.read_only_hint is True
        assert t.annotations.destructive_hint is False and t.output_schema is not None
        assert t.description
    assert tools["paper"].input_schema["required"] == ["arxiv_id"]
    assert set(tools["search"].input_schema["properties"]) == {"query", "since", "limit"}
    fmt = tools["latest_edition"].input_schema["properties"]["format"]
    assert {"flash", "digest", "weekly"} == set(fmt["anyOf"][0]["enum"])
    assert {"items", "markdown", "revision"} <= set(tools["latest_edition"].output_schema[
        "properties"])


def test_latest_edition_is_the_published_edition_with_its_items(archive, published) -> None:
    any_format, flash = _calls(archive, ("latest_edition", {}),
                               ("latest_edition", {"format": "flash"}))
    data = _data(any_format)
    assert data == _data(flash)
    assert (data["edition_id"], data["date"], data["format"], data["revision"]) == \
        (DEMO.id, "2026-02-25", "flash", 0)
    assert data["title"] == "Inference Ecosystem — Flash News"
    md = (Path(archive.settings.home).parent / "out" / f"{DEMO.id}.md").read_text()
    assert data["markdown"] == md
    papers = archive.papers(DEMO.id)
    items = data["items"]
    assert len(items) == len(published.items) == 7
    assert [i["arxiv_id"] for i in items] == [i.arxiv_id for i in published.items]
    for item in items:
        assert item["title"] == papers[item["arxiv_id"]].title
        assert item["link"] == f"https://arxiv.org/abs/{item['arxiv_id']}" and item["link"] in md
        assert f"Score: {item['score']} | Hype: {item['hype']}" in md
        assert item["section"] in ("main", "also") and item["body"]
    assert {"evidence", "assessments"}.isdisjoint(items[0]) and "assessments" not in data


def test_latest_edition_of_a_format_never_published_is_a_tool_error(archive) -> None:
    assert _error(_call(archive, "latest_edition", {"format": "digest"})).endswith(
        "no digest edition published yet")
    assert "Input should be 'flash', 'digest' or 'weekly'" in _error(
        _call(archive, "latest_edition", {"format": "monthly"}))


def test_an_empty_store_has_no_latest_edition(settings) -> None:
    service = EditionService(settings, embedder=HashingEmbedder())
    try:
        latest, paper = _calls(service, ("latest_edition", {}),
                               ("paper", {"arxiv_id": "2602.20732"}))
    finally:
        service.close()
    assert _error(latest).endswith("no edition published yet")
    assert "unknown paper 2602.20732: flashnews never fetched it" in _error(paper)


def test_paper_gives_its_record_editions_and_assessment(archive, published) -> None:
    item = published.items[2]
    paper = archive.papers(DEMO.id)[item.arxiv_id]
    plain, versioned, url = _calls(
        archive, ("paper", {"arxiv_id": item.arxiv_id}),
        ("paper", {"arxiv_id": f"{item.arxiv_id}v1"}),
        ("paper", {"arxiv_id": f"https://arxiv.org/abs/{item.arxiv_id}"}))
    data = _data(plain)
    assert data == _data(versioned) == _data(url)
    assert (data["arxiv_id"], data["title"], data["abstract"], data["authors"]) == \
        (paper.arxiv_id, paper.title, paper.abstract, paper.authors)
    assert data["categories"] == paper.categories and data["link"] == paper.link
    (featured,) = data["featured"]
    assert (featured["edition_id"], featured["format"], featured["revision"]) == \
        (DEMO.id, "flash", 0)
    assert (featured["score"], featured["hype"], featured["headline"], featured["body"]) == \
        (item.score, item.hype, item.headline, item.body)
    # The assessment the editor saw: the edition's, whose Score is the published one.
    scored = archive.state(DEMO.id).values["assessments"][item.arxiv_id]
    a = data["assessment"]
    assert (a["edition_id"], a["score"], a["hype"]) == (DEMO.id, item.score, item.hype)
    assert (a["method"], a["rationale"], a["drivers"]) == \
        (scored["method"], scored["rationale"], scored["drivers"])


def test_a_paper_seen_but_never_featured_has_no_editions(archive, published) -> None:
    featured = {i.arxiv_id for i in published.items}
    unfeatured = next(p for p in archive.papers(DEMO.id) if p not in featured)
    data = _data(_call(archive, "paper", {"arxiv_id": unfeatured}))
    assert data["arxiv_id"] == unfeatured and data["featured"] == []
    assert data["assessment"]["edition_id"] == DEMO.id


def test_an_unknown_paper_is_a_typed_tool_error_not_a_traceback(archive) -> None:
    never, not_an_id, empty = _calls(archive, ("paper", {"arxiv_id": "2602.99999"}),
                                     ("paper", {"arxiv_id": "'; DROP TABLE papers; --"}),
                                     ("paper", {"arxiv_id": ""}))
    assert _error(never) == ("Error executing tool paper: unknown paper 2602.99999: flashnews "
                             "never fetched it (it reads the days it ran, in its categories)")
    assert "unknown paper \"'; DROP TABLE papers; --\": not an arXiv id" in _error(not_an_id)
    assert "unknown paper '': not an arXiv id" in _error(empty)
    assert archive.papers(DEMO.id)  # still there
    assert "arxiv_id" in _error(_call(archive, "paper", {}))  # missing argument: the schema's


# --- search over the MCP client --------------------------------------------------------------


def test_search_finds_a_published_item(archive, published) -> None:
    item = published.items[0]
    word = max(item.title.split(":")[0].split(), key=len)
    data = _data(_call(archive, "search", {"query": word, "limit": 5}))
    assert data["query"] == word and data["since"] is None and 1 <= len(data["hits"]) <= 5
    hit = next(h for h in data["hits"] if h["paper_id"] == item.arxiv_id)
    assert (hit["edition_id"], hit["link"], hit["title"]) == (DEMO.id, item.link, item.title)
    assert (hit["score"], hit["hype"]) == (item.score, item.hype)


def test_search_without_hits_and_with_fts_syntax_is_not_an_error(archive) -> None:
    later, syntax, quotes = _calls(
        archive, ("search", {"query": "KV cache", "since": "2026-03-01"}),
        ("search", {"query": '"foo AND (', "limit": 3}),
        ("search", {"query": 'NEAR(kv "cache" OR) * ^ -prefill:'}))
    assert _data(later) == {"query": "KV cache", "since": "2026-03-01", "hits": []}
    assert _data(syntax)["query"] == '"foo AND ('
    assert isinstance(_data(syntax)["hits"], list) and isinstance(_data(quotes)["hits"], list)


def test_search_since_the_day_keeps_the_day(archive) -> None:
    data = _data(_call(archive, "search", {"query": "KV cache", "since": "2026-02-25"}))
    assert data["since"] == "2026-02-25" and data["hits"]
    assert {h["edition_id"] for h in data["hits"]} == {DEMO.id}


def test_a_malformed_since_or_limit_is_a_tool_error(archive) -> None:
    month, words, limit = _calls(archive,
                                 ("search", {"query": "cache", "since": "2026-13-01"}),
                                 ("search", {"query": "cache", "since": "last week"}),
                                 ("search", {"query": "cache", "limit": 0}))
    assert _error(month).endswith("invalid since '2026-13-01': expected a date, YYYY-MM-DD")
    assert "invalid since 'last week'" in _error(words)
    assert "limit" in _error(limit)


# --- the store reads behind the tools, on both backends ------------------------------------------


def _publication(edition_id: str, items: list[str], published_at: str) -> Publication:
    date, fmt = edition_id.rsplit("-", 1)
    return Publication(edition_id=edition_id, date=date, format=fmt, title="T",
                       markdown=f"# T\n{edition_id}", published_at=published_at,
                       updated_at=published_at,
                       items=[PublishedItem(arxiv_id=i, title=f"Paper {i}", section="main",
                                            link=f"https://arxiv.org/abs/{i}", score=80)
                              for i in items])


def test_store_reads_the_latest_publication_and_a_papers_editions(tmp_path, backend) -> None:
    store = Store(tmp_path / "flashnews.sqlite", url=backend)
    try:
        assert store.latest_publication() is None
        # Published in this order: a later day's digest, then a backfilled earlier flash.
        for eid, items, at in [("2026-02-25-flash", ["2602.00001", "2602.00002"], "T10"),
                               ("2026-02-26-digest", ["2602.00002"], "T11"),
                               ("2026-02-24-flash", ["2602.00003"], "T12")]:
            store.set_edition(eid, status="published")
            store.save_papers(eid, [Paper(arxiv_id=i, title=f"Paper {i}", abstract="A.")
                                    for i in items])
            store.mark_published(eid, [(i, 1) for i in items])
            store.save_publication(_publication(eid, items, f"2026-02-26{at}:00:00+00:00"),
                                   str(tmp_path / "out"))
        # Fetched on a later day, not featured there; an edition still running is not read.
        store.save_papers("2026-02-27-flash", [Paper(arxiv_id="2602.00001", version=2,
                                                     title="Paper v2", abstract="B.")])
        store.set_edition("2026-02-27-flash", status="running", step="write")

        def latest(fmt: str | None = None) -> str | None:
            record = store.latest_publication(fmt)
            return Publication.model_validate_json(record).edition_id if record else None

        assert latest() == "2026-02-26-digest"  # the latest day, not the latest published
        assert latest("flash") == "2026-02-25-flash"
        assert latest("digest") == "2026-02-26-digest" and latest("weekly") is None

        records = store.paper_records("2602.00001")
        assert [(eid, p.version, p.title) for eid, p in records] == [
            ("2026-02-27-flash", 2, "Paper v2"), ("2026-02-25-flash", 1, "Paper 2602.00001")]
        assert [Publication.model_validate_json(r).edition_id
                for r in store.featuring("2602.00002")] == ["2026-02-25-flash",
                                                              "2026-02-26-digest"]
        assert store.featuring("2602.00009") == [] and store.paper_records("2602.00009") == []
    finally:
        store.close()


def test_the_tools_answer_on_each_backend(db_settings, fake) -> None:
    service = EditionService(db_settings, model_factory=fake_factory(fake),
                             embedder=HashingEmbedder())
    try:
        assert service.run(DEMO, source=None, out_dir=None).outcome == "published"
        latest, unknown = _calls(service, ("latest_edition", {}),
                                 ("paper", {"arxiv_id": "2602.99999"}))
        data = _data(latest)
        assert data["edition_id"] == DEMO.id and len(data["items"]) == 7
        first = data["items"][0]
        paper = _data(_call(service, "paper", {"arxiv_id": first["arxiv_id"]}))
    finally:
        service.close()
    assert paper["title"] == first["title"]
    assert [(f["edition_id"], f["score"]) for f in paper["featured"]] == [(DEMO.id,
                                                                          first["score"])]
    assert paper["assessment"]["score"] == first["score"]
    assert "unknown paper 2602.99999" in _error(unknown)


# --- `flashnews mcp` over stdio ----------------------------------------------------------------


def test_flashnews_mcp_over_stdio(archive, published, tmp_path) -> None:
    """A real client session with `python -m flashnews mcp`: the handshake today's clients
    make (initialize), the protocol alone on stdout, the logs on stderr."""
    errlog = tmp_path / "stderr.txt"
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "flashnews", "mcp"], cwd=str(tmp_path),
        env={"FLASHNEWS_HOME": str(archive.settings.home), "FLASHNEWS_LOG_LEVEL": "INFO"})

    async def go() -> tuple[Any, ...]:
        with errlog.open("w") as err:
            async with Client(_stdio(params, err), mode="legacy") as client:
                tools = (await client.list_tools()).tools
                latest = await client.call_tool("latest_edition", {"format": "flash"})
                paper = await client.call_tool("paper", {"arxiv_id": published.items[0].arxiv_id})
                unknown = await client.call_tool("paper", {"arxiv_id": "2602.99999"})
                return client.server_info, tools, latest, paper, unknown

    info, tools, latest, paper, unknown = anyio.run(go)
    assert info is not None and info.name == "flashnews"
    assert {t.name for t in tools} == TOOLS
    data = _data(latest)
    assert data["edition_id"] == DEMO.id
    assert [i["title"] for i in data["items"]] == [i.title for i in published.items]
    assert _data(paper)["featured"][0]["edition_id"] == DEMO.id
    assert "unknown paper 2602.99999: flashnews never fetched it" in _error(unknown)
    logs = errlog.read_text()
    assert "flashnews mcp: serving sqlite over stdio" in logs and "Traceback" not in logs


def _stdio(params: StdioServerParameters, errlog: Any) -> Any:
    from mcp.client.stdio import stdio_client

    return stdio_client(params, errlog=errlog)


def test_without_the_sdk_flashnews_mcp_says_what_to_install(tmp_path) -> None:
    code = ("import sys; sys.modules['mcp'] = None; sys.argv = ['flashnews', 'mcp'];"
            " from flashnews.cli import main; main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, cwd=tmp_path,
                          env={**os.environ, "FLASHNEWS_HOME": str(tmp_path / "home")})
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.strip() == ("error: flashnews mcp needs the MCP SDK: pip install "
                                   "'flashnews[mcp]'")
