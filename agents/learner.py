"""The learned ranker: Score and Hype from features that generalize, fitted on editorial labels.

Every paper gets the same features (agents/ranking.py computes them; each in the assessment):
- beat: cosine similarity to the beat paragraph (prompts/beat.md `description`);
- vocabulary: the beat's regex vocabulary as one soft feature;
- content: a logistic model over the paper's sentence embedding, fitted on the human-curated
  LLM-inference papers ($FLASHNEWS_EVAL_DATA/data/beat, titles) and the real days' featured papers against
  the rest of those days (only its 384 weights ship, never the titles);
- training: similarity to "training" minus similarity to "inference" (prompts/beat.md);
- liked / disliked: mean of the 3 largest similarities to the papers the editor featured, pinned
  or rescored high, and to those the editor dropped or rescored low;
- editor: the editor's include keywords or watched authors;
- model: the model's P(yes) (log-odds), for the papers it was asked about.

Three linear models, each small enough to read (its weights are printed by `flashnews learn`):
- `rank`: logistic regression, featured vs not (stage 1: every paper, no model call); its
  log-odds order the day and choose the papers the model is asked about;
- `combined`: logistic regression over the same features and the model's log-odds, fitted on
  the papers the model answered (stage 2: the day's candidates);
- `hype`: ridge regression of the editors' Hype (log-odds) on evidence a reader can see.
A Score is `100 * sigmoid(a + b * z)` of the stage's log-odds `z`, with (a, b) fitted to the
editors' Scores (featured) and anchors (not featured): smooth, never flat at the top (no
saturation), and the continuous value breaks integer ties. A missing feature (no history yet, the
model not asked) takes its training mean: it moves nothing.

The fitted models, their cross-validated figures and the numeric feature rows they were fitted on
(no titles, no abstracts) are one JSON file: the seed ships in the package
(`flashnews/data/ranker.json`, built by `make calibrate`); `flashnews learn` adds the editor's
labelled examples from the store and writes `ranker.json` in the data dir, which editions use
from then on. A file that is missing, corrupt or of another format or setup is reported in one
line and the seed is used (a cold start); never a crash mid-edition.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError

log = logging.getLogger(__name__)

RANK_FEATURES = ("beat", "vocabulary", "content", "training", "liked", "disliked", "editor")
COMBINED_FEATURES = (*RANK_FEATURES, "model")
HYPE_FEATURES = ("significance", "gain", "artifacts", "names", "heat")
FORMAT = "flashnews-ranker"
VERSION = 1
ANCHOR = {"not_featured": 20.0, "negative": 10.0, "borderline": 45.0, "dropped": 25.0}
"""Score targets of labelled papers without an editors' figure (see docs/triage.md)."""
HYPE_ANCHOR = {"not_featured": 15.0, "negative": 10.0, "borderline": 35.0, "dropped": 20.0}
EDITOR_SHARE = 0.3
"""The share of each class's weight the editor's own examples carry (the taste being learned:
a few decisions must move the ranker, and the shared examples keep it sensible)."""
C_RANK = 0.1
C_COMBINED = 0.1
ALPHA_HYPE = 5.0
BANDS = ((90, "lead story: the day's most significant result for the beat"),
         (75, "main item: a significant result on the beat"),
         (60, "also notable: on the beat, worth a line"),
         (40, "on the beat's edge: not featured"),
         (0, "off the beat"))
"""What a Score means (docs/triage.md)."""

LABELS = {
    "beat": ("close to the beat", "far from the beat"),
    "vocabulary": ("the beat's vocabulary", "little of the beat's vocabulary"),
    "content": ("like curated inference papers", "unlike curated inference papers"),
    "training": ("about training", "about inference"),
    "liked": ("like papers the editor chose", "unlike papers the editor chose"),
    "disliked": ("like papers the editor dropped", "unlike papers the editor dropped"),
    "editor": ("the editor's keyword or author", "no editor's keyword or author"),
    "model": ("the model says yes", "the model says no"),
    "significance": ("a high Score", "a low Score"),
    "gain": ("a large claimed gain", "a small claimed gain"),
    "artifacts": ("code or weights released", "no code or weights"),
    "names": ("a watched lab or author", "no watched lab or author"),
    "heat": ("a topic hot today", "a topic quiet today")}
