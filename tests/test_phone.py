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
