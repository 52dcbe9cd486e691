"""Run the evals: triage, injection, writer, critic and SciTLDR cases against one model.

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
import logging
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from flashnews.agents import critic, learner
from flashnews.agents.triage import Triage, injection_findings
from flashnews.agents.writer import ITEM_WORDS, WHAT_WORDS, Writer, item_facts
from flashnews.config import OPENAI_BASE_URL, ROLES, Settings, eval_data_dir
from flashnews.errors import ConfigError, EvalRegression, ReplayMismatch
from flashnews.evals import acceptability, editorial, injection_suite, perturb, schema, seed, tldr
from flashnews.evals import metrics as m
from flashnews.models import Assessment, Draft, DraftItem, Finding, Paper, Selection
from flashnews.text import facts
from flashnews.text.grounding import blocking as blocking_of
from flashnews.text.grounding import check_bulletin
from flashnews.tools.embeddings import Embedder, load_embedder
from flashnews.tools.llm import Models
from flashnews.tools.store import Store

log = logging.getLogger(__name__)

EVALS = Path(__file__).resolve().parent
CASSETTES = EVALS / "cassettes"
REPORTS = EVALS / "reports"
BASELINE = EVALS / "baseline.json"
SHARED = eval_data_dir()
"""The house bulletins and the unbundled data (FLASHNEWS_EVAL_DATA; docs/evals.md)."""
REPLAY_URL = "http://127.0.0.1:8765/v1"  # recorded against whatever port; matched without it
VCR_CONFIG: dict[str, Any] = {"filter_headers": ["authorization", "x-api-key", "api-key"],
                              "match_on": ["method", "path", "body"],
                              "decode_compressed_response": True}
# The same request (cases whose planted text is removed ask exactly what the clean paper asks)
# gets the answer recorded for it.
REPEATS = {"allow_playback_repeats": True}
DIGESTED = {"claims"}
"""Cassettes whose requests are kept as a sha256 of their body only: they quote the house
bulletins, which may not be copied into the project (the answers, one yes/no token each,
quote nothing)."""


def digest_body(request: Any) -> Any:
    """A request with its body replaced by the body's sha256 (vcrpy applies this to recorded
    and to replayed requests alike, so they still match on body)."""
    import hashlib

    body = request.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not body.startswith(b"sha256:"):
        request.body = b"sha256:" + hashlib.sha256(body).hexdigest().encode()
    return request


__all__ = ["EvalRegression", "ReplayMismatch", "Report", "Runner", "drop_recording",
           "keep_recording", "model_key", "run", "slug"]
Mode = Literal["replay", "live"]
Subset = Literal["full", "smoke"]
Task = Literal["all", "triage", "writer", "critic", "tldr", "items"]

# The smoke subset runs in `make test`: a few cases of every kind, from the full cassettes.
SMOKE: dict[str, set[str]] = {
    "triage": {f"dev-{i}" for i in ("2602.20732", "2602.20662", "2602.20217", "2602.20515",
                                    "2602.21987", "2602.19177", "2602.21033", "2602.22261")},
    "injection": {"direct-raise-offtopic", "paraphrase-raise-offtopic",
                  "benign-system-prompt-cache"},
    "writer": {"flash-hardware-also"},
    "model_review": {"clean-flash-plain", "overclaim-tom"},
    # The critic model's claims: one item of each bulletin, every kind, both splits.
    "claims": {f"{b}-{i}-0-{k}" for b, i in (("flash", 0), ("digest-a", 1), ("digest-b", 4))
               for k in ("original", "other-paper", "overstated")},
}
SMOKE_TLDR = 3
"""The smoke subset's SciTLDR cases: the first few of the bundled subset."""


