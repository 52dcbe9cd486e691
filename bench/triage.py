"""`make bench`: triage of a synthetic 1000-paper day against a stub endpoint with fixed latency.

Each row runs in its own process (so peak memory is that row's own) against one
OpenAI-compatible stub server on 127.0.0.1 that answers every call after 300 ms. Rows, all in
one run so they share the machine's state:
- naive: one model call per paper, sequentially, no rules, no cache (what digest bots do);
- flashnews generated: rules, then batches of papers per call, 4 calls in flight;
- flashnews logprob: rules, then two yes/no calls per surviving paper, 4 in flight;
- the same day again (assessment cache: must be zero calls);
- a full edition whose publish fails, then its resume (must be zero calls), and the bytes of
  checkpoint data that edition left.
The synthetic day repeats the real dev papers under new ids in a real day's proportions:
about 2.5% featured, 6.5% borderline, the rest off-topic.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flashnews.tools.arxiv import demo_snapshot, read_snapshot, write_snapshot
from rich.console import Console
from rich.table import Table

from flashnews.testing import StubServer

DAY_SIZE = 1000
MIX = {"positive": 25, "borderline": 65}  # the rest off-topic


def synthetic_day(path: Path, size: int = DAY_SIZE) -> dict[str, int]:
    """Real dev papers repeated under distinct ids in a real day's proportions."""
    papers = read_snapshot(demo_snapshot())
    by_label: dict[str, list] = {}
    for p in papers:
        by_label.setdefault(p.label or "negative", []).append(p)
    counts = {**MIX, "negative": size - sum(MIX.values())}
    out, n = [], 0
    for label, count in counts.items():
        pool = by_label[label]
        for i in range(count):
            n += 1
            src = pool[i % len(pool)]
            out.append(src.model_copy(update={"arxiv_id": f"9901.{n:05d}"}))
    write_snapshot(path, out)
    return counts


