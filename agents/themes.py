"""A digest's cross-cutting themes, chosen rather than written.

Candidate themes are the noun phrases (spaCy's noun chunks, by lemma) that two or more of the
day's items share in their titles and abstracts, but not every item (a phrase every paper on
the beat uses is no theme). Each candidate names the papers that use it, so it cites them by
code. The model judges each candidate by token probability ("do these papers share this
topic?"); the most likely ones that cite different papers are kept. A theme's sentence is
code's, whole by construction. When no candidate is left, the section says so plainly, and
that is not a finding.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from langchain_core.messages import HumanMessage, SystemMessage

from flashnews import prompts
from flashnews.agents import injection
from flashnews.errors import ModelError
from flashnews.models import Paper
from flashnews.text import parse
from flashnews.text.claims import detex
from flashnews.tools.llm import Models, NoLogprobs

if TYPE_CHECKING:
    from spacy.tokens import Token

log = logging.getLogger(__name__)

MAX_THEMES = 3
# (The model keeps a candidate only when P(yes) >= 0.5: "tokens" is shared but no theme.)
MAX_ASKED = 6
COMMON = 0.2
"""A phrase in more than this share of the day's other papers is no theme."""
DAY_SAMPLE = 200
"""The day's papers read for that share (evenly spaced by id: a real day has ~800)."""
"""Candidates the model judges (one short question each)."""
# Heads that name no topic: every paper has a method, results and a model.
_VAGUE = {"paper", "work", "approach", "method", "framework", "model", "result", "performance",
          "system", "task", "problem", "study", "analysis", "experiment", "benchmark", "way",
          "challenge", "technique", "datum", "state", "art", "art performance", "-", "use",
          "number", "set", "design", "solution", "application", "issue", "term", "paradigm",
          "strategy", "algorithm", "baseline", "evaluation", "need", "cost", "efficiency",
          "accuracy", "fact", "novel", "new", "time", "end", "setting", "range", "impact",
          # the beat's own subject: every paper of the bulletin is about it
          "llm", "large language model", "language model", "inference", "llm inference"}
_COUNT = ["No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight"]


@dataclass
class Candidate:
    label: str
    paper_ids: list[str]
    p: float = 0.0


def _lemma(t: Token) -> str:
    """A word's lemma in lower case; a capitalised plural ("Models" in a title, which the
    lemmatizer leaves as is) in the singular too."""
    w = t.lemma_.lower()
    acronym = len(t.text) > 2 and t.text[:-1].isupper() and t.text.endswith("s")  # "LLMs"
    if (acronym or t.tag_ in ("NNS", "NNPS")) and w.endswith("s") and not w.endswith("ss") \
            and len(w) > 3:
        w = w[:-1]
    return w


def _phrases(paper: Paper) -> dict[str, str]:
    """Noun phrases of a paper's title and first two abstract sentences: lemma key -> text."""
    text = f"{paper.title}. {detex(paper.abstract)}"[:parse.MAX_CHARS]
    out: dict[str, str] = {}
    for chunk in parse.parse(text).noun_chunks:
        words = [t for t in chunk if not t.is_stop and not t.is_punct and t.pos_ != "NUM"
                 and t.is_alpha]
        if not words or len(words) > 3:
            continue
        lemmas = [_lemma(t) for t in words]
        key = " ".join(lemmas)
        if lemmas[-1] in _VAGUE or key in _VAGUE or len(key) < 4:
            continue
        surface = " ".join(t.text if t.text.isupper() or any(c.isupper() for c in t.text[1:])
                           else t.text.lower() for t in words)
        out.setdefault(key, surface)
    return out


def _common(papers: dict[str, Paper], ids: Sequence[str]) -> set[str]:
    """Phrases so common among the day's papers that they are no theme ("large language
    models" on an LLM beat): in more than COMMON of up to DAY_SAMPLE of the day's papers."""
    day = sorted(pid for pid in papers if pid not in ids)
    if len(day) < 10:
        return set()
    step = max(1, len(day) // DAY_SAMPLE)
    sample = day[::step][:DAY_SAMPLE]
    counts: dict[str, int] = {}
    for pid in sample:
        for key in _phrases(papers[pid]):
            counts[key] = counts.get(key, 0) + 1
    return {k for k, n in counts.items() if n > COMMON * len(sample)}


def candidates(ids: Sequence[str], papers: dict[str, Paper]) -> list[Candidate]:
    """Phrases shared by at least two of the items but not all of them, and not common among
    the day's other papers; most shared first (then longer, more specific phrases)."""
    ids = list(dict.fromkeys(ids))
    by_key: dict[str, list[str]] = {}
    surface: dict[str, str] = {}
    for pid in ids:
        for key, text in _phrases(papers[pid]).items():
            by_key.setdefault(key, []).append(pid)
            surface.setdefault(key, text)
    common = _common(papers, ids)
    found = [Candidate(surface[k], pids) for k, pids in by_key.items()
             if 2 <= len(pids) < max(3, len(ids)) and k not in common]
    found.sort(key=lambda c: (-len(c.paper_ids), -len(c.label.split()), c.label))
    return found


def sentence(c: Candidate, period: str = "today's") -> str:
    """The theme's sentence (the renderer appends the cited papers' links)."""
    n = len(c.paper_ids)
    count = _COUNT[n] if n < len(_COUNT) else "Several"
    return f"{count} of {period} papers work on {c.label}."


def choose(models: Models | None, ids: Sequence[str], papers: dict[str, Paper], *,
           limit: int = MAX_THEMES, asked: int = MAX_ASKED, extra: Sequence[Candidate] = ()
           ) -> tuple[list[Candidate], str]:
    """Up to `limit` candidates, the model's most likely first, no two citing the same
    papers; and the prompt hash that judged them ("" when code's order was kept). `extra`:
    candidates from elsewhere (the week's beat topics), judged with the shared phrases."""
    found = candidates(ids, papers)[:asked]
    for c in extra:
        if all(set(c.paper_ids) != set(f.paper_ids) for f in found):
            found.append(c)
    prompt_hash = ""
    if models is not None and found:
        prompt = prompts.load("themes")
        system = SystemMessage(prompt.render("system"))
        try:
            for c in found:
                titles = "\n".join(f"- {injection.neutralise_title(papers[pid].title)}"
                                   for pid in c.paper_ids)
                c.p = models.yes_no("writer", [system, HumanMessage(prompt.render(
                    "shared", titles=titles, topic=c.label))], prompt_hash=prompt.hash)
            # Only what the model finds more likely a shared topic than not.
            found = sorted((c for c in found if c.p >= 0.5), key=lambda c: -c.p)
            prompt_hash = prompt.hash
        except (NoLogprobs, ModelError) as exc:
            log.info("themes: the model did not judge the candidates (%s); code's order", exc)
    kept: list[Candidate] = []
    for c in found:
        if all(len(set(c.paper_ids) & set(k.paper_ids)) < 2 for k in kept):
            kept.append(c)
        if len(kept) == limit:
            break
    return kept, prompt_hash
