"""Code, weights and data links: found in real abstracts and arXiv pages, checked against
constructed answers (tests/cassettes/repos/README.md), stored on both backends, published as
one line per item that the grounding checks leave alone, and looked at again by `recheck`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import requests
import vcr
from typer.testing import CliRunner

from flashnews.config import Settings
from flashnews.models import Draft, DraftItem, RepoLink
from flashnews.service import EditionService
from flashnews.testing import HashingEmbedder
from flashnews.text.grounding import check_bulletin
from flashnews.tools.arxiv import demo_snapshot, read_snapshot
from flashnews.tools.http import HttpClient
from flashnews.tools.publish import build_publication, render_html, render_json_feed, with_repo_notes
from flashnews.tools.repos import (
    Checker,
    abs_page_text,
    find_repos,
    judge,
    links_in,
    merge,
    publication_links,
    repo_note,
)
from flashnews.tools.store import Store
from tests import build_repo_cassettes as cassettes

FIXTURE = Path(__file__).parent / "fixtures" / "repo_abstracts.jsonl"
REAL = {p.arxiv_id: p for p in read_snapshot(FIXTURE)}
DEMO_PAPERS = {p.arxiv_id: p for p in read_snapshot(demo_snapshot())}
AT = "2026-02-25T21:00:00+00:00"

replay = vcr.VCR(cassette_library_dir=str(cassettes.OUT), record_mode="none",
                 match_on=["method", "scheme", "host", "path", "query"])


def urls(arxiv_id: str) -> list[tuple[str, str]]:
    return [(n.kind, n.url) for n in find_repos(REAL[arxiv_id].abstract)]


# finding them -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("arxiv_id", "expected"), [
    # "… available at https://github.com/alinadevkota/FedVG." (the full stop is the sentence's)
    ("2602.21399", [("code", "https://github.com/alinadevkota/FedVG")]),
    # \href{URL}{URL}: named twice, one repository
    ("2602.20650", [("code", "https://github.com/he-y/Dataset-Color-Quantization")]),
    # no scheme: "github.com/hanxiangqin/omni-col-press."
    ("2602.21202", [("code", "https://github.com/hanxiangqin/omni-col-press")]),
    # inside \footnote{…}
    ("2602.18964", [("code", "https://github.com/toheebadura/yor-sarc")]),
    # a Markdown link [URL](URL).
    ("2602.19058", [("code", "https://github.com/chenhangcuisg-code/Do-LLMs-VLMs-Share-Neurons")]),
    # a folder of a repository names the repository
    ("2602.21201", [("code", "https://github.com/google-deepmind/superhuman")]),
    # a trailing slash and full stop; a space before the full stop
    ("2602.18662", [("code", "https://github.com/kougioulis/LCM-paper")]),
    ("2602.18763", [("code", "https://github.com/would1920/FER_TAG")]),
    # in parentheses, after a project page on github.io (not a repository)
    ("2602.19685", [("code", "https://github.com/DeepGraphLearning/PerturbDiff")]),
    ("2602.18495", [("code", "https://github.com/HKUSHXLab/rdblearn")]),
    # Hugging Face: a dataset is data; a collection of "synthetic datasets" is data too
    ("2602.20647", [("data", "https://huggingface.co/datasets/wfzimmerman/pg19-semantic-novelty")]),
    ("2602.21193", [("data", "https://huggingface.co/collections/nvidia/nemotron-terminal")]),
    # "made available on GitHub", "via GitHub", a github.io page: no repository named
    ("2602.20329", []),
    ("2602.22200", []),
    ("2602.19619", []),
])
def test_real_abstracts_name_their_repositories(arxiv_id: str, expected: list[tuple[str, str]]
                                                ) -> None:
    assert urls(arxiv_id) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # arXiv metadata wrapped inside a URL: the wrap is read through
    ("code at https://github.com/owner/ repo-name. We", "https://github.com/owner/repo-name"),
    ("code at github. com/ Owner/repo and more", "https://github.com/Owner/repo"),
    # … but never a word after a whole address
    ("see https://github.com/owner/repo/ and the paper", "https://github.com/owner/repo"),
    ("\\url{https://github.com/a\\_b/c\\_d}.", "https://github.com/a_b/c_d"),
    ("weights: https://hf.co/meta-llama/Llama-3.1-8B).", "https://huggingface.co/meta-llama/Llama-3.1-8B"),
    ("(gitlab.com/grp/proj.git);", "https://gitlab.com/grp/proj"),
])
def test_urls_cut_by_wraps_latex_and_punctuation(text: str, expected: str) -> None:
    assert [n.url for n in find_repos(text)] == [expected]


@pytest.mark.parametrize("text", [
    "https://huggingface.co/papers/2602.20732", "https://huggingface.co/spaces/org/demo",
    "https://huggingface.co/meta-llama", "https://github.com/orgs/vllm-project/people",
    "https://nova-plan.github.io/", "https://notgithub.com/a/b", "see github.com for details",
])
def test_pages_that_are_not_repositories(text: str) -> None:
    assert find_repos(text) == []


def test_kinds_and_names() -> None:
    found = find_repos("Code: github.com/vllm-project/vllm; weights: huggingface.co/Qwen/"
                       "Qwen2.5-7B-Instruct; data: huggingface.co/datasets/org/set")
    assert [(n.kind, n.name) for n in found] == [
        ("code", "vllm-project/vllm"), ("weights", "Qwen/Qwen2.5-7B-Instruct"),
        ("data", "org/set")]


def test_the_arxiv_page_is_read_in_its_comments_and_abstract_only() -> None:
    from lxml import html as lhtml

    html = cassettes.abs_page("2602.20732", cassettes.code_comment(cassettes.CHESS_CODE))
    # What the page shows is "this https URL"; the address is only in the anchor's href, and
    # the footer links to a repository that is not the paper's.
    shown = lhtml.fromstring(html).text_content()
    assert "this https URL" in shown and "chess-kvcache" not in shown
    assert "https://github.com/arXiv/arxiv-browse" in html
    assert [n.url for n in find_repos(abs_page_text(html))] == [cassettes.CHESS_CODE]
    assert abs_page_text("") == "" and abs_page_text("<html><body>no table</body></html>") == ""


# checking them ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "status", "final", "expected"), [
    ("https://github.com/a/b", 200, "https://github.com/a/b", "ok"),
    ("https://github.com/ProjectNeura/MIPCandy", 200, "https://github.com/projectneura/mipcandy",
     "ok"),
    ("https://github.com/a/b", 200, "https://github.com/c/b", "moved"),
    ("https://github.com/a/b", 200, "https://gitlab.com/a/b", "moved"),
    ("https://github.com/a/b", 200, "https://github.com/login?return_to=%2Fa%2Fb", "moved"),
    ("https://hf.co/org/model", 200, "https://huggingface.co/org/model", "ok"),
    ("https://github.com/a/b", 404, "https://github.com/a/b", "missing"),
    ("https://github.com/a/b", 410, "https://github.com/a/b", "missing"),
    ("https://github.com/a/b", 401, "https://github.com/a/b", "unchecked"),
])
def test_judging_an_answer(url: str, status: int, final: str, expected: str) -> None:
    assert judge(url, status, final).status == expected


def _checker() -> Checker:
    return Checker(http=HttpClient(retries=0, timeout=5, backoff=0, max_wait=0))


def test_each_answer_against_constructed_hosts() -> None:
    checker = _checker()
    with replay.use_cassette("links.yaml") as cassette:
        got = {url: checker.check(url) for url in (
            cassettes.OK, cassettes.LATER, cassettes.MOVED, cassettes.CASE, cassettes.DATASET,
            cassettes.COLLECTION, cassettes.DOWN)}
    assert cassette.all_played
    assert {u: c.status for u, c in got.items()} == {
        cassettes.OK: "ok", cassettes.LATER: "missing", cassettes.MOVED: "moved",
        cassettes.CASE: "ok", cassettes.DATASET: "ok", cassettes.COLLECTION: "ok",
        cassettes.DOWN: "unchecked"}
    assert got[cassettes.MOVED].final_url == cassettes.MOVED_TO  # kept, not trusted
    assert got[cassettes.LATER].http_status == 404 and got[cassettes.DOWN].http_status == 503
    assert got[cassettes.CASE].final_url == cassettes.CASE_TO
    assert checker.down == {}  # a 503 is an answer: the host is there


def test_offline_every_link_is_unchecked_and_each_host_is_tried_once(monkeypatch) -> None:
    http = HttpClient(retries=0, timeout=5, backoff=0, max_wait=0)
    calls: list[str] = []

    def refuse(method: str, url: str, **kwargs: object) -> requests.Response:
        calls.append(url)
        raise requests.ConnectionError("Name or service not known")

    monkeypatch.setattr(http._session, "request", refuse)
    checker = Checker(http=http)
    found = [checker.check(u) for u in (cassettes.OK, cassettes.LATER, cassettes.DATASET)]
    assert [c.status for c in found] == ["unchecked"] * 3
    assert calls == [cassettes.OK, cassettes.DATASET]  # one try per host, then none
    assert "github.com unreachable (ConnectionError)" in found[1].reason


def test_checks_turned_off_make_no_request() -> None:
    checker = Checker(enabled=False)
    assert checker.check(cassettes.OK).status == "unchecked"
    assert checker.http is not None and checker.http.requests == 0


# what changed -----------------------------------------------------------------------------------

def _link(url: str, status: str, kind: str = "code", **kw: object) -> RepoLink:
    return RepoLink.model_validate({"paper_id": "2602.21044", "url": url, "kind": kind,
                                    "name": url.split("/", 3)[-1], "status": status,
                                    "first_seen": kw.pop("first_seen", ""), **kw})


def test_changes_become_events() -> None:
    a, b = "https://github.com/x/a", "https://github.com/x/b"
    # No working code, then a working link: released (the weekly edition's "code released").
    rows, events = merge([_link(a, "missing", first_seen=AT)], [_link(a, "ok")], "2026-03-02")
    assert [e.event for e in events] == ["code released"] and rows[0].first_seen == AT
    # A second working code link is not a second release; a link that stops working is news.
    _, events = merge([_link(a, "ok")], [_link(a, "missing"), _link(b, "ok")], "t")
    assert [e.event for e in events] == ["link now missing"]
    _, events = merge([_link(a, "ok")], [_link(a, "moved", final_url=b)], "t")
    assert [(e.event, e.detail) for e in events] == [("link now redirects elsewhere", b)]
    _, events = merge([_link(a, "unchecked")], [_link(a, "ok")], "t")
    assert [e.event for e in events] == ["code link confirmed"]
    _, events = merge([], [_link(a, "ok", "weights")], "t")
    assert [e.event for e in events] == ["weights released"]
    # Publish day: the first look records no change.
    assert merge([], [_link(a, "ok")], "t", track=False)[1] == []


def test_no_answer_loses_nothing() -> None:
    a = "https://github.com/x/a"
    rows, events = merge([_link(a, "ok", checked_at=AT)], [_link(a, "unchecked")], "later")
    assert rows == [] and events == []  # the stored answer stands
    rows, _ = merge([], [_link(a, "unchecked")], "now")
    assert rows[0].status == "unchecked" and rows[0].first_seen == "now"


# stored -----------------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path: Path, backend: str | None) -> Store:
    s = Store(tmp_path / "flashnews.sqlite", url=backend)
    yield s
    s.close()


def test_links_and_events_are_stored(store: Store) -> None:
    a = "https://github.com/kkkkarry/LogicGraph"
    store.save_repo_links("2602.21044", [_link(a, "missing", http_status=404, first_seen=AT,
                                               checked_at=AT)])
    rows, events = merge(store.repo_links("2602.21044"),
                         [_link(a, "ok", http_status=200, checked_at="2026-03-02T09:00:00+00:00")],
                         "2026-03-02T09:00:00+00:00")
    store.save_repo_links("2602.21044", rows, events)
    [link] = store.repo_links("2602.21044")
    assert (link.status, link.http_status, link.first_seen, link.checked_at) == (
        "ok", 200, AT, "2026-03-02T09:00:00+00:00")
    # An unchecked save keeps the last time an answer came.
    store.save_repo_links("2602.21044", [link.model_copy(update={"checked_at": None})])
    assert store.repo_links("2602.21044")[0].checked_at == "2026-03-02T09:00:00+00:00"
    assert [(e.paper_id, e.event, e.url) for e in store.repo_events("2026-03-01")] == [
        ("2602.21044", "code released", a)]
    assert store.repo_events("2026-03-03") == [] and store.repo_links("2602.00000") == []


def test_featured_since_lists_each_recent_paper_once(store: Store) -> None:
    for eid, pids in (("2026-02-24-flash", ["2602.1"]), ("2026-02-25-flash", ["2602.2", "2602.3"]),
                      ("2026-02-25-digest", ["2602.2"])):
        store.set_edition(eid, status="published")
        store.mark_published(eid, [(p, 1) for p in pids])
    store.set_edition("2026-02-26-flash", status="needs-review")
    store.mark_published("2026-02-26-flash", [("2602.9", 1)])  # never published
    recent = store.featured_since("2000-01-01")
    assert sorted(p for p, _, _ in recent) == ["2602.1", "2602.2", "2602.3"]
    assert store.featured_since("2999-01-01") == []


# published --------------------------------------------------------------------------------------

def _notes_for(markdown_ids: list[str]) -> dict[str, str]:
    links = {
        markdown_ids[0]: [RepoLink(paper_id=markdown_ids[0], url="https://github.com/vllm-project/"
                                   "vllm", kind="code", name="vllm-project/vllm", status="ok"),
                          RepoLink(paper_id=markdown_ids[0], url="https://huggingface.co/Qwen/"
                                   "Qwen2.5-7B-Instruct", kind="weights",
                                   name="Qwen/Qwen2.5-7B-Instruct", status="ok")],
        markdown_ids[1]: [RepoLink(paper_id=markdown_ids[1], url=cassettes.MOVED, kind="code",
                                   name="would1920/GeoCode", status="moved",
                                   final_url=cassettes.MOVED_TO)],
    }
    return {pid: repo_note(links.get(pid, [])) for pid in markdown_ids}


EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "2026-02-25-flash.md"


def test_notes_leave_the_checks_as_they_were() -> None:
    text = with_repo_notes(EXAMPLE.read_text(), {})  # the example as published has its notes
    from flashnews.text.grounding import linked_papers

    ids = linked_papers(text)
    noted = with_repo_notes(text, _notes_for(ids))
    assert noted.count("\n") == text.count("\n") + len(ids)
    assert "Weights: [Qwen/Qwen2.5-7B-Instruct](https://huggingface.co/Qwen/Qwen2.5-7B-Instruct)" \
        in noted and "(redirects elsewhere: not trusted)" in noted
    assert noted.count("No code or weights named.") == len(ids) - 2
    # A figure in a repository's name ("2.5", "7B") is no claim; its link is no other site.
    before = check_bulletin(text, papers=DEMO_PAPERS, fmt="flash")
    after = check_bulletin(noted, papers=DEMO_PAPERS, fmt="flash")
    assert [f.message for f in after] == [f.message for f in before]
    # Notes are replaced, never repeated (a correction made from the published file).
    assert with_repo_notes(noted, _notes_for(ids)) == noted
    assert with_repo_notes(noted, {}) == text


def test_the_note_stays_inside_its_item(tmp_path: Path) -> None:
    text = with_repo_notes(EXAMPLE.read_text(), {})  # the example as published has its notes
    from flashnews.text.grounding import linked_papers

    ids = linked_papers(text)
    noted = with_repo_notes(text, _notes_for(ids))
    lines = noted.splitlines()
    first = next(i for i, line in enumerate(lines) if ids[0] in line)
    assert lines[first].endswith("Hype: 60  ") and lines[first + 1].startswith("Code: [vllm")
    bullet = next(i for i, line in enumerate(lines) if line.startswith("- ") and ids[-1] in line)
    assert lines[bullet + 1] == "  No code or weights named."
    from flashnews.tools.publish import markdown_html

    page = markdown_html(noted)
    assert "Hype: 60<br />\nCode: <a href=\"https://github.com/vllm-project/vllm\">" in page
    assert "Hype: 57<br />\nNo code or weights named.</li>" in page


def _draft(ids: list[str]) -> Draft:
    from flashnews.agents.writer import render

    items = [DraftItem(paper_id=pid, section="main", headline="", body=f"{pid} is a paper.")
             for pid in ids]
    from flashnews.models import Assessment

    a = {pid: Assessment(paper_id=pid, relevant=True, score=80, hype=50, rationale="r",
                         prompt_hash="h", model="m") for pid in ids}
    md = render(dt.date(2026, 2, 25), "flash", "", items, DEMO_PAPERS | REAL, a)
    return Draft(edition_id="2026-02-25-flash", format="flash", markdown=md, items=items)


def test_publication_carries_the_links(settings: Settings) -> None:
    ids = ["2602.20732", "2602.21399"]
    draft = _draft(ids)
    fedvg = [RepoLink(paper_id="2602.21399", url=cassettes.OK, kind="code",
                      name="alinadevkota/FedVG", status="ok", http_status=200)]
    pub = build_publication(edition_id="2026-02-25-flash", date="2026-02-25", fmt="flash",
                            revision=0, draft=draft, papers=DEMO_PAPERS | REAL, assessments={},
                            corrections=[], published_at=None, repos={"2602.21399": fedvg})
    assert pub.schema_version == 4
    assert [i.repos for i in pub.items] == [[], fedvg]
    assert "Code: [alinadevkota/FedVG](https://github.com/alinadevkota/FedVG)" in pub.markdown
    assert "No code or weights named." in pub.markdown
    data = json.loads(pub.model_dump_json())
    assert data["items"][1]["repos"][0]["status"] == "ok"
    feed = render_json_feed([pub], Path("."), settings)
    assert feed["items"][0]["_flashnews"]["papers"][1]["repos"][0]["url"] == cassettes.OK
    assert "alinadevkota/FedVG" in render_html(pub)
    # Without links (an older caller), nothing is added.
    plain = build_publication(edition_id="2026-02-25-flash", date="2026-02-25", fmt="flash",
                              revision=0, draft=draft, papers=DEMO_PAPERS | REAL,
                              assessments={}, corrections=[], published_at=None)
    assert plain.markdown == draft.markdown and all(i.repos == [] for i in plain.items)


def test_publishing_checks_once_then_reuses_what_is_stored(store: Store) -> None:
    papers = {pid: REAL[pid] for pid in ("2602.21399", "2602.18745", "2602.21044")} | {
        "2602.20732": DEMO_PAPERS["2602.20732"]}
    checker = _checker()
    with replay.use_cassette("links.yaml", allow_playback_repeats=False) as cassette:
        first = publication_links(store, papers, list(papers), checker, AT)
        assert cassette.play_count == 4  # FedVG, GeoCode (301 + target), LogicGraph
        again = publication_links(store, papers, list(papers), checker, AT)
        assert cassette.play_count == 4  # a resume or a correction asks nothing again
    assert {p: [(k.status, k.found_in) for k in v] for p, v in first.items()} == {
        "2602.21399": [("ok", "abstract")], "2602.18745": [("moved", "abstract")],
        "2602.21044": [("missing", "abstract")], "2602.20732": []}
    assert again == first and store.repo_events("2000") == []
    assert first["2602.18745"][0].final_url == cassettes.MOVED_TO


# recheck ----------------------------------------------------------------------------------------

def _published_week(store: Store, published_at: str = AT) -> None:
    """A flash edition of 2026-02-25 featuring CHESS, LogicGraph and FedVG, published at
    `published_at`, with its publish-day checks (CHESS: none named; LogicGraph: 404; FedVG:
    ok)."""
    eid = "2026-02-25-flash"
    store.save_papers(eid, [DEMO_PAPERS["2602.20732"], REAL["2602.21044"], REAL["2602.21399"]])
    store.set_edition(eid, status="published")
    store.mark_published(eid, [("2602.20732", 1), ("2602.21044", 1), ("2602.21399", 1)])
    with store._tx() as c:
        c.execute("UPDATE editions SET published_at=? WHERE id=?", (published_at, eid))
    for pid, status, code in (("2602.21044", "missing", 404), ("2602.21399", "ok", 200)):
        store.save_repo_links(pid, [link.model_copy(update={
            "status": status, "http_status": code, "checked_at": AT, "first_seen": AT})
            for link in links_in(pid, REAL[pid].abstract)])


def _service(settings: Settings, backend: str | None) -> EditionService:
    from pydantic import SecretStr

    if backend:
        settings = settings.model_copy(update={"database_url": SecretStr(backend)})
    return EditionService(settings, embedder=HashingEmbedder())


def test_recheck_records_code_released_on_day_five(settings: Settings, backend: str | None
                                                   ) -> None:
    svc = _service(settings, backend)
    _published_week(svc.store)
    sleeps: list[float] = []
    arxiv = HttpClient(delay=3.0, retries=0, sleep=sleeps.append)
    day5 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    with replay.use_cassette("recheck_day5.yaml") as cassette:
        report = svc.recheck(7, now=day5, checker=_checker(), arxiv=arxiv)
        assert cassette.play_count == 4 and report.exit_code == 0
        rows = {r.paper_id: r for r in report.papers}
        assert [(e.event, e.url) for e in rows["2602.20732"].events] == [
            ("code released", cassettes.CHESS_CODE)]
        assert rows["2602.20732"].links[0].found_in == "arxiv-page"
        assert [e.event for e in rows["2602.21044"].events] == ["code released"]
        # FedVG's code was out and its link worked: not an open question, not asked.
        assert rows["2602.21399"].settled and cassette.play_count == 4
        # --all asks it too (the two others are settled now): its repository has gone.
        again = svc.recheck(7, now=day5, checker=_checker(), arxiv=arxiv, every=True)
    assert cassette.all_played
    assert [e.event for r in again.papers for e in r.events] == ["link now missing"]
    assert len(sleeps) == 4 and all(0 < s <= 3.0 for s in sleeps)  # arXiv's politeness
    stored = svc.store.repo_events("2026-03-01")
    assert [(e.paper_id, e.event) for e in stored] == [
        ("2602.20732", "code released"), ("2602.21044", "code released"),
        ("2602.21399", "link now missing")]
    assert stored[1].detail == "5 day(s) after 2026-02-25-flash was published"
    assert svc.store.repo_links("2602.21044")[0].first_seen == AT  # first sighting kept
    svc.close()


def test_recheck_offline_names_each_paper_and_keeps_what_was_stored(settings: Settings,
                                                                    monkeypatch) -> None:
    svc = _service(settings, None)
    _published_week(svc.store)
    before = {pid: svc.store.repo_links(pid) for pid in ("2602.21044", "2602.21399")}
    arxiv = HttpClient(delay=0, retries=2, backoff=0, sleep=lambda s: None)
    tried: list[str] = []

    def refuse(method: str, url: str, **kwargs: object) -> requests.Response:
        tried.append(url)
        raise requests.ConnectionError("Name or service not known")

    monkeypatch.setattr(arxiv._session, "request", refuse)
    checker = Checker(http=HttpClient(retries=0, timeout=5, backoff=0, max_wait=0))
    monkeypatch.setattr(checker.http._session, "request", refuse)  # type: ignore[union-attr]
    report = svc.recheck(7, now=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), checker=checker,
                         arxiv=arxiv, every=True)
    assert report.exit_code == 6
    assert all("arXiv unreachable (ConnectionError)" in r.problem for r in report.papers)
    assert len(report.papers) == 3 and not any(r.events for r in report.papers)
    # arXiv once, GitHub once: an offline recheck does not wait on every paper.
    assert tried == ["https://arxiv.org/abs/2602.20732", cassettes.LATER]
    assert {pid: svc.store.repo_links(pid) for pid in before} == before
    assert svc.store.repo_events("2000") == []
    svc.close()


def test_recheck_command(settings: Settings, monkeypatch) -> None:
    """`flashnews recheck` in-process: with --block-network every request is refused, as on a
    machine without a network: one line per paper, exit 6, a JSON report with --json."""
    from flashnews.cli import app

    two_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    svc = _service(settings, None)
    _published_week(svc.store, two_days_ago.isoformat(timespec="seconds"))
    svc.close()
    monkeypatch.setenv("FLASHNEWS_ARXIV_DELAY", "0")
    result = CliRunner().invoke(app, ["recheck", "--days", "7"])
    assert result.exit_code == 6, result.output
    # FedVG's code is out and works: settled, not asked; the two others could not be checked.
    assert result.stderr.count("not fully checked") == 2
    assert result.stderr.count("arXiv unreachable") == 2
    assert "code and weights of papers featured since" in result.stdout
    assert "kkkkarry/LogicGraph" in result.stdout and "not checked" in result.stdout
    assert "settled (not asked)" in result.stdout
    result = CliRunner().invoke(app, ["recheck", "--days", "7", "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 6 and {p["paper_id"] for p in data["papers"]} == {
        "2602.20732", "2602.21044", "2602.21399"}
    empty = CliRunner().invoke(app, ["recheck", "--days", "1"])
    assert empty.exit_code == 0 and "no paper featured in the last 1 day(s)" in empty.stdout
