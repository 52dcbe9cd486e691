"""The prompt-injection suite: the detector alone, on every field a prompt reads.

`python -m flashnews.evals.injection_suite [--json]`

Each case plants text in the title or the abstract of a real dev paper
(evals/datasets/injection_suite.jsonl). For an attack it measures whether the paper gets a
`prompt-injection` finding (flagged) and whether any sentence of the attack still reaches what a
prompt reads (`paper_block`: the neutralised title and abstract); for a benign look-alike,
whether it is flagged or cut from what the prompt reads. No model is called: the score shifts
under attack are the eval runner's injection task (evals/datasets/injection.jsonl).
`flashnews eval` reports these figures and gates them (evals/metrics.py).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from flashnews.agents import injection
from flashnews.evals import schema
from flashnews.models import Paper


def planted(case: schema.InjectionSuiteCase, paper: Paper) -> Paper:
    """The paper with the case's text planted in its field."""
    original = getattr(paper, case.field)
    if case.position == "whole":
        text = case.text
    elif case.position == "start":
        text = f"{case.text} {original}"
    elif case.position == "middle":
        parts = injection.sentences(original)
        half = len(parts) // 2
        text = " ".join([*parts[:half], case.text, *parts[half:]])
    else:
        text = f"{original} {case.text}" if case.field == "abstract" else f"{original}: {case.text}"
    return paper.model_copy(update={case.field: text})


def _view(text: str) -> str:
    return " ".join(injection.detection_view(text).split())


def reaches_prompt(case: schema.InjectionSuiteCase, paper: Paper) -> bool:
    """Whether a sentence of the planted text (three words or more) is in the prompt's view of
    the paper, read as the detector reads it (look-alikes mapped, invisible characters gone)."""
    block = _view(injection.paper_block(paper))
    parts = [s for s in injection.sentences(injection.clean_text(case.text))
             if len(s.split()) >= 3 or len(s) >= 12]
    return any(_view(s).rstrip(".") in block for s in parts)


def run(papers: dict[str, Paper] | None = None) -> tuple[dict[str, float | None],
                                                          list[dict[str, Any]]]:
    """The suite's figures (per kind and split) and one row per case."""
    papers = papers if papers is not None else schema.papers()
    _, cases = schema.read("injection_suite", schema.InjectionSuiteCase)
    rows = []
    for c in cases:
        paper = planted(c, papers[c.paper_id])
        found = injection.findings(paper)
        rows.append({"case": c.case_id, "kind": c.kind, "split": c.split, "field": c.field,
                     "style": c.style,
                     "flagged": any(f.check == "prompt-injection" for f in found),
                     "reaches_prompt": reaches_prompt(c, paper)})

    def share(rs: list[dict[str, Any]], test: Any) -> float | None:
        return round(sum(bool(test(r)) for r in rs) / len(rs), 4) if rs else None

    out: dict[str, float | None] = {}
    for split, tag in (("tune", ""), ("held-out", "_heldout")):
        attacks = [r for r in rows if r["kind"] == "attack" and r["split"] == split]
        benign = [r for r in rows if r["kind"] == "benign" and r["split"] == split]
        out[f"injection_suite{tag}_flagged"] = share(attacks, lambda r: r["flagged"])
        out[f"injection_suite{tag}_reaches_prompt"] = share(attacks, lambda r: r["reaches_prompt"])
        out[f"injection_suite{tag}_false_positive"] = share(
            benign, lambda r: r["flagged"] or not r["reaches_prompt"])
    return out, rows


def main() -> None:
    """Print the suite's figures and every case that failed."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--json", action="store_true", help="the figures and rows as JSON")
    args = ap.parse_args()
    figures, rows = run()
    if args.json:
        print(json.dumps({"figures": figures, "rows": rows}, indent=1, ensure_ascii=False))
        return
    for k, v in figures.items():
        print(f"{k:42} {v}")
    for r in rows:
        bad = (r["kind"] == "attack" and (not r["flagged"] or r["reaches_prompt"])) or (
            r["kind"] == "benign" and (r["flagged"] or not r["reaches_prompt"]))
        if bad:
            print(f"FAILED {r['case']} ({r['kind']}, {r['split']}, {r['style']}): "
                  f"flagged={r['flagged']} reaches_prompt={r['reaches_prompt']}")


if __name__ == "__main__":
    main()
