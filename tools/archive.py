"""The archive page: `index.html` in the output dir, every edition published there, newest
first, with a search box that works offline (opened from disk, no server, no network).

The page carries its own search index as a JSON island (one entry per published item and
correction note: title, headline and text, Score, the edition and both links) and a small
script that ranks entries by words: every query word (stemmed the same way on both sides) must
occur, weighted by how rare it is and doubled in a title; when no entry holds every word, any.
Meaning search needs the embedding model, which a static page cannot run: `flashnews search`,
LangGraph Server's and the MCP server's search add it. Editor notes are not on the page: they
are the newsroom's, not the readers'.

The page is rewritten whenever the html channel delivers. Entries of editions another data
dir published to the same folder are kept (read back from the page's own island), like the
feeds keep theirs.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from flashnews.text.grounding import TITLE
from flashnews.tools.publish import PAGE_HEAD

ARCHIVE_NAME = "index.html"
_ISLAND = re.compile(r'<script type="application/json" id="archive-index">(.*?)</script>', re.S)


def entries(pub: Any) -> list[dict[str, Any]]:
    """The search entries of one publication (a tools/publish.py Publication)."""
    page = f"{pub.edition_id}.html"
    base = {"edition": pub.edition_id, "date": pub.date, "format": pub.format, "page": page}
    out = [{**base, "paper": it.arxiv_id, "title": it.title, "link": it.link,
            "score": it.score, "text": " ".join(x for x in (it.headline, it.body) if x)}
           for it in pub.items]
    out += [{**base, "paper": None, "title": f"Correction to {pub.edition_id}", "link": page,
             "score": None, "text": c.note} for c in pub.corrections]
    return out


def _old_entries(old: str | None) -> list[dict[str, Any]]:
    if not old:
        return []
    m = _ISLAND.search(old)
    if not m:
        return []
    try:
        data = json.loads(html.unescape(m.group(1)))
    except json.JSONDecodeError:
        return []  # a page that is not ours, or a damaged one: replaced
    return [e for e in data.get("entries", []) if isinstance(e, dict) and "edition" in e]


def render_archive(pubs: list[Any], old: str | None = None) -> str:
    """The archive page for these publications (and the entries of `old`'s other editions)."""
    mine = {p.edition_id for p in pubs}
    kept = [e for e in _old_entries(old) if e["edition"] not in mine]
    items = [e for p in pubs for e in entries(p)] + kept
    items.sort(key=lambda e: (e["date"], e["edition"]), reverse=True)
    editions: dict[str, dict[str, Any]] = {}
    for e in items:
        editions.setdefault(e["edition"], {"date": e["date"], "format": e["format"],
                                           "page": e["page"], "titles": []})
        if e["paper"]:
            editions[e["edition"]]["titles"].append(e["title"])
    rows = "\n".join(
        f'<li><a href="{html.escape(ed["page"])}">{html.escape(eid)}</a> '
        f'<span class="n">{len(ed["titles"])} papers</span>'
        f'<div class="t">{html.escape("; ".join(ed["titles"][:6]))}</div></li>'
        for eid, ed in editions.items())
    # "</" inside the island would end the script element: escape it (JSON stays valid).
    island = json.dumps({"version": 1, "entries": items}, ensure_ascii=False
                        ).replace("</", "<\\/")
    return _PAGE.format(title=html.escape(f"{TITLE} — archive"), rows=rows or
                        "<li>No edition published yet.</li>", island=island,
                        script=_SCRIPT, count=len(items))


_PAGE = PAGE_HEAD + """  h1 {{ font-size: 1.5rem; line-height: 1.25; margin: .5rem 0 1rem; }}
  a {{ color: #0b57d0; }}
  input[type=search] {{ width: 100%; box-sizing: border-box; font: inherit; padding: .5rem .6rem;
                       border: 1px solid #9aa0a6; border-radius: .3rem; }}
  #status {{ color: #5f6368; font-size: .9rem; margin: .4rem 0 0; }}
  ol#hits {{ padding-left: 1.3rem; }} ol#hits li {{ margin: .6rem 0; overflow-wrap: anywhere; }}
  .meta, .n, .t {{ color: #5f6368; font-size: .9rem; }}
  ul#editions {{ list-style: none; padding: 0; }} ul#editions li {{ margin: .7rem 0; }}
  mark {{ background: #fde293; color: inherit; }}
  @media (prefers-color-scheme: dark) {{
    body {{ color: #e8eaed; background: #121316; }} a {{ color: #8ab4f8; }}
    .meta, .n, .t, #status {{ color: #9aa0a6; }} mark {{ background: #5c4b00; }}
  }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
<form role="search" onsubmit="return false">
<label for="q">Search every published item</label>
<input type="search" id="q" name="q" autocomplete="off" placeholder="e.g. speculative decoding">
</form>
<p id="status" aria-live="polite">{count} entries</p>
<ol id="hits"></ol>
<h2>Editions</h2>
<ul id="editions">
{rows}
</ul>
</main>
<script type="application/json" id="archive-index">{island}</script>
<script>
{script}
</script>
</body>
</html>
"""

# Plain words only (no query syntax): split on anything but letters and digits, drop a few
# suffixes and a final "e" so "decoding" finds "decode" and "caches" "cache" (the same stemming
# on entries and query).
_SCRIPT = r"""
(function () {
  const data = JSON.parse(document.getElementById("archive-index").textContent).entries;
  const STOP = new Set(("a an and are as at be by for from has in is it of on or that the to was" +
                        " were with").split(" "));
  // Suffixes off, then a final "e": "caches" and "cache", "decoding" and "decode" meet.
  const stem = (w) => { const s = w.replace(/(ations?|ings?|edly|ed|es|s)$/, "").replace(/e$/, "");
                        return s.length >= 3 ? s : w; };
  const words = (t) => (t.toLowerCase().match(/[\p{L}\p{N}]+/gu) || []);
  const terms = (t) => { const all = words(t); const kept = all.filter((w) => !STOP.has(w));
                         return [...new Set((kept.length ? kept : all).map(stem))]; };
  const docs = data.map((e) => ({ e, title: terms(e.title), body: terms(e.title + " " + e.text) }));
  const df = new Map();
  for (const d of docs) for (const w of new Set(d.body)) df.set(w, (df.get(w) || 0) + 1);
  const idf = (w) => Math.log(1 + docs.length / (df.get(w) || 1));
  const ENT = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};
  const esc = (s) => s.replace(/[&<>"']/g, (c) => ENT[c]);
  function rank(q, all) {
    const qs = terms(q);
    if (!qs.length) return [];
    const out = [];
    for (const d of docs) {
      const body = new Set(d.body), title = new Set(d.title);
      const have = qs.filter((w) => body.has(w));
      if (!have.length || (all && have.length < qs.length)) continue;
      out.push([have.reduce((s, w) => s + idf(w) * (title.has(w) ? 2 : 1), 0), d.e]);
    }
    return out.sort((a, b) => b[0] - a[0] || (b[1].score || 0) - (a[1].score || 0));
  }
  function mark(text, q) {
    const qs = terms(q);
    return esc(text).replace(/[\p{L}\p{N}]+/gu,
                             (w) => qs.includes(stem(w.toLowerCase())) ? "<mark>" + w + "</mark>" : w);
  }
  function show(q) {
    const list = document.getElementById("hits"), status = document.getElementById("status");
    let hits = rank(q, true);
    if (!hits.length) hits = rank(q, false);
    list.innerHTML = hits.slice(0, 50).map(([, e]) =>
      '<li data-paper="' + esc(e.paper || "") + '" data-edition="' + esc(e.edition) + '">' +
      '<a href="' + esc(e.link) + '">' + mark(e.title, q) + "</a>" +
      '<div class="meta"><a href="' + esc(e.page) + '">' + esc(e.edition) + "</a>" +
      (e.score == null ? "" : " · Score " + e.score) + "</div>" +
      "<div>" + mark(e.text.slice(0, 240), q) + (e.text.length > 240 ? "…" : "") + "</div></li>").join("");
    status.textContent = !q.trim() ? data.length + " entries"
      : hits.length ? hits.length + " found" : "nothing found for \u201c" + q + "\u201d";
  }
  const box = document.getElementById("q");
  box.addEventListener("input", () => {
    show(box.value);
    history.replaceState(null, "", "?q=" + encodeURIComponent(box.value));
  });
  const start = new URLSearchParams(location.search).get("q");
  if (start) { box.value = start; show(start); }
})();
"""
