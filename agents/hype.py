"""Hype evidence: what draws practitioners' attention to a paper, found by code.

Each piece is a feature in [0, 1], kept in the assessment; the learned ranker
(agents/learner.py) fits how much each counts, together with the paper's own Score:
- significance: the Score the paper shows (attention follows what matters to the beat: the
  editors' Score and Hype rank alike, Spearman 0.82 on their dev figures);
- artifacts: released code, weights or a benchmark ("code is available", a GitHub link);
- names: a lab, product or author on the configurable `FLASHNEWS_HYPE_NAMES` list, or a
  watched author;
- heat: how close the paper is to the day's other candidates (several papers on one topic the
  same day make it a topic people talk about);
- gain: the size of the largest claimed improvement (a "4.56x" factor, a "reduces ... by 80%"),
  on a log scale.
"""

from __future__ import annotations

import math
import re

from flashnews.config import Settings
from flashnews.models import Paper

GAIN_FULL = 10.0
"""A claimed factor at which the gain feature reaches 1 (log scale: 2x is 0.3)."""

# "4.56x", "3.81×", "$3.81\times$", "2.5-fold"
_FACTOR = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\$?\\times\$?|[x×]\b|×|-?fold\b)", re.IGNORECASE)
# "by 45%", "up to 80%", "45% fewer"; the context decides whether it is a cut or a gain
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\\?%|percent\b)", re.IGNORECASE)
_CUT = re.compile(r"reduc|cut|lower|fewer|less|sav|decreas|shrink|compress|drop", re.IGNORECASE)
_GAIN = re.compile(r"improv|increas|higher|faster|speed|boost|gain|throughput|more", re.IGNORECASE)
_ARTIFACTS = re.compile(
    r"github\.com|huggingface\.co|\bcode (?:and [a-z ]+ )?(?:is|are|will be) (?:publicly |made )?"
    r"(?:available|released|open)|open[- ]sourc|we (?:release|open-source|publicly release)|"
    r"publicly available|available at (?:this )?https?", re.IGNORECASE)


def largest_gain(text: str) -> float:
    """The largest improvement factor the text claims (1.0 when it claims none)."""
    best = 1.0
    for m in _FACTOR.finditer(text):
        v = float(m.group(1))
        if 1.0 < v <= 1000:
            best = max(best, v)
    for m in _PERCENT.finditer(text):
        v = float(m.group(1))
        context = text[max(0, m.start() - 60): m.end() + 30]
        if _CUT.search(context) and 0 < v < 100:
            best = max(best, 1 / (1 - v / 100))
        elif _GAIN.search(context) and 0 < v <= 1000:
            best = max(best, 1 + v / 100)
    return best


def gain(paper: Paper) -> float:
    factor = largest_gain(paper.abstract)
    return min(1.0, math.log(factor) / math.log(GAIN_FULL))


def artifacts(paper: Paper) -> float:
    return 1.0 if _ARTIFACTS.search(paper.abstract) else 0.0


def names(paper: Paper, settings: Settings) -> float:
    watched = {w.lower() for w in [*settings.hype_names, *settings.watch_authors]}
    if not watched:
        return 0.0
    authors = {a.lower() for a in paper.authors}
    if authors & watched:
        return 1.0
    text = f"{paper.title} {paper.abstract}"
    for name in settings.hype_names:
        if name.strip() and re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE):
            return 1.0
    return 0.0


def features(paper: Paper, settings: Settings, *, significance: float,
             heat: float) -> dict[str, float]:
    """Every hype feature of one paper, each in [0, 1]."""
    return {"significance": max(0.0, min(1.0, significance)), "gain": round(gain(paper), 4),
            "artifacts": artifacts(paper), "names": names(paper, settings),
            "heat": max(0.0, min(1.0, heat))}
