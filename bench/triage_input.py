"""How much of an abstract the yes/no triage questions need, measured on the real dev papers.

`python -m bench.triage_input [--chars 500 800]`: scores every dev paper with the embedded model's
relevance question, once on the whole abstract and once per cut-off (the abstract's first
sentences up to N characters), and reports ROC AUC of featured vs off-topic papers, Spearman
correlation with the editors' Score, and the prompt tokens and seconds each variant costs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from langchain_core.messages import HumanMessage, SystemMessage

from flashnews import prompts
from flashnews.agents.triage import _paper_vars, opening
from flashnews.config import Settings, eval_data_dir
from flashnews.evals.metrics import auc, spearman
from flashnews.tools.arxiv import demo_snapshot, read_snapshot
from flashnews.tools.llm import Models
from flashnews.tools.local_model import LocalServer, assemble
from flashnews.tools.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, nargs="+", default=[500, 800])
    parser.add_argument("--no-full", action="store_true", help="skip the whole-abstract variant")
    parser.add_argument("--refs", type=Path, default=eval_data_dir() / "data" / "references-dev.jsonl")
    args = parser.parse_args()
    papers = read_snapshot(demo_snapshot())
    refs = {}
    if args.refs.exists():
        refs = {r["arxiv_id"]: r["score"] for r in map(json.loads, args.refs.open())}
    prompt = prompts.load("triage")
    home = Path(tempfile.mkdtemp(prefix="flashnews-triage-input-"))
    store = Store(home / "flashnews.sqlite")
    model = assemble(Path.home() / ".cache" / "flashnews" / "models")
    variants: dict[str, dict[str, float]] = {}
    cost: dict[str, tuple[int, float]] = {}
    with LocalServer(model, log_path=home / "server.log") as server:
        settings = Settings(home=home, base_url=server.base_url, max_retries=0)
        models = Models(settings, store, "triage-input")
        system = SystemMessage(prompt.render("system"))
        for name in [*([] if args.no_full else ["full"]), *(str(c) for c in args.chars)]:
            scores, started = {}, time.monotonic()
            before = store.usage("triage-input")["total"].input_tokens
            for p in papers:
                v = _paper_vars(p)
                if name != "full":
                    v["abstract"] = opening(v["abstract"], int(name))
                scores[p.arxiv_id] = models.yes_no("triage", [system, HumanMessage(
                    prompt.render("relevance", **v))], prompt_hash=name)
            variants[name] = scores
            cost[name] = (store.usage("triage-input")["total"].input_tokens - before,
                          time.monotonic() - started)
    rows = []
    for name, scores in variants.items():
        pos = [scores[p.arxiv_id] for p in papers if p.label == "positive"]
        neg = [scores[p.arxiv_id] for p in papers if p.label == "negative"]
        ids = [i for i in refs if i in scores]
        rho = spearman([scores[i] for i in ids], [refs[i] for i in ids]) if ids else None
        area = auc(pos, neg)
        rows.append({"abstract": name,
                     "auc_featured_vs_offtopic": round(area, 3) if area is not None else None,
                     "spearman_vs_editor_score": round(rho, 3) if rho is not None else None,
                     "prompt_tokens": cost[name][0], "seconds": round(cost[name][1], 1)})
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