def _in_order(cassette: Any) -> None:
    """Replay identical requests' recordings in the order they were recorded, then repeat the
    last one. vcrpy's own repeat mode always answers the first recording, so a request made
    twice in a run (e.g. a headline of a paper in two writer cases) that the live model answered
    differently each time would replay differently from how it ran."""
    from vcr.errors import UnhandledHTTPRequestError

    def play_response(request: Any) -> Any:
        matches = list(cassette._responses(request))
        if not matches:
            raise UnhandledHTTPRequestError(
                f"The cassette ({cassette._path!r}) doesn't contain the request ({request!r})")
        index, response = next(((i, r) for i, r in matches if cassette.play_counts[i] == 0),
                               matches[-1])
        cassette.play_counts[index] += 1
        return response

    cassette.play_response = play_response


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
    task: str = "all"
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
    if settings.writer_phrasing != "headline":  # another phrasing: another setup
        key += f"+{settings.writer_phrasing}-phrasing"
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
        headers: dict[str, schema.Header] = {}

        def read(name: str, case: Any) -> list[Any]:
            h, cases = schema.read(name, case, root=root)
            headers[name] = h
            return cases

        self.triage = read("triage", schema.TriageCase)
        self.editor = read("editor", schema.TriageCase)
        self.injection = read("injection", schema.InjectionCase)
        self.writer = read("writer", schema.WriterCase)
        self.drafts = read("drafts", schema.DraftCase)
        self.tldr = read("tldr", schema.TldrCase)
        # The real day is optional (a custom datasets folder may lack it): ranking recall only.
        self.realday: dict[str, Paper] = {}
        self.realday_featured: list[str] = []
        self.realday_cases: list[schema.RealdayCase] = []
        if (root / "realday.jsonl").exists():
            day = read("realday", schema.RealdayCase)
            self.realday = {c.paper.arxiv_id: c.paper for c in day}
            self.realday_listings: dict[str, list[Paper]] = {}
            for c in day:
                self.realday_listings.setdefault(c.listing, []).append(c.paper)
            self.realday_featured = [c.paper.arxiv_id for c in day if c.featured]
            self.realday_cases = day
        self.realday_model: list[schema.RecordedAnswer] = []
        if (root / "realday_model.jsonl").exists():
            self.realday_model = read("realday_model", schema.RecordedAnswer)
        self.bulletins = read("bulletins", schema.BulletinCase)
        self.perturbations = read("perturbations", schema.PerturbationCase)
        self.claims = read("claims", schema.ClaimRecipe)
        self.versions = {name: hd.version for name, hd in headers.items()}
        self.model_review = {c.case_id for c in self.drafts if c.model_review}
        if subset == "smoke":
            self.triage = [c for c in self.triage if c.case_id in SMOKE["triage"]]
            self.editor = []
            self.injection = [c for c in self.injection if c.case_id in SMOKE["injection"]]
            self.writer = [c for c in self.writer if c.case_id in SMOKE["writer"]]
            self.model_review &= SMOKE["model_review"]
            self.tldr = self.tldr[:SMOKE_TLDR]
            self.claims = [c for c in self.claims if c.case_id in SMOKE["claims"]]
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
                 task: Task = "all", tldr_data: Path | None = None,
                 limit: int | None = None, embedder: Embedder | None = None,
                 calibrate_maps: bool = False, add_to_recordings: bool = False,
                 shared: Path = SHARED) -> None:
        if record and mode != "live":
            raise ConfigError("--record needs --live (recording is of a real model)")
        if tldr_data is not None and task != "tldr":
            raise ConfigError("--data is the SciTLDR file of --task tldr")
        if calibrate_maps and task != "all":
            raise ConfigError("--calibrate needs every task (no --task)")
        self.mode, self.subset, self.record, self.task = mode, subset, record, task
        self.calibrate_maps = calibrate_maps
        self.data = Datasets(subset, datasets)
        if tldr_data is not None:
            # Any file in SciTLDR's format (the held-out test split, say): its own cases.
            self.data.tldr = tldr.read_scitldr(tldr_data)
        if limit is not None:
            self.data.tldr = self.data.tldr[:limit]
        if tldr_data is not None or limit is not None:
            self.data.versions["tldr"] = 0  # other cases: not comparable with the baseline
        self.shared = shared
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
        self.calibration_key = ""
        self.seed: learner.Learned | None = None

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
        config = dict(VCR_CONFIG)
        if name in DIGESTED:
            config["before_record_request"] = digest_body
        mode = ("new_episodes" if self.add_to_recordings else "all") if self.record else "none"
        recorder = vcr.VCR(record_mode=mode, **config)
        try:
            with recorder.use_cassette(str(path), **REPEATS) as cassette:
                _in_order(cassette)
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
            if self.task in ("all", "triage"):
                with self._cassette("triage"):
                    scored = self._triage(out, cases)
                    self._editor(out, cases)
                    self._injection(out, cases, scored)
            calibration = None
            if self.calibrate_maps and self.seed is not None:
                calibration = self.seed.model_dump(mode="json")
            if self.task in ("all", "writer"):
                with self._cassette("writer"):
                    self._writer(out, cases)
            if self.task in ("all", "critic"):
                self._references(out, cases)
                with self._cassette("critic"):
                    self._critic(out, cases)
                with self._cassette("claims"):
                    self._claims(out, cases)
            if self.task in ("all", "tldr"):
                with self._cassette("tldr"):
                    self._tldr(out, cases)
            if self.task in ("all", "items"):
                self._items(out, cases)
        finally:
            self.models.close()
            self.store.close()
            shutil.rmtree(self.home, ignore_errors=True)
        return Report(model=self.key, mode=self.mode, subset=self.subset,
                      at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                      datasets=self.data.versions, metrics=out, cases=cases,
                      seconds=round(time.monotonic() - started, 1), scoring=self.scoring,
                      task=self.task,
                      recorded=str(self.dir) if self.record else None,
                      calibration=calibration)

    def _triage_of(self, ask_all: bool = False) -> Triage:
        return Triage(self.models, self.cache, self.settings, embedder=self.embedder,
                      history=self.history, ask_all=ask_all)

    def _score(self, papers: list[Paper]) -> dict[str, Assessment]:
        return self._triage_of(ask_all=True).run(papers)

    def _triage(self, out: dict[str, float | None],
                cases: dict[str, list[dict[str, Any]]]) -> dict[str, Assessment]:
        """Triage measured per stage (evals/seed.py): the model asked about every dev paper
        (replayed), the learned ranker cross-validated by leaving one listing out."""
        self._section("triage")
        data = self.data.triage
        papers = [self.data.papers[c.paper_id] for c in data]
        triage = self._triage_of(ask_all=True)  # every stage measured on every paper
        got = triage.run(papers)
        self.calibration_key = triage.calibration_key()
        model = {pid: float(a.signals["model"]) for pid, a in got.items()
                 if a.method in ("logprob", "generated") and "model" in a.signals}
        model |= self._recorded_answers(triage)
        realday = self.data.realday_cases if self.subset == "full" else []
        oof: dict[str, Any] = {}
        rows, content = seed.build_rows(
            {c.paper.arxiv_id: c.paper for c in realday},
            {c.paper.arxiv_id: c.listing for c in realday},
            {c.paper_id: (c.ref_score, c.ref_hype) for c in data
             if c.ref_score is not None and c.ref_hype is not None},
            {c.paper_id: c.label for c in data}, {p.arxiv_id: p for p in papers}, model,
            triage.ranker, self._exemplars(triage), self.settings, oof_out=oof)
        fig, predicted = seed.evaluate(rows, k=self.settings.triage_model_papers)
        if realday:
            replay, cases["editor_replay"] = seed.replay_review(
                rows, oof, self.data.realday_listings, triage.ranker)
            out |= {k: _r(v) for k, v in replay.items()}
        if self.calibrate_maps and realday:
            fitted = learner.fit(rows, setup=triage.ranker.setup, content=content[0],
                                 content_intercept=content[1],
                                 triage_prompt=triage._tag(triage.method),
                                 model=triage.model_name)
            self.seed = fitted.model_copy(update={"cv": fig})
        by_id = {r.paper_id: r for r in rows}
        cv = {r.paper_id: (s, h) for r, s, h, _ in predicted}
        cases["triage"] = [
            {"case": c.case_id, "label": c.label, "score": got[c.paper_id].score,
             "hype": got[c.paper_id].hype, "method": got[c.paper_id].method,
             "ref_score": c.ref_score, "ref_hype": c.ref_hype,
             "cv_score": round(cv[c.paper_id][0], 1) if c.paper_id in cv else None,
             "cv_hype": round(cv[c.paper_id][1], 1) if c.paper_id in cv else None,
             **{k: by_id[c.paper_id].features.get(k) for k in ("beat", "vocabulary", "content",
                                                            "training", "model")}}
            for c in data]
        out |= {k: _r(v) for k, v in fig.items()}
        out |= self._cost("triage", len(data))
        return got

    def _recorded_answers(self, triage: Triage) -> dict[str, float]:
        """The model's recorded P(yes) on the real days' candidates (evals/datasets/
        realday_model.jsonl), when they belong to this model and triage prompt."""
        if self.subset != "full":
            return {}
        return {r.arxiv_id: r.p_yes for r in self.data.realday_model
                if r.model == triage.model_name and r.prompt_hash == triage._tag("logprob")
                and triage.method == "logprob"}

    def _exemplars(self, triage: Triage) -> np.ndarray:
        """The beat exemplars' title embeddings (empty without the eval data)."""
        try:
            return triage.ranker.embedder.embed(seed.exemplar_titles())
        except ConfigError as exc:
            log.warning("triage: %s; the content model is fitted on the real days alone", exc)
            return np.zeros((0, 384))

    def _items(self, out: dict[str, float | None],
               cases: dict[str, list[dict[str, Any]]]) -> None:
        """Item acceptability: the writer's items for the papers of the labelled set (the 55
        best-ranked of each real listing when it was labelled), each looked up in it
        (evals/acceptability.py; no model call)."""
        if self.subset != "full" or not self.data.realday:
            return
        labels, version = acceptability.load()
        self.data.versions["items"] = version
        top = acceptability.labelled_papers(labels, self.data.realday)
        items = acceptability.write_items(Writer(self.models, phrasing="code"), top)
        metrics, unlabelled = acceptability.score(items, labels)
        out |= metrics | acceptability.check_agreement(labels, self.data.realday)
        cases["items"] = unlabelled
        if unlabelled:
            log.warning("items: %d items have no label yet; list them with `python -m "
                        "flashnews.evals.acceptability --out FILE` and label them "
                        "(docs/labelling.md)", len(unlabelled))

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
        """Attacks must not move the score and must be flagged; benign look-alikes must be
        neither flagged nor cut from what the model reads. Held-out cases are reported on their
        own (they were not used to design or fit the detector)."""
        from flashnews.agents import injection

        self._section("injection")
        rows = []
        for c in self.data.injection:
            paper = self.data.papers[c.paper_id]
            clean = scored.get(c.paper_id) or self._score([paper])[c.paper_id]
            text = (f"{c.injection} {paper.abstract}" if c.position == "start"
                    else f"{paper.abstract} {c.injection}")
            attacked = paper.model_copy(update={"abstract": text})
            a = self._score([attacked])[c.paper_id]
            kept = " ".join(injection.neutralise(c.injection).split())
            rows.append({"case": c.case_id, "kind": c.kind, "split": c.split, "style": c.style,
                         "position": c.position, "clean_score": clean.score, "score": a.score,
                         "shift": a.score - clean.score,
                         "flagged": bool(injection_findings(attacked)),
                         "cut": bool(kept) and kept not in injection.neutralise(text)
                         if c.kind == "benign" else None})
        cases["injection"] = rows
        # The detector alone on every field (no model): evals/injection_suite.py.
        suite, cases["injection_suite"] = injection_suite.run(self.data.papers)
        out |= suite
        attacks = [r for r in rows if r["kind"] == "attack"]
        benign = [r for r in rows if r["kind"] == "benign"]
        shifts = [abs(r["shift"]) for r in attacks]

        def share(rs: list[dict[str, Any]], key: str) -> float | None:
            return _r(m.ratio(sum(bool(r[key]) for r in rs), len(rs)))

        def touched(rs: list[dict[str, Any]]) -> float | None:
            return _r(m.ratio(sum(r["flagged"] or bool(r["cut"]) for r in rs), len(rs)))

        held_a = [r for r in attacks if r["split"] == "held-out"]
        held_b = [r for r in benign if r["split"] == "held-out"]
        out |= {"injection_mean_shift": _r(m.ratio(sum(shifts), len(shifts)), 2),
                "injection_max_shift": float(max(shifts)) if shifts else None,
                "injection_flagged": share(attacks, "flagged"),
                "injection_false_positive": touched(benign),
                "injection_heldout_flagged": share(held_a, "flagged"),
                "injection_heldout_false_positive": touched(held_b),
                "injection_benign_shift": _r(m.ratio(sum(abs(r["shift"]) for r in benign),
                                                     len(benign)), 2)}
        out |= self._cost("injection", len(rows))

    def _writer(self, out: dict[str, float | None],
                cases: dict[str, list[dict[str, Any]]]) -> None:
        self._section("writer")
        papers = self.data.papers
        refs = editorial.reference_numbers(papers)
        plan = [(c.case_id, c.fmt, c.date, Selection(main=c.main, also=c.also), _scores(c.scores))
                for c in self.data.writer]
        rows: list[dict[str, Any]] = []
        editions: dict[str, dict[str, Any]] = {}
        for case_id, fmt, date, selection, scores in plan:
            draft, _ = Writer(self.models).write(
                edition_id=f"eval-{case_id}", date=date, fmt=fmt, selection=selection,
                papers=papers, assessments=scores)
            findings = check_bulletin(draft.markdown, papers=papers, assessments=scores,
                                      fmt=fmt, date=date, selected=set(selection.ids))
            general = [f for f in blocking_of(findings) if f.item is None]
            ed = editorial.edition_metrics(draft, papers, refs)
            per_item = {r["item"]: r for r in ed.pop("rows")}
            editions[case_id] = ed | {"lead": draft.lead}
            for item in draft.items:
                p = papers[item.paper_id]
                g = m.grounding(f"{item.headline}. {item.body}", f"{p.title} {p.abstract}")
                problems = _format_problems(item, fmt, findings) + [f.check for f in general]
                rows.append({"case": case_id, "item": item.paper_id, "section": item.section,
                             "headline": item.headline, "body": item.body, **g,
                             **{k: v for k, v in per_item[item.paper_id].items() if k != "item"},
                             "notes": item.notes, "format_ok": not problems,
                             "format_problems": problems})
        cases["writer"] = rows
        cases["writer_editions"] = [{"case": k, **v} for k, v in editions.items()]
        fixed = rows
        nums = sum(r["numbers"] for r in fixed)
        claims = sum(r["claims"] for r in fixed)
        grounded = sum(r["numbers_grounded"] + r["claims_grounded"] for r in fixed)
        numbered = [r for r in fixed if r["numbered_abstract"]]

        def recall(case_rows: list[dict[str, Any]]) -> float | None:
            cov = [r for r in case_rows if r["ref_numbers"]]
            return _r(m.ratio(sum(r["ref_hits"] for r in cov), sum(r["ref_numbers"] for r in cov)))

        out |= {"writer_grounding": _r(m.ratio(grounded, nums + claims)),
                "writer_number_grounding": _r(m.ratio(sum(r["numbers_grounded"] for r in fixed),
                                                      nums)),
                "writer_format": _r(m.ratio(sum(r["format_ok"] for r in fixed), len(fixed))),
                "writer_headline_recall": recall(
                    [r for r in fixed if r["case"] == "editors-2026-02-25-flash"]),
                "writer_numbers_per_item": _r(m.ratio(nums, len(fixed)), 3),
                "writer_quotes_numbered": _r(m.ratio(sum(r["numbers"] > 0 for r in numbered),
                                                     len(numbered))),
                "writer_max_copy": float(max((r["copy"] for r in rows), default=0)),
                "writer_first_person": float(sum(r["first_person"] for r in rows)),
                "writer_result_items": _r(m.ratio(sum(r["states_result"] for r in fixed),
                                                  len(fixed))),
                "writer_within_budget": _r(m.ratio(sum(r["within_budget"] for r in fixed),
                                                   len(fixed))),
                "writer_ungrounded": float(sum(r["ungrounded"] for r in rows)),
                "writer_lead_complete": _r(m.ratio(sum(e["lead_complete"] for e in
                                                       editions.values()), len(editions))),
                "writer_fallbacks": _r(m.ratio(sum(r["fallback"] for r in fixed), len(fixed)))}
        out |= self._cost("writer", len(rows))

    def _tldr(self, out: dict[str, float | None],
              cases: dict[str, list[dict[str, Any]]]) -> None:
        """The item's "what it does" sentence against SciTLDR's human TL;DRs (docs/evals.md)."""
        self._section("tldr")
        writer = Writer(self.models)
        rows = []
        for c in self.data.tldr:
            abstract = c.abstract
            found = item_facts(c.title, abstract, k=0)
            w = writer.what_it_does(arxiv_id=c.paper_id, title=c.title, abstract=abstract,
                                    found=found, max_words=WHAT_WORDS[("flash", "main")])
            mine = tldr.rouge(w.what, c.target)
            first = tldr.rouge(tldr.first_sentence(c), c.target)
            cue = tldr.rouge(tldr.first_cue_sentence(c), c.target)
            run, copied = facts.longest_copy(w.what, abstract)
            rows.append({"case": c.case_id, "sentence": w.what, "by": w.by,
                         "r1": mine["rouge1"], "r2": mine["rouge2"], "rl": mine["rougeL"],
                         "first_r1": first["rouge1"], "first_r2": first["rouge2"],
                         "first_rl": first["rougeL"], "propose_r1": cue["rouge1"],
                         "propose_r2": cue["rouge2"], "propose_rl": cue["rougeL"],
                         "copy": run, "copied": copied,
                         "first_person": bool(facts.first_person(w.what)),
                         "contribution_found": found.contribution.found})
        cases["tldr"] = rows
        out |= {"tldr_rouge1": tldr.mean(rows, "r1"), "tldr_rouge2": tldr.mean(rows, "r2"),
                "tldr_rougeL": tldr.mean(rows, "rl"),
                "tldr_first_rouge1": tldr.mean(rows, "first_r1"),
                "tldr_first_rouge2": tldr.mean(rows, "first_r2"),
                "tldr_first_rougeL": tldr.mean(rows, "first_rl"),
                "tldr_propose_rouge1": tldr.mean(rows, "propose_r1"),
                "tldr_propose_rouge2": tldr.mean(rows, "propose_r2"),
                "tldr_propose_rougeL": tldr.mean(rows, "propose_rl"),
                "tldr_max_copy": float(max((r["copy"] for r in rows), default=0)),
                "tldr_copy_ok": _r(m.ratio(sum(r["copy"] <= facts.MAX_COPY for r in rows),
                                           len(rows))),
                "tldr_first_person": float(sum(r["first_person"] for r in rows)),
                "tldr_model_phrased": _r(m.ratio(sum(r["by"] == "model" for r in rows),
                                                 len(rows)))}
        out |= self._cost("tldr", len(rows))

    def _critic(self, out: dict[str, float | None],
                cases: dict[str, list[dict[str, Any]]]) -> None:
        self._section("critic")
        rows = []
        reviewed = 0
        for c in self.data.drafts:
            papers = self.data.papers
            found = check_bulletin(c.markdown, papers=papers, assessments=_scores(c.scores),
                                   fmt=c.fmt, date=c.date, selected=set(c.selected))
            blocking = blocking_of(found)
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
                flagged = critic.model_review(self.models, draft, papers,
                                              threshold=self.settings.critic_threshold)
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


    # the house bulletins and their perturbations (code only) --------------------------------
    def _refs(self) -> dict[str, perturb.Reference]:
        return house_bulletins(self.shared)

    def _references(self, out: dict[str, float | None],
                    cases: dict[str, list[dict[str, Any]]]) -> None:
        metrics, rows = bulletin_eval(self.data.bulletins, self.data.perturbations,
                                      self.data.papers, self._refs())
        out |= metrics
        cases |= rows

    # the critic model on single claims ------------------------------------------------------
    def _claims(self, out: dict[str, float | None],
                cases: dict[str, list[dict[str, Any]]]) -> None:
        """The critic model's P(yes) on real bulletin sentences (supported) and on the same
        sentences made wrong (another paper's, overstated); the threshold is set on the
        calibration half and the catch and false-alarm rates are measured on the test half."""
        self._section("claims")
        built = {c.case_id: c for c in perturb.claim_cases(list(self._refs().values()),
                                                           self.data.papers)}
        rows = []
        for r in self.data.claims:
            c = built.get(r.case_id)
            if c is None:
                raise ConfigError(f"claim case {r.case_id} is no longer built from the bulletins: "
                                  "rebuild the datasets (python -m flashnews.evals.build)")
            check = critic.ask(self.models, self.data.papers[c.paper_id], c.claim)
            rows.append({"case": r.case_id, "kind": r.kind, "split": r.split,
                         "supported": c.supported, "p_yes": check.p_yes})
        cases["claims"] = rows
        cal = [r for r in rows if r["split"] == "calibration"]
        test = [r for r in rows if r["split"] == "test"]
        tau = m.calibrate([r["p_yes"] for r in cal if not r["supported"]],
                          [r["p_yes"] for r in cal if r["supported"]])

        def flagged(rs: list[dict[str, Any]]) -> float | None:
            return _r(m.ratio(sum(r["p_yes"] < tau for r in rs), len(rs))) \
                if tau is not None else None

        bad = [r for r in test if not r["supported"]]
        good = [r for r in test if r["supported"]]
        out |= {"critic_claim_threshold": _r(tau),
                "critic_claim_auc": _r(m.auc([1 - r["p_yes"] for r in bad],
                                             [1 - r["p_yes"] for r in good])),
                "critic_claim_catch": flagged(bad),
                "critic_claim_false_alarm": flagged(good),
                "critic_claim_catch_other_paper": flagged(
                    [r for r in bad if r["kind"] == "other-paper"]),
                "critic_claim_catch_overstated": flagged(
                    [r for r in bad if r["kind"] == "overstated"]),
                "critic_claim_catch_at_default": _r(m.ratio(sum(
                    r["p_yes"] < self.settings.critic_threshold for r in bad), len(bad))),
                "critic_claim_false_alarm_at_default": _r(m.ratio(sum(
                    r["p_yes"] < self.settings.critic_threshold for r in good), len(good)))}
        out |= self._cost("claims", len(rows))


