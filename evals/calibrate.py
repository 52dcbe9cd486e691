"""Fitting the score maps on the labelled dev papers, and measuring them honestly (leave-one-out).

Every figure computed here for a paper comes from maps fitted without that paper, and from a
history (papers featured before) that leaves it out: in fold i, paper i is held out; the other
papers' history features use the featured papers but i (and never themselves), the maps are
fitted on them, and paper i is predicted. No figure uses a paper's own label.

`fit` makes the stored calibration from every dev paper (what editions use); `cross_validate`
reports what such a fit does on papers it did not see. `drop` removes one signal from the
ranking, the combination or the hype evidence, so the evals can show what each one adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from flashnews.agents import calibration as cal
from flashnews.agents import hype as hype_mod
from flashnews.agents import ranking
from flashnews.agents.triage import COMBINE_MODEL
from flashnews.evals import metrics as m

RANKING_FEATURES = ("beat", "history", "vocabulary")
HYPE_FEATURES = tuple(hype_mod.W)


@dataclass
class DevCase:
    """One labelled dev paper with the signals that do not depend on any label."""

    paper_id: str
    label: str
    ref_score: int | None
    ref_hype: int | None
    beat: float
    vocabulary: float
    vector: np.ndarray
    model: float | None = None
    """The model's verdict (P(yes) or written Score / 100) when the paper reached it."""
    hype_evidence: dict[str, float] = field(default_factory=dict)
    """gain, artifacts, names, heat (significance comes from the predicted Score)."""
    editor: bool = False


@dataclass
class Fold:
    """Predictions for the held-out paper of one fold."""

    ranking: float
    score: int
    hype: int
    asked: bool = False
    """Whether an edition would have asked the model (top K and its verdict could matter)."""


def _history(cases: Sequence[DevCase], featured: set[str], i: int) -> float | None:
    others = [c.vector for c in cases if c.paper_id in featured and c.paper_id != cases[i].paper_id]
    if len(others) < ranking.HISTORY_MIN:
        return None
    return ranking.top_mean(np.stack(others) @ cases[i].vector, ranking.HISTORY_TOP)


def ranking_signal(c: DevCase, history: float | None, drop: str | None = None) -> float:
    beat = 0.0 if drop == "beat" else c.beat
    if drop == "beat" and history is not None:
        return history + ranking.W_VOCAB * c.vocabulary
    return ranking.combine(beat, None if drop == "history" else history,
                           0.0 if drop == "vocabulary" else c.vocabulary, c.editor)


def _model_used(c: DevCase, drop: str | None) -> bool:
    return c.model is not None and drop != "model"


def _combined(c: DevCase, rank_score: float, drop: str | None) -> float:
    assert c.model is not None
    if drop == "ranking":
        return c.model
    return COMBINE_MODEL * c.model + (1 - COMBINE_MODEL) * rank_score / 100


def _fit(train: list[DevCase], signals: dict[str, float], drop: str | None
         ) -> tuple[cal.MonotoneMap, cal.MonotoneMap, cal.MonotoneMap]:
    """Ranking, combined and hype maps fitted on `train` (signals: ranking signal by id)."""
    tgt_s = cal.targets([c.label for c in train], [c.ref_score for c in train], "score")
    tgt_h = cal.targets([c.label for c in train], [c.ref_hype for c in train], "hype")
    keep = [k for k, t in enumerate(tgt_s) if t is not None]
    rmap = cal.fit_monotone([signals[train[k].paper_id] for k in keep],
                            [tgt_s[k] for k in keep])  # type: ignore[misc]
    with_model = [k for k in keep if _model_used(train[k], drop)]
    if with_model:
        cmap = cal.fit_monotone(
            [_combined(train[k], rmap(signals[train[k].paper_id]), drop) for k in with_model],
            [tgt_s[k] for k in with_model])  # type: ignore[misc]
    else:
        cmap = cal.MonotoneMap()
    hx, hy = [], []
    for k, c in enumerate(train):
        if tgt_h[k] is None:
            continue
        score = _score(c, signals[c.paper_id], rmap, cmap, drop)
        hx.append(_hype_signal(c, score, drop))
        hy.append(tgt_h[k])
    hmap = cal.fit_monotone(hx, hy) if hx else cal.MonotoneMap()  # type: ignore[arg-type]
    return rmap, cmap, hmap


def _score(c: DevCase, signal: float, rmap: cal.MonotoneMap, cmap: cal.MonotoneMap,
           drop: str | None) -> int:
    if _model_used(c, drop):
        return cmap.score(_combined(c, rmap(signal), drop))
    return rmap.score(signal)


def _hype_signal(c: DevCase, score: int, drop: str | None) -> float:
    feats = {**c.hype_evidence, "significance": score / 100}
    return hype_mod.signal(feats, drop=drop if drop in HYPE_FEATURES else None)


