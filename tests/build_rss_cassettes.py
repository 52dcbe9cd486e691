"""Build the RSS cassettes: arXiv's per-category RSS feeds, constructed from real records.
Run `python -m tests.build_rss_cassettes [--shared $FLASHNEWS_EVAL_DATA/data]`.

The 2026-02-25 feeds hold the real 2026-02-25 listing (shared/data/realday/2026-02-25.jsonl,
real ids, titles, abstracts, authors and categories, 284 papers); a paper is `new` in its
primary category's feed and `cross` in the others. Two `replace` items are real papers of the
2026-02-24 listing (realday/2026-02-24.jsonl) given a made-up v2. Envelopes and dates follow
the format arXiv's RSS feeds use.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

from flashnews.config import eval_data_dir
from flashnews.models import Paper
from flashnews.tools.arxiv import EASTERN
from flashnews.tools.rss import RSS_URL

OUT = Path(__file__).parent / "cassettes" / "arxiv"
CATEGORIES = ["cs.DC", "cs.LG", "cs.CL", "cs.AR", "cs.PF", "cs.AI", "cs.OS"]
DAY = dt.date(2026, 2, 25)


def item(p: Paper, kind: str, version: int = 1) -> str:
    when = format_datetime(dt.datetime.combine(DAY, dt.time(0), tzinfo=EASTERN))
    cats = "".join(f"\n      <category>{c}</category>" for c in p.categories)
    return f"""    <item>
      <title>{escape(p.title)}</title>
      <link>https://arxiv.org/abs/{p.arxiv_id}</link>
      <description>arXiv:{p.arxiv_id}v{version} Announce Type: {kind}
Abstract: {escape(p.abstract)}</description>
      <guid isPermaLink="false">oai:arXiv.org:{p.arxiv_id}v{version}</guid>{cats}
      <pubDate>{when}</pubDate>
      <arxiv:announce_type>{kind}</arxiv:announce_type>
      <dc:rights>http://arxiv.org/licenses/nonexclusive-distrib/1.0/</dc:rights>
      <dc:creator>{escape(", ".join(p.authors))}</dc:creator>
    </item>
"""


def feed(category: str, items: list[str], day: dt.date) -> str:
    when = format_datetime(dt.datetime.combine(day, dt.time(0), tzinfo=EASTERN))
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" \
version="2.0">
  <channel>
    <title>{category} updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/{category}</link>
    <description>{category} updates on the arXiv.org e-print archive.</description>
    <atom:link href="https://rss.arxiv.org/rss/{category}" rel="self" \
type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>{when}</lastBuildDate>
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <pubDate>{when}</pubDate>
    <skipDays>
      <day>Saturday</day>
      <day>Sunday</day>
    </skipDays>
{"".join(items)}  </channel>
</rss>
"""


def interaction(category: str, body: str) -> dict[str, object]:
    return {"request": {"body": None, "headers": {}, "method": "GET",
                        "uri": RSS_URL + category},
            "response": {"status": {"code": 200, "message": "OK"},
                         "headers": {"Content-Type": ["application/rss+xml; charset=utf-8"]},
                         "body": {"string": body}}}


def write(name: str, interactions: list[dict[str, object]]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.yaml").write_text(yaml.safe_dump(
        {"interactions": interactions, "version": 1}, allow_unicode=True, sort_keys=False))


def day_feeds(listing: list[Paper], replaced: list[Paper]) -> list[dict[str, object]]:
    out = []
    for cat in CATEGORIES:
        items = [item(p, "new" if p.primary_category == cat else "cross")
                 for p in listing if cat in p.categories]
        items += [item(p, "replace", version=2) for p in replaced if p.primary_category == cat]
        out.append(interaction(cat, feed(cat, items, DAY)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=eval_data_dir() / "data")
    args = parser.parse_args()
    listing = [Paper.model_validate(json.loads(line)) for line in
               (args.shared / "realday" / "2026-02-25.jsonl").open(encoding="utf-8")]
    before = [Paper.model_validate(json.loads(line)) for line in
              (args.shared / "realday" / "2026-02-24.jsonl").open(encoding="utf-8")]
    replaced = [p for p in before if p.primary_category in ("cs.DC", "cs.LG")][:2]
    days = day_feeds(listing, replaced)
    write("rss_day", days)
    write("rss_empty_working_day", [interaction(c, feed(c, [], DAY)) for c in CATEGORIES])
    write("rss_stale", [interaction(c, feed(c, [item(listing[0], "new")],
                                            DAY - dt.timedelta(days=1))) for c in CATEGORIES])
    # `flashnews fetch --source rss,arxiv`: the RSS feeds, then the export API's pages.
    api = yaml.safe_load((OUT / "day_three_pages.yaml").read_text())["interactions"]
    write("rss_and_api_day", [*days, *api])


if __name__ == "__main__":
    main()
