"""`make bench`: triage of a real arXiv day, on a token-priced stub endpoint and on the embedded stack.

The day is the real 2026-02-25 edition's day: the arXiv listings of 2026-02-24 and 2026-02-25 in
the beat's categories, 837 papers, 16 of them featured by the editors (evals/datasets/realday,
built from $FLASHNEWS_EVAL_DATA/data/realday). Each row runs in its own process, so its peak memory is its
own; all rows run in one `make bench`.

Stub endpoint rows (an OpenAI-compatible stub on 127.0.0.1 whose every call takes
0.3 s + input tokens / 5,000 per s + output tokens / 50 per s, so a call costs what its tokens
cost and batching is not free):
- naive: one yes/no call per paper on its whole abstract, sequentially, no ranking, no cache;
- flashnews, endpoint default (generated): ranking stage, the top K in batches of 8, 4 in flight;
- flashnews, yes/no logprob: ranking stage, one question per top-K paper, 4 in flight;
- the same day again: no model call and no embedding (both cached);
- a full edition of the day whose publish fails, its resume (no model call), and the checkpoint
  bytes that edition left.
Embedded-stack rows (the real llama.cpp server with Qwen2.5-Coder-1.5B, 2 cores, server start
included; `--embedded-only` runs only these, `make bench-embedded`):
- the whole day: wall time, calls, tokens, peak RSS of flashnews and of the model server, and
  the featured papers among the candidates the model was asked about;
- one listing (2026-02-25, 284 papers);
- the labelled dev papers: AUC and Spearman per stage (ranking alone, model alone on what it is
  asked about, combined; the Score in-sample: `flashnews eval` cross-validates it) on the same
  stack.
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
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

from flashnews.testing import StubServer
from flashnews.tools.arxiv import write_snapshot

LATENCY = (0.3, 5000.0, 50.0)
"""The stub's latency model: seconds per call, input tokens per s, output tokens per s."""
LISTING = "2026-02-25"


def real_day(work: Path) -> tuple[Path, Path, list[str]]:
    """The bench day and its 2026-02-25 listing as snapshots, and the featured ids."""
    from flashnews.evals import schema

    _, cases = schema.read("realday", schema.RealdayCase)
    day, listing = work / "day.jsonl", work / "listing.jsonl"
    write_snapshot(day, [c.paper for c in cases])
    write_snapshot(listing, [c.paper for c in cases if c.listing == LISTING])
    return day, listing, [c.paper.arxiv_id for c in cases if c.featured]


def _rss() -> dict[str, float]:
    mb = lambda who: round(resource.getrusage(who).ru_maxrss / 1024, 1)  # noqa: E731
    return {"peak_rss_mb": mb(resource.RUSAGE_SELF),
            "server_peak_rss_mb": mb(resource.RUSAGE_CHILDREN)}


def _settings(home: Path, base_url: str | None,
              scoring: Literal["auto", "logprob", "generated"]) -> Any:
    from flashnews.config import Settings

    if base_url is None:  # the embedded stack: flashnews starts its own model server
        return Settings(home=home, triage_scoring=scoring, max_retries=1,
                        request_timeout=600, local_start_timeout=900)
    return Settings(home=home, base_url=base_url, model="stub", triage_scoring=scoring,
                    triage_batch=8, triage_concurrency=4, max_retries=0)


