"""Run the evals: triage, injection, writer and critic cases against one model.

Modes:
- replay: every model call is answered from the cassettes recorded for that model
  (`evals/cassettes/<model>/`), so the run is deterministic and needs no model server; a request
  that matches no recording (a prompt or a request changed) fails with ReplayMismatch.
- live: the configured model answers (the embedded one by default); `record` also writes the
  cassettes that replay uses.
Every model call goes through the same agents as an edition (Triage, Writer, critic), with an
empty assessment cache and neutral editor rules, and is counted in a throwaway ledger.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
from flashnews.agents import critic
from flashnews.agents.triage import Selection, Triage, injection_findings
from flashnews.agents.writer import ITEM_WORDS, Writer
from flashnews.evals import calibrate, schema
from flashnews.evals import metrics as m
from flashnews.tools.embeddings import Embedder, load_embedder
from flashnews.tools.grounding import check_bulletin
from flashnews.tools.llm import Models
from flashnews.tools.store import Store
from pydantic import BaseModel, Field

from flashnews.config import OPENAI_BASE_URL, ROLES, Settings
from flashnews.errors import ConfigError, EvalRegression, ReplayMismatch
from flashnews.models import Assessment, Draft, DraftItem, Finding, Paper

EVALS = Path(__file__).parent
CASSETTES = EVALS / "cassettes"
REPORTS = EVALS / "reports"
BASELINE = EVALS / "baseline.json"
REPLAY_URL = "http://127.0.0.1:8765/v1"  # recorded against whatever port; matched without it
VCR_CONFIG: dict[str, Any] = {"filter_headers": ["authorization", "x-api-key", "api-key"],
                              "match_on": ["method", "path", "body"],
                              "decode_compressed_response": True}
__all__ = ["EvalRegression", "ReplayMismatch", "Report", "Runner", "drop_recording",
           "keep_recording", "model_key", "run", "slug"]
Mode = Literal["replay", "live"]
Subset = Literal["full", "smoke"]

# The smoke subset runs in `make test`: a few cases of every kind, from the full cassettes.
SMOKE: dict[str, set[str]] = {
    "triage": {f"dev-{i}" for i in ("2602.20732", "2602.20662", "2602.20217", "2602.20515",
                                    "2602.21987", "2602.19177", "2602.21033", "2602.22261")},
    "injection": {"direct-raise-offtopic", "paraphrase-raise-offtopic"},
    "writer": {"flash-hardware-also"},
    "model_review": {"clean-flash-plain", "overclaim-tom"},
}


class Report(BaseModel):
    """One eval run: its metrics, its cases and what it ran on."""

    model: str
    mode: Mode
    subset: Subset
    at: str
    datasets: dict[str, int]
    metrics: dict[str, float | None]
    cases: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    seconds: float = 0.0
    scoring: str = ""
    recorded: str | None = Field(default=None, description="staged recordings (keep_recording)")
    calibration: dict[str, Any] | None = Field(
        default=None, description="score maps fitted on this run's dev papers (--calibrate)")


class _NoCache:
    """An assessment cache that never hits: every case is scored by the model. Embeddings,
    which no model call makes, are kept in memory for the run."""

    def __init__(self) -> None:
        self.vectors: dict[tuple[str, str, int, str], bytes] = {}

    def cached_assessment(self, paper: Paper, prompt_hash: str, model: str) -> None:
        return None

    def cache_assessment(self, a: Assessment) -> None:
        return None

    def cached_embeddings(self, model: str, keys: list[tuple[str, int, str]]
                          ) -> dict[tuple[str, int, str], bytes]:
        return {k: self.vectors[(model, *k)] for k in keys if (model, *k) in self.vectors}

    def cache_embeddings(self, model: str, rows: list[tuple[str, int, str, bytes]]) -> None:
        for pid, v, h, vec in rows:
            self.vectors[(model, pid, v, h)] = vec


def model_key(settings: Settings) -> str:
    """The name a baseline and its cassettes are kept under: the model, or each role's."""
    names = {r: settings.model_for(r) for r in ROLES}
    key = (names["triage"] if len(set(names.values())) == 1
           else ",".join(f"{r}={n}" for r, n in names.items()))
    # A scoring method other than the model's default is another setup, with its own baseline
    # and cassettes: the evals are what decides which method a model gets.
    auto = settings.model_copy(update={"triage_scoring": "auto"}).scoring_method()
    if settings.scoring_method() != auto:
        key += f"+{settings.scoring_method()}"
    return key


def slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key)


def _scores(pairs: dict[str, tuple[int, int]]) -> dict[str, Assessment]:
    return {pid: Assessment(paper_id=pid, relevant=True, score=s, hype=h, rationale="eval",
                            prompt_hash="-", model="-") for pid, (s, h) in pairs.items()}


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


class Datasets:
    """Every dataset, loaded and validated, cut to a subset."""

    def __init__(self, subset: Subset, root: Path = schema.DATASETS) -> None:
        self.papers = schema.papers(root=root)
        headers = {}
        h, self.triage = schema.read("triage", schema.TriageCase, root=root)
        headers["triage"] = h
        h, self.editor = schema.read("editor", schema.TriageCase, root=root)
        headers["editor"] = h
        h, self.injection = schema.read("injection", schema.InjectionCase, root=root)
        headers["injection"] = h
        h, self.writer = schema.read("writer", schema.WriterCase, root=root)
        headers["writer"] = h
        h, self.drafts = schema.read("drafts", schema.DraftCase, root=root)
        headers["drafts"] = h
        # The real day is optional (a custom datasets folder may lack it): ranking recall only.
        self.realday: dict[str, Paper] = {}
        self.realday_featured: list[str] = []
        if (root / "realday.jsonl").exists():
            h, day = schema.read("realday", schema.RealdayCase, root=root)
            headers["realday"] = h
            self.realday = {c.paper.arxiv_id: c.paper for c in day}
            self.realday_featured = [c.paper.arxiv_id for c in day if c.featured]
        self.versions = {name: hd.version for name, hd in headers.items()}
        self.model_review = {c.case_id for c in self.drafts if c.model_review}
        if subset == "smoke":
            self.triage = [c for c in self.triage if c.case_id in SMOKE["triage"]]
            self.editor = []
            self.injection = [c for c in self.injection if c.case_id in SMOKE["injection"]]
            self.writer = [c for c in self.writer if c.case_id in SMOKE["writer"]]
            self.model_review &= SMOKE["model_review"]
        for c in [*self.triage, *self.injection]:
            if c.paper_id not in self.papers:
                raise ConfigError(f"eval case {c.case_id}: paper {c.paper_id} not in papers.jsonl")
        for c in self.editor:
            if c.paper is not None:
                self.papers.setdefault(c.paper_id, c.paper)


