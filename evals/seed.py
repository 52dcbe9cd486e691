"""The seed ranker: agents/learner.py fitted on the shared labelled examples, measured honestly.

Labelled examples (nothing here is tuned on the held-out 2026-02-26 listing):
- the real days (evals/datasets/realday.jsonl: the 2026-02-24 and 2026-02-25 arXiv listings,
  837 papers): featured = in the house bulletins of 2026-02-25 (16, with the editors' Score and
  Hype), every other paper of the listings is not featured;
- the dev papers' labels (evals/datasets/triage.jsonl: off-topic and borderline papers);
- the beat's human-curated LLM-inference papers (`$FLASHNEWS_EVAL_DATA/data/beat/exemplars.jsonl`, titles
  only): positives of the `content` model alone (its 384 weights ship; no title does);
- the model's P(yes) on the dev papers (the eval's replayed triage), for the combined stage.

Every figure is cross-validated by leaving one listing out: the `content` model, the `liked`
feature (similarity to the other listing's featured papers) and the three fitted models of a
row's listing never saw that listing's labels. `make calibrate` writes the seed
(flashnews/data/ranker.json) with the figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from flashnews.agents import hype as hype_mod
from flashnews.agents import learner
from flashnews.agents.ranking import HEAT_TOP, HISTORY_TOP, Ranker, top_mean, vocabulary
from flashnews.config import Settings, eval_data_dir
from flashnews.errors import ConfigError
from flashnews.evals import schema
from flashnews.models import Paper

EXEMPLARS = eval_data_dir() / "data" / "beat" / \
    "exemplars.jsonl"
C_CONTENT = 0.1
"""Strength of the embedding model (small: 384 weights from ~400 positives)."""
HEAT_POOL = 64
"""Heat: similarity to the listing's papers of the best beat similarity (the day's candidates)."""


def exemplar_titles(path: Path = EXEMPLARS) -> list[str]:
    if not path.exists():
        raise ConfigError(f"the beat exemplars are not at {path} (FLASHNEWS_EVAL_DATA, "
                          "the repository)")
    return [json.loads(line)["title"] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def fit_content(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression over unit embeddings, classes weighted equally."""
    from sklearn.linear_model import LogisticRegression

    X = np.vstack([pos, neg])
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    est = LogisticRegression(C=C_CONTENT, max_iter=5000, class_weight="balanced").fit(X, y)
    return est.coef_[0], float(est.intercept_[0])


