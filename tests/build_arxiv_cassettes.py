"""Build the arXiv cassettes: constructed API responses (Atom, as the export API sends them)
from the real records of the bundled dev snapshot. Run `python -m tests.build_arxiv_cassettes`.

They are constructed, not recorded (arXiv is not reachable here): every title, abstract, author
and id is real; the envelopes, page splits and failures are made to the API's documented format.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

from flashnews.models import Paper
from flashnews.tools.arxiv import ArxivSource, announcement_window, demo_snapshot, read_snapshot

OUT = Path(__file__).parent / "cassettes" / "arxiv"
DAY = dt.date(2026, 2, 25)
CATEGORIES = ["cs.DC", "cs.LG", "cs.CL", "cs.AR", "cs.PF", "cs.AI", "cs.OS"]
PAGE = 12


def source(page_size: int = PAGE) -> ArxivSource:
    return ArxivSource(CATEGORIES, page_size=page_size, delay=0, backoff=0, retries=2)


def entry(p: Paper, version: int | None = None) -> str:
    v = version or p.version
    when = f"{(p.submitted or DAY).isoformat()}T16:00:00Z"
    cats = "".join(f'\n    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>'
                   for c in p.categories)
    prim = (f'\n    <arxiv:primary_category term="{p.primary_category}" '
            'scheme="http://arxiv.org/schemas/atom"/>' if p.primary_category else "")
    authors = "".join(f"\n    <author><name>{escape(a)}</name></author>" for a in p.authors)
    return f"""  <entry>
    <id>http://arxiv.org/abs/{p.arxiv_id}v{v}</id>
    <updated>{when}</updated>
    <published>{when}</published>
    <title>{escape(p.title)}</title>
    <summary>{escape(p.abstract)}</summary>{authors}
    <link href="http://arxiv.org/abs/{p.arxiv_id}v{v}" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{p.arxiv_id}v{v}" rel="related"
      type="application/pdf"/>{prim}{cats}
  </entry>
"""


def feed(entries: list[str], total: int, start: int) -> str:
    ns = 'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <id>https://arxiv.org/api/constructed</id>
  <title>arXiv Query: constructed from real records</title>
  <updated>2026-02-25T00:00:00-05:00</updated>
  <opensearch:itemsPerPage {ns}>{PAGE}</opensearch:itemsPerPage>
  <opensearch:totalResults {ns}>{total}</opensearch:totalResults>
  <opensearch:startIndex {ns}>{start}</opensearch:startIndex>
{"".join(entries)}</feed>
"""


def interaction(uri: str, status: int, body: str, headers: dict[str, list[str]] | None = None
                ) -> dict[str, object]:
    return {"request": {"body": None, "headers": {}, "method": "GET", "uri": uri},
            "response": {"status": {"code": status, "message": {200: "OK", 429: "Too Many "
                                    "Requests", 503: "Service Unavailable"}.get(status, "")},
                         "headers": {"Content-Type": ["application/atom+xml; charset=UTF-8"],
                                     **(headers or {})},
                         "body": {"string": body}}}


def write(name: str, interactions: list[dict[str, object]]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.yaml").write_text(yaml.safe_dump(
        {"interactions": interactions, "version": 1}, allow_unicode=True, sort_keys=False))


def main() -> None:
    papers = read_snapshot(demo_snapshot())
    src = source()
    window = announcement_window(DAY)
    assert window
    query = src.query(*window)
    url = lambda start: src.page_url(query, start)  # noqa: E731
    # A cross-listed paper comes back once per listing: CHESS appears on pages 1 and 3.
    listed = [entry(p) for p in papers]
    listed.insert(30, entry(papers[13]))
    total = len(listed)
    pages = [listed[i:i + PAGE] for i in range(0, total, PAGE)]
    day = [interaction(url(i * PAGE), 200, feed(page, total, i * PAGE))
           for i, page in enumerate(pages)]
    write("day_three_pages", day)
    write("rate_limit_then_ok", [interaction(url(0), 429, "Rate exceeded.",
                                             {"Retry-After": ["7"]}), *day])
    write("unavailable_until_rate_limited",
          [interaction(url(0), 503, "Service Unavailable") for _ in range(3)])
    truncated = feed(pages[0], total, 0)[:2500]
    write("malformed_xml", [interaction(url(0), 200, truncated)])
    write("api_error", [interaction(url(0), 200, feed([
        '  <entry>\n    <id>http://arxiv.org/api/errors#incorrect_id_format</id>\n'
        '    <title>Error</title>\n    <summary>incorrect id format for 2602.x</summary>\n'
        '    <updated>2026-02-25T00:00:00-05:00</updated>\n'
        '    <published>2026-02-25T00:00:00-05:00</published>\n  </entry>\n'], 1, 0))])
    write("empty_weekday", [interaction(url(0), 200, feed([], 0, 0))])
    # The next day's listing carries a v2 of CHESS, already featured on 2026-02-25.
    nxt = dt.date(2026, 2, 26)
    window2 = announcement_window(nxt)
    assert window2
    q2 = src.query(*window2)
    chess = next(p for p in papers if p.arxiv_id == "2602.20732")
    others = [entry(p) for p in papers[:16] if p.arxiv_id != chess.arxiv_id]
    next_day = interaction(src.page_url(q2, 0), 200, feed(
        [entry(chess, version=2), *others], 1 + len(others), 0))
    write("next_day_with_v2", [next_day])
    # Catching up from 2026-02-25: Thursday's listing, then an empty Friday.
    window3 = announcement_window(dt.date(2026, 2, 27))
    assert window3
    write("catch_up_thu_fri", [next_day, interaction(src.page_url(src.query(*window3), 0), 200,
                                                     feed([], 0, 0))])


if __name__ == "__main__":
    main()