"""How each feature reads when the paper is above / below the average (for the editor)."""


def band(score: int) -> str:
    return next(text for low, text in BANDS if score >= low)


def logit(p: float, eps: float = 1e-4) -> float:
    p = min(1 - eps, max(eps, p))
    return math.log(p / (1 - p))


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-max(-60.0, min(60.0, z))))


class Linear(BaseModel):
    """w . (x - mean) / scale + intercept over named features; a missing feature is its mean."""

    names: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    def above(self, x: Mapping[str, float | None]) -> dict[str, bool]:
        """Whether each present feature is above its training mean."""
        return {n: float(v) > m for n, m in zip(self.names, self.mean, strict=True)
                if (v := x.get(n)) is not None}

    def parts(self, x: Mapping[str, float | None]) -> dict[str, float]:
        """Each feature's contribution to z (0 for a missing one)."""
        out = {}
        for n, m, s, w in zip(self.names, self.mean, self.scale, self.coef, strict=True):
            v = x.get(n)
            out[n] = 0.0 if v is None else w * (float(v) - m) / s
        return out

    def z(self, x: Mapping[str, float | None]) -> float:
        return self.intercept + sum(self.parts(x).values())

    @classmethod
    def fit(cls, rows: Sequence[Mapping[str, float | None]], names: Sequence[str],
            y: Sequence[float], w: Sequence[float], *, kind: Literal["logistic", "ridge"],
            strength: float) -> Linear:
        """Fit on rows (missing values take the column mean); standardised features."""
        from sklearn.linear_model import LogisticRegression, Ridge

        X = np.array([[np.nan if (v := r.get(n)) is None else float(v) for n in names]
                      for r in rows], dtype=np.float64)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column: mean 0
            mean = np.nanmean(X, axis=0) if len(X) else np.zeros(len(names))
        mean = np.where(np.isnan(mean), 0.0, mean)
        X = np.where(np.isnan(X), mean, X)
        scale = X.std(axis=0)
        scale = np.where(scale < 1e-9, 1.0, scale)
        Xs = (X - mean) / scale
        if kind == "logistic":
            est = LogisticRegression(C=strength, max_iter=5000)
            est.fit(Xs, np.asarray(y, dtype=int), sample_weight=np.asarray(w))
            coef, icpt = est.coef_[0], float(est.intercept_[0])
        else:
            est = Ridge(alpha=strength)
            est.fit(Xs, np.asarray(y, dtype=float), sample_weight=np.asarray(w))
            coef, icpt = est.coef_, float(est.intercept_)
        return cls(names=list(names), mean=[round(float(v), 6) for v in mean],
                   scale=[round(float(v), 6) for v in scale],
                   coef=[round(float(v), 6) for v in coef], intercept=round(icpt, 6))


class ScoreMap(BaseModel):
    """score = 100 * sigmoid(a + b * z): monotone, smooth, never flat."""

    a: float = 0.0
    b: float = 1.0

    def value(self, z: float) -> float:
        return 100 * sigmoid(self.a + self.b * z)

    def score(self, z: float) -> int:
        return max(0, min(100, round(self.value(z))))

    @classmethod
    def fit(cls, z: Sequence[float], targets: Sequence[float], w: Sequence[float]) -> ScoreMap:
        """Match the weighted mean and spread of logit(target / 100): the Scores spread like
        the editors' (a least-squares slope would shrink them towards the middle, the more
        the noisier the fit: regression dilution)."""
        zs = np.asarray(z, dtype=float)
        t = np.array([logit(v / 100, 0.01) for v in targets])
        ws = np.asarray(w, dtype=float)
        zm, tm = np.average(zs, weights=ws), np.average(t, weights=ws)
        zsd = math.sqrt(float(np.average((zs - zm) ** 2, weights=ws)))
        tsd = math.sqrt(float(np.average((t - tm) ** 2, weights=ws)))
        b = max(tsd / zsd, 0.05) if zsd > 1e-9 else 0.05
        return cls(a=round(float(tm - b * zm), 6), b=round(b, 6))