def row(mode: str, day: Path, home: Path, base_url: str) -> dict[str, object]:
    """Run one row in this process; print its measurements as JSON."""
    from flashnews.agents.triage import Triage, TriageBatch, _paper_vars
    from flashnews.tools.llm import Models
    from flashnews.tools.store import Store
    from langchain_core.messages import HumanMessage, SystemMessage

    from flashnews import prompts
    from flashnews.config import Settings

    papers = read_snapshot(day)
    scoring = "logprob" if mode == "logprob" else "generated"
    settings = Settings(home=home, base_url=base_url, model="stub", triage_scoring=scoring,
                        triage_batch=8, triage_concurrency=4, max_retries=0)
    store = Store(settings.db_path)
    models = Models(settings, store, f"bench-{mode}")
    before = store.usage(f"bench-{mode}")["total"]
    started = time.monotonic()
    if mode == "naive":
        prompt = prompts.load("triage")
        system = SystemMessage(prompt.render("system"))
        for p in papers:
            block = ('<paper id="{arxiv_id}">\nTitle: {title}\nCategories: {categories}\n'
                     'Abstract: {abstract}\n</paper>').format(**_paper_vars(p))
            models.structured("triage", TriageBatch, [system, HumanMessage(
                prompt.render("generated", papers=block))], prompt_hash="naive")
    else:
        Triage(models, store, settings).run(papers)
    seconds = time.monotonic() - started
    u = store.usage(f"bench-{mode}")["total"]
    return {"row": mode, "papers": len(papers), "calls": u.calls - before.calls,
            "input_tokens": u.input_tokens - before.input_tokens,
            "output_tokens": u.output_tokens - before.output_tokens, "seconds": round(seconds, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def edition_rows(day: Path, home: Path, base_url: str) -> list[dict[str, object]]:
    """A full edition on the day whose publish fails, its resume, and its checkpoint bytes."""
    from flashnews.config import Settings
    from flashnews.models import Edition
    from flashnews.service import EditionService

    settings = Settings(home=home, base_url=base_url, model="stub", triage_scoring="generated",
                        triage_batch=8, triage_concurrency=4, max_retries=0)
    service = EditionService(settings)
    edition = Edition(date=dt.date(2026, 3, 4), format="flash")
    blocker = home / "not-a-dir"
    blocker.write_text("x")
    started = time.monotonic()
    failed = service.run(edition, source=str(day), out_dir=blocker / "out")
    first = time.monotonic() - started
    assert failed.outcome == "failed" and failed.step == "publish", failed
    started = time.monotonic()
    done = service.run(edition, source=None, out_dir=home / "out", resume_only=True)
    resumed = time.monotonic() - started
    with sqlite3.connect(settings.db_path) as c:
        size = c.execute("SELECT SUM(LENGTH(checkpoint) + LENGTH(metadata)) FROM checkpoints"
                         " WHERE thread_id=?", (edition.id,)).fetchone()[0] or 0
        writes = c.execute("SELECT SUM(LENGTH(value)) FROM writes WHERE thread_id=?",
                           (edition.id,)).fetchone()[0] or 0
        stored = c.execute("SELECT COUNT(*), SUM(LENGTH(record)) FROM papers WHERE edition_id=?",
                           (edition.id,)).fetchone()
        # Each abstract is stored once, in the store's papers table, never in a checkpoint:
        # look for every abstract of the day in every checkpoint blob. (Openings alone do
        # appear: items and rationales quote them.)
        blobs = [bytes(r[0]) for r in c.execute(
            "SELECT checkpoint FROM checkpoints WHERE thread_id=? UNION ALL"
            " SELECT value FROM writes WHERE thread_id=?", (edition.id, edition.id))]
    abstracts = {p.abstract.encode() for p in service.store.papers(edition.id).values()}
    copies = sum(1 for b in blobs for a in abstracts if a in b)
    service.close()
    return [
        {"row": "edition, publish fails", "calls": failed.run_calls,
         "seconds": round(first, 2)},
        {"row": "resume after failed publish", "calls": done.run_calls,
         "seconds": round(resumed, 2), "outcome": done.outcome},
        {"row": "checkpoint bytes for the edition", "bytes": size + writes,
         "target_bytes": 20_000_000, "abstracts_in_checkpoints": copies,
         "papers_in_store": stored[0], "store_paper_bytes": stored[1]},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--day", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--skip-naive", action="store_true", help="skip the 5-minute baseline")
    parser.add_argument("--json", type=Path, default=Path("bench/results.json"))
    args = parser.parse_args()
    if args.row:  # a child process measuring one row
        if args.row == "edition":
            print(json.dumps(edition_rows(args.day, args.home, args.base_url)))
        else:
            print(json.dumps(row(args.row, args.day, args.home, args.base_url)))
        return

    console = Console()
    work = Path(tempfile.mkdtemp(prefix="flashnews-bench-"))
    day = work / "day.jsonl"
    mix = synthetic_day(day)
    console.print(f"synthetic day: {sum(mix.values())} papers {mix}; stub latency "
                  f"{args.latency * 1000:.0f} ms per call")
    results: list[dict[str, object]] = []
    with StubServer(latency=args.latency) as stub:
        def child(mode: str, home: Path) -> list[dict[str, object]]:
            cmd = [sys.executable, "-m", "bench.triage", "--row", mode, "--day", str(day),
                   "--home", str(home), "--base-url", stub.base_url]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                                 env={**os.environ, "FLASHNEWS_LOG_LEVEL": "ERROR"})
            data = json.loads(out.stdout.strip().splitlines()[-1])
            return data if isinstance(data, list) else [data]

        modes = ["generated", "logprob"] + ([] if args.skip_naive else ["naive"])
        for mode in modes:
            console.print(f"running {mode} …")
            results += child(mode, work / mode)
        again = child("generated", work / "generated")[0]
        again["row"] = "generated, same day again"
        results.append(again)
        results += child("edition", work / "edition")

    by = {r["row"]: r for r in results}
    table = Table(title=f"triage of a {sum(mix.values())}-paper day, stub endpoint "
                        f"{args.latency * 1000:.0f} ms/call")
    for col in ("row", "calls", "input tok", "output tok", "wall s", "peak RSS MB / bytes",
                "vs naive"):
        table.add_column(col, justify="right" if col != "row" else "left")
    naive = by.get("naive")
    for r in results:
        ratio = ""
        if naive and r.get("calls") and r["row"] in ("generated", "logprob"):
            ratio = (f"{naive['calls'] / r['calls']:.1f}x fewer calls, "  # type: ignore[operator]
                     f"{naive['seconds'] / r['seconds']:.1f}x less time")  # type: ignore[operator]
        table.add_row(str(r["row"]), str(r.get("calls", "")), str(r.get("input_tokens", "")),
                      str(r.get("output_tokens", "")), str(r.get("seconds", "")),
                      str(r.get("peak_rss_mb", r.get("bytes", ""))), ratio)
    console.print(table)
    ck = by["checkpoint bytes for the edition"]
    ok = ck["bytes"] < ck["target_bytes"] and ck["abstracts_in_checkpoints"] == 0  # type: ignore[operator]
    console.print(f"checkpoint data of the edition: {ck['bytes'] / 1e6:.2f} MB (target under "
                  f"{ck['target_bytes'] / 1e6:.0f} MB: {'met' if ok else 'MISSED'}); abstracts "  # type: ignore[operator]
                  f"stored once, in the store ({ck['papers_in_store']} papers, "
                  f"{ck['store_paper_bytes'] / 1e6:.2f} MB); copies in checkpoints: "  # type: ignore[operator]
                  f"{ck['abstracts_in_checkpoints']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"mix": mix, "latency": args.latency, "rows": results},
                                    indent=2) + "\n")
    console.print(f"results: {args.json}")


if __name__ == "__main__":
    main()