class Runner:
    """One eval run over the datasets with one model setup."""

    def __init__(self, settings: Settings, *, mode: Mode, subset: Subset, record: bool = False,
                 cassettes: Path = CASSETTES, datasets: Path = schema.DATASETS,
                 embedder: Embedder | None = None, calibrate_maps: bool = False,
                 add_to_recordings: bool = False) -> None:
        if record and mode != "live":
            raise ConfigError("--record needs --live (recording is of a real model)")
        self.mode, self.subset, self.record = mode, subset, record
        self.calibrate_maps = calibrate_maps
        self.data = Datasets(subset, datasets)
        self.key = model_key(settings)
        self.dir = cassettes / slug(self.key)
        if record:
            # Recordings go to a staging folder; keep_recording puts them in place once the
            # run is accepted, so a run that regressed never replaces what replay uses.
            self.dir = cassettes / f"{slug(self.key)}.new"
            shutil.rmtree(self.dir, ignore_errors=True)
            if add_to_recordings and (cassettes / slug(self.key)).is_dir():
                # Requests the cassettes already hold are answered from them (byte-identical
                # requests to the same model); only new ones go to the live model.
                shutil.copytree(cassettes / slug(self.key), self.dir)
        self.add_to_recordings = add_to_recordings
        neutral: dict[str, Any] = {"include_keywords": [], "exclude_keywords": [],
                                   "watch_authors": []}
        if mode == "replay":
            meta = self._meta()
            neutral |= {"base_url": REPLAY_URL, "api_key": None, "max_retries": 0,
                        "triage_model": meta["models"]["triage"],
                        "writer_model": meta["models"]["writer"],
                        "critic_model": meta["models"]["critic"],
                        "triage_scoring": meta["scoring"],
                        "send_max_tokens": meta["send_max_tokens"], "triage_concurrency": 1}
        self.home = Path(tempfile.mkdtemp(prefix="flashnews-eval-"))
        self.settings = settings.model_copy(update=neutral | {"home": self.home})
        self.store = Store(self.settings.db_path)
        self.models = Models(self.settings, self.store, "eval")
        self.scoring = self.settings.scoring_method()
        self.embedder = embedder or load_embedder(self.settings)
        self.cache = _NoCache()
        # What the editors featured before, as the ranking stage's history: the labelled dev
        # papers (a paper is never compared with itself, so this is leave-one-out).
        self.history = [self.data.papers[c.paper_id] for c in self.data.triage
                        if c.label == "positive"]
        self.dev_cases: list[calibrate.DevCase] = []
        self.calibration_key = ""
        self.calibrated = False

    # cassettes --------------------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        path = self.dir / "meta.json"
        if not path.exists():
            raise ConfigError(f"no recordings for model {self.key!r} in {self.dir}: record them "
                              "with `flashnews eval --live --record` (make eval-record)")
        return dict(json.loads(path.read_text()))

    def _write_meta(self) -> None:
        url = self.models.base_url()
        send = self.settings.send_max_tokens
        if send is None:
            send = not url.startswith(OPENAI_BASE_URL)
        meta = {"model": self.key, "models": {r: self.settings.model_for(r) for r in ROLES},
                "scoring": self.scoring, "send_max_tokens": send,
                "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "endpoint": "embedded" if self.settings.embedded else "endpoint"}
        (self.dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")

    @contextmanager
    def _cassette(self, name: str) -> Iterator[None]:
        if self.mode == "live" and not self.record:
            yield
            return
        try:
            import vcr
            from vcr.errors import CannotOverwriteExistingCassetteException
        except ImportError:
            raise ConfigError("eval replay and recording need vcrpy: pip install "
                              "'flashnews[dev]'") from None

        path = self.dir / f"{name}.yaml"
        mode = ("new_episodes" if self.add_to_recordings else "all") if self.record else "none"
        recorder = vcr.VCR(record_mode=mode, **VCR_CONFIG)
        try:
            with recorder.use_cassette(str(path)):
                yield
        except Exception as exc:
            # vcrpy raises it from inside the HTTP client: bare, or wrapped by openai and by
            # Models as an endpoint failure.
            cause: BaseException | None = exc
            while cause is not None and not isinstance(
                    cause, CannotOverwriteExistingCassetteException):
                cause = cause.__cause__ or cause.__context__
            if cause is None:
                raise
            raise ReplayMismatch(
                f"replay of {self.key!r}: a request matches no recording in {path.name} (a "
                "prompt, a request or a dataset changed since the cassettes were recorded); "
                "record them again with `make eval-record`") from None

    def _section(self, name: str) -> None:
        # One ledger, one "edition" per section: usage is then read per section.
        self.models.edition_id = name

    def _cost(self, name: str, cases: int) -> dict[str, float | None]:
        u = self.store.usage(name)["total"]
        return {f"{name}_calls_per_case": _r(m.ratio(u.calls, cases), 3),
                f"{name}_tokens_per_case": _r(m.ratio(u.input_tokens + u.output_tokens, cases), 1),
                f"{name}_seconds_per_case": _r(m.ratio(u.seconds, cases), 2)}

    # the run ----------------------------------------------------------------------------------
    def run(self) -> Report:
        started = time.monotonic()
        out: dict[str, float | None] = {}
        cases: dict[str, list[dict[str, Any]]] = {}
        try:
            if self.mode == "live":
                self.models.base_url()  # start the embedded server outside any cassette
                if self.record:
                    self.dir.mkdir(parents=True, exist_ok=True)
                    self._write_meta()
            with self._cassette("triage"):
                scored = self._triage(out, cases)
                self._editor(out, cases)
                self._injection(out, cases, scored)
            calibration = None
            if self.calibrate_maps:
                calibration = calibrate.fit(
                    self.dev_cases, self.calibration_key, k=self.settings.triage_model_papers,
                    threshold=self.settings.relevance_threshold,
                    at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    fitted_on=f"{len(self.dev_cases)} dev papers (evals/datasets/triage.jsonl v"
                              f"{self.data.versions['triage']}), {self.mode}").model_dump()
            with self._cassette("writer"):
                self._writer(out, cases)
            with self._cassette("critic"):
                self._critic(out, cases)
            self._realday(out, cases)
        finally:
            self.models.close()
            self.store.close()
            shutil.rmtree(self.home, ignore_errors=True)
        return Report(model=self.key, mode=self.mode, subset=self.subset,
                      at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                      datasets=self.data.versions, metrics=out, cases=cases,
                      seconds=round(time.monotonic() - started, 1), scoring=self.scoring,
                      recorded=str(self.dir) if self.record else None,
                      calibration=calibration)

    def _triage_of(self, ask_all: bool = False) -> Triage:
        return Triage(self.models, self.cache, self.settings, embedder=self.embedder,
                      history=self.history, ask_all=ask_all)

    def _score(self, papers: list[Paper]) -> dict[str, Assessment]:
        return self._triage_of(ask_all=True).run(papers)

    def _triage(self, out: dict[str, float | None],
                cases: dict[str, list[dict[str, Any]]]) -> dict[str, Assessment]:
        self._section("triage")
        data = self.data.triage
        papers = [self.data.papers[c.paper_id] for c in data]
        triage = self._triage_of(ask_all=True)  # every stage measured on every paper
        got = triage.run(papers)
        self.calibration_key = triage.calibration_key()
        self.calibrated = triage.calibration()[1]
        vectors = triage.ranker.vectors(papers)
        rows, dev = [], []
        for c in data:
            a = got[c.paper_id]
            s = a.signals
            reached = a.method in ("logprob", "generated")
            dev.append(calibrate.DevCase(
                paper_id=c.paper_id, label=c.label, ref_score=c.ref_score, ref_hype=c.ref_hype,
                beat=s["beat"], vocabulary=s["vocabulary"], vector=vectors[c.paper_id],
                model=s.get("model") if reached else None, editor=bool(s.get("editor")),
                hype_evidence={k: s[f"hype_{k}"] for k in calibrate.HYPE_FEATURES
                               if k != "significance"}))
            rows.append({"case": c.case_id, "label": c.label, "score": a.score, "hype": a.hype,
                         "relevant": a.relevant, "method": a.method, "ref_score": c.ref_score,
                         "ref_hype": c.ref_hype, "ranking": s.get("ranking"),
                         "beat": s.get("beat"), "history": s.get("history"),
                         "vocabulary": s.get("vocabulary"), "model": s.get("model")})
        self.dev_cases = dev
        cv = {"k": self.settings.triage_model_papers,
              "threshold": self.settings.relevance_threshold}
        folds = calibrate.cross_validate(dev, **cv)
        for row, f in zip(rows, folds, strict=True):
            row |= {"cv_score": f.score, "cv_hype": f.hype, "cv_asked": f.asked}
        cases["triage"] = rows
        cases["ablation"] = calibrate.ablation(dev, **cv) if self.subset == "full" else []
        fig = calibrate.figures_of(dev, folds)
        pos = [r for r in rows if r["label"] == "positive"]
        seen = [r for r in rows if r["model"] is not None and r["cv_asked"]]
        seen_refs = [r for r in seen if r["ref_score"] is not None]
        tp = sum(f.score >= self.settings.relevance_threshold
                 for f, r in zip(folds, rows, strict=True) if r["label"] == "positive")
        fp = sum(f.score >= self.settings.relevance_threshold
                 for f, r in zip(folds, rows, strict=True) if r["label"] == "negative")
        out |= {
            # the ranking stage alone (every labelled paper; history leave-one-out)
            "ranking_auc": _r(fig["ranking_auc"]),
            "ranking_spearman": _r(fig["ranking_spearman"]),
            "model_reach": _r(m.ratio(sum(r["cv_asked"] for r in pos), len(pos))),
            # the model alone, on the papers that reached it (nothing else counted)
            "model_auc": _r(m.auc([r["model"] for r in seen if r["label"] == "positive"],
                                  [r["model"] for r in seen if r["label"] == "negative"])),
            "model_spearman": _r(m.spearman([r["model"] for r in seen_refs],
                                            [r["ref_score"] for r in seen_refs])),
            # combined: the Score and Hype shown, each predicted by maps fitted without it
            "triage_recall": _r(m.ratio(tp, len(pos))),
            "triage_precision": _r(m.ratio(tp, tp + fp)),
            "triage_auc": _r(fig["score_auc"]),
            "score_spearman": _r(fig["score_spearman"]),
            "hype_spearman": _r(fig["hype_spearman"]),
            "score_mae": _r(fig["score_mae"], 2),
            "hype_mae": _r(fig["hype_mae"], 2),
            "score_spread": _r(float(np.std([f.score for f in folds])), 2),
            "hype_spread": _r(float(np.std([f.hype for f in folds])), 2),
        }
        out |= self._cost("triage", len(data))
        return got

    def _realday(self, out: dict[str, float | None],
                 cases: dict[str, list[dict[str, Any]]]) -> None:
        """The ranking stage on a whole real day: featured papers among the top K (no model)."""
        if self.subset != "full" or not self.data.realday:
            return
        papers = list(self.data.realday.values())
        featured = self.data.realday_featured
        ranker = self._triage_of().ranker
        ranker.history = []  # a first run: nothing featured before
        started = time.monotonic()
        signals = ranker.rank(papers)
        seconds = time.monotonic() - started
        k = self.settings.triage_model_papers
        ranks = sorted((signals[i].rank, i) for i in featured if i in signals)
        cases["realday"] = [{"paper_id": i, "rank": r, "in_top_k": r <= k,
                             "beat": signals[i].beat, "vocabulary": signals[i].vocabulary}
                            for r, i in ranks]
        out |= {"ranking_recall": _r(m.ratio(sum(r <= k for r, _ in ranks), len(ranks))),
                "ranking_worst_rank": float(ranks[-1][0]) if ranks else None,
                "realday_embed_seconds_per_paper": _r(seconds / len(papers), 4)}

    def _editor(self, out: dict[str, float | None],
                cases: dict[str, list[dict[str, Any]]]) -> None:
        self._section("editor")
        data = self.data.editor
        got = self._score([self.data.papers[c.paper_id] for c in data]) if data else {}
        rows = [{"case": c.case_id, "label": c.label, "score": got[c.paper_id].score,
                 "relevant": got[c.paper_id].relevant, "ref_score": c.ref_score,
                 "ref_hype": c.ref_hype} for c in data]
        if rows:
            cases["editor"] = rows
        judged = [r for r in rows if r["label"] in ("positive", "negative")]
        agree = sum(r["relevant"] == (r["label"] == "positive") for r in judged)
        refs = [r for r in rows if r["ref_score"] is not None]
        out["editor_agreement"] = _r(m.ratio(agree, len(judged)))
        out["editor_score_spearman"] = _r(m.spearman([r["score"] for r in refs],
                                                     [r["ref_score"] for r in refs]))

    def _injection(self, out: dict[str, float | None], cases: dict[str, list[dict[str, Any]]],
                   scored: dict[str, Assessment]) -> None:
        self._section("injection")
        rows = []
        for c in self.data.injection:
            paper = self.data.papers[c.paper_id]
            clean = scored.get(c.paper_id) or self._score([paper])[c.paper_id]
            text = (f"{c.injection} {paper.abstract}" if c.position == "start"
                    else f"{paper.abstract} {c.injection}")
            attacked = paper.model_copy(update={"abstract": text})
            a = self._score([attacked])[c.paper_id]
            rows.append({"case": c.case_id, "style": c.style, "position": c.position,
                         "clean_score": clean.score, "score": a.score,
                         "shift": a.score - clean.score,
                         "flagged": bool(injection_findings(attacked))})
        cases["injection"] = rows
        shifts = [abs(r["shift"]) for r in rows]
        out |= {"injection_mean_shift": _r(m.ratio(sum(shifts), len(shifts)), 2),
                "injection_max_shift": float(max(shifts)) if shifts else None,
                "injection_flagged": _r(m.ratio(sum(r["flagged"] for r in rows), len(rows)))}
        out |= self._cost("injection", len(rows))

    def _writer(self, out: dict[str, float | None],
                cases: dict[str, list[dict[str, Any]]]) -> None:
        self._section("writer")
        papers = self.data.papers
        rows = []
        for c in self.data.writer:
            scores = _scores(c.scores)
            selection = Selection(main=c.main, also=c.also)
            draft, _ = Writer(self.models).write(
                edition_id=f"eval-{c.case_id}", date=c.date, fmt=c.fmt, selection=selection,
                papers=papers, assessments=scores)
            findings = check_bulletin(draft.markdown, papers=papers, assessments=scores,
                                      fmt=c.fmt, date=c.date, selected=set(selection.ids))
            general = [f for f in findings if f.item is None and f.severity == "blocking"]
            for item in draft.items:
                p = papers[item.paper_id]
                g = m.grounding(f"{item.headline}. {item.body}", f"{p.title} {p.abstract}")
                problems = _format_problems(item, c.fmt, findings) + [f.check for f in general]
                rows.append({"case": c.case_id, "item": item.paper_id, "section": item.section,
                             "headline": item.headline, "body": item.body, **g,
                             "format_ok": not problems, "format_problems": problems})
        cases["writer"] = rows
        nums = sum(r["numbers"] for r in rows)
        claims = sum(r["claims"] for r in rows)
        grounded = sum(r["numbers_grounded"] + r["claims_grounded"] for r in rows)
        out |= {"writer_grounding": _r(m.ratio(grounded, nums + claims)),
                "writer_number_grounding": _r(m.ratio(sum(r["numbers_grounded"] for r in rows),
                                                      nums)),
                "writer_format": _r(m.ratio(sum(r["format_ok"] for r in rows), len(rows)))}
        out |= self._cost("writer", len(rows))

    def _critic(self, out: dict[str, float | None],
                cases: dict[str, list[dict[str, Any]]]) -> None:
        self._section("critic")
        rows = []
        reviewed = 0
        for c in self.data.drafts:
            papers = self.data.papers
            found = check_bulletin(c.markdown, papers=papers, assessments=_scores(c.scores),
                                   fmt=c.fmt, date=c.date, selected=set(c.selected))
            blocking = [f for f in found if f.severity == "blocking"]
            code_expect = [e for e in c.expect if e.source == "code"]
            row: dict[str, Any] = {
                "case": c.case_id, "kind": "defective" if code_expect else "clean",
                "blocking": [f"{f.check}:{f.item or ''}" for f in blocking],
                "caught": all(any(_matches(e, f) for f in blocking) for e in code_expect)
                if code_expect else None}
            if c.case_id in self.data.model_review:
                reviewed += 1
                draft = Draft(edition_id="eval", format=c.fmt, markdown=c.markdown,
                              items=[DraftItem(**i.model_dump()) for i in c.items])
                flagged = critic.model_review(self.models, draft, papers)
                model_expect = [e for e in c.expect if e.source == "model"]
                row |= {"model_kind": "defective" if model_expect else "clean",
                        "model_findings": [f"{f.check}:{f.item}: {f.evidence}" for f in flagged],
                        "model_caught": all(any(f.item == e.item for f in flagged)
                                            for e in model_expect) if model_expect else None}
            rows.append(row)
        cases["critic"] = rows
        bad = [r for r in rows if r["kind"] == "defective"]
        good = [r for r in rows if r["kind"] == "clean"]
        mbad = [r for r in rows if r.get("model_kind") == "defective"]
        mgood = [r for r in rows if r.get("model_kind") == "clean"]
        out |= {"critic_catch": _r(m.ratio(sum(r["caught"] for r in bad), len(bad))),
                "critic_false_alarm": _r(m.ratio(sum(bool(r["blocking"]) for r in good),
                                                 len(good))),
                "critic_model_catch": _r(m.ratio(sum(r["model_caught"] for r in mbad),
                                                 len(mbad))),
                "critic_model_false_alarm": _r(m.ratio(
                    sum(bool(r["model_findings"]) for r in mgood), len(mgood)))}
        out |= self._cost("critic", reviewed)


def _matches(expect: schema.ExpectedFinding, f: Finding) -> bool:
    return (f.check == expect.check and (expect.item is None or f.item == expect.item)
            and (expect.evidence is None or expect.evidence in f.evidence))


def _format_problems(item: DraftItem, fmt: str, findings: list[Finding]) -> list[str]:
    """What breaks the house format in one written item (its numbers are judged by grounding)."""
    problems = sorted({f.check for f in findings if f.item == item.paper_id and (
        (f.severity == "blocking" and f.check != "number") or f.check == "voice")})
    budget = ITEM_WORDS[(fmt, item.section)]  # type: ignore[index]
    if len(item.body.split()) > 1.5 * budget:
        problems.append("too-long")
    if not item.body.rstrip().endswith((".", "!", "?", ")")):
        problems.append("unfinished")
    if not item.headline.strip():
        problems.append("no-headline")
    return problems


def keep_recording(report: Report) -> Path | None:
    """Put a run's staged recordings where replay reads them (replacing the old ones)."""
    if not report.recorded:
        return None
    staged = Path(report.recorded)
    final = staged.with_name(staged.name.removesuffix(".new"))
    shutil.rmtree(final, ignore_errors=True)
    staged.rename(final)
    return final


def drop_recording(report: Report) -> None:
    """Throw away a run's staged recordings."""
    if report.recorded:
        shutil.rmtree(report.recorded, ignore_errors=True)


def run(settings: Settings, *, mode: Mode = "replay", subset: Subset = "full",
        record: bool = False, cassettes: Path = CASSETTES, datasets: Path = schema.DATASETS,
        embedder: Embedder | None = None, calibrate_maps: bool = False,
        add_to_recordings: bool = False) -> Report:
    """Run every eval case once; see Runner."""
    return Runner(settings, mode=mode, subset=subset, record=record, cassettes=cassettes,
                  datasets=datasets, embedder=embedder, calibrate_maps=calibrate_maps,
                  add_to_recordings=add_to_recordings).run()