class Row(BaseModel):
    """One labelled example as numbers: its features and what the editors made of it."""

    paper_id: str
    source: str
    """realday | dev | beat | editor (an editor's decision in review)."""
    group: str
    """What cross-validation holds out together (a day, or an edition)."""
    featured: bool
    score: float | None = None
    """The editors' Score, or an anchor (ANCHOR) when they gave none."""
    hype: float | None = None
    weight: float = 1.0
    label: str = ""
    """The dev label where there is one (positive, negative, borderline)."""
    features: dict[str, float | None] = Field(default_factory=dict)


class Learned(BaseModel):
    """The fitted ranker, what it was fitted on, and its cross-validated figures."""

    format: str = FORMAT
    version: int = VERSION
    setup: str
    """What the features mean: the beat paragraph's hash, the embedder, the feature formula."""
    cold: bool = True
    """Fitted on the shared examples only (no decision of this editor yet)."""
    trained_at: str = ""
    triage_prompt: str = ""
    model: str = ""
    """The model whose P(yes) the combined stage was fitted on."""
    examples: dict[str, int] = Field(default_factory=dict)
    content: list[float] = Field(default_factory=list)
    content_intercept: float = 0.0
    rank: Linear
    combined: Linear
    score_rank: ScoreMap
    score_combined: ScoreMap
    hype: Linear
    hype_map: ScoreMap
    cv: dict[str, float | None] = Field(default_factory=dict)
    rows: list[Row] = Field(default_factory=list)
    """The seed's feature rows (numbers only), so `flashnews learn` refits with them."""

    @property
    def hash(self) -> str:
        body = self.model_dump_json(exclude={"rows", "trained_at", "cv", "examples"})
        return hashlib.sha256(body.encode()).hexdigest()[:12]

    def content_of(self, vector: np.ndarray) -> float | None:
        """The content model's log-odds; None (missing) when it was fitted in another space."""
        if len(self.content) != vector.size:
            return None
        return float(np.asarray(self.content) @ vector + self.content_intercept)

    def stage1(self, x: Mapping[str, float | None]) -> float:
        return self.rank.z(x)

    def stage2(self, x: Mapping[str, float | None], p_yes: float) -> float:
        return self.combined.z({**x, "model": logit(p_yes)})

    def score(self, x: Mapping[str, float | None], p_yes: float | None) -> tuple[float, float]:
        """(Score value, log-odds): stage 2 when the model answered, else stage 1."""
        if p_yes is None:
            z = self.stage1(x)
            return self.score_rank.value(z), z
        z = self.stage2(x, p_yes)
        return self.score_combined.value(z), z

    def hype_of(self, evidence: Mapping[str, float | None], score_value: float) -> float:
        """The Hype value from the evidence and the Score the paper shows."""
        return self.hype_map.value(self.hype.z(hype_features(evidence, score_value / 100)))

    def drivers(self, x: Mapping[str, float | None], p_yes: float | None,
                n: int = 3) -> list[tuple[str, float]]:
        """The `n` features that moved this paper's Score most: (how it reads, log-odds)."""
        model, xx = (self.rank, x) if p_yes is None else (
            self.combined, {**x, "model": logit(p_yes)})
        return _top(model, xx, n)

    def hype_drivers(self, x: Mapping[str, float | None], n: int = 3) -> list[tuple[str, float]]:
        return _top(self.hype, x, n)


def _top(model: Linear, x: Mapping[str, float | None], n: int) -> list[tuple[str, float]]:
    above = model.above(x)
    ranked = sorted(model.parts(x).items(), key=lambda kv: -abs(kv[1]))
    return [(LABELS.get(f, (f, f))[0 if above.get(f) else 1], round(v, 3))
            for f, v in ranked[:n] if abs(v) >= 0.05]


def describe(drivers: Sequence[tuple[str, float]]) -> str:
    """'the model says yes +1.2, about training -0.8' (log-odds of the Score)."""
    return ", ".join(f"{label} {v:+.1f}" for label, v in drivers)


def setup_key(beat_hash: str, embedder: str) -> str:
    return hashlib.sha256(repr((beat_hash, embedder, RANK_FEATURES, COMBINED_FEATURES,
                                HYPE_FEATURES, VERSION)).encode()).hexdigest()[:12]


# Fitting ------------------------------------------------------------------------------------

