"""The HTML channel on a phone: a published edition rendered by headless Chromium.

`.ci/run` installs Debian's chromium and sets TEST_BROWSER_REQUIRED=1; elsewhere the test skips,
saying why, when no Chromium is installed.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess

import pytest
from PIL import Image

from flashnews.service import EditionService
from flashnews.testing import HashingEmbedder, fake_factory
from tests.conftest import DEMO, REPO

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
if CHROMIUM is None and os.environ.get("TEST_BROWSER_REQUIRED") == "1":
    raise RuntimeError("TEST_BROWSER_REQUIRED=1 but no chromium on PATH")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed "
                                "(apt-get install chromium; .ci/run does)")

# The page in a 360 px wide frame (a small phone): reports overflow, font sizes and link boxes.
PROBE = """<!doctype html><html><body style="margin:0">
<iframe id="f" src="{page}" style="width:360px;height:780px;border:0"></iframe>
<script>
document.getElementById("f").addEventListener("load", () => {{
  const d = document.getElementById("f").contentDocument;
  const px = (el) => parseFloat(getComputedStyle(el).fontSize);
  const text = [...d.querySelectorAll("p, li")];
  document.body.setAttribute("data-probe", JSON.stringify({{
    scrollWidth: d.documentElement.scrollWidth, clientWidth: d.documentElement.clientWidth,
    minFont: Math.min(...text.map(px)), paragraphs: text.length,
    linkRight: Math.max(...[...d.querySelectorAll("a")].map(a => a.getBoundingClientRect().right)),
    links: d.querySelectorAll("a").length }}));
}});
</script></body></html>"""


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", *args], capture_output=True, text=True,
                          timeout=90)


def test_published_html_reads_on_a_phone(settings, fake, tmp_path) -> None:
    phone = settings.model_copy(update={"channels": ["markdown", "html"]})
    svc = EditionService(phone, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    out = tmp_path / "out"
    assert svc.run(DEMO, source=None, out_dir=out).outcome == "published"
    svc.close()
    page = out / f"{DEMO.id}.html"

    probe = out / "probe.html"
    probe.write_text(PROBE.format(page=page.name))
    done = _chromium("--allow-file-access-from-files", "--virtual-time-budget=5000",
                     "--dump-dom", probe.as_uri())
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found, done.stderr[-500:]
    m = json.loads(html.unescape(found.group(1)))
    assert m["clientWidth"] == 360
    assert m["scrollWidth"] <= m["clientWidth"], m  # nothing scrolls sideways
    assert m["linkRight"] <= m["clientWidth"], m  # every link fits on screen
    assert m["minFont"] >= 16, m  # body text at a readable size
    assert m["links"] >= 7 and m["paragraphs"] >= 7

    shot = tmp_path / "phone.png"
    done = _chromium("--window-size=390,844", f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), done.stderr[-500:]
    with Image.open(shot) as img:
        assert img.size == (390, 844)
        grey = img.convert("L")
        dark = sum(grey.histogram()[:128])
        # Text on a white page: some ink, mostly paper; and the right margin stays empty.
        assert 0.01 < dark / (390 * 844) < 0.4
        margin = grey.crop((382, 0, 390, 844))
        assert margin.getextrema()[0] > 200
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copy(shot, REPO / "docs" / "phone.png")


# Each item's <details> in a 360 px frame: closed, its abstract sentences take no space; opened
# (what a tap does, no script in the page), they show and fit the screen.
SOURCES_PROBE = """<!doctype html><html><body style="margin:0">
<iframe id="f" src="{page}" style="width:360px;height:780px;border:0"></iframe>
<script>
document.getElementById("f").addEventListener("load", () => {{
  const d = document.getElementById("f").contentDocument;
  const all = [...d.querySelectorAll("details.sources")];
  // A closed <details> keeps its content out of the rendering (content-visibility: hidden).
  const shown = (el) => el.checkVisibility ? el.checkVisibility()
                                           : el.getBoundingClientRect().height > 0;
  const closed = all.map(x => [...x.querySelectorAll("blockquote")].some(shown));
  all.forEach(x => x.open = true);
  const quotes = all.map(x => [...x.querySelectorAll("blockquote")]);
  document.body.setAttribute("data-probe", JSON.stringify({{
    details: all.length, scripts: d.querySelectorAll("script").length,
    shownWhenClosed: closed.filter(Boolean).length,
    shownWhenOpen: quotes.filter(q => q.length && q.every(shown)).length,
    texts: quotes.map(q => q.map(b => b.textContent)),
    right: Math.max(...quotes.flat().map(b => b.getBoundingClientRect().right)),
    scrollWidth: d.documentElement.scrollWidth, clientWidth: d.documentElement.clientWidth,
    minFont: Math.min(...quotes.flat().map(b => parseFloat(getComputedStyle(b).fontSize)))
  }}));
}});
</script></body></html>"""


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_a_reader_opens_each_item_onto_its_abstract_sentences(settings, fake, tmp_path) -> None:
    phone = settings.model_copy(update={"channels": ["markdown", "html", "json"]})
    svc = EditionService(phone, model_factory=fake_factory(fake))
    out = tmp_path / "out"
    assert svc.run(DEMO, source=None, out_dir=out).outcome == "published"
    svc.close()
    data = json.loads((out / f"{DEMO.id}.json").read_text())
    probe = out / "sources.html"
    probe.write_text(SOURCES_PROBE.format(page=f"{DEMO.id}.html"))
    done = _chromium("--allow-file-access-from-files", "--virtual-time-budget=5000",
                     "--dump-dom", probe.as_uri())
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found, done.stderr[-500:]
    m = json.loads(html.unescape(found.group(1)))
    assert m["scripts"] == 0
    assert m["details"] == len(data["items"]) == 7
    assert m["shownWhenClosed"] == 0 and m["shownWhenOpen"] == 7
    # What opens is the JSON's evidence: the abstract sentence behind each claim of the item.
    assert m["texts"] == [[c["support"] for c in i["evidence"] if c["support"]]
                          for i in data["items"]]
    assert m["right"] <= 360 and m["scrollWidth"] <= m["clientWidth"]
    assert m["minFont"] >= 16
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        # The README's picture of an opened item: the page with its first sources open.
        page = (out / f"{DEMO.id}.html").read_text()
        opened = out / "opened.html"
        opened.write_text(page.replace('<details class="sources">', '<details class="sources" '
                                       'open>', 1))
        shot = tmp_path / "sources.png"
        _chromium("--window-size=390,844", f"--screenshot={shot}", opened.as_uri())
        shutil.copy(shot, REPO / "docs" / "phone-sources.png")
