"""Fit and measure the prompt-injection sentence classifier (agents/injection.py).

`python -m flashnews.evals.injection_fit [--shared $FLASHNEWS_EVAL_DATA/data] [--fit]`

- fit (with `--fit`): a logistic regression (L2, classes balanced) over the classifier's
  features, on the `tune` split of the injection dataset (attack sentences: positives; benign
  look-alikes: negatives) and on every sentence of real abstracts that carry no injection (the
  31 dev papers and the 2026-02-24 real listing (553 abstracts)): negatives. It prints the weights to paste
  into agents/injection.py.
- measure (always): with the weights in agents/injection.py, the share of attacks flagged and
  of benign look-alikes flagged or cut, per split, and the share of real abstracts (and of
  their sentences) that lose anything, on the 2026-02-25 real listing (284 abstracts),
  which no fit or design step used.
The eval runner reports the same dataset figures with the model's score shifts (docs/evals.md).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from flashnews.agents import injection
from flashnews.config import eval_data_dir
from flashnews.evals import schema
from flashnews.models import Paper

# Attacks of these styles are handled by other parts of neutralising (the break-out cut, the
# keyword-list filter), not by the sentence classifier.
_NOT_SENTENCES = ("tags", "stuffing")


def _real_abstracts(path: Path) -> list[str]:
    return [json.loads(line)["abstract"] for line in path.open(encoding="utf-8") if line.strip()]


def _sentences(text: str) -> list[str]:
    return injection.sentences(injection.clean_text(text))


def training_set(shared: Path) -> tuple[list[dict[str, float]], list[int]]:
    _, cases = schema.read("injection", schema.InjectionCase)
    xs: list[dict[str, float]] = []
    ys: list[int] = []
    for c in cases:
        if c.split != "tune" or (c.kind == "attack" and c.style in _NOT_SENTENCES):
            continue
        for s in _sentences(c.injection):
            xs.append(injection.features(s))
            ys.append(int(c.kind == "attack"))
    abstracts = [p.abstract for p in schema.papers().values()]
    abstracts += _real_abstracts(shared / "realday" / "2026-02-24.jsonl")
    for a in abstracts:
        for s in _sentences(a):
            xs.append(injection.features(s))
            ys.append(0)
    return xs, ys


def fit(xs: list[dict[str, float]], ys: list[int], *, l2: float = 0.01, steps: int = 4000,
        rate: float = 0.5) -> tuple[dict[str, float], float]:
    """Logistic regression by gradient descent, each class weighted to half the loss."""
    names = list(injection.FEATURES)
    pos = sum(ys)
    neg = len(ys) - pos
    cw = {1: 0.5 / max(pos, 1), 0: 0.5 / max(neg, 1)}
    w = dict.fromkeys(names, 0.0)
    b = 0.0
    for _ in range(steps):
        gw = dict.fromkeys(names, 0.0)
        gb = 0.0
        for x, y in zip(xs, ys, strict=True):
            z = b + sum(w[k] * x[k] for k in names)
            p = 1.0 / (1.0 + math.exp(-max(min(z, 30), -30)))
            g = (p - y) * cw[y]
            gb += g
            for k in names:
                if x[k]:
                    gw[k] += g * x[k]
        b -= rate * gb
        for k in names:
            w[k] -= rate * (gw[k] + l2 * w[k])
    return {k: round(v, 2) for k, v in w.items()}, round(b, 2)


def measure(shared: Path | None) -> dict[str, object]:
    """Detection figures with the weights in agents/injection.py (no model involved)."""
    _, cases = schema.read("injection", schema.InjectionCase)
    papers = schema.papers()
    out: dict[str, object] = {}
    for split in ("tune", "held-out"):
        attacks = [c for c in cases if c.split == split and c.kind == "attack"]
        benign = [c for c in cases if c.split == split and c.kind == "benign"]
        flagged = [c.case_id for c in attacks if injection.findings(_planted(c, papers))]
        false = [c.case_id for c in benign if _touched(c, papers)]
        out[split] = {"attacks": len(attacks), "flagged": len(flagged),
                      "missed": sorted({c.case_id for c in attacks} - set(flagged)),
                      "benign": len(benign), "false_positives": false}
    if shared is not None:
        day = shared / "realday" / "2026-02-25.jsonl"
        abstracts = _real_abstracts(day)
        sents = [s for a in abstracts for s in _sentences(a)]
        cut = [s for s in sents if injection.is_instruction(s)]
        lists = [a for a in abstracts if injection.keyword_lists(a)]
        touched = [a for a in abstracts if injection.detect(a).any]
        out["real-2026-02-25"] = {
            "abstracts": len(abstracts), "sentences": len(sents),
            "abstracts_touched": len(touched), "sentences_cut_as_instruction": len(cut),
            "abstracts_with_keyword_list": len(lists), "examples": cut[:5]}
    return out


def _planted(c: schema.InjectionCase, papers: dict[str, Paper]) -> Paper:
    p = papers[c.paper_id]
    text = f"{c.injection} {p.abstract}" if c.position == "start" else f"{p.abstract} {c.injection}"
    return p.model_copy(update={"abstract": text})


def _touched(c: schema.InjectionCase, papers: dict[str, Paper]) -> bool:
    """A benign sentence flagged, or cut from what the model reads."""
    planted = _planted(c, papers)
    kept = injection.neutralise(planted.abstract)
    return bool(injection.findings(planted)) or " ".join(
        injection.neutralise(c.injection).split()) not in kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=eval_data_dir() / "data")
    parser.add_argument("--fit", action="store_true", help="fit and print new weights")
    args = parser.parse_args()
    if args.fit:
        xs, ys = training_set(args.shared)
        w, b = fit(xs, ys)
        print(f"fitted on {sum(ys)} instruction and {len(ys) - sum(ys)} other sentences")
        print("WEIGHTS =", json.dumps(w))
        print("BIAS =", b)
    shared = args.shared if (args.shared / "realday").exists() else None
    print(json.dumps(measure(shared), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
