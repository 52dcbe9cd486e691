"""Triage: rules first (no model call), then model scoring of the survivors, then selection.

Scores come from one of two paths, chosen by config or by what the endpoint supports:
- logprob: two yes/no questions per paper (relevance, attention), each scored by P(yes). Small
  local models cannot write calibrated integers but rank well by P(yes) (see DESIGN.md).
- generated: the model writes Score, Hype, rationale and key claims for a batch of papers via
  function calling; every claim's span is verified against the abstract by code.
Each assessment is cached in the store as soon as it exists (paper id + version + prompt hash +
model), so no paper is scored twice, across runs, resumes and crashes.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Literal

from flashnews.tools.llm import Models, NoLogprobs
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from flashnews import prompts
from flashnews.config import Settings
from flashnews.models import Assessment, Finding, KeyClaim, Paper
from flashnews.runtime import Budget

log = logging.getLogger(__name__)

# The beat, as rules: a paper that mentions none of these is not sent to any model.
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
"""Beat-term occurrences a paper needs to reach a model (on the dev set: keeps every featured
paper, drops 11 of 12 off-topic ones)."""
# A labelled keyword list ("Keywords: …", "Index Terms— …") states no result of the paper, and
# it is the cheapest way to stuff an abstract with the beat's vocabulary: the evals measured one
# lifting an off-topic paper from 0 (dropped by the rules) to 67. Neither the rules nor the model
# see it; the editor is shown it.
KEYWORD_LIST = re.compile(r"\b(?:key ?words|index terms)\s*(?:[:\u2014\u2013]|-+)\s*[^.!?]*[.!?]?",
                          re.IGNORECASE)
RULES_HASH = hashlib.sha256(repr((sorted(BEAT_TERMS.items()), MIN_BEAT_HITS,
                                  KEYWORD_LIST.pattern)).encode()).hexdigest()[:12]


def without_keyword_lists(text: str) -> str:
    return KEYWORD_LIST.sub(" ", text)

INJECTION = re.compile(
    r"ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier) (?:instructions|prompts?)|"
    r"disregard (?:all |the )?(?:previous|prior|above) |you are now |system prompt|"
    r"(?:give|assign|rate|score) (?:this|the) paper (?:a |an )?(?:score of )?\d+|"
    r"score(?: of)? 100\b|as an ai (?:reviewer|assistant)|</?paper",
    re.IGNORECASE,
)


def _hits(paper: Paper) -> dict[str, int]:
    text = f"{paper.title} {without_keyword_lists(paper.abstract)}"
    return {t: len(rx.findall(text)) for t, rx in _TERMS.items()}


def topics_of(paper: Paper) -> list[str]:
    """Beat topics whose terms occur in the title or abstract, most hits first."""
    hits = _hits(paper)
    return [t for t, n in sorted(hits.items(), key=lambda kv: -kv[1]) if n][:3]


def rules_verdict(paper: Paper) -> Assessment | None:
    """An off-topic verdict by rules alone, or None when the paper needs a model's judgement.

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
    """The editor's own rules, before the beat's: exclude (a verdict), include or watch
    ("score": the paper goes to the model whatever the beat rules say), or None."""
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


def injection_findings(paper: Paper) -> list[Finding]:
    """Text in an abstract that tries to instruct the model: shown to the editor, never obeyed."""
    found = []
    listed = KEYWORD_LIST.search(paper.abstract)
    if listed:
        found.append(Finding(
            check="keyword-list", severity="warning", item=paper.arxiv_id, source="triage",
            evidence=listed.group(0)[:200],
            message=f"abstract of {paper.arxiv_id} carries a keyword list; the rules and the "
                    "model judged the paper without it"))
    m = INJECTION.search(f"{paper.title} {paper.abstract}")
    if not m:
        return found
    return [*found, Finding(check="prompt-injection", severity="warning", item=paper.arxiv_id,
                    source="triage", evidence=m.group(0),
                    message=f"abstract of {paper.arxiv_id} contains instruction-like text; it was "
                            "delimited as data and its score is the model's judgement of the paper")]


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text) if s.strip()]


def claims_from_abstract(paper: Paper, limit: int = 3) -> list[KeyClaim]:
    """Key claims taken by code: the abstract's sentences that state a measured result."""
    out = []
    for s in _sentences(paper.abstract):
        if re.search(r"\d", s) and re.search(r"%|\d\s*[x×]|faster|speed|reduc|improv|throughput|"
                                             r"latenc|accuracy|memory|energy", s, re.IGNORECASE):
            out.append(KeyClaim(claim=s, span=s))
        if len(out) == limit:
            break
    return out


