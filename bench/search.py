"""Archive search over 1,000 published items: how long a query takes (`make bench-search`).

An archive of 200 flash editions of five items each is written to a fresh store from real
records (every paper of the real announcement days, then the curated beat list's titles): an
item's headline is its abstract's first sentence, its text the next two, and one claim per item
is indexed as triage's would be. It is indexed once on the packaged embedding model (the time
is reported), then each query of QUERIES is answered by words, by meaning and by both, in this
process with the model loaded (what LangGraph Server, the MCP server and a long-lived caller
see) and once through the CLI (a fresh process: start, load the model, answer).

Writes bench/search.json; `python -m bench.docs` puts its table in docs/search.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flashnews.config import Settings, eval_data_dir
from flashnews.models import Assessment, KeyClaim
from flashnews.tools.embeddings import load_embedder
from flashnews.tools.publish import Publication, PublishedItem
from flashnews.tools.search import SearchIndex
from flashnews.tools.store import Store

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "search.json"
ITEMS = 1000
PER_EDITION = 5
QUERIES = ["speculative decoding", "KV cache compression", "mixture of experts serving",
           "FPGA accelerator", "quantization of weights", "long context prefill",
           "reinforcement learning from human feedback", "diffusion language model",
           "energy efficient inference on edge devices", "protein folding",
           'foo AND ("bar" OR *', "state space models on several GPUs"]
RUNS = 5


def _records() -> list[dict[str, str]]:
    data = eval_data_dir()
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for day in sorted((data / "data" / "realday").glob("*.jsonl")):
        for line in day.read_text().splitlines():
            r = json.loads(line)
            if r["arxiv_id"] not in seen:
                seen.add(r["arxiv_id"])
                out.append({"id": r["arxiv_id"], "title": r["title"], "abstract": r["abstract"]})
    for line in (data / "data" / "beat" / "exemplars.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["arxiv_id"] not in seen:
            seen.add(r["arxiv_id"])
            out.append({"id": r["arxiv_id"], "title": r["title"],
                        "abstract": f"{r['title']}. A paper on {r['topic']}."})
    if len(out) < ITEMS:
        raise SystemExit(f"only {len(out)} records under {data}; need {ITEMS}")
    return out[:ITEMS]


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if s.strip()]


def build(store: Store, out_dir: str) -> int:
    """Write the archive: 200 editions, newest today; returns the items written."""
    records = _records()
    today = dt.date(2026, 2, 25)
    n = 0
    for e in range(ITEMS // PER_EDITION):
        date = (today - dt.timedelta(days=e)).isoformat()
        eid = f"{date}-flash"
        items = []
        for r in records[e * PER_EDITION:(e + 1) * PER_EDITION]:
            s = _sentences(r["abstract"]) or [r["title"]]
            items.append(PublishedItem(
                arxiv_id=r["id"], title=r["title"], link=f"https://arxiv.org/abs/{r['id']}",
                section="main", score=90 - n % 40, hype=50, headline=s[0][:200],
                body=" ".join(s[1:3])))
            store.cache_assessment(Assessment(
                paper_id=r["id"], relevant=True, score=80, hype=50, rationale="bench",
                key_claims=[KeyClaim(claim=s[-1], span=s[-1])], prompt_hash="bench",
                model="bench"))
            n += 1
        at = f"{date}T01:00:00+00:00"
        store.save_publication(Publication(edition_id=eid, date=date, format="flash",
                                           title="Bench", markdown="# Bench\n", items=items,
                                           published_at=at, updated_at=at), out_dir)
    return n


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="flashnews-bench-search-") as tmp:
        home = Path(tmp) / "home"
        os.environ["FLASHNEWS_HOME"] = str(home)
        settings = Settings(home=home)
        store = Store.open(settings)
        items = build(store, str(Path(tmp) / "out"))
        embedder = load_embedder(settings)
        t = time.perf_counter()
        embedder.embed(["warm up"])
        load = time.perf_counter() - t
        index = SearchIndex(store, embedder)
        t = time.perf_counter()
        index.sync()
        indexing = time.perf_counter() - t
        docs = index.store.search_version()[0]
        index.search("warm up")  # the vector matrix is read once per index change
        rows = []
        for by in ("words", "meaning", "both"):
            times: list[float] = []
            hits = 0
            for q in QUERIES:
                for _ in range(RUNS):
                    t = time.perf_counter()
                    found = index.search(q, by=by)
                    times.append(time.perf_counter() - t)
                hits += bool(found)
            times.sort()
            rows.append({"by": by, "queries": len(QUERIES) * RUNS, "distinct": len(QUERIES),
                         "with_hits": hits,
                         "median_ms": _ms(statistics.median(times)),
                         "p95_ms": _ms(times[int(0.95 * (len(times) - 1))]),
                         "max_ms": _ms(times[-1])})
        store.close()
        env = {**os.environ, "FLASHNEWS_HOME": str(home)}
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "flashnews", "search",
                               "speculative decoding", "--json"], env=env,
                              capture_output=True, text=True, check=False)
        cli = time.perf_counter() - t
        if done.returncode:
            raise SystemExit(done.stderr[-500:])
    result = {"items": items, "documents": docs, "editions": ITEMS // PER_EDITION,
              "model_load_s": round(load, 2), "indexing_s": round(indexing, 1),
              "cli_cold_s": round(cli, 2), "rows": rows,
              "cpus": os.cpu_count()}
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