def build_rows(realday: Mapping[str, Paper], listing: Mapping[str, str],
               refs: Mapping[str, tuple[int, int]], dev: Mapping[str, str],
               dev_papers: Mapping[str, Paper], model: Mapping[str, float],
               ranker: Ranker, exemplar_vecs: np.ndarray, settings: Settings,
               oof_out: dict[str, tuple[np.ndarray, float]] | None = None
               ) -> tuple[list[learner.Row], tuple[np.ndarray, float]]:
    """Feature rows of every labelled paper (out of fold by listing), and the full content fit.

    `refs`: the editors' (Score, Hype) of featured papers; `dev`: dev labels by id (positive,
    negative, borderline); `model`: P(yes) by id where the model was asked."""
    papers = {**dev_papers, **realday}
    ids = list(papers)
    vecs = ranker.vectors(papers.values())
    beat, train, infer = ranker._anchor_vectors()
    # A dev paper outside the real days is held out alone (leave one out).
    groups = {pid: listing.get(pid, f"dev:{pid}") for pid in ids}
    featured = {pid for pid in ids if pid in refs}
    negatives = [pid for pid, lab in dev.items() if lab == "negative" and pid in vecs]
    day_ids = [pid for pid in realday]
    day_pos = [vecs[p][None] for p in featured if p in realday]
    day_neg = [vecs[p] for p in day_ids if p not in featured]
    content_full = fit_content(np.vstack([exemplar_vecs, *day_pos]), np.stack(day_neg)) \
        if day_neg and (day_pos or len(exemplar_vecs)) else (np.zeros(beat.size), 0.0)
    oof: dict[str, tuple[np.ndarray, float]] = {}
    for g in sorted(set(groups.values())):
        train_ids = [p for p in day_ids if groups[p] != g]
        pos = [vecs[p] for p in train_ids if p in featured]
        negs = [vecs[p] for p in train_ids if p not in featured]
        oof[g] = fit_content(np.vstack([exemplar_vecs, *[v[None] for v in pos]]),
                             np.stack(negs)) if negs and (pos or len(exemplar_vecs)) \
            else (np.zeros(beat.size), 0.0)
    if oof_out is not None:
        oof_out |= oof
    rows = []
    for pid in ids:
        v, g, p = vecs[pid], groups[pid], papers[pid]
        coef, icpt = oof[g]
        liked_pool = [vecs[q] for q in featured if groups[q] != g and q != pid]
        disliked_pool = [vecs[q] for q in negatives if q != pid and groups[q] != g]
        same = [q for q in day_ids if groups[q] == g and q != pid] or \
            [q for q in day_ids if q != pid]
        pool = sorted(same, key=lambda q: -float(vecs[q] @ beat))[:HEAT_POOL]
        heat = top_mean(np.stack([vecs[q] for q in pool]) @ v, HEAT_TOP) if pool else 0.0
        feats: dict[str, float | None] = {
            "beat": round(float(v @ beat), 5),
            "vocabulary": round(vocabulary(p), 5),
            "content": round(float(coef @ v + icpt), 5),
            "training": round(float(v @ train - v @ infer), 5),
            "liked": round(top_mean(np.stack(liked_pool) @ v, HISTORY_TOP), 5)
            if len(liked_pool) >= 3 else None,
            "disliked": round(top_mean(np.stack(disliked_pool) @ v, HISTORY_TOP), 5)
            if len(disliked_pool) >= 3 else None,
            "editor": 0.0, "model": model.get(pid),
            "gain": round(hype_mod.gain(p), 4), "artifacts": hype_mod.artifacts(p),
            "names": hype_mod.names(p, settings), "heat": round(max(0.0, heat), 5)}
        label = dev.get(pid)
        if pid in refs:
            score, hyp = float(refs[pid][0]), float(refs[pid][1])
        elif label in ("negative", "borderline"):
            score, hyp = learner.ANCHOR[label], learner.HYPE_ANCHOR[label]
        else:
            score, hyp = learner.ANCHOR["not_featured"], learner.HYPE_ANCHOR["not_featured"]
        rows.append(learner.Row(paper_id=pid, source="realday" if pid in realday else "dev",
                                group=g, featured=pid in featured, score=score, hype=hyp,
                                label=label or "", features=feats))
    return rows, content_full


def _model(row: learner.Row) -> float:
    """The model's answer of a row that has one (the callers keep only those)."""
    value = row.features.get("model")
    assert value is not None
    return float(value)