def _balanced(rows: Sequence[Row]) -> list[float]:
    """Sample weights: featured and not featured weigh the same in total; within each class the
    editor's own examples weigh `EDITOR_SHARE` of it (however few they are), the shared
    examples the rest, each row by its own weight."""
    out = [0.0] * len(rows)
    for cls in (True, False):
        idx = [i for i, r in enumerate(rows) if r.featured == cls]
        ed = [i for i in idx if rows[i].source == "editor"]
        shared = [i for i in idx if rows[i].source != "editor"]
        parts = ((ed, EDITOR_SHARE), (shared, 1 - EDITOR_SHARE)) if ed and shared else \
            ((idx, 1.0),)
        for members, share in parts:
            total = sum(rows[i].weight for i in members) or 1.0
            for i in members:
                out[i] = rows[i].weight * share / total * len(rows) / 2
    return out


def _targets(rows: Sequence[Row], kind: str) -> list[float]:
    anchors = ANCHOR if kind == "score" else HYPE_ANCHOR
    out = []
    for r in rows:
        v = r.score if kind == "score" else r.hype
        out.append(float(v) if v is not None else anchors["not_featured"])
    return out


def hype_features(row_features: Mapping[str, float | None], significance: float
                  ) -> dict[str, float | None]:
    return {"significance": significance, **{k: row_features.get(k)
                                             for k in HYPE_FEATURES if k != "significance"}}


def fit(rows: Sequence[Row], *, setup: str, content: Sequence[float] | np.ndarray = (),
        content_intercept: float = 0.0, triage_prompt: str = "", model: str = "",
        keep_rows: Sequence[Row] | None = None) -> Learned:
    """Fit the three models on labelled rows (no cross-validation here: see `cross_validate`)."""
    rows = list(rows)
    if not any(r.featured for r in rows) or all(r.featured for r in rows):
        raise ValueError("the ranker needs featured and not-featured examples")
    w = _balanced(rows)
    rank = Linear.fit([r.features for r in rows], RANK_FEATURES, [int(r.featured) for r in rows],
                      w, kind="logistic", strength=C_RANK)
    z1 = [rank.z(r.features) for r in rows]
    score_rank = ScoreMap.fit(z1, _targets(rows, "score"), w)
    seen = [r for r in rows if r.features.get("model") is not None]
    if seen and any(r.featured for r in seen) and not all(r.featured for r in seen):
        sw = _balanced(seen)
        combined = Linear.fit([_with_model(r.features) for r in seen], COMBINED_FEATURES,
                              [int(r.featured) for r in seen], sw, kind="logistic",
                              strength=C_COMBINED)
        z2 = [combined.z(_with_model(r.features)) for r in seen]
        score_combined = ScoreMap.fit(z2, _targets(seen, "score"), sw)
    else:  # no model answers to learn from: the model's yes adds its own log-odds
        combined = Linear(names=list(COMBINED_FEATURES), mean=[*rank.mean, 0.0],
                          scale=[*rank.scale, 1.0], coef=[*rank.coef, 1.0],
                          intercept=rank.intercept)
        score_combined = score_rank
    # Hype: the editors' Hype (an anchor where they gave none) from the Score each paper shows
    # and the evidence a reader sees; mapped to match their spread.
    # A wanted paper with no Hype given (a pin) says nothing about Hype: left out of its fit.
    shown = [(score_combined.value(combined.z(_with_model(r.features)))
              if r.features.get("model") is not None else score_rank.value(z)) / 100
             for r, z in zip(rows, z1, strict=True)]
    rated = [(r, s, wi) for r, s, wi in zip(rows, shown, w, strict=True)
             if r.hype is not None or not r.featured]
    hrows = [hype_features(r.features, s) for r, s, _ in rated]
    hw = [wi for _, _, wi in rated]
    htarget = _targets([r for r, _, _ in rated], "hype")
    hype = Linear.fit(hrows, HYPE_FEATURES, [logit(t / 100, 0.01) for t in htarget], hw,
                      kind="ridge", strength=ALPHA_HYPE)
    hype_map = ScoreMap.fit([hype.z(x) for x in hrows], htarget, hw)
    kept = list(keep_rows) if keep_rows is not None else rows
    return Learned(
        setup=setup, cold=not any(r.source == "editor" for r in rows),
        trained_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        triage_prompt=triage_prompt, model=model,
        examples=_count(rows), content=[round(float(c), 6) for c in content],
        content_intercept=round(float(content_intercept), 6), rank=rank, combined=combined,
        score_rank=score_rank, score_combined=score_combined, hype=hype, hype_map=hype_map,
        rows=[r for r in kept if r.source != "editor"])