def row(mode: str, day: Path, home: Path, base_url: str | None,
        featured: list[str]) -> dict[str, object]:
    """Run one row in this process; its measurements."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from flashnews import prompts
    from flashnews.agents.triage import Triage, _paper_vars
    from flashnews.tools.arxiv import read_snapshot
    from flashnews.tools.llm import Models
    from flashnews.tools.store import Store

    papers = read_snapshot(day)
    scoring: Literal["generated", "logprob"] = "generated" if mode == "generated" else "logprob"
    settings = _settings(home, base_url, scoring)
    store = Store(settings.db_path)
    models = Models(settings, store, f"bench-{mode}")
    before = store.usage(f"bench-{mode}")["total"]
    started = time.monotonic()
    stats: dict[str, object] = {}
    try:
        if mode == "naive":
            prompt = prompts.load("triage")
            system = SystemMessage(prompt.render("system"))
            for p in papers:
                models.yes_no("triage", [system, HumanMessage(
                    prompt.render("relevance", **_paper_vars(p)))], prompt_hash="naive")
        else:
            triage = Triage(models, store, settings)
            out = triage.run(papers)
            stats = dict(triage.stats)
            asked = {pid for pid, a in out.items() if a.method in ("logprob", "generated")}
            found = [i for i in featured if i in out]
            stats |= {"featured": len(found),
                      "featured_asked": sum(i in asked for i in found),
                      "featured_missed": sorted((int(out[i].signals.get("rank", 0)), i)
                                                for i in found if i not in asked)}
    finally:
        models.close()
    seconds = time.monotonic() - started
    u = store.usage(f"bench-{mode}")["total"]
    return {"row": mode, "papers": len(papers), "calls": u.calls - before.calls,
            "input_tokens": u.input_tokens - before.input_tokens,
            "output_tokens": u.output_tokens - before.output_tokens,
            "seconds": round(seconds, 2), **_rss(), **stats}


def dev_row(home: Path) -> dict[str, object]:
    """The labelled dev papers on the embedded stack: AUC and Spearman per stage."""
    from flashnews.agents.triage import Triage
    from flashnews.evals import metrics as m
    from flashnews.evals import schema
    from flashnews.tools.llm import Models
    from flashnews.tools.store import Store

    settings = _settings(home, None, "logprob")
    papers = schema.papers()
    _, labels = schema.read("triage", schema.TriageCase)
    day = [papers[c.paper_id] for c in labels]
    store = Store(settings.db_path)
    models = Models(settings, store, "bench-dev")
    started = time.monotonic()
    try:
        triage = Triage(models, store, settings, ask_all=True, history=[
            papers[c.paper_id] for c in labels if c.label == "positive"])
        got = triage.run(day)
    finally:
        models.close()
    pos = [got[c.paper_id] for c in labels if c.label == "positive"]
    neg = [got[c.paper_id] for c in labels if c.label == "negative"]
    refs = [(got[c.paper_id], c.ref_score, c.ref_hype) for c in labels if c.ref_score is not None]
    r = lambda x: None if x is None else round(x, 3)  # noqa: E731
    # In-sample: the packaged seed ranker was fitted on these papers (the cross-validated
    # figures are `flashnews eval`'s); the model's own figures are not fitted at all.
    return {"row": "dev papers, per stage (Score in-sample)", "papers": len(day),
            "seconds": round(time.monotonic() - started, 2),
            "model_auc": r(m.auc([a.signals["model"] for a in pos],
                                 [a.signals["model"] for a in neg])),
            "model_spearman": r(m.spearman([a.signals["model"] for a, _, _ in refs],
                                           [float(s) for _, s, _ in refs])),
            "score_auc": r(m.auc([a.score for a in pos], [a.score for a in neg])),
            "score_spearman": r(m.spearman([a.score for a, _, _ in refs],
                                           [float(s) for _, s, _ in refs])),
            "hype_spearman": r(m.spearman([a.hype for a, _, h in refs if h is not None],
                                          [float(h) for _, _, h in refs if h is not None])),
            **_rss()}


def edition_rows(day: Path, home: Path, base_url: str) -> list[dict[str, object]]:
    """A full edition on the day whose publish fails, its resume, and its checkpoint bytes."""
    from flashnews.models import Edition
    from flashnews.service import EditionService

    settings = _settings(home, base_url, "generated")
    service = EditionService(settings)
    edition = Edition(date=dt.date(2026, 3, 4), format="flash")
    blocker = home / "not-a-dir"
    blocker.parent.mkdir(parents=True, exist_ok=True)
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


def _child(args: list[str], env: dict[str, str] | None = None) -> list[dict[str, object]]:
    cmd = [sys.executable, "-m", "bench.triage", *args]
    out = subprocess.run(cmd, capture_output=True, text=True,
                         env={**os.environ, "FLASHNEWS_LOG_LEVEL": "ERROR", **(env or {})})
    if out.returncode != 0:
        raise SystemExit(f"bench row {args[1]} failed:\n{out.stderr[-3000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data if isinstance(data, list) else [data]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--day", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--featured", default="", help=argparse.SUPPRESS)
    parser.add_argument("--skip-naive", action="store_true", help="skip the naive baseline")
    parser.add_argument("--embedded-only", action="store_true",
                        help="only the embedded-stack rows (make bench-embedded)")
    parser.add_argument("--stub-only", action="store_true", help="only the stub-endpoint rows")
    parser.add_argument("--budget", nargs=2, type=float, metavar=("SECONDS", "K"),
                        help="only the embedded whole-day row, under FLASHNEWS_TRIAGE_SECONDS="
                             "SECONDS with FLASHNEWS_TRIAGE_MODEL_PAPERS=K")
    parser.add_argument("--json", type=Path, default=Path("bench/results.json"))
    args = parser.parse_args()
    if args.row:  # a child process measuring one row
        featured = [i for i in args.featured.split(",") if i]
        if args.row == "edition":
            print(json.dumps(edition_rows(args.day, args.home, args.base_url)))
        elif args.row == "dev":
            print(json.dumps(dev_row(args.home)))
        else:
            print(json.dumps(row(args.row, args.day, args.home, args.base_url or None,
                                 featured)))
        return

    console = Console()
    work = Path(tempfile.mkdtemp(prefix="flashnews-bench-"))
    day, listing, featured = real_day(work)
    n_day = sum(1 for _ in day.open())
    n_listing = sum(1 for _ in listing.open())
    feat = ",".join(featured)
    console.print(f"real day: {n_day} papers (listings 2026-02-24 and {LISTING}), "
                  f"{len(featured)} featured; stub endpoint: {LATENCY[0]:.1f} s + input tokens / "
                  f"{LATENCY[1]:,.0f} per s + output tokens / {LATENCY[2]:.0f} per s per call")
    results: list[dict[str, Any]] = []
    started = time.monotonic()
    if args.budget:
        secs, k = args.budget[0], int(args.budget[1])
        name = f"embedded, whole day, budget {secs:g} s, K = {k}"
        console.print(f"running {name} (the real local model) …")
        got = _child(["--row", "embedded", "--day", str(day), "--home",
                      str(work / "budget"), "--featured", feat],
                     env={"FLASHNEWS_TRIAGE_SECONDS": str(secs),
                          "FLASHNEWS_TRIAGE_MODEL_PAPERS": str(k)})
        got[0]["row"] = name
        results.extend(got)
    elif not args.embedded_only:
        with StubServer(latency=LATENCY[0], input_tokens_per_s=LATENCY[1],
                        output_tokens_per_s=LATENCY[2]) as stub:
            def stub_row(mode: str, home: Path, name: str | None = None) -> None:
                console.print(f"running {name or mode} …")
                got = _child(["--row", mode, "--day", str(day), "--home", str(home),
                              "--base-url", stub.base_url, "--featured", feat])
                if name:
                    got[0]["row"] = name
                results.extend(got)

            if not args.skip_naive:
                stub_row("naive", work / "naive")
            # generated and logprob share a data dir: the second reuses the first's embeddings
            # (its `embedded` count says so); their model caches are keyed apart.
            stub_row("generated", work / "stub")
            stub_row("logprob", work / "stub")
            stub_row("logprob", work / "stub", "logprob, same day again")
            console.print("running edition …")
            results += _child(["--row", "edition", "--day", str(day), "--home",
                               str(work / "edition"), "--base-url", stub.base_url])
    if not args.stub_only and not args.budget:
        for name, snap in (("embedded, whole day", day), (f"embedded, listing {LISTING}",
                                                         listing)):
            console.print(f"running {name} (the real local model) …")
            got = _child(["--row", "embedded", "--day", str(snap), "--home",
                          str(work / name.replace(" ", "-").replace(",", "")), "--featured",
                          feat])
            got[0]["row"] = name
            results.extend(got)
        console.print("running dev papers per stage (the real local model) …")
        results += _child(["--row", "dev", "--home", str(work / "dev")])
    total = time.monotonic() - started
    _print(console, results, n_day, n_listing)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "day": {"papers": n_day, "listing": LISTING, "listing_papers": n_listing,
                "featured": len(featured)},
        "stub_latency": {"seconds_per_call": LATENCY[0], "input_tokens_per_s": LATENCY[1],
                         "output_tokens_per_s": LATENCY[2]},
        "seconds": round(total, 1), "rows": results}, indent=2) + "\n")
    console.print(f"results: {args.json} ({total / 60:.1f} min in all)")


def _print(console: Console, results: list[dict[str, Any]], n_day: int,
           n_listing: int) -> None:
    by = {str(r["row"]): r for r in results}
    table = Table(title=f"triage of a real day ({n_day} papers; one listing: {n_listing})")
    for col in ("row", "calls", "input tok", "output tok", "wall s", "peak RSS MB", "asked",
                "featured asked", "vs naive"):
        table.add_column(col, justify="left" if col == "row" else "right")
    naive = by.get("naive")
    for r in results:
        if r["row"] in ("checkpoint bytes for the edition", "dev papers, per stage"):
            continue
        ratio = ""
        if naive and r.get("calls") and str(r["row"]) in ("generated", "logprob"):
            ratio = (f"{naive['calls'] / r['calls']:.1f}x fewer calls, "
                     f"{naive['seconds'] / r['seconds']:.1f}x less time")
        rss = r.get("peak_rss_mb", "")
        if str(r["row"]).startswith("embedded"):
            rss = f"{rss} + server {r.get('server_peak_rss_mb')}"
        asked = r.get("candidates", "")
        fa = (f"{r['featured_asked']}/{r['featured']}" if "featured" in r else "")
        table.add_row(str(r["row"]), str(r.get("calls", "")), str(r.get("input_tokens", "")),
                      str(r.get("output_tokens", "")), str(r.get("seconds", "")), str(rss),
                      str(asked), fa, ratio)
    console.print(table)
    dev = by.get("dev papers, per stage (Score in-sample)")
    if dev:
        console.print(
            f"dev papers ({dev['papers']}, embedded stack): model alone AUC {dev['model_auc']} "
            f"/ Spearman {dev['model_spearman']}; Score (in-sample: the seed ranker was fitted "
            f"on them) AUC {dev['score_auc']} / Spearman {dev['score_spearman']}; Hype "
            f"Spearman {dev['hype_spearman']}")
    ck = by.get("checkpoint bytes for the edition")
    if ck:
        ok = ck["bytes"] < ck["target_bytes"] and ck["abstracts_in_checkpoints"] == 0
        console.print(f"checkpoint data of the edition: {ck['bytes'] / 1e6:.2f} MB (target "
                      f"under {ck['target_bytes'] / 1e6:.0f} MB: {'met' if ok else 'MISSED'}); "
                      f"abstracts stored once, in the store ({ck['papers_in_store']} papers, "
                      f"{ck['store_paper_bytes'] / 1e6:.2f} MB); copies in checkpoints: "
                      f"{ck['abstracts_in_checkpoints']}")
    for r in results:
        if str(r["row"]).startswith("embedded") and r.get("featured_missed"):
            console.print(f"{r['row']}: featured papers not asked (rank, id): "
                          f"{r['featured_missed']}")


if __name__ == "__main__":
    main()
