"""The SciTLDR task: the writer's "what it does" sentence against human TL;DRs.

SciTLDR (Cachola et al., Findings of EMNLP 2020; Apache-2.0; `$FLASHNEWS_EVAL_DATA/data/scitldr/`) pairs CS
abstracts with author-written and peer-review TL;DRs. A case is one abstract; the writer's
sentence is scored with ROUGE-1/2/L F1 (the `rouge-score` package, stemming on), the maximum over
the paper's TL;DRs, averaged over papers (x100), beside two extractive baselines computed in the
same run: the abstract's first sentence, and its first "we propose / present / introduce / in
this paper" sentence. The bundled `tldr` dataset is a fixed 100-paper subset of the dev split
(its first 100 papers), kept for measuring only: code's rules were tuned on the train split.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flashnews.config import eval_data_dir
from flashnews.errors import ConfigError
from flashnews.evals.schema import TldrCase

SCITLDR = eval_data_dir() / "data" / "scitldr"
_CUE = re.compile(r"\b(?:we (?:propose|present|introduce)|in this paper)\b", re.IGNORECASE)


def read_scitldr(path: Path, limit: int | None = None) -> list[TldrCase]:
    """Cases from a file in SciTLDR's format (one JSON object a line: source, target,
    paper_id, title); a bad line is a one-line error naming the file and line."""
    if not path.exists():
        raise ConfigError(f"no such file: {path}")
    out: list[TldrCase] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if "dataset" in raw and "version" in raw:  # the bundled dataset's header
                continue
            case = TldrCase(case_id=str(raw.get("paper_id", n)), paper_id=str(raw["paper_id"]),
                            title=str(raw.get("title") or ""), source=raw["source"],
                            target=raw["target"])
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            msg = " ".join(str(exc).split())[:200]
            raise ConfigError(f"{path}:{n}: not a SciTLDR record: {msg}") from None
        out.append(case)
        if limit is not None and len(out) >= limit:
            break
    return out


def first_sentence(case: TldrCase) -> str:
    return case.source[0]


def first_cue_sentence(case: TldrCase) -> str:
    """The first "we propose / present / introduce / in this paper" sentence (else the first)."""
    return next((s for s in case.source if _CUE.search(s)), case.source[0])


@cache
def _scorer() -> Any:
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        raise ConfigError("the tldr eval needs rouge-score: pip install 'flashnews[dev]'") from None
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def rouge(prediction: str, targets: list[str]) -> dict[str, float]:
    """ROUGE-1/2/L F1 (x100) of one sentence, the maximum over the targets."""
    best = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for t in targets:
        s = _scorer().score(t, prediction)
        for k in best:
            best[k] = max(best[k], 100.0 * s[k].fmeasure)
    return best


def mean(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return round(sum(vals) / len(vals), 2) if vals else None