def _with_model(x: Mapping[str, float | None]) -> dict[str, float | None]:
    """The features with the model's P(yes) as log-odds."""
    p = x.get("model")
    return {**x, "model": None if p is None else logit(float(p))}


def _count(rows: Sequence[Row]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r.source] = out.get(r.source, 0) + 1
    out["featured"] = sum(r.featured for r in rows)
    return out


def predict(learned: Learned, row: Row) -> tuple[float, float, float]:
    """(Score value, Hype value, stage log-odds) of one row, as an edition computes them."""
    p = row.features.get("model")
    s, z = learned.score(row.features, None if p is None else float(p))
    return s, learned.hype_of(row.features, s), z


def cross_validate(rows: Sequence[Row], *, setup: str = "cv") -> tuple[dict[str, float | None],
                                                                       list[tuple[Row, float,
                                                                                  float, float]]]:
    """Leave one group out (a day, an edition): every prediction from a fit without its group.

    Returns the figures and (row, Score, Hype, z) per row. A group whose removal leaves one
    class only (nothing to fit on) is not predicted."""
    rows = list(rows)
    groups = sorted({r.group for r in rows})
    preds: dict[int, tuple[float, float, float]] = {}
    for g in groups:
        train = [r for r in rows if r.group != g]
        test = [i for i, r in enumerate(rows) if r.group == g]
        if not test:
            continue
        try:
            m = fit(train, setup=setup)
        except ValueError:
            continue
        for i in test:
            preds[i] = predict(m, rows[i])
    out = [(rows[i], *preds[i]) for i in sorted(preds)]
    return figures(out), out


def _auc(pos: Sequence[float], neg: Sequence[float]) -> float | None:
    """P(a featured paper scores above a non-featured one), ties half."""
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def _spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    from scipy.stats import spearmanr

    if len(a) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
        return None
    return float(spearmanr(a, b)[0])


def figures(out: Sequence[tuple[Row, float, float, float]]) -> dict[str, float | None]:
    feat = [(r, s, h) for r, s, h, _ in out if r.featured and r.score is not None]
    pos = [s for r, s, _, _ in out if r.featured]
    neg = [s for r, s, _, _ in out if not r.featured]
    return {
        "auc": _auc(pos, neg),
        "score_spearman": _spearman([s for _, s, _ in feat], [float(r.score or 0) for r, _, _ in feat]),
        "hype_spearman": _spearman([h for r, _, h in feat if r.hype is not None],
                                    [r.hype for r, _, _ in feat if r.hype is not None]),
        "rows": float(len(out)), "featured": float(len(pos))}


def neutral(setup: str) -> Learned:
    """Beat similarity and vocabulary, equal weights, a linear Score: when no seed can be read."""
    ident = ScoreMap(a=0.0, b=1.0)
    coef = [1.0 if f in ("beat", "vocabulary") else 0.0 for f in RANK_FEATURES]
    mean = [0.4 if f == "beat" else 0.5 if f == "vocabulary" else 0.0 for f in RANK_FEATURES]
    scale = [0.1 if f == "beat" else 0.3 if f == "vocabulary" else 1.0 for f in RANK_FEATURES]
    return Learned(setup=setup, rank=Linear(names=list(RANK_FEATURES), mean=mean, scale=scale,
                                            coef=coef, intercept=-1.0),
                   combined=Linear(names=list(COMBINED_FEATURES), mean=[*mean, 0.0],
                                   scale=[*scale, 1.0], coef=[*coef, 1.0], intercept=-1.0),
                   score_rank=ident, score_combined=ident,
                   hype=Linear(names=list(HYPE_FEATURES), mean=[0.0] * 5, scale=[1.0] * 5,
                               coef=[3.0, 0.3, 0.3, 0.3, 0.3], intercept=-2.0),
                   hype_map=ident, trained_at="", examples={})