def evaluate(rows: Sequence[learner.Row], *, select: int = 7, k: int = 64
             ) -> tuple[dict[str, float | None], list[tuple[learner.Row, float, float, float]]]:
    """Leave-one-listing-out figures of each stage on its own and combined, and the combined
    predictions (row, Score, Hype, log-odds).

    - ranking alone: stage-1 Score (no model answer used) on every row of the real days;
    - model alone: P(yes) on the rows the model answered (nothing else);
    - combined: the Score an edition shows (model answer where there is one).
    Per listing: featured papers among the `select` best (a flash edition's 5 + 2)."""
    from flashnews.evals import metrics as m

    no_model = [r.model_copy(update={"features": {**r.features, "model": None}}) for r in rows]
    rank_fig, rank_out = learner.cross_validate(no_model)
    comb_fig, comb_out = learner.cross_validate(rows)
    seen = [r for r in rows if r.features.get("model") is not None]
    seen_feat = [r for r in seen if r.featured and r.score is not None]
    out: dict[str, float | None] = {
        "ranking_auc": rank_fig["auc"], "ranking_spearman": rank_fig["score_spearman"],
        "model_auc": m.auc([_model(r) for r in seen if r.featured],
                           [_model(r) for r in seen if not r.featured]),
        "model_spearman": m.spearman([_model(r) for r in seen_feat],
                                     [float(r.score or 0) for r in seen_feat]),
        "score_auc": comb_fig["auc"], "score_spearman": comb_fig["score_spearman"],
        "hype_spearman": comb_fig["hype_spearman"]}
    for name, res in (("ranking", rank_out), ("combined", comb_out)):
        hit, total = 0, 0
        for g in sorted({r.group for r, *_ in res if r.source == "realday"}):
            day = sorted(((s, z, r) for r, s, _, z in res if r.group == g),
                         key=lambda t: (-t[0], -t[1]))
            hit += sum(r.featured for _, _, r in day[:select])
            total += min(select, sum(r.featured for _, _, r in day))
        out[f"{name}_top{select}"] = m.ratio(hit, total)
    lab = [(s, r.score) for r, s, _, _ in comb_out if r.label and r.score is not None]
    out["score_spearman_labelled"] = m.spearman([s for s, _ in lab], [t for _, t in lab])
    # On one day (what a reader compares): within each listing, weighted by its featured papers.
    for name, res, col in (("score", comb_out, 0), ("hype", comb_out, 1),
                           ("ranking", rank_out, 0)):
        num = den = 0.0
        for g in sorted({r.group for r, *_ in res if r.source == "realday"}):
            pairs = [((s, h)[col], r) for r, s, h, _ in res if r.group == g and r.featured]
            ref = [float((r.score if name != "hype" else r.hype) or 0) for _, r in pairs]
            rho = m.spearman([v for v, _ in pairs], ref)
            if rho is not None:
                num += rho * len(pairs)
                den += len(pairs)
        out[f"{name}_spearman_day"] = num / den if den else None
    num = den = 0.0
    for g in sorted({r.group for r in seen if r.source == "realday"}):
        day_rows = [r for r in seen_feat if r.group == g]
        rho = m.spearman([float(r.features["model"] or 0) for r in day_rows],
                         [float(r.score or 0) for r in day_rows])
        if rho is not None:
            num, den = num + rho * len(day_rows), den + len(day_rows)
    out["model_spearman_day"] = num / den if den else None
    ranks = []
    for g in sorted({r.group for r, *_ in rank_out if r.source == "realday"}):
        ranked = sorted(((z, r) for r, _, _, z in rank_out if r.group == g),
                        key=lambda t: -t[0])
        ranks += [n for n, (_, r) in enumerate(ranked, start=1) if r.featured]
    out["ranking_recall"] = m.ratio(sum(n <= k for n in ranks), len(ranks))
    out["ranking_worst_rank"] = float(max(ranks)) if ranks else None
    featured = sorted((s for r, s, _, _ in comb_out if r.featured), reverse=True)
    out["score_spread"] = float(np.std([s for _, s, _, _ in comb_out])) if comb_out else None
    out["featured_score_range"] = featured[0] - featured[-1] if featured else None
    return out, comb_out


def replay_review(rows: Sequence[learner.Row], oof: Mapping[str, tuple[np.ndarray, float]],
                  listings: Mapping[str, Sequence[Paper]], ranker: Ranker, *,
                  today: str = "2026-02-24", tomorrow: str = "2026-02-25", near: int = 10,
                  top: int = 20, select: int = 7) -> tuple[dict[str, float | None],
                                                         list[dict[str, Any]]]:
    """An editor's review of one real day replayed, and the next real day ranked before and
    after the ranker learns from it (nothing fitted on the next day's labels).

    The review: on `today`, the editor drops every paper of the seed's `top` best that the
    editors did not feature, and pins every featured paper the seed ranks below `select`.
    Measured on `tomorrow`: the mean rank change (before minus after: positive is higher) of
    the `near` papers most like the dropped ones rather than the pinned ones (by the margin of
    their largest similarities), the same for the pinned ones, and the featured papers among
    its `select` best, before and after."""
    from flashnews.models import Example

    base_rows = [r for r in rows if r.group != tomorrow]
    base = learner.fit(base_rows, setup=ranker.setup, content=oof[tomorrow][0],
                       content_intercept=oof[tomorrow][1])
    featured = {r.paper_id for r in rows if r.featured}
    day = {p.arxiv_id: p for p in listings[today]}
    before_today = Ranker(ranker.embedder, ranker.cache, ranker.settings, learned=base)
    order = sorted(before_today.rank(list(day.values())).items(), key=lambda kv: kv[1].rank)
    dropped = [pid for pid, _ in order[:top] if pid not in featured]
    pinned = [pid for pid, s in order if pid in featured and s.rank > select]
    at = "2026-02-24T12:00:00+00:00"
    examples = [Example(paper=day[p], edition_id=f"{today}-flash", at=at, command="drop",
                        featured=False, score=learner.ANCHOR["dropped"]) for p in dropped]
    examples += [Example(paper=day[p], edition_id=f"{today}-flash", at=at, command="pin",
                         featured=True, score=learner.PIN_SCORE) for p in pinned]
    liked, disliked = [day[p] for p in pinned], [day[p] for p in dropped]
    taught = Ranker(ranker.embedder, ranker.cache, ranker.settings, history=liked,
                    disliked=disliked, learned=base)
    after = learner.retrain(base, examples, taught)
    nxt = list(listings[tomorrow])
    before_sig = Ranker(ranker.embedder, ranker.cache, ranker.settings, learned=base).rank(nxt)
    after_sig = Ranker(ranker.embedder, ranker.cache, ranker.settings, history=liked,
                       disliked=disliked, learned=after).rank(nxt)
    vecs = ranker.vectors([*nxt, *liked, *disliked])

    def closest(group: Sequence[Paper], other: Sequence[Paper]) -> list[str]:
        """The next day's papers most like `group` rather than `other`: by the margin of their
        largest similarity to the one over their largest to the other."""
        if not group:
            return []
        mat = np.stack([vecs[p.arxiv_id] for p in group])
        alt = np.stack([vecs[p.arxiv_id] for p in other]) if other else None
        margin = {p.arxiv_id: float((mat @ vecs[p.arxiv_id]).max()) - (
            float((alt @ vecs[p.arxiv_id]).max()) if alt is not None else 0.0) for p in nxt}
        return sorted(margin, key=lambda i: -margin[i])[:near]

    def moved(ids: Sequence[str]) -> float | None:
        if not ids:
            return None
        return float(np.mean([before_sig[i].rank - after_sig[i].rank for i in ids]))

    top_before = sum(before_sig[i].rank <= select for i in featured if i in before_sig)
    top_after = sum(after_sig[i].rank <= select for i in featured if i in after_sig)
    cases = [{"paper_id": i, "kind": kind, "rank_before": before_sig[i].rank,
              "rank_after": after_sig[i].rank}
             for kind, ids in (("like dropped", closest(disliked, liked)),
                               ("like pinned", closest(liked, disliked)))
             for i in ids]
    return {"editor_replay_dropped": moved(closest(disliked, liked)),
            "editor_replay_pinned": moved(closest(liked, disliked)),
            "editor_replay_top7_before": float(top_before),
            "editor_replay_top7_after": float(top_after),
            "editor_replay_decisions": float(len(examples))}, cases


