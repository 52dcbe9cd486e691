"""Which paper a name names: the title, the names an abstract gives its method, and a score.

A bulletin names each paper it covers (link text, a bold name, a heading). The name must be the
linked paper's: its title (or a fair shortening of it), or a name its abstract gives its method
("We propose CHESS, …", "Replicate-and-Quantize (R&Q)"). Words are weighted by how rare they are
among the papers at hand (a coined word such as "CHESS" says more than "LLM" or "inference"), so
"CHESS: Long-Context LLM Inference" names CHESS even though FAST-Prefill's title shares three of
its words, and "InnerQ" names none of them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from flashnews.models import Paper
from flashnews.text import split_sentences

# Words that never identify a paper on their own.
_STOP_WORDS = """
a an and as at by for from in into of on or the to via with without is are be its their our
this that these those we new paper papers framework frameworks approach approaches method methods
system systems study work works arxiv abs pdf html link here toward towards using based
"""
_STOP = frozenset(_STOP_WORDS.split())
# Link texts that are no name at all ("[arXiv](…)", "[paper](…)", a bare URL or id).
GENERIC_LINK = re.compile(
    r"^\s*(?:arxiv|arxiv\.org|abs|pdf|html|link|here|paper|the paper|this paper|preprint|source|"
    r"full paper|read more|more|details|abstract|https?://\S+|\d{4}\.\d{4,5}(?:v\d+)?|"
    r"arxiv:\s*\d{4}\.\d{4,5}(?:v\d+)?)\s*$", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9]+(?:&[A-Za-z0-9]+)*")
_PROPOSE = re.compile(
    r"\b(?:we|this (?:paper|work|article|study)|the paper|here we|our (?:work|paper))\s+"
    r"(?:\w+ly\s+)?(?:propose|present|introduce|develop|design|build|describe|release|"
    r"contribute|call|name|term|dub|unveil|open-source)[sd]?\b(?:\s+(?:here|first))?\s*", re.I)
# A name right after the verb: "We propose CHESS, …", "we present "Pyramid MoA", …".
_NAME_AFTER = re.compile(r"[\"“']?((?:[A-Z][\w&+.-]*|[a-z]+[A-Z][\w&+-]*)"
                         r"(?:\s+(?:[A-Z][\w&+-]*|of|for|and|-))*?)[\"”']?(?=\s*[,:(;.]|\s+(?:a|an|"
                         r"the|which|that|to|for|as)\b)")
# "Adaptive Rejection Sampling (Ada-RS)", "Replicate-and-Quantize (R&Q)".
_ACRONYM = re.compile(r"((?:[A-Z][\w&-]*)(?:\s+[A-Z][\w&-]*){0,5})\s+\(([A-Za-z][\w&+-]{1,15}"
                      r"(?:\s[A-Z][\w&-]{1,10})?)\)")
_CALLED = re.compile(r"\b(?:called|named|dubbed|termed|coined)\s+[\"“']?([A-Z][\w&+-]*"
                     r"(?:\s+[A-Z][\w&+-]*){0,3})")
_ARTICLE = re.compile(r"^(?:a|an|the|our|two|three|new)\s+", re.I)


def tokens(text: str) -> list[str]:
    """Lower-case words of a name, hyphenated parts apart, plural -s cut ("SSMs" -> "ssm")."""
    return list(_tokens(text))


@lru_cache(maxsize=8192)
def _tokens(text: str) -> tuple[str, ...]:
    out = []
    for w in _WORD.findall(text.replace("-", " ")):
        w = w.lower()
        if re.fullmatch(r"\d+(?:[.,]\d+)*[kmbx%]?", w):  # "7x", "128k": a quantity, no name
            continue
        if len(w) >= 4 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        if w not in _STOP:
            out.append(w)
    return tuple(out)


def method_names(abstract: str) -> list[str]:
    """Names the abstract gives what it proposes, in order ("CHESS", "Ada-RS", "Pyramid MoA")."""
    out: list[str] = []
    text = " ".join(abstract.split())
    for sentence in split_sentences(text):
        for m in _PROPOSE.finditer(sentence):
            rest = _ARTICLE.sub("", sentence[m.end():])
            n = _NAME_AFTER.match(rest)
            if n and _coined(n.group(1)):
                out.append(n.group(1).strip(" -"))
            for a in _ACRONYM.finditer(sentence[m.start():]):
                # The phrase and its short form, when the phrase is the proposed thing.
                out += [a.group(1), a.group(2)]
        for c in _CALLED.finditer(sentence):
            out.append(c.group(1))
    seen: list[str] = []
    for name in out:
        name = name.strip(" \"'“”")
        if len(name) >= 2 and name not in seen and name.lower() not in _STOP:
            seen.append(name)
    return seen


def _coined(name: str) -> bool:
    """Whether a capitalised phrase is a name rather than a sentence's next word ("To", "A")."""
    first = name.split()[0]
    return (len(name) >= 2 and first.lower() not in _STOP | {"to", "it", "in", "two", "three"}
            and not (len(name.split()) == 1 and first.istitle() and first.lower() in
                     {"novel", "first", "simple", "unified", "efficient", "general"}))