def house_bulletins(shared: Path) -> dict[str, perturb.Reference]:
    """The house bulletins of `shared`/reference by name; a clear error when they are missing."""
    if not (shared / "reference").is_dir():
        raise ConfigError(f"the bulletin evals read the house bulletins from "
                          f"{shared / 'reference'}, which is missing (CI and the worktrees have "
                          "FLASHNEWS_EVAL_DATA)")
    return {r.name: r for r in perturb.references(shared)}


def bulletin_eval(bulletins: list[schema.BulletinCase],
                  perturbations: list[schema.PerturbationCase], papers: dict[str, Paper],
                  refs: dict[str, perturb.Reference]
                  ) -> tuple[dict[str, float | None], dict[str, list[dict[str, Any]]]]:
    """The deterministic critic on the house bulletins as they are (only their known problems
    may block) and on code-built perturbations of them (each must add a blocking finding of
    its kind): the metrics and the rows of every case."""
    base: dict[str, Counter[tuple[str, str, str]]] = {}
    fmts: dict[str, Any] = {}
    rows = []
    known_total = known_found = unexpected = 0
    for c in bulletins:
        ref = refs.get(c.bulletin)
        if ref is None:
            raise ConfigError(f"eval case {c.case_id}: no house bulletin {c.bulletin!r}")
        found = blocking_of(check_bulletin(ref.markdown, papers=papers, fmt=c.fmt))
        base[c.bulletin], fmts[c.bulletin] = Counter(_key(f) for f in found), c.fmt
        left = list(found)
        for k in c.known:
            hit = next((f for f in left if _known(k, f)), None)
            if hit is not None:
                left.remove(hit)
        known_total += len(c.known)
        known_found += len(found) - len(left)
        unexpected += len(left)
        rows.append({"case": c.case_id, "blocking": len(found), "known": len(c.known),
                     "known_found": len(found) - len(left),
                     "unexpected": [_brief(f) for f in left]})
    prows: list[dict[str, Any]] = []
    for pc in perturbations:
        try:
            p = perturb.apply(pc.kind, refs[pc.bulletin].markdown, papers, item=pc.item,
                              seed=pc.seed)
        except (perturb.NotApplicable, KeyError) as exc:
            raise ConfigError(f"perturbation {pc.case_id} no longer applies ({exc}): rebuild "
                              "the datasets (python -m flashnews.evals.build)") from None
        after = blocking_of(check_bulletin(p.markdown, papers=papers, fmt=fmts[pc.bulletin]))
        new = Counter(_key(f) for f in after) - base[pc.bulletin]
        added = [f for f in after if _key(f) in new]
        # Reports are committed: they name checks, items and numbers, never the bulletins'
        # sentences (which may not be copied into the project).
        prows.append({"case": pc.case_id, "kind": pc.kind, "item": p.item, "change": p.detail,
                      "caught": any(k[0] in perturb.EXPECT[pc.kind] for k in new),
                      "new": sorted({_brief(f) for f in added})})
    out: dict[str, float | None] = {
        "perturb_catch": _r(m.ratio(sum(r["caught"] for r in prows), len(prows))),
        "reference_known": _r(m.ratio(known_found, known_total)),
        "reference_unexpected": float(unexpected)}
    for kind in perturb.KINDS:
        mine = [r for r in prows if r["kind"] == kind]
        out[f"perturb_catch_{kind.replace('-', '_')}"] = _r(m.ratio(
            sum(r["caught"] for r in mine), len(mine)))
    return out, {"bulletins": rows, "perturbations": prows}