def span_supported(span: str, abstract: str) -> bool:
    norm = lambda s: " ".join(s.lower().split()).strip(" .")  # noqa: E731
    return bool(norm(span)) and norm(span) in norm(abstract)


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


# Text that "closes" the paper's data block and (perhaps) reopens it: everything in between is
# addressed to the model, not part of the paper.
_BREAKOUT = re.compile(r"</paper\s*>.*?(?:<paper\b[^>]*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?paper\b[^>]*>", re.IGNORECASE)


def without_injections(text: str) -> str:
    """The text minus what tries to instruct the model.

    Such text is not research content, so the paper is scored as if it were absent (the score
    is then exactly that of the clean abstract); injection_findings shows it to the editor. A
    `</paper> … <paper>` break-out goes first, tags and all, so the real sentence after it is
    kept; then every sentence with an instruction.
    """
    if "paper" in text.lower():
        text = _TAG.sub(" ", _BREAKOUT.sub(" ", text))
    text = without_keyword_lists(text)
    return " ".join(s for s in _sentences(text) if not INJECTION.search(s))


def _paper_vars(paper: Paper) -> dict[str, str]:
    # Tags inside an abstract could close the data block early; neutralise them.
    clean = lambda s: s.replace("<", "‹").replace(">", "›")  # noqa: E731
    return {"arxiv_id": paper.arxiv_id, "title": clean(paper.title),
            "categories": ", ".join(paper.categories) or "unknown",
            "abstract": clean(without_injections(paper.abstract))}


class Triage:
    """Scores one edition's papers with the injected models and the assessment cache."""

    def __init__(self, models: Models, cache: object, settings: Settings) -> None:
        self.models = models
        self.cache = cache
        self.settings = settings
        self.prompt = prompts.load("triage")
        self.method: Literal["logprob", "generated"] = settings.scoring_method()

    @property
    def model_name(self) -> str:
        return self.models.name("triage")

    def _cached(self, paper: Paper) -> Assessment | None:
        chars = self.settings.triage_abstract_chars
        for method in ("logprob", "generated"):
            tag = f"{self.prompt.hash}:{method}" + (
                f":{chars}" if chars and method == "logprob" else "")
            hit = self.cache.cached_assessment(  # type: ignore[attr-defined]
                paper, tag, self.model_name)
            if hit and (self.settings.triage_scoring in ("auto", method)):
                return hit  # type: ignore[no-any-return]
        return None

    def run(self, papers: Iterable[Paper],
            progress: Callable[[int, int], None] | None = None) -> dict[str, Assessment]:
        """Assess every paper; model calls only for rule survivors without a cached verdict."""
        papers = list(papers)
        out: dict[str, Assessment] = {}
        todo: list[Paper] = []
        for p in papers:
            editor = config_verdict(p, self.settings)
            verdict = None if editor == "score" else editor or rules_verdict(p)
            if verdict is not None:
                out[p.arxiv_id] = verdict
                continue
            hit = self._cached(p)
            if hit is not None:
                out[p.arxiv_id] = hit
            else:
                todo.append(p)
        done = len(papers) - len(todo)
        if progress:
            progress(done, len(papers))
        queue = deque(todo)
        workers = self.settings.concurrency()
        probed = False  # the first unit runs alone: it finds out whether logprobs exist
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="triage") as pool:
            running: dict[Future[tuple[list[Assessment], list[Paper]]], list[Paper]] = {}
            error: BaseException | None = None
            while (queue and error is None) or running:
                while error is None and queue and len(running) < (workers if probed else 1):
                    size = 1 if self.method == "logprob" else self.settings.triage_batch
                    chunk = [queue.popleft() for _ in range(min(size, len(queue)))]
                    running[pool.submit(self._unit, chunk)] = chunk
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    chunk = running.pop(fut)
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
                        self.cache.cache_assessment(a)  # type: ignore[attr-defined]
                        out[a.paper_id] = a
                    done += len(batch)
                    if progress:
                        progress(done, len(papers))
            if error is not None:
                raise error
        return {p.arxiv_id: out[p.arxiv_id] for p in papers}

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
        tag = f"{self.prompt.hash}:logprob" + (f":{chars}" if chars else "")
        p_rel = self.models.yes_no("triage", [system, HumanMessage(
            self.prompt.render("relevance", **vars_))], prompt_hash=tag)
        p_hype = self.models.yes_no("triage", [system, HumanMessage(
            self.prompt.render("hype", **vars_))], prompt_hash=tag)
        score, hype = round(100 * p_rel), round(100 * p_hype)
        return Assessment(
            paper_id=paper.arxiv_id, version=paper.version,
            relevant=score >= self.settings.relevance_threshold, score=score, hype=hype,
            rationale=f"P(yes) {p_rel:.2f} to 'is this about LLM inference systems', "
                      f"{p_hype:.2f} to 'will practitioners talk about it'",
            topics=topics_of(paper), key_claims=claims_from_abstract(paper), method="logprob",
            prompt_hash=tag, model=self.model_name)

    def _score_generated(self, batch: list[Paper]) -> list[Assessment]:
        tag = f"{self.prompt.hash}:generated"
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


