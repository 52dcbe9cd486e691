"""The beat's rules: its regex vocabulary (one soft ranking feature) and the editor's keywords."""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from flashnews.agents.injection import KEYWORD_LIST, without_keyword_lists
from flashnews.config import Settings
from flashnews.models import Assessment, Finding, Paper

# The beat's vocabulary: one feature of the ranking stage (agents/ranking.py), never a gate.
BEAT_TERMS: dict[str, list[str]] = {
    "serving": [r"serv(?:e|ing)\b", r"inference", r"throughput", r"latenc", r"deploy", r"SLO",
                r"time[- ]to[- ]first[- ]token", r"TTFT", r"request", r"batch"],
    "kv-cache": [r"KV[- ]?cache", r"key[- ]value cache", r"prefix cach", r"context (?:length|window)",
                 r"long[- ]context", r"prefill"],
    "decoding": [r"speculative", r"decod", r"draft model", r"token(?:s)? per second", r"sampl"],
    "quantization": [r"quantiz", r"low[- ]bit", r"\bINT[48]\b", r"\bFP[48]\b", r"ternary",
                     r"pruning", r"sparsit", r"compress"],
    "moe": [r"mixture[- ]of[- ]experts", r"\bMoE\b", r"expert"],
    "hardware": [r"\bGPU", r"FPGA", r"accelerat", r"ASIC", r"kernel", r"memory (?:bandwidth|wall)",
                 r"hardware", r"\bCXL\b", r"edge device", r"on-device", r"energy"],
    "distributed": [r"parallelism", r"distributed", r"collective", r"communication", r"cluster",
                    r"schedul", r"disaggregat"],
    "efficiency": [r"efficien", r"cost", r"speed-?up", r"faster", r"memory footprint",
                   r"reasoning (?:length|budget)", r"token"],
}
_LLM = re.compile(r"\b(?:LLMs?|large language models?|language models?|transformers?|Mamba|"
                  r"state[- ]space models?|SSMs?|VLMs?|VLA|diffusion (?:language )?models?)\b",
                  re.IGNORECASE)
_TERMS = {topic: re.compile("|".join(pats), re.IGNORECASE) for topic, pats in BEAT_TERMS.items()}
MIN_BEAT_HITS = 4
"""Beat-term occurrences of the old rules gate (`rules_verdict`, kept for the evals' record;
triage no longer drops a paper on the rules' word)."""
# A labelled keyword list ("Keywords: …", "Index Terms— …") states no result of the paper, and
# it is the cheapest way to stuff an abstract with the beat's vocabulary: the evals measured one
# lifting an off-topic paper from 0 (dropped by the rules) to 67. Neither the rules nor the model
# see it; the editor is shown it (agents/injection.py).
RULES_HASH = hashlib.sha256(repr((sorted(BEAT_TERMS.items()), MIN_BEAT_HITS,
                                  KEYWORD_LIST.pattern)).encode()).hexdigest()[:12]


def _hits(paper: Paper) -> dict[str, int]:
    text = f"{paper.title} {without_keyword_lists(paper.abstract)}"
    return {t: len(rx.findall(text)) for t, rx in _TERMS.items()}


def topics_of(paper: Paper) -> list[str]:
    """Beat topics whose terms occur in the title or abstract, most hits first."""
    hits = _hits(paper)
    return [t for t, n in sorted(hits.items(), key=lambda kv: -kv[1]) if n][:3]



def rules_verdict(paper: Paper) -> Assessment | None:
    """The old rules gate's verdict (off-topic, or None): no longer applied by Triage.

    A paper survives when it is about language models (or is systems work in a systems category)
    and uses the beat's vocabulary often enough to be about it, not just mention it.
    """
    hits = _hits(paper)
    total = sum(hits.values())
    about_models = bool(_LLM.search(f"{paper.title} {without_keyword_lists(paper.abstract)}"))
    systems = hits["hardware"] + hits["distributed"] >= 3 and any(
        c in ("cs.DC", "cs.AR", "cs.PF", "cs.OS") for c in paper.categories)
    if (about_models or systems) and total >= MIN_BEAT_HITS:
        return None
    why = "not about language models" if not (about_models or systems) else \
        f"{total} inference-systems term(s), {MIN_BEAT_HITS} needed"
    return Assessment(paper_id=paper.arxiv_id, version=paper.version, relevant=False, score=0,
                      hype=0, rationale=f"rules: {why}", topics=topics_of(paper), method="rules",
                      prompt_hash=RULES_HASH, model="rules")


def _matches(words: list[str], text: str) -> str | None:
    low = text.lower()
    return next((w for w in words if w.strip() and w.lower() in low), None)


def watched_author(paper: Paper, settings: Settings) -> str | None:
    names = {a.lower() for a in paper.authors}
    return next((w for w in settings.watch_authors if w.lower() in names), None)


def config_verdict(paper: Paper, settings: Settings) -> Assessment | Literal["score"] | None:
    """The editor's own rules: exclude (a verdict, Score 0), include or watch ("score": the
    paper goes to the model whatever its rank), or None."""
    text = f"{paper.title} {paper.abstract}"
    word = _matches(settings.exclude_keywords, text)
    if word:
        return Assessment(paper_id=paper.arxiv_id, version=paper.version, relevant=False,
                          score=0, hype=0, rationale=f"rules: excluded by keyword {word!r}",
                          topics=topics_of(paper), method="rules", prompt_hash=RULES_HASH,
                          model="rules")
    if _matches(settings.include_keywords, text) or watched_author(paper, settings):
        return "score"
    return None


def watch_findings(paper: Paper, settings: Settings) -> list[Finding]:
    name = watched_author(paper, settings)
    if not name:
        return []
    return [Finding(check="watched-author", severity="info", item=paper.arxiv_id, source="triage",
                    evidence=name, message=f"{paper.arxiv_id} is by {name}, on the watch list")]