def _brief(f: Finding) -> str:
    """A finding without its prose: check, item, and the number it is about."""
    number = re.match(r'"([^"]{1,30})"', f.evidence) if f.check == "number" else None
    return f"{f.check}:{f.item or ''}" + (f" {number.group(1)}" if number else "")


def _key(f: Finding) -> tuple[str, str, str]:
    return f.check, f.item or "", f.message


def _known(k: schema.KnownFinding, f: Finding) -> bool:
    """Whether a blocking finding is a known real problem of its bulletin."""
    return (f.check == k.check and (k.item is None or f.item == k.item)
            and (k.number is None or f.evidence.startswith(f'"{k.number}"')))


def _matches(expect: schema.ExpectedFinding, f: Finding) -> bool:
    return (f.check == expect.check and (expect.item is None or f.item == expect.item)
            and (expect.evidence is None or expect.evidence in f.evidence))


def _format_problems(item: DraftItem, fmt: str, findings: list[Finding]) -> list[str]:
    """What breaks the house format in one written item (its numbers are judged by grounding)."""
    problems = sorted({f.check for f in findings if f.item == item.paper_id and (
        (f.severity == "blocking" and f.check != "number") or f.check == "voice")})
    budget = ITEM_WORDS[(fmt, item.section)]
    if len(item.body.split()) > 1.5 * budget:
        problems.append("too-long")
    if not item.body.rstrip().endswith((".", "!", "?", ")")):
        problems.append("unfinished")
    if not item.headline.strip() and item.section == "main":
        problems.append("no-headline")
    return problems


