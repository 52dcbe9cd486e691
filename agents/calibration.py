"""Score maps: monotone functions from triage signals to the editors' 0-100 Score and Hype.

A map is fitted by isotonic regression (pool-adjacent-violators) on the dev references: the
editors' Score/Hype of the papers they featured, and anchors for the papers they did not
(off-topic at `ANCHORS["negative"]`, borderline at `ANCHORS["borderline"]`: the editors gave
those no figure, but every featured paper scored above them). Between the pooled blocks it
interpolates linearly, so two papers with different signals get different scores (no plateaus
that bunch the scale); outside the fitted range it stays at the end values.

The maps are stored in one JSON file (`flashnews/data/calibration.json`) together with what
they belong to: the hashes of the beat paragraph, the triage prompt and the ranking formula,
and the model. A setup the file does not match is not calibrated: the maps fall back to a
linear one (and `flashnews eval` says so), never to another setup's fit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

ANCHORS: dict[str, dict[str, float]] = {"score": {"negative": 10.0, "borderline": 45.0},
                                        "hype": {"negative": 10.0, "borderline": 35.0}}
"""Targets for dev papers without an editors' figure (see the module docstring)."""


class MonotoneMap(BaseModel):
    """A non-decreasing piecewise-linear map, flat outside its knots."""

    xs: list[float] = Field(default_factory=lambda: [0.0, 1.0])
    ys: list[float] = Field(default_factory=lambda: [0.0, 100.0])

    def __call__(self, x: float) -> float:
        xs, ys = self.xs, self.ys
        if x <= xs[0]:
            return ys[0]
        if x >= xs[-1]:
            return ys[-1]
        lo, hi = 0, len(xs) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if xs[mid] <= x:
                lo = mid
            else:
                hi = mid
        t = (x - xs[lo]) / (xs[hi] - xs[lo]) if xs[hi] > xs[lo] else 0.0
        return ys[lo] + t * (ys[hi] - ys[lo])

    def score(self, x: float) -> int:
        """The map's value as a 0-100 integer."""
        return max(0, min(100, round(self(x))))


def fit_monotone(x: Sequence[float], y: Sequence[float],
                 weights: Sequence[float] | None = None) -> MonotoneMap:
    """Isotonic least-squares fit; knots at each pooled block's mean signal and value."""
    if len(x) != len(y) or not x:
        raise ValueError("fit_monotone needs as many targets as signals, at least one")
    w = list(weights) if weights is not None else [1.0] * len(x)
    order = sorted(range(len(x)), key=lambda i: x[i])
    # blocks: [sum w, sum w*x, sum w*y]; merge while a block is not above the one before it
    blocks: list[list[float]] = []
    for i in order:
        blocks.append([w[i], w[i] * x[i], w[i] * y[i]])
        while len(blocks) > 1 and blocks[-2][2] / blocks[-2][0] >= blocks[-1][2] / blocks[-1][0]:
            last = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], last, strict=True)]
    xs = [b[1] / b[0] for b in blocks]
    ys = [b[2] / b[0] for b in blocks]
    if len(xs) == 1:  # one level: flat
        xs, ys = [xs[0], xs[0] + 1e-9], [ys[0], ys[0]]
    return MonotoneMap(xs=xs, ys=ys)


def targets(labels: Sequence[str], refs: Sequence[float | None], kind: str) -> list[float | None]:
    """What each dev paper's signal is fitted to: the editors' figure, else its label's anchor."""
    out: list[float | None] = []
    for label, ref in zip(labels, refs, strict=True):
        out.append(float(ref) if ref is not None else ANCHORS[kind].get(label))
    return out


def leave_one_out(n: int, predict: Callable[[int, list[int]], float]) -> list[float]:
    """predict(i, training indices) for every i, each fitted without i."""
    return [predict(i, [j for j in range(n) if j != i]) for i in range(n)]


class Calibration(BaseModel):
    """The maps of one triage setup and what they were fitted on."""

    key: str = Field(description="ranking formula, beat paragraph, triage prompt and model")
    score_ranking: MonotoneMap = Field(description="ranking signal -> Score (no model call)")
    score_combined: MonotoneMap = Field(description="combined signal -> Score (model scored)")
    hype: MonotoneMap = Field(description="hype signal -> Hype")
    fitted_on: str = ""
    at: str = ""
    cross_validated: dict[str, float | None] = Field(default_factory=dict)
    """Leave-one-out figures of this fit on its own data (MAE, Spearman), for the record."""


class CalibrationFile(BaseModel):
    """Every stored calibration, by setup key."""

    version: int = 1
    setups: dict[str, Calibration] = Field(default_factory=dict)


def default_path() -> Path:
    return Path(str(resources.files("flashnews.data").joinpath("calibration.json")))


def load_file(path: Path | None = None) -> CalibrationFile:
    path = path or default_path()
    if not path.exists():
        return CalibrationFile()
    try:
        return CalibrationFile.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        from flashnews.errors import ConfigError

        raise ConfigError(f"calibration file {path} is invalid: {str(exc).splitlines()[0]}") \
            from None


def save(cal: Calibration, path: Path | None = None) -> Path:
    """Add or replace one setup's calibration in the file (written atomically)."""
    path = path or default_path()
    data = load_file(path)
    data.setups[cal.key] = cal
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data.model_dump(mode="json"), indent=1, sort_keys=True) + "\n",
                   encoding="utf-8")
    tmp.replace(path)
    return path


def uncalibrated(key: str) -> Calibration:
    """Linear maps for a setup with no stored fit (signals are already on a 0-1 scale)."""
    return Calibration(key=key, score_ranking=MonotoneMap(), score_combined=MonotoneMap(),
                       hype=MonotoneMap(), fitted_on="none (linear: signal x 100)")


def lookup(key: str, path: Path | None = None) -> tuple[Calibration, bool]:
    """The stored calibration of a setup, and whether there was one."""
    found = load_file(path).setups.get(key)
    if found is None:
        return uncalibrated(key), False
    return found, True
