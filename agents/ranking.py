"""The ranking stage: every paper of the day ranked by its features, no model call.

Features per paper (each kept in the assessment; agents/learner.py says what each means and
fits how much it counts):
- beat: cosine similarity of the paper (title and abstract, minus keyword lists and
  instruction-like text) to the beat paragraph of `prompts/beat.md`;
- vocabulary: the beat's regex vocabulary (agents/triage/rules.py BEAT_TERMS), log-scaled,
  halved when the paper names no language model;
- content: the learned ranker's logistic model over the paper's embedding;
- training: similarity to the beat file's `training` paragraph minus its `inference` one;
- liked / disliked: mean of the `HISTORY_TOP` largest similarities to the papers the editor
  featured or pinned before, and to those the editor dropped (a paper is never compared with
  itself); missing (None) until there are `HISTORY_MIN` of them;
- editor: the editor's include keywords or watched authors (such a paper always reaches the
  model).
The learned ranker's stage-1 log-odds of these features order the day; the K best papers go to
the model. Embeddings are cached in the store by paper, version, text and embedding model, so a
second run of a day computes none.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel

from flashnews import prompts
from flashnews.agents.learner import Learned, load, setup_key
from flashnews.config import Settings
from flashnews.models import Paper
from flashnews.tools.embeddings import Embedder, decode_vector, encode_vector

log = logging.getLogger(__name__)

HISTORY_TOP = 3
HISTORY_MIN = 3
"""Papers needed before liked/disliked count (fewer say little about the editor's taste)."""
VOCAB_FULL = 16
"""Beat-term occurrences at which the vocabulary feature reaches 1."""
HEAT_TOP = 3
FORMULA = (HISTORY_TOP, HISTORY_MIN, VOCAB_FULL, "v2")


class Signals(BaseModel):
    """The ranking stage's view of one paper."""

    beat: float
    vocabulary: float
    content: float | None = None
    training: float = 0.0
    liked: float | None = None
    disliked: float | None = None
    editor: str | None = None
    signal: float
    """The learned ranker's stage-1 log-odds (higher: more likely featured)."""
    rank: int = 0
    """1 for the day's best paper."""

    def features(self) -> dict[str, float | None]:
        return {"beat": self.beat, "vocabulary": self.vocabulary, "content": self.content,
                "training": self.training, "liked": self.liked, "disliked": self.disliked,
                "editor": 1.0 if self.editor else 0.0}


def ranking_hash(beat_hash: str) -> str:
    """What the ranking features depend on: the formula and the beat file."""
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


def top_mean(sims: np.ndarray, k: int) -> float:
    if sims.size == 0:
        return 0.0
    k = min(k, sims.size)
    return float(np.sort(sims)[-k:].mean())


class Ranker:
    """Ranks papers with an injected embedder; vectors are cached in the store."""

    def __init__(self, embedder: Embedder, cache: Any, settings: Settings, *,
                 history: Sequence[Paper] = (), disliked: Sequence[Paper] = (),
                 learned: Learned | None = None) -> None:
        self.embedder = embedder
        self.cache = cache
        self.settings = settings
        self.prompt = prompts.load("beat")
        self.history = list(history)
        """Papers the editor featured or pinned before (the `liked` feature)."""
        self.disliked = list(disliked)
        """Papers the editor dropped (the `disliked` feature)."""
        self.hash = ranking_hash(self.prompt.hash)
        self.setup = setup_key(self.hash, embedder.name)
        if learned is None:
            learned, self.note = load(settings.home, self.setup)
        else:
            self.note = ("cold: the seed fitted on the shared examples" if learned.cold else
                         f"learned from {learned.examples.get('editor', 0)} editor examples")
        self.learned = learned
        self.computed = 0
        """Texts embedded by this ranker (the rest came from the cache)."""
        self._anchors: np.ndarray | None = None

    def _anchor_vectors(self) -> np.ndarray:
        """The beat paragraph, then the training and inference paragraphs."""
        if self._anchors is None:
            texts = [" ".join(self.prompt.render(s).split())
                     for s in ("description", "training", "inference")]
            self._anchors = self.embedder.embed(texts)
        return self._anchors

    def beat_vector(self) -> np.ndarray:
        return self._anchor_vectors()[0]

    def _content(self, v: np.ndarray) -> float | None:
        """The learned content model's log-odds, if it was fitted on this embedder's vectors."""
        if self.learned.setup != self.setup:
            return None
        c = self.learned.content_of(v)
        return None if c is None else round(c, 5)

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
        vecs = self.vectors([*papers, *self.history, *self.disliked])
        beat, train, infer = self._anchor_vectors()

        def near(group: Sequence[Paper], pid: str, v: np.ndarray) -> float | None:
            others = [vecs[h.arxiv_id] for h in group if h.arxiv_id != pid]
            if len(others) < HISTORY_MIN:
                return None
            return round(top_mean(np.stack(others) @ v, HISTORY_TOP), 5)

        out: dict[str, Signals] = {}
        for p in papers:
            v = vecs[p.arxiv_id]
            sig = Signals(beat=round(float(v @ beat), 5), vocabulary=round(vocabulary(p), 5),
                          content=self._content(v),
                          training=round(float(v @ train - v @ infer), 5),
                          liked=near(self.history, p.arxiv_id, v),
                          disliked=near(self.disliked, p.arxiv_id, v),
                          editor=editor_match(p, self.settings), signal=0.0)
            sig.signal = round(self.learned.stage1(sig.features()), 5)
            out[p.arxiv_id] = sig
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