RECORD_TOP = 64
"""Papers per listing whose P(yes) is recorded: the best by beat similarity (the K an edition
asks about, before any fitted ranker exists to choose them)."""


def record_answers(out: Path, settings: Settings, *, top: int = RECORD_TOP) -> int:
    """Ask the configured model (the embedded one by default) about each real-day listing's
    `top` papers by beat similarity and write their P(yes) as evals/datasets/realday_model.jsonl.
    Returns the number of answers."""
    import tempfile

    from flashnews.agents.triage import Triage
    from flashnews.tools.embeddings import load_embedder
    from flashnews.tools.llm import Models
    from flashnews.tools.store import Store

    _, day = schema.read("realday", schema.RealdayCase)
    home = Path(tempfile.mkdtemp(prefix="flashnews-record-"))
    s = settings.model_copy(update={"home": home, "triage_scoring": "logprob"})
    store = Store(s.db_path)
    models = Models(s, store, "record")
    rows = []
    try:
        triage = Triage(models, store, s, embedder=load_embedder(s))
        beat = triage.ranker.beat_vector()
        listings: dict[str, list[Paper]] = {}
        for c in day:
            listings.setdefault(c.listing, []).append(c.paper)
        for papers in listings.values():
            vecs = triage.ranker.vectors(papers)
            best = sorted(papers, key=lambda p: -float(vecs[p.arxiv_id] @ beat))[:top]
            for p in best:
                a = triage._score_logprob(p)
                rows.append(schema.RecordedAnswer(
                    case_id=p.arxiv_id, arxiv_id=p.arxiv_id, p_yes=a.signals["p_yes"],
                    model=a.model, prompt_hash=a.prompt_hash))
    finally:
        models.close()
        store.close()
    write_answers(out, rows)
    return len(rows)


def write_answers(out: Path, rows: Sequence[schema.RecordedAnswer]) -> None:
    header = {"dataset": "realday_model", "version": 1, "schema_version": schema.SCHEMA_VERSION,
              "description": "the model's P(yes) to the triage question on each real-day "
                             f"listing's {RECORD_TOP} papers of best beat similarity",
              "source": "recorded live: python -m flashnews.evals.seed --record"}
    lines = [json.dumps(header)] + [r.model_dump_json() for r in rows]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Record the model's answers on the real days.")
    ap.add_argument("--record", action="store_true", required=True)
    ap.add_argument("--out", type=Path, default=schema.DATASETS / "realday_model.jsonl")
    args = ap.parse_args()
    print(f"{record_answers(args.out, Settings())} answers written to {args.out}")