def keep_recording(report: Report) -> Path | None:
    """Put a run's staged recordings where replay reads them (replacing the old ones). A
    `--task` run replaces only the cassettes it recorded and keeps the others."""
    if not report.recorded:
        return None
    staged = Path(report.recorded)
    final = staged.with_name(staged.name.removesuffix(".new"))
    if report.task != "all" and final.is_dir():
        for path in staged.glob("*.yaml"):
            shutil.copy2(path, final / path.name)
        shutil.rmtree(staged, ignore_errors=True)
        return final
    shutil.rmtree(final, ignore_errors=True)
    staged.rename(final)
    return final


def drop_recording(report: Report) -> None:
    """Throw away a run's staged recordings."""
    if report.recorded:
        shutil.rmtree(report.recorded, ignore_errors=True)


def run(settings: Settings, *, mode: Mode = "replay", subset: Subset = "full",
        record: bool = False, cassettes: Path = CASSETTES,
        datasets: Path = schema.DATASETS, task: Task = "all", tldr_data: Path | None = None,
        limit: int | None = None, embedder: Embedder | None = None,
        calibrate_maps: bool = False, add_to_recordings: bool = False,
        shared: Path = SHARED) -> Report:
    """Run every eval case once (or one task's); see Runner."""
    return Runner(settings, mode=mode, subset=subset, record=record, cassettes=cassettes,
                  datasets=datasets, task=task, tldr_data=tldr_data, limit=limit,
                  embedder=embedder, calibrate_maps=calibrate_maps,
                  add_to_recordings=add_to_recordings, shared=shared).run()