def would_ask(signal: float, rank: int, rmap: cal.MonotoneMap, cmap: cal.MonotoneMap, *,
              k: int, threshold: int) -> bool:
    """An edition's choice (agents/triage/scoring.py Triage.candidates) with these maps."""
    best = COMBINE_MODEL + (1 - COMBINE_MODEL) * rmap(signal) / 100
    return rank <= k and cmap(best) >= threshold


def cross_validate(cases: Sequence[DevCase], drop: str | None = None, *, k: int = 10**9,
                   threshold: int = 50) -> list[Fold]:
    """Leave-one-out predictions for every case (see the module docstring).

    The model's verdict counts for the held-out paper only if an edition would have asked for
    it with that fold's maps (its rank within K, and a verdict that could matter)."""
    featured_all = {c.paper_id for c in cases if c.label == "positive"}
    out = []
    for i, held in enumerate(cases):
        featured = featured_all - {held.paper_id}
        signals = {}
        for j, c in enumerate(cases):
            hist = _history(cases, featured, j) if drop != "history" else None
            signals[c.paper_id] = ranking_signal(c, hist, drop)
        train = [c for j, c in enumerate(cases) if j != i]
        rmap, cmap, hmap = _fit(train, signals, drop)
        mine = signals[held.paper_id]
        rank = 1 + sum(v > mine for v in signals.values())
        asked = _model_used(held, drop) and would_ask(mine, rank, rmap, cmap, k=k,
                                                      threshold=threshold)
        score = (_score(held, mine, rmap, cmap, drop) if asked
                 else rmap.score(mine))
        out.append(Fold(ranking=mine, score=score, asked=asked,
                        hype=hmap.score(_hype_signal(held, score, drop))))
    return out


def fit(cases: Sequence[DevCase], key: str, *, fitted_on: str, at: str, k: int = 10**9,
        threshold: int = 50) -> cal.Calibration:
    """The calibration editions use: maps fitted on every case (history leave-one-out)."""
    featured = {c.paper_id for c in cases if c.label == "positive"}
    signals = {c.paper_id: ranking_signal(c, _history(cases, featured, j))
               for j, c in enumerate(cases)}
    rmap, cmap, hmap = _fit(list(cases), signals, None)
    folds = cross_validate(cases, k=k, threshold=threshold)
    figures = figures_of(cases, folds)
    return cal.Calibration(key=key, score_ranking=rmap, score_combined=cmap, hype=hmap,
                           fitted_on=fitted_on, at=at,
                           cross_validated={k: figures[k] for k in (
                               "score_mae", "score_spearman", "hype_mae", "hype_spearman")})


def figures_of(cases: Sequence[DevCase], folds: Sequence[Fold]) -> dict[str, float | None]:
    """AUC (featured vs off-topic), Spearman and MAE with the editors' figures, of folds."""
    pos = [k for k, c in enumerate(cases) if c.label == "positive"]
    neg = [k for k, c in enumerate(cases) if c.label == "negative"]
    ref_s = [k for k, c in enumerate(cases) if c.ref_score is not None]
    ref_h = [k for k, c in enumerate(cases) if c.ref_hype is not None]
    return {
        "ranking_auc": m.auc([folds[k].ranking for k in pos], [folds[k].ranking for k in neg]),
        "ranking_spearman": m.spearman([folds[k].ranking for k in ref_s],
                                       [cases[k].ref_score for k in ref_s]),  # type: ignore[misc]
        "score_auc": m.auc([folds[k].score for k in pos], [folds[k].score for k in neg]),
        "score_spearman": m.spearman([folds[k].score for k in ref_s],
                                     [cases[k].ref_score for k in ref_s]),  # type: ignore[misc]
        "score_mae": m.mae([folds[k].score for k in ref_s],
                           [cases[k].ref_score for k in ref_s]),  # type: ignore[misc]
        "hype_spearman": m.spearman([folds[k].hype for k in ref_h],
                                    [cases[k].ref_hype for k in ref_h]),  # type: ignore[misc]
        "hype_mae": m.mae([folds[k].hype for k in ref_h],
                          [cases[k].ref_hype for k in ref_h]),  # type: ignore[misc]
        "recall": m.ratio(sum(folds[k].score >= 50 for k in pos), len(pos)),
        "false_positive_rate": m.ratio(sum(folds[k].score >= 50 for k in neg), len(neg)),
    }


def ablation(cases: Sequence[DevCase], *, k: int = 10**9, threshold: int = 50
             ) -> list[dict[str, object]]:
    """The cross-validated figures with each signal left out in turn."""
    rows = []
    for drop in (None, *RANKING_FEATURES, "model", "ranking", *HYPE_FEATURES):
        if drop == "ranking" and not any(c.model is not None for c in cases):
            continue
        f = figures_of(cases, cross_validate(cases, drop, k=k, threshold=threshold))
        rows.append({"without": drop or "(nothing: all signals)",
                     **{k: None if v is None else round(v, 4) for k, v in f.items()}})
    return rows