# Storage ------------------------------------------------------------------------------------

def seed_path() -> Path:
    return Path(str(resources.files("flashnews.data").joinpath("ranker.json")))


def user_path(home: Path) -> Path:
    return home / "ranker.json"


class RankerFileError(ValueError):
    """A ranker file that cannot be used (the message is one line)."""


def read(path: Path) -> Learned:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RankerFileError(f"cannot read the learned ranker {path}: "
                              f"{str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RankerFileError(f"{path} is not a flashnews ranker file")
    if data.get("version") != VERSION:
        raise RankerFileError(f"{path} is a ranker of format version {data.get('version')}; "
                              f"this flashnews reads version {VERSION}")
    try:
        return Learned.model_validate(data)
    except ValidationError as exc:
        raise RankerFileError(f"{path} is not a valid ranker: "
                              f"{str(exc).splitlines()[0]}") from None


def write(learned: Learned, path: Path) -> Path:
    """Write atomically (a crash mid-write leaves the old file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(learned.model_dump_json(indent=None) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def load(home: Path | None, setup: str) -> tuple[Learned, str]:
    """The ranker an edition uses, and one line saying which (and why not the learned one)."""
    notes = []
    if home is not None and user_path(home).exists():
        try:
            learned = read(user_path(home))
            if learned.setup == setup:
                return learned, (f"learned ranker ({learned.examples.get('editor', 0)} editor "
                                 f"examples, trained {learned.trained_at})")
            notes.append(f"{user_path(home)} was fitted for another setup (the beat paragraph "
                         "or the embedder changed): run `flashnews learn`")
        except RankerFileError as exc:
            notes.append(f"{exc}: using the seed ranker; `flashnews learn` writes a new one")
    try:
        seed = read(seed_path())
    except RankerFileError as exc:
        log.warning("ranker: %s", exc)
        return neutral(setup), f"uncalibrated: {exc}"
    if seed.setup != setup:
        notes.append("the packaged seed ranker was fitted for another beat paragraph or "
                     "embedder: scores are uncalibrated until `make calibrate`")
    for n in notes:
        log.warning("ranker: %s", n)
    return seed, "; ".join(["cold: the seed ranker fitted on the shared examples, no editor "
                            "decision learned yet", *notes])


# The editor's decisions as examples, and learning from them ---------------------------------

PIN_SCORE = 85.0
"""What a pin says: the paper belongs among the main items (the 75-89 band)."""
LEAD_SCORE = 92.0
"""What moving a paper to the top says: it is the day's lead."""
APPROVED_WEIGHT = 0.5
"""An approved selection confirms the ranker's own choice: half an example each."""


def examples_of(decision: Any, assessments: Mapping[str, Any], selected: Sequence[str],
                papers: Mapping[str, Any], *, main: int) -> list[Any]:
    """The labelled examples one review decision makes (none for edit, rewrite, hold).

    drop: not wanted; pin: wanted as a main item; rescore: the editor's Score and Hype (wanted
    when the Score reaches the also-notable band, 60); move to place 1: the lead, to another
    place: wanted at its Score; approve: every selected paper, at its Score, half weight."""
    from flashnews.models import Example

    def make(pid: str, featured: bool, score: float | None, hype: float | None,
             weight: float = 1.0) -> Example | None:
        paper = papers.get(pid)
        if paper is None:  # nothing to learn from a paper that is not in the store
            log.warning("ranker: no paper %s in the store; the decision is not an example", pid)
            return None
        a = assessments.get(pid)
        model = a.signals.get("model") if a is not None else None
        return Example(paper=paper, edition_id=decision.edition_id, at=decision.at,
                       command=decision.command, featured=featured, score=score, hype=hype,
                       weight=weight, model=model)

    cmd, pid = decision.command, decision.paper_id
    current = assessments.get(pid) if pid else None
    out: list[Example | None] = []
    if cmd == "drop" and pid:
        out.append(make(pid, False, ANCHOR["dropped"], HYPE_ANCHOR["dropped"]))
    elif cmd == "pin" and pid:
        out.append(make(pid, True, max(PIN_SCORE, current.score if current else 0.0), None))
    elif cmd == "rescore" and pid:
        score, hype = decision.args.get("score"), decision.args.get("hype")
        if isinstance(score, int | float):
            out.append(make(pid, float(score) >= 60, float(score),
                            float(hype) if isinstance(hype, int | float) else None))
    elif cmd == "move" and pid:
        to = decision.args.get("to")
        score = LEAD_SCORE if to == 1 else (current.score if current else None)
        out.append(make(pid, True, score, None, 1.0 if to == 1 else APPROVED_WEIGHT))
    elif cmd == "approve":
        for sid in selected[:main]:
            a = assessments.get(sid)
            out.append(make(sid, True, float(a.score) if a else None,
                            float(a.hype) if a else None, APPROVED_WEIGHT))
    return [e for e in out if e is not None]


def editor_rows(examples: Sequence[Any], ranker: Any) -> list[Row]:
    """Feature rows of the editor's examples, as an edition computes them (liked and disliked
    from the other examples: a paper is never compared with itself)."""
    latest: dict[str, Any] = {}
    for e in examples:  # the same paper in several editions: its latest decision
        latest[e.paper.arxiv_id] = e
    chosen = list(latest.values())
    signals = ranker.rank([e.paper for e in chosen])
    rows = []
    for e in chosen:
        x: dict[str, float | None] = signals[e.paper.arxiv_id].features()
        x["model"] = e.model
        rows.append(Row(paper_id=e.paper.arxiv_id, source="editor", group=e.edition_id,
                        featured=e.featured,
                        score=e.score if e.score is not None else (
                            PIN_SCORE if e.featured else ANCHOR["dropped"]),
                        hype=e.hype, weight=e.weight,
                        features={**x, "gain": None, "artifacts": None, "names": None,
                                  "heat": None}))
    return rows


def retrain(seed: Learned, examples: Sequence[Any], ranker: Any) -> Learned:
    """The seed's rows plus the editor's examples, fitted again, with cross-validated figures
    (each editor edition and each seed listing held out in turn)."""
    rows = [*seed.rows, *editor_rows(examples, ranker)]
    cv, out = cross_validate(rows)
    ed = [(r, s) for r, s, _, _ in out if r.source == "editor"]
    cv["editor_auc"] = _auc([s for r, s in ed if r.featured], [s for r, s in ed
                                                               if not r.featured])
    cv["editor_agreement"] = sum((s >= 60) == r.featured for r, s in ed) / len(ed) if ed \
        else None
    fitted = fit(rows, setup=seed.setup, content=seed.content,
                 content_intercept=seed.content_intercept, triage_prompt=seed.triage_prompt,
                 model=seed.model, keep_rows=seed.rows)
    return fitted.model_copy(update={"cv": cv})


def taste(store: Any, edition_id: str) -> tuple[list[Any], list[Any]]:
    """The editor's taste before this edition: papers featured or wanted (liked), and papers
    dropped or rescored low (disliked), from earlier editions only."""
    liked = {p.arxiv_id: p for p in store.featured_before(edition_id)}
    disliked: dict[str, Any] = {}
    for e in store.examples():
        if e.edition_id == edition_id:
            continue
        pid = e.paper.arxiv_id
        (liked if e.featured else disliked)[pid] = e.paper
        (disliked if e.featured else liked).pop(pid, None)
    return list(liked.values()), list(disliked.values())


def learn(store: Any, settings: Any, embedder: Any) -> tuple[Learned, Path, float]:
    """Fit the ranker on the seed and every stored example; write it to the data dir.

    Returns the ranker, where it was written, and the seconds it took."""
    import time

    from flashnews.agents.ranking import Ranker

    started = time.monotonic()
    seed = read(seed_path())
    examples = store.examples()
    liked, disliked = taste(store, "9999-12-31")
    ranker = Ranker(embedder, store, settings, history=liked, disliked=disliked, learned=seed)
    if ranker.setup != seed.setup:
        raise RankerFileError("the packaged seed ranker was fitted for another beat paragraph "
                              "or embedder; fit the seed again with `make calibrate`")
    learned = retrain(seed, examples, ranker) if examples else seed
    path = write(learned, user_path(settings.home))
    return learned, path, time.monotonic() - started
