"""The Triage stage: rank every paper, ask the model about the top K, score by the learned
ranker."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Literal, Protocol

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from flashnews import prompts
from flashnews.agents import hype, learner
from flashnews.agents.ranking import Ranker, Signals, cleaned
from flashnews.agents.triage.claims import _sentences, claims_from_abstract, span_supported
from flashnews.agents.triage.injection import _paper_vars
from flashnews.agents.triage.rules import config_verdict, topics_of
from flashnews.config import Settings
from flashnews.models import Assessment, KeyClaim, Paper
from flashnews.tools.embeddings import Embedder, load_embedder
from flashnews.tools.llm import Models, NoLogprobs

log = logging.getLogger(__name__)


class Cache(Protocol):
    """Where the model's verdicts are kept, so no paper is scored twice (the store implements
    it; the ranking stage also uses its embeddings cache when it has one)."""

    def cached_assessment(self, paper: Paper, prompt_hash: str, model: str
                          ) -> Assessment | None: ...

    def cache_assessment(self, a: Assessment) -> None: ...

def model_probability(a: Assessment) -> float:
    """The model's verdict on a 0-1 scale: P(yes) (logprob) or its written Score / 100."""
    if "p_yes" in a.signals:
        return float(a.signals["p_yes"])
    return a.score / 100



class GeneratedClaim(BaseModel):
    claim: str = Field(description="the claim in a few words", max_length=200)
    span: str = Field(description="the words of the abstract that support it, copied exactly",
                      max_length=400)


class GeneratedAssessment(BaseModel):
    arxiv_id: str
    relevant: bool
    score: int = Field(ge=0, le=100, description="significance for inference-systems engineers")
    hype: int = Field(ge=0, le=100, description="expected attention, separate from score")
    rationale: str = Field(description="one sentence", max_length=240)
    topics: list[str] = Field(default_factory=list, max_length=3)
    key_claims: list[GeneratedClaim] = Field(default_factory=list, max_length=3)


class TriageBatch(BaseModel):
    """Assessments of every paper in the batch, one each."""

    assessments: list[GeneratedAssessment]


def opening(text: str, chars: int) -> str:
    """The abstract's first whole sentences, up to `chars` characters (at least one sentence)."""
    out = ""
    for s in _sentences(text):
        if out and len(out) + len(s) + 1 > chars:
            break
        out = f"{out} {s}".strip()
    return out



