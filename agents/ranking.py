"""The ranking stage: every paper of the day ranked by sentence embeddings, no model call.

Signals per paper (each kept in the assessment, so the evals can weigh them):
- beat: cosine similarity of the paper (title and abstract, minus keyword lists and
  instruction-like text) to the one-paragraph beat description of `prompts/beat.md`;
- history: mean of the `HISTORY_TOP` largest cosine similarities to the papers the editors
  featured in earlier editions (from the store; a paper is never compared with itself, so in
  the evals, whose history is the labelled dev papers, this is leave-one-out);
- vocabulary: the beat's regex vocabulary (agents/triage/rules.py BEAT_TERMS) as one soft feature,
  never a gate: log-scaled term count, halved when the paper names no language model;
- editor: a match of the editor's include keywords or watched authors (a bonus, and the paper
  always reaches the model).

    signal = content + W_VOCAB * vocabulary + EDITOR_BONUS * editor,
    content = beat, or (1 - W_HISTORY) * beat + W_HISTORY * history once there is a history.

The weights are set by design, not fitted (they are small round numbers, stated here, and the
evals measure what each signal adds). The K best papers go to the model; the others are scored
from this signal through the calibrated map (agents/calibration.py).
Embeddings are cached in the store by paper, version, text and embedding model, so a second
run of a day computes none.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from flashnews.tools.embeddings import Embedder, decode_vector, encode_vector
from pydantic import BaseModel

from flashnews import prompts
from flashnews.config import Settings
from flashnews.models import Paper

log = logging.getLogger(__name__)

W_VOCAB = 0.1
W_HISTORY = 0.5
EDITOR_BONUS = 0.1
HISTORY_TOP = 3
HISTORY_MIN = 3
"""Featured papers needed before history counts (fewer say little about the editors' taste)."""
VOCAB_FULL = 16
"""Beat-term occurrences at which the vocabulary feature reaches 1."""
HEAT_TOP = 3
FORMULA = (W_VOCAB, W_HISTORY, EDITOR_BONUS, HISTORY_TOP, HISTORY_MIN, VOCAB_FULL, "v1")


class Signals(BaseModel):
    """The ranking stage's view of one paper."""

    beat: float
    history: float | None = None
    vocabulary: float
    editor: str | None = None
    signal: float
    rank: int = 0
    """1 for the day's best paper."""


def ranking_hash(beat_hash: str) -> str:
    """What the ranking signal depends on: the formula and the beat paragraph."""
    return hashlib.sha256(repr((FORMULA, beat_hash)).encode()).hexdigest()[:12]


def cleaned(paper: Paper) -> Paper:
    """The paper as every stage reads it: no keyword lists, no instruction-like sentences."""
    from flashnews.agents.injection import without_injections

    return paper.model_copy(update={"abstract": without_injections(paper.abstract)
                                    or paper.abstract})


def paper_text(paper: Paper) -> str:
    """What is embedded: the title and the abstract as the model would read it."""
    return f"{paper.title}. {cleaned(paper).abstract}"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def vocabulary(paper: Paper) -> float:
    """The regex vocabulary as a feature in [0, 1]."""
    from flashnews.agents.triage import rules

    paper = cleaned(paper)
    hits = sum(rules._hits(paper).values())
    text = f"{paper.title} {paper.abstract}"
    about_models = bool(rules._LLM.search(text))
    return min(1.0, math.log1p(hits) / math.log1p(VOCAB_FULL)) * (1.0 if about_models else 0.5)


def editor_match(paper: Paper, settings: Settings) -> str | None:
    """The editor's include keyword or watched author this paper matches, if any."""
    from flashnews.agents.triage import rules

    word = rules._matches(settings.include_keywords, f"{paper.title} {paper.abstract}")
    if word:
        return f"keyword {word!r}"
    name = rules.watched_author(paper, settings)
    return f"watched author {name}" if name else None


def combine(beat: float, history: float | None, vocab: float, editor: bool) -> float:
    content = beat if history is None else (1 - W_HISTORY) * beat + W_HISTORY * history
    return content + W_VOCAB * vocab + (EDITOR_BONUS if editor else 0.0)


def top_mean(sims: np.ndarray, k: int) -> float:
    if sims.size == 0:
        return 0.0
    k = min(k, sims.size)
    return float(np.sort(sims)[-k:].mean())


class Ranker:
    """Ranks papers with an injected embedder; vectors are cached in the store."""

    def __init__(self, embedder: Embedder, cache: Any, settings: Settings, *,
                 history: Sequence[Paper] = ()) -> None:
        self.embedder = embedder
        self.cache = cache
        self.settings = settings
        self.prompt = prompts.load("beat")
        self.history = list(history)
        self.hash = ranking_hash(self.prompt.hash)
        self.computed = 0
        """Texts embedded by this ranker (the rest came from the cache)."""
        self._beat: np.ndarray | None = None

    def beat_vector(self) -> np.ndarray:
        if self._beat is None:
            text = " ".join(self.prompt.render("description").split())
            self._beat = self.embedder.embed([text])[0]
        return self._beat

    def vectors(self, papers: Iterable[Paper]) -> dict[str, np.ndarray]:
        """One unit vector per paper: from the store, else embedded now (and stored)."""
        papers = list({p.arxiv_id: p for p in papers}.values())
        texts = {p.arxiv_id: paper_text(p) for p in papers}
        keys = {p.arxiv_id: (p.arxiv_id, p.version, text_hash(texts[p.arxiv_id]))
                for p in papers}
        found: dict[tuple[str, int, str], bytes] = {}
        if hasattr(self.cache, "cached_embeddings"):
            found = self.cache.cached_embeddings(self.embedder.name, list(keys.values()))
        out = {pid: decode_vector(found[k]) for pid, k in keys.items() if k in found}
        todo = [p for p in papers if p.arxiv_id not in out]
        if todo:
            vecs = self.embedder.embed([texts[p.arxiv_id] for p in todo])
            self.computed += len(todo)
            rows = []
            for p, v in zip(todo, vecs, strict=True):
                out[p.arxiv_id] = v
                rows.append((*keys[p.arxiv_id], encode_vector(v)))
            if hasattr(self.cache, "cache_embeddings"):
                self.cache.cache_embeddings(self.embedder.name, rows)
        return out

    def rank(self, papers: Sequence[Paper]) -> dict[str, Signals]:
        """Signals for every paper, ranked best first (rank 1)."""
        if not papers:
            return {}
        vecs = self.vectors([*papers, *self.history])
        beat = self.beat_vector()
        hist_ids = [h.arxiv_id for h in self.history]
        hist = np.stack([vecs[i] for i in hist_ids]) if hist_ids else np.zeros((0, beat.size))
        out: dict[str, Signals] = {}
        for p in papers:
            v = vecs[p.arxiv_id]
            history = None
            others = [j for j, hid in enumerate(hist_ids) if hid != p.arxiv_id]
            if len(others) >= HISTORY_MIN:
                history = top_mean(hist[others] @ v, HISTORY_TOP)
            b = float(v @ beat)
            voc = vocabulary(p)
            ed = editor_match(p, self.settings)
            out[p.arxiv_id] = Signals(beat=round(b, 5),
                                      history=None if history is None else round(history, 5),
                                      vocabulary=round(voc, 5), editor=ed,
                                      signal=round(combine(b, history, voc, ed is not None), 5))
        order = sorted(out, key=lambda i: (-out[i].signal, i))
        for n, pid in enumerate(order, start=1):
            out[pid].rank = n
        return out

    def heat(self, papers: Sequence[Paper], among: Sequence[str]) -> dict[str, float]:
        """Topic heat: mean of the top similarities to the day's other candidate papers."""
        vecs = self.vectors(papers)
        ids = [i for i in among if i in vecs]
        if len(ids) < 2:
            return {p.arxiv_id: 0.0 for p in papers}
        mat = np.stack([vecs[i] for i in ids])
        out = {}
        for p in papers:
            sims = mat @ vecs[p.arxiv_id]
            keep = np.array([i != p.arxiv_id for i in ids])
            out[p.arxiv_id] = round(top_mean(sims[keep], HEAT_TOP), 5)
        return out