class Selection(BaseModel):
    """Which papers an edition features, in order."""

    main: list[str] = Field(default_factory=list)
    also: list[str] = Field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [*self.main, *self.also]


def select(assessments: dict[str, Assessment], *, main: int, also: int,
           exclude: Iterable[str] = ()) -> Selection:
    """Top items by Score (ties by Hype), at most two per leading topic while others remain."""
    excluded = set(exclude)
    ranked = sorted((a for a in assessments.values() if a.relevant and a.paper_id not in excluded),
                    key=lambda a: (-a.score, -a.hype, a.paper_id))
    chosen: list[Assessment] = []
    per_topic: dict[str, int] = {}
    rest: list[Assessment] = []
    for a in ranked:
        topic = a.topics[0] if a.topics else ""
        if len(chosen) < main and per_topic.get(topic, 0) < 2:
            chosen.append(a)
            per_topic[topic] = per_topic.get(topic, 0) + 1
        else:
            rest.append(a)
    # Diversity only reorders: if it left slots empty, fill them by rank.
    while len(chosen) < main and rest:
        chosen.append(rest.pop(0))
    chosen.sort(key=lambda a: (-a.score, -a.hype, a.paper_id))
    return Selection(main=[a.paper_id for a in chosen], also=[a.paper_id for a in rest[:also]])


def fit_to_budget(selection: Selection, fmt: str, budget: Budget, *, model_review: bool
                  ) -> tuple[Selection, dict[str, bool], list[str]]:
    """Shrink the writing plan until its estimated cost fits what is left of the budget.

    In order: drop also-notable items, skip the digest's themes, skip the model review, drop
    main items down to one. Returns the plan, what to skip, and a note for each step taken.
    Raises BudgetExhausted when not even one item can be written.
    """
    # Per call, what this run has spent so far (conservatively: writer calls read a whole
    # abstract and write prose, so at least 1000 tokens and 5 seconds).
    per_tokens = max(budget.tokens // budget.calls if budget.calls else 0, 1000)
    per_seconds = max(budget.elapsed() / budget.calls if budget.calls else 0.0, 5.0)
    main, also = list(selection.main), list(selection.also)
    skip = {"themes": False, "model_review": not model_review}
    notes: list[str] = []

    def calls() -> int:
        items = len(main) + len(also)
        # The model review asks up to two questions per reviewed item (a flash edition's
        # one-line also-notable items are not reviewed).
        reviewed = len(main) if fmt == "flash" else items
        return (items + 1 + (fmt == "digest" and not skip["themes"])
                + (0 if skip["model_review"] else 2 * reviewed))

    def fits() -> bool:
        n = calls()
        return budget.allows(n, n * per_tokens, n * per_seconds)

    dropped = 0
    while not fits() and also:
        also.pop()
        dropped += 1
    if dropped:
        notes.append(f"budget: {dropped} also-noteworthy item(s) left out")
    if not fits() and fmt == "digest":
        skip["themes"] = True
        notes.append("budget: no cross-cutting themes")
    if not fits() and not skip["model_review"]:
        skip["model_review"] = True
        notes.append("budget: no model review (deterministic checks only)")
    before = len(main)
    while not fits() and len(main) > 1:
        main.pop()
    if len(main) < before:
        notes.append(f"budget: {len(main)} main item(s) instead of {before}")
    if not fits():
        from flashnews.errors import BudgetExhausted

        raise BudgetExhausted(f"budget too small to write even one item (~{calls()} calls of "
                              f"~{per_tokens} tokens and ~{per_seconds:.0f} s each)",
                              step="select")
    return Selection(main=main, also=also), skip, notes
