"""The archive page (index.html): every edition of the output dir, searchable offline.

The search runs in headless Chromium from the file on disk (no server, no network); `.ci/run`
installs Chromium and sets TEST_BROWSER_REQUIRED=1, elsewhere those tests skip saying why.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from pathlib import Path

import pytest

from flashnews.models import Edition
from flashnews.service import EditionService
from flashnews.testing import HashingEmbedder, fake_factory
from flashnews.tools.archive import ARCHIVE_NAME, render_archive
from flashnews.tools.publish import Publication, PublishedItem
from tests.conftest import DEMO
from tests.test_phone import CHROMIUM, _chromium

DIGEST = Edition(date=DEMO.date, format="digest")


@pytest.fixture
def archive(settings, fake, tmp_path: Path) -> Path:
    """An output dir with the demo day's flash and digest editions published as HTML."""
    html_on = settings.model_copy(update={"channels": ["markdown", "html"]})
    svc = EditionService(html_on, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    out = tmp_path / "out"
    try:
        for ed in (DEMO, DIGEST):
            assert svc.run(ed, source=None, out_dir=out).outcome == "published"
    finally:
        svc.close()
    return out


def _island(page: str) -> list[dict]:
    m = re.search(r'id="archive-index">(.*?)</script>', page, re.S)
    assert m
    return json.loads(m.group(1))["entries"]


def _pub(eid: str, title: str) -> Publication:
    date, fmt = eid[:10], eid[11:]
    return Publication(edition_id=eid, date=date, format=fmt, title="T", markdown="# T\n",
                       items=[PublishedItem(arxiv_id="2602.00001", title=title,
                                            link="https://arxiv.org/abs/2602.00001",
                                            section="main", score=80, headline="h", body="b")],
                       published_at="2026-02-25T00:00:00+00:00",
                       updated_at="2026-02-25T00:00:00+00:00")


def test_the_page_lists_every_edition_newest_first_with_its_items(archive: Path) -> None:
    page = (archive / ARCHIVE_NAME).read_text()
    entries = _island(page)
    assert {e["edition"] for e in entries} == {DEMO.id, DIGEST.id}
    assert all(e["link"].startswith("https://arxiv.org/abs/") for e in entries if e["paper"])
    assert f'href="{DEMO.id}.html"' in page and f'href="{DIGEST.id}.html"' in page
    assert "<script src" not in page and "http://" not in page  # nothing fetched


def test_entries_other_data_dirs_published_are_kept() -> None:
    first = render_archive([_pub("2026-02-24-flash", "Older paper")])
    both = render_archive([_pub("2026-02-25-flash", "Newer paper")], first)
    assert [e["edition"] for e in _island(both)] == ["2026-02-25-flash", "2026-02-24-flash"]
    # Ours replace what the old page said about the same edition; a foreign page is replaced.
    again = render_archive([_pub("2026-02-24-flash", "Renamed paper")], both)
    assert [e["title"] for e in _island(again)] == ["Newer paper", "Renamed paper"]
    assert len(_island(render_archive([_pub("2026-02-24-flash", "x")], "<html>not ours"))) == 1


def test_a_title_cannot_end_the_index_script() -> None:
    page = render_archive([_pub("2026-02-25-flash", "Bad </script><script>alert(1)//")])
    assert page.count("</script>") == 2  # the island's and the search script's own
    assert _island(page)[0]["title"] == "Bad </script><script>alert(1)//"


def _search(archive: Path, query: str) -> tuple[list[tuple[str, str]], str]:
    """The hits (paper, edition) and status line Chromium shows for `?q=query`."""
    url = (archive / ARCHIVE_NAME).as_uri() + "?q=" + urllib.parse.quote(query)
    done = _chromium("--virtual-time-budget=3000", "--dump-dom", url)
    dom = done.stdout
    assert "<ol id=\"hits\">" in dom, done.stderr[-400:]
    hits = re.findall(r'<li data-paper="([^"]*)" data-edition="([^"]*)">', dom)
    status = re.search(r'<p id="status"[^>]*>(.*?)</p>', dom, re.S)
    assert status
    return hits, html.unescape(status.group(1))


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)")
def test_the_search_box_finds_items_offline_in_chromium(archive: Path) -> None:
    entries = _island((archive / ARCHIVE_NAME).read_text())
    fpga = next(e for e in entries if "FPGA" in e["title"])
    hits, status = _search(archive, "FPGA accelerators")  # stemmed: the text says accelerator
    assert hits and hits[0][0] == fpga["paper"]
    assert {ed for pid, ed in hits if pid == fpga["paper"]} == {DEMO.id, DIGEST.id}
    assert status.endswith("found")
    single = {e["paper"] for e in entries
              if re.search(r"\bcache\b", f"{e['title']} {e['text']}".lower())}
    hits, _ = _search(archive, "caches")  # a plural finds the singular
    assert single and single <= {pid for pid, _ in hits}
    hits, status = _search(archive, "zebra giraffe")
    assert hits == [] and status.startswith("nothing found")
    for hostile in ('foo AND (', '"', "<img src=x onerror=alert(1)>", "*:^"):
        hits, status = _search(archive, hostile)
        assert "found" in status  # the script ran to the end: no exception
    assert "<img src=x" not in _chromium("--virtual-time-budget=3000", "--dump-dom",
                                         (archive / ARCHIVE_NAME).as_uri() + "?q=%3Cimg%20src%3Dx"
                                         ).stdout.split('id="hits"')[1]