class Triage:
    """Scores one edition's papers: the ranking stage for all, the model for the top K.

    `embedder` (tools/embeddings.py) is injected; `history` holds the papers the editors
    featured in earlier editions (the ranking stage's memory of their taste).
    """

    def __init__(self, models: Models, cache: Cache, settings: Settings, *,
                 embedder: Embedder | None = None, history: Sequence[Paper] = (),
                 disliked: Sequence[Paper] = (), learned: learner.Learned | None = None,
                 ask_all: bool = False) -> None:
        self.models = models
        self.cache = cache
        self.settings = settings
        self.prompt = prompts.load("triage")
        self.method: Literal["logprob", "generated"] = settings.scoring_method()
        self.ranker = Ranker(embedder or load_embedder(settings), cache, settings,
                             history=history, disliked=disliked, learned=learned)
        self.ask_all = ask_all
        """Ask the model about every paper (the evals: each stage is measured on all of them,
        and each stage is cross-validated in evals/seed.py)."""
        self.stats: dict[str, float] = {}
        """What the last run did: papers, candidates, embeddings computed, seconds per stage."""
        self.out_of_time: set[str] = set()
        """Candidates the time budget left unasked in the last run (settings.triage_seconds)."""

    @property
    def model_name(self) -> str:
        return self.models.name("triage")

    def _tag(self, method: str) -> str:
        chars = self.settings.triage_abstract_chars
        return f"{self.prompt.hash}:{method}" + (
            f":{chars}" if chars and method == "logprob" else "")

    def calibration_key(self, method: str | None = None) -> str:
        """The setup the scores belong to: the learned ranker, embedder, triage prompt, model."""
        return (f"ranker={self.ranker.learned.hash}|setup={self.ranker.setup}|"
                f"embedder={self.ranker.embedder.name}|"
                f"triage={self._tag(method or self.method)}|model={self.model_name}")

    def _cached(self, paper: Paper) -> Assessment | None:
        for method in ("logprob", "generated"):
            hit = self.cache.cached_assessment(paper, self._tag(method), self.model_name)
            if hit and (self.settings.triage_scoring in ("auto", method)):
                return hit
        return None

    def could_matter(self, sig: Signals) -> bool:
        """Whether the model's verdict could make a paper with these features relevant.

        Even a certain yes (P(yes) near 1) is combined with the ranking's own log-odds; when that
        best case still scores below the relevance threshold, asking the model changes no
        decision (the paper is not selected either way), so the call is skipped.
        """
        lr = self.ranker.learned
        best = lr.score_combined.value(lr.stage2(sig.features(), 0.999))
        return best >= self.settings.relevance_threshold

    def candidates(self, signals: dict[str, Signals]) -> list[str]:
        """The papers the model is asked about: of the K best-ranked, those whose verdict
        could matter (could_matter), and every paper the editor's include rules name."""
        if self.ask_all:
            return list(signals)
        k = max(0, self.settings.triage_model_papers)
        return [pid for pid, s in sorted(signals.items(), key=lambda kv: kv[1].rank)
                if s.editor or (s.rank <= k and self.could_matter(s))]

    def run(self, papers: Iterable[Paper],
            progress: Callable[[int, int], None] | None = None) -> dict[str, Assessment]:
        """Assess every paper: rank all (no model call), then ask the model about the top K."""
        papers = list(papers)
        started = time.monotonic()
        out: dict[str, Assessment] = {}
        ranked: list[Paper] = []
        for p in papers:
            excluded = config_verdict(p, self.settings)
            if isinstance(excluded, Assessment):  # the editor's exclude keywords: a hard rule
                out[p.arxiv_id] = excluded
            else:
                ranked.append(p)
        signals = self.ranker.rank(ranked)
        ranking_seconds = time.monotonic() - started
        chosen = set(self.candidates(signals))
        model_out: dict[str, Assessment] = {}
        todo: list[Paper] = []
        for p in ranked:
            if p.arxiv_id not in chosen:
                continue
            hit = self._cached(p)
            if hit is not None:
                model_out[p.arxiv_id] = hit
            else:
                todo.append(p)
        # Best-ranked first (the editor's named papers before all): under a time budget the
        # questions left unasked are the least promising.
        todo.sort(key=lambda p: (not signals[p.arxiv_id].editor, signals[p.arxiv_id].rank))
        if progress:
            progress(len(papers) - len(todo), len(papers))
        model_started = time.monotonic()
        budget = self.settings.triage_seconds
        self.out_of_time = set()
        model_out |= self._ask(todo, done=len(papers) - len(todo), total=len(papers),
                               progress=progress,
                               deadline=started + budget if budget > 0 else None)
        model_seconds = time.monotonic() - model_started
        heat = self.ranker.heat([p for p in ranked if p.arxiv_id in chosen], sorted(chosen))
        for p in ranked:
            out[p.arxiv_id] = self._final(p, signals[p.arxiv_id], model_out.get(p.arxiv_id),
                                          heat.get(p.arxiv_id, 0.0), n=len(ranked))
        self.stats = {"papers": len(papers), "excluded": len(papers) - len(ranked),
                      "candidates": len(chosen), "model_scored": len(todo) - len(self.out_of_time),
                      "out_of_time": len(self.out_of_time), "model_cached": len(chosen) - len(todo),
                      "embedded": self.ranker.computed,
                      "ranking_seconds": round(ranking_seconds, 2),
                      "model_seconds": round(model_seconds, 2)}
        log.info("triage: %s", self.stats)
        return {p.arxiv_id: out[p.arxiv_id] for p in papers}

    def _ask(self, todo: list[Paper], *, done: int, total: int,
             progress: Callable[[int, int], None] | None,
             deadline: float | None = None) -> dict[str, Assessment]:
        """The model's verdict on each paper of `todo` (cached as soon as it exists).

        With a `deadline` (time.monotonic), a unit starts only if the mean unit so far would
        end by it; the papers left are recorded in `out_of_time`."""
        out: dict[str, Assessment] = {}
        queue = deque(todo)
        workers = self.settings.concurrency()
        probed = False  # the first unit runs alone: it finds out whether logprobs exist
        durations: list[float] = []
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="triage") as pool:
            running: dict[Future[tuple[list[Assessment], list[Paper]]], list[Paper]] = {}
            begun: dict[Future[tuple[list[Assessment], list[Paper]]], float] = {}
            error: BaseException | None = None
            while (queue and error is None) or running:
                while error is None and queue and len(running) < (workers if probed else 1):
                    if deadline is not None and durations and \
                            time.monotonic() + sum(durations) / len(durations) > deadline:
                        self.out_of_time |= {p.arxiv_id for p in queue}
                        log.warning("triage: the time budget of %g s leaves %d candidates to "
                                    "the ranking stage", self.settings.triage_seconds,
                                    len(queue))
                        queue.clear()
                        break
                    size = 1 if self.method == "logprob" else self.settings.triage_batch
                    chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
                    fut = pool.submit(self._unit, chunk)
                    running[fut], begun[fut] = chunk, time.monotonic()
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    chunk = running.pop(fut)
                    durations.append(time.monotonic() - begun.pop(fut))
                    try:
                        batch, again = fut.result()
                    except NoLogprobs as exc:
                        if self.settings.triage_scoring == "logprob":
                            error = error or exc
                            continue
                        log.warning("endpoint gives no token probabilities: generated scores")
                        self.method = "generated"
                        queue.extendleft(reversed(chunk))
                        continue
                    except Exception as exc:
                        # Stop starting work, but keep (and cache) what is still in flight:
                        # those calls are paid for.
                        error = error or exc
                        continue
                    probed = True
                    queue.extendleft(reversed(again))
                    for a in batch:
                        self.cache.cache_assessment(a)
                        out[a.paper_id] = a
                    done += len(batch)
                    if progress:
                        progress(done, total)
            if error is not None:
                raise error
        return out

    def _final(self, paper: Paper, sig: Signals, model: Assessment | None, heat: float, *,
               n: int) -> Assessment:
        """The assessment shown and selected on: the learned ranker's Score and Hype."""
        lr = self.ranker.learned
        x = sig.features()
        signals: dict[str, float] = {k: v for k, v in x.items() if v is not None}
        signals |= {"ranking": sig.signal, "rank": float(sig.rank)}
        p_yes = None if model is None else model_probability(model)
        value, z = lr.score(x, p_yes)
        if model is None:
            why = (f"not asked: the triage time budget of {self.settings.triage_seconds:g} s "
                   "ran out" if paper.arxiv_id in self.out_of_time else
                   f"not among the {self.settings.triage_model_papers} best-ranked"
                   if sig.rank > self.settings.triage_model_papers else
                   "not asked: even a yes from the model could not make it relevant")
            how = f"ranking: rank {sig.rank} of {n}, {why}"
            base: dict[str, Any] = {"method": "ranking", "model": self.ranker.embedder.name,
                                       "prompt_hash": f"{self.ranker.hash}:{lr.hash}",
                                       "key_claims": claims_from_abstract(paper)}
        else:
            assert p_yes is not None  # the model answered this paper
            signals |= {"model": round(p_yes, 4)}
            how = f"{model.rationale}; ranking: rank {sig.rank} of {n}"
            base = {"method": model.method, "model": model.model,
                    "prompt_hash": model.prompt_hash, "key_claims": model.key_claims}
        score = max(0, min(100, round(value)))
        feats = hype.features(cleaned(paper), self.settings, significance=value / 100,
                              heat=heat)
        hx = learner.hype_features(feats, value / 100)
        hype_value = lr.hype_of(feats, value)
        signals |= {f"hype_{k}": v for k, v in feats.items()} | {
            "score_z": round(z, 5), "score_value": round(value, 3),
            "hype_value": round(hype_value, 3)}
        drivers = lr.drivers(x, p_yes)
        hype_drivers = lr.hype_drivers(hx)
        how += (f"; Score {score} ({learner.band(score)}): {learner.describe(drivers)}"
                f"; Hype: {learner.describe(hype_drivers)}")
        if sig.editor:
            how += f"; the editor's rules: {sig.editor}"
        return Assessment(
            paper_id=paper.arxiv_id, version=paper.version,
            relevant=score >= self.settings.relevance_threshold, score=score,
            hype=max(0, min(100, round(hype_value))), rationale=how, topics=topics_of(paper),
            signals=signals, drivers=[learner.describe([d]) for d in drivers],
            hype_drivers=[learner.describe([d]) for d in hype_drivers],
            **base)

    def _unit(self, chunk: list[Paper]) -> tuple[list[Assessment], list[Paper]]:
        """Score one unit of work; return the assessments and the papers to ask about again."""
        if self.method == "logprob":
            return [self._score_logprob(chunk[0])], []
        batch = self._score_generated(chunk)
        # A small model may skip papers of a batch: those are asked about again.
        answered = {a.paper_id for a in batch}
        return batch, [p for p in chunk if p.arxiv_id not in answered]

    def _score_logprob(self, paper: Paper) -> Assessment:
        system = SystemMessage(self.prompt.render("system"))
        vars_ = _paper_vars(paper)
        chars = self.settings.triage_abstract_chars
        if chars:
            vars_["abstract"] = opening(vars_["abstract"], chars)
        tag = self._tag("logprob")
        p_rel = self.models.yes_no("triage", [system, HumanMessage(
            self.prompt.render("relevance", **vars_))], prompt_hash=tag)
        return Assessment(
            paper_id=paper.arxiv_id, version=paper.version,
            relevant=round(100 * p_rel) >= self.settings.relevance_threshold,
            score=round(100 * p_rel), hype=0,
            rationale=f"P(yes) {p_rel:.2f} to 'is this about LLM inference systems'",
            topics=topics_of(paper), key_claims=claims_from_abstract(paper), method="logprob",
            prompt_hash=tag, model=self.model_name, signals={"p_yes": round(p_rel, 6)})

    def _score_generated(self, batch: list[Paper]) -> list[Assessment]:
        tag = self._tag("generated")
        blocks = "\n\n".join(
            '<paper id="{arxiv_id}">\nTitle: {title}\nCategories: {categories}\n'
            'Abstract: {abstract}\n</paper>'.format(**_paper_vars(p)) for p in batch)
        messages = [SystemMessage(self.prompt.render("system")),
                    HumanMessage(self.prompt.render("generated", papers=blocks))]
        wanted = {p.arxiv_id for p in batch}

        def check(result: TriageBatch) -> None:
            got = [a.arxiv_id for a in result.assessments]
            if not got or not set(got) <= wanted or len(got) != len(set(got)):
                raise ValueError(f"give one assessment for each of {sorted(wanted)}, using "
                                 f"those ids exactly once; got {got}")

        result = self.models.structured("triage", TriageBatch, messages, prompt_hash=tag,
                                        check=check)
        by_id = {p.arxiv_id: p for p in batch}
        out = []
        for g in result.assessments:
            paper = by_id[g.arxiv_id]
            claims = []
            for c in g.key_claims:
                if span_supported(c.span, paper.abstract):
                    claims.append(KeyClaim(claim=c.claim, span=c.span))
                else:
                    log.warning("dropped unsupported claim on %s: %r", paper.arxiv_id, c.span)
            out.append(Assessment(
                paper_id=paper.arxiv_id, version=paper.version, relevant=g.relevant,
                score=g.score, hype=g.hype, rationale=g.rationale, topics=g.topics[:3],
                key_claims=claims, method="generated", prompt_hash=tag, model=self.model_name))
        return out
