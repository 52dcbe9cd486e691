"""Write the figures that commands produce into the docs, between generated-block markers.

`python -m bench.docs` (`make docs`) rewrites each block from the file its command wrote:

- `eval-baseline` in docs/evals.md, from evals/baseline.json (`make eval-record` writes it);
- `bench` in docs/benchmarks.md, from bench/results.json (`make bench`, `make bench-embedded`);
- `search-bench` in docs/search.md, from bench/search.json (`make bench-search`);
- `demo-bulletin` in README.md, from docs/examples/2026-02-25-flash.md (`make demo`, then
  `make docs BULLETIN=editions/2026-02-25-flash.md` keeps that bulletin as the example).

`--check` changes nothing and exits 1 when a block differs from what its file gives (the docs
test runs it), so a figure edited by hand or left stale fails the tests.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from flashnews.evals.metrics import METRICS, compare
from flashnews.evals.report import tolerance_text, value_text

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "2026-02-25-flash.md"
ITEMS_SHOWN = 3


def _marker(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- BEGIN GENERATED {re.escape(name)} -->\n)(.*?)"
                      rf"(<!-- END GENERATED {re.escape(name)} -->)", re.S)


def eval_baseline(path: Path = REPO / "evals" / "baseline.json") -> str:
    """Every gated and reported metric of each model's full baseline, with what it means."""
    data = json.loads(path.read_text())
    out: list[str] = []
    for model, subsets in data["models"].items():
        full = subsets.get("full")
        if not full:
            continue
        values = full["metrics"]
        out += [f"Model `{model}`, every case (`--subset full`), replayed from its cassettes:",
                "", "| metric | baseline | allowed worsening | meaning |", "|---|---|---|---|"]
        for metric in METRICS:
            if values.get(metric.name) is None:
                continue
            row = compare(metric, values[metric.name], values[metric.name], comparable=True)
            out.append(f"| {metric.name} | {value_text(row.baseline)} | {tolerance_text(row)} "
                       f"| {metric.doc} |")
        out.append("")
    return "\n".join(out)


def bench(path: Path = REPO / "bench" / "results.json") -> str:
    """The triage benchmark's rows as `make bench` printed them."""
    data = json.loads(path.read_text())
    day = data["day"]
    out = [f"Triage of a real announcement day: {day['papers']} papers (listing {day['listing']}: "
           f"{day['listing_papers']}), {day['featured']} of them featured by the editors. "
           f"The whole run took {data['seconds'] / 60:.1f} min.", "",
           "| row | papers | model calls | input / output tokens | wall s | ranking s | model s "
           "| peak RSS MB (flashnews + model server) | featured asked |",
           "|---|---|---|---|---|---|---|---|---|"]
    dev = None
    for r in data["rows"]:
        if "calls" not in r:
            dev = r if "model_auc" in r else dev
            continue
        rss = f"{r.get('peak_rss_mb', '')}"
        if r.get("server_peak_rss_mb"):
            rss += f" + {r['server_peak_rss_mb']}"
        asked = f"{r['featured_asked']}/{r['featured']}" if "featured" in r else ""
        out.append(f"| {r['row']} | {r.get('papers', '')} | {r['calls']} | "
                   f"{r.get('input_tokens', '')} / {r.get('output_tokens', '')} | {r['seconds']} | "
                   f"{r.get('ranking_seconds', '')} | {r.get('model_seconds', '')} | {rss} | "
                   f"{asked} |")
    if dev:
        out += ["", f"The dev papers ({dev['papers']}, every stage on the embedded stack, "
                    f"{dev['seconds']} s): the model alone ranks featured above the rest at "
                    f"AUC {dev['model_auc']} (Spearman with the editors' Score {dev['model_spearman']}); "
                    f"the Score at AUC {dev['score_auc']} (Spearman {dev['score_spearman']}; in-sample: "
                    f"the seed ranker was fitted on these papers); Hype Spearman {dev['hype_spearman']}."]
    return "\n".join(out) + "\n"


def demo_bulletin(path: Path = EXAMPLE) -> str:
    """The head of the demo edition's bulletin: title, date, lead and the first items."""
    text = path.read_text()
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    items = [k for k, p in enumerate(paragraphs) if "Score: " in p]
    cut = items[ITEMS_SHOWN - 1] + 1 if len(items) >= ITEMS_SHOWN else len(paragraphs)
    shown = "\n\n".join(paragraphs[:cut])
    rest = text.count("Score: ") - shown.count("Score: ")
    more = f"\n\n… and {rest} more items ({path.relative_to(REPO)})" if rest else ""
    return f"```markdown\n{shown}{more}\n```\n"


def search_bench(path: Path = REPO / "bench" / "search.json") -> str:
    """The archive search benchmark (bench/search.py) as a table."""
    d = json.loads(path.read_text())
    out = [f"{d['items']} published items in {d['editions']} editions ({d['documents']} search "
           f"documents), {d['cpus']} cores. Indexing them once on the embedding model: "
           f"{d['indexing_s']} s (model load {d['model_load_s']} s). One query through the CLI, "
           f"a fresh process that loads the model: {d['cli_cold_s']} s.", "",
           "| match by | answers timed | queries with hits | median | p95 | max |",
           "|---|---|---|---|---|---|"]
    out += [f"| {r['by']} | {r['queries']} | {r['with_hits']} of {r['distinct']} | "
            f"{r['median_ms']} ms | {r['p95_ms']} ms | {r['max_ms']} ms |" for r in d["rows"]]
    return "\n".join(out) + "\n"


BLOCKS: dict[str, tuple[Path, Callable[[], str]]] = {
    "search-bench": (REPO / "docs" / "search.md", search_bench),
    "eval-baseline": (REPO / "docs" / "evals.md", eval_baseline),
    "bench": (REPO / "docs" / "benchmarks.md", bench),
    "demo-bulletin": (REPO / "README.md", demo_bulletin),
}


def render(name: str) -> tuple[Path, str, str]:
    """The doc holding block `name`, its text now, and its text with the block regenerated."""
    doc, make = BLOCKS[name]
    text = doc.read_text()
    pattern = _marker(name)
    if not pattern.search(text):
        raise SystemExit(f"{doc.relative_to(REPO)} has no generated block {name!r}")
    new = pattern.sub(lambda m: m.group(1) + make() + m.group(3), text, count=1)
    return doc, text, new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="Change nothing; exit 1 when a block is stale.")
    parser.add_argument("--bulletin", type=Path,
                        help="Keep this bulletin as the demo example first (after make demo).")
    args = parser.parse_args(argv)
    if args.bulletin:
        EXAMPLE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.bulletin, EXAMPLE)
    stale = []
    for name in BLOCKS:
        doc, old, new = render(name)
        if old == new:
            continue
        stale.append(f"{doc.relative_to(REPO)} ({name})")
        if not args.check:
            doc.write_text(new)
    if args.check and stale:
        print("stale generated blocks: " + ", ".join(stale) + "; run make docs", file=sys.stderr)
        return 1
    print(("rewrote: " + ", ".join(stale)) if stale else "every generated block is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