def _initials(title: str) -> set[str]:
    """Acronyms a title's words allow: every run of consecutive initials ("State-Space Models"
    -> "ssm", "Mixture-of-Experts" -> "moe" and "me")."""
    words = [w.lower() for w in _WORD.findall(title.replace("-", " "))]
    out: set[str] = set()
    for i in range(len(words)):
        for skip_small in (False, True):
            acc = ""
            for w in words[i:i + 8]:
                if skip_small and w in _STOP:
                    continue
                acc += w[0]
                if len(acc) >= 2:
                    out.add(acc)
    return out


@dataclass(frozen=True)
class _Vocab:
    strong: frozenset[str]
    """Words of the title and of the method's names."""
    weak: frozenset[str]
    """Words of the abstract."""
    initials: frozenset[str]
    names: tuple[str, ...]


@lru_cache(maxsize=4096)
def _vocab(title: str, abstract: str) -> _Vocab:
    names = tuple(method_names(abstract))
    head = title.split(":", 1)[0].strip()
    if ":" in title and len(head) <= 40:
        names = (head, *[n for n in names if n != head])
    strong = set(tokens(title))
    for n in names:
        strong |= set(tokens(n))
    # Acronyms of the title and of the abstract's defined terms ("Selective Chain-of-Thought").
    initials = _initials(title) | {i for n in names for i in _initials(n)}
    return _Vocab(frozenset(strong), frozenset(tokens(abstract)), frozenset(initials), names)


def names_of(paper: Paper) -> tuple[str, ...]:
    """The names a bulletin may call a paper by, besides its title: the title's part before a
    colon (when short) and the abstract's names for its method."""
    return _vocab(paper.title, paper.abstract).names


@dataclass(frozen=True)
class Naming:
    """What a name says about the papers at hand."""

    name: str
    linked: float
    """How well the name covers the linked paper (0..1)."""
    owner: str | None
    """The paper the name covers best, when it covers one well (None: it names none)."""
    owner_score: float

    @property
    def ok(self) -> bool:
        """The name names the linked paper (at least about as well as any other)."""
        return self.linked >= 0.5 and self.linked >= self.owner_score - 0.2

    @property
    def other(self) -> bool:
        """The name names another paper, and not the linked one."""
        return self.owner is not None and not self.ok


class NameIndex:
    """Scores names against a set of papers (the edition's, or the day's)."""

    def __init__(self, papers: dict[str, Paper]) -> None:
        self.papers = papers
        self.vocab = {pid: _vocab(p.title, p.abstract) for pid, p in papers.items()}
        df: dict[str, int] = {}
        for v in self.vocab.values():
            for t in v.strong | v.weak:
                df[t] = df.get(t, 0) + 1
        self._df = df
        self._n = max(len(papers), 1)

    def idf(self, token: str) -> float:
        return math.log((self._n + 1) / (self._df.get(token, 0) + 0.5)) + 0.1

    def coverage(self, name: str, pid: str) -> float:
        """The share of the name's (rarity-weighted) words that belong to paper `pid`."""
        words = tokens(name)
        v = self.vocab.get(pid)
        if not words or v is None:
            return 0.0
        total = got = 0.0
        for t in dict.fromkeys(words):
            w = self.idf(t)
            total += w
            if t in v.strong or (len(t) >= 2 and t in v.initials):
                got += w
            elif t in v.weak:
                got += 0.6 * w
        return got / total if total else 0.0

    def naming(self, name: str, linked: str) -> Naming:
        """How `name` relates to the linked paper and to the best-covered other paper."""
        scores = {pid: self.coverage(name, pid) for pid in self.papers}
        mine = scores.get(linked, 0.0)
        best = max((pid for pid in scores if pid != linked), key=lambda p: scores[p],
                   default=None)
        if best is None or scores[best] < 0.5:
            # No other paper is named: is this one?
            owner = linked if mine >= 0.5 else None
            return Naming(name, mine, owner, mine if owner else 0.0)
        owner = best if scores[best] > mine else linked
        return Naming(name, mine, owner, max(scores[best], mine))

    def cited(self, text: str, among: set[str] | None = None) -> set[str]:
        """Papers a text names by one of their names, as whole words (case kept: "TOM" is not
        "tom-foolery")."""
        out = set()
        for pid, v in self.vocab.items():
            if among is not None and pid not in among:
                continue
            for name in v.names:
                if len(name) >= 2 and re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])",
                                                text):
                    out.add(pid)
                    break
        return out


def is_generic(link_text: str) -> bool:
    """Whether a link text is no name ("arXiv", "paper", a URL or an id)."""
    return bool(GENERIC_LINK.match(link_text.strip(" *_`"))) or not tokens(link_text)
