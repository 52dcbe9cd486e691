"""Quantities in scientific prose, and whether a written number is a claim its abstract makes.

A number in a bulletin is only grounded when an abstract sentence states the same value (or a
faithful rounding, range or conversion of it) with the same kind of unit (x vs % vs tokens/s vs
GB) for the same metric (throughput, latency, TTFT, memory, energy, accuracy, cost …). A value
that merely occurs somewhere in the abstract proves nothing: "cuts latency 4.56x" is wrong when
4.56x is the throughput gain.

The writer uses the same parser to find an abstract's result claims; the critic uses `ground` to
check every number of an item against its paper. Model names, versions and hardware
("Llama-3.1-8B", "Qwen3", "H100") are names, not quantities; settings ("at 128K context", "on
4 GPUs") must occur in the abstract but need no metric match.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass, field, replace
from typing import Literal

from flashnews.text import latex, split_sentences

# ---------------------------------------------------------------------------------------------
# text

def detex(text: str) -> str:
    """Plain text from an abstract that uses LaTeX (tools/latex.py: `$3.81\\times$` -> 3.81×,
    `10\\%` -> 10%, `\\textsc{X}` -> X, `$O(n^2)$` -> O(n²): no figure is made from math)."""
    return detex_spans(text)[0]


def detex_spans(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`detex`, and the spans of its text that were mathematics rather than a figure."""
    # TeX's en dash between numbers is a range ("$8$--$28\times$" is 8–28×, not -28×).
    return latex.to_text_spans(re.sub(r"(\d%?\$?)\s*---?\s*(\$?\d)", "\\1–\\2", text))


_ABBREV = r"(?:e\.g|i\.e|et al|vs|cf|Fig|Eq|Sec|approx|resp|No|al)\."
_STARTS = "A-Z(\"“\\[0-9"
"""What a sentence of prose may begin with (a digit too: "2x faster ...")."""


def sentences(text: str) -> list[str]:
    """Sentences of a prose text (abbreviations such as "e.g." and decimals do not end one)."""
    text = " ".join(text.split())
    if not text:
        return []
    # Protect abbreviations so the splitter does not cut after them.
    protected = re.sub(_ABBREV, lambda m: m.group(0).replace(".", "\x00"), text)
    return [p.replace("\x00", ".") for p in split_sentences(protected, starts=_STARTS)]


# ---------------------------------------------------------------------------------------------
# quantities

Unit = str
"""Kinds of unit: "x" (a multiple), "%", "pp", "rate" (tokens or requests per second), "time"
(seconds), "bytes", "bits", "energy" (joules), "power" (watts), "flops", "usd", "tokens",
"params", "count" (a number of things), "" (a bare number)."""

Role = Literal["result", "setting"]


@dataclass(frozen=True)
class Quantity:
    """One number as written in a text, with its unit, metric and place."""

    text: str
    """As written, e.g. "up to 4.56×", "~1.6-2.1x", "3,306 TPS"."""
    low: float
    high: float
    """The value (low == high), or a range; in the unit's base (seconds, bytes, tokens …)."""
    unit: Unit
    decimals: int
    """Digits after the point of the most precise bound, as written (a rounding tolerance)."""
    qualifier: str = ""
    """"up to", "about", "over" or "under" when the text hedges or bounds the value."""
    direction: Literal["up", "down", ""] = ""
    """Whether the text says the metric rises (faster, higher) or falls (cuts, lower, less)."""
    metrics: tuple[str, ...] = ()
    """Metric families named near the number, nearest first (see METRICS)."""
    metric_source: Literal["clause", "unit", "sentence", ""] = ""
    """Where `metrics` came from: the number's own clause or unit (what the text says it
    measures), or only elsewhere in its sentence (a weaker reading)."""
    noun: str = ""
    """The word right after the number (what a count counts: "GPUs", "tasks")."""
    role: Role = "result"
    sentence: str = ""
    start: int = 0
    end: int = 0
    alternatives: tuple[tuple[float, float], ...] = field(default=(), compare=False)
    """Other readings of the same text (128K as 131,072)."""
    against: str = ""
    """What the result is measured against, when the text says so ("… over NCCL")."""
    against_list: tuple[str, ...] = ()
    """When results and baselines are written as two lists of one length ("1.07-1.33x and
    1.03-1.27x speedup over NCCL and AutoCCL"), every baseline of the list (this one's is
    `against`)."""

    @property
    def value(self) -> float:
        return self.high

    @property
    def is_range(self) -> bool:
        return self.low != self.high


_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
_MAG = r"(?:[KkMBT](?![A-Za-z]))"
_UNITS: list[tuple[str, Unit, float]] = [
    # (pattern, unit kind, factor to the base unit); longest and most specific first.
    (r"percentage points?|pp\b|p\.p\.", "pp", 1.0),
    (r"%|percent\b", "%", 1.0),
    (r"[x×X](?![A-Za-z0-9])|-?fold\b|times\b", "x", 1.0),
    (r"(?:tokens?|tok)\s*/\s*s(?:ec)?\b|tokens? per second|TPS\b|tok/s\b|QPS\b|RPS\b|"
     r"req(?:uests?)?\s*/\s*s\b|requests? per second|queries per second|it/s\b", "rate", 1.0),
    (r"ms\b|milliseconds?", "time", 1e-3), (r"(?:µs|us)\b|microseconds?", "time", 1e-6),
    (r"ns\b|nanoseconds?", "time", 1e-9), (r"s\b|sec\b|secs\b|seconds?", "time", 1.0),
    (r"min\b|minutes?", "time", 60.0), (r"h\b|hrs?\b|hours?", "time", 3600.0),
    (r"days?", "time", 86400.0),
    (r"TB\b|TiB\b", "bytes", 1e12), (r"GB\b|GiB\b", "bytes", 1e9), (r"MB\b|MiB\b", "bytes", 1e6),
    (r"KB\b|KiB\b|kB\b", "bytes", 1e3), (r"bytes?\b", "bytes", 1.0),
    (r"-?bits?\b|-?bit\b", "bits", 1.0),
    (r"kWh\b", "energy", 3.6e6), (r"kJ\b", "energy", 1e3), (r"mJ\b", "energy", 1e-3),
    (r"J\b|joules?", "energy", 1.0),
    (r"kW\b", "power", 1e3), (r"mW\b", "power", 1e-3), (r"W\b|watts?", "power", 1.0),
    (r"[PTGM]?FLOPS?\b|[PTGM]?FLOPs\b|[PTG]OPS\b", "flops", 1.0),
    (r"(?:[KkMB]\s+)?(?:tokens?)\b", "tokens", 1.0),
    (r"(?:parameters|params)\b", "params", 1.0),
]
_UNIT_RE = [(re.compile(r"\s?(?:" + p + ")"), u, f) for p, u, f in _UNITS]
_MAG_FACTOR = {"K": 1e3, "k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
_RANGE_SEP = r"\s*(?:-|–|—|~|to)\s*"
_QTY = re.compile(
    r"(?P<pre>(?:[~≈∼]|\+/-|±|[+−-](?=\d)|\$|≥|≤|>|<)\s?)?"
    r"(?P<a>" + _NUM + r")(?P<amag>" + _MAG + r")?(?P<aunit>\s?(?:%|[x×X](?![A-Za-z0-9])))?"
    r"(?:(?P<sep>" + _RANGE_SEP + r")(?P<b>" + _NUM + r")(?P<bmag>" + _MAG + r")?)?")
# A number inside a name: Llama-3.1-8B, Qwen3, H100, GPT-4o, GSM8K, pass@1, FP8, BitNet-2B.
NAME_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9@]*(?:[-.][A-Za-z0-9@]+)*(?<=[0-9A-Za-z])"
                     r"|\b\d+(?:\.\d+)?[A-Za-z]+(?:-[A-Za-z0-9]+)+")
_PLAIN_QUANTITY = re.compile(r"[~+]?(?:" + _NUM + r")(?:[KkMBT]|[x×]|-?bits?|-fold)?")
_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twice": 2,
                 "dozen": 12, "hundred": 100, "thousand": 1000}
_VERB_VALUES: dict[str, tuple[float, Literal["up", "down", ""]]] = {
    "halv": (2.0, "down"), "doubl": (2.0, "up"), "tripl": (3.0, "up"), "quadrupl": (4.0, "up"),
    "order": (10.0, "")}
# Inflected forms only: "double buffering" and "a triple store" are no figures.
_VERB_MULTIPLE = re.compile(r"\b(halv(?:es|ed|ing|e)|doubl(?:es|ed|ing)|tripl(?:es|ed|ing)|"
                            r"quadrupl(?:es|ed|ing)|orders? of magnitude)\b", re.IGNORECASE)
_HEDGE = re.compile(r"(?:about|around|approximately|approx\.|roughly|nearly|almost|close to|"
                    r"some|circa|~)\s*$", re.IGNORECASE)
_UPTO = re.compile(r"(?:up to|as much as|as high as|peak(?:ing)? (?:at|of)|maximum of|max\.?)\s*$",
                   re.IGNORECASE)
_OVER = re.compile(r"(?:over|more than|above|at least|exceeding|exceeds?|beyond|>|≥)\s*$",
                   re.IGNORECASE)
_UNDER = re.compile(r"(?:under|less than|below|at most|within|fewer than|<|≤)\s*$",
                    re.IGNORECASE)
_DOWN = re.compile(r"\b(?:reduc\w*|cut\w*|lower\w*|less|fewer|smaller|sav\w*|decreas\w*|drop\w*|"
                   r"shrink\w*|compress\w*|eliminat\w*|minimi\w*|overhead|slash\w*|trim\w*|"
                   r"declin\w*|cheaper)\b", re.IGNORECASE)
_UP = re.compile(r"\b(?:increas\w*|improv\w*|higher|more|faster|speed-?ups?|accelerat\w*|gains?|"
                 r"boost\w*|rais\w*|outperform\w*|greater|better|enhanc\w*|extend\w*)\b",
                 re.IGNORECASE)

# Metric families. A family named on both sides of a match must agree (COMPATIBLE); a number
# with no family named near it is matched on value and unit alone.
METRICS: dict[str, str] = {
    "ttft": r"TTFT|time[- ]to[- ]first[- ]token|first[- ]token latency|prefill (?:latency|time)",
    "tpot": r"TPOT|ITL|time[- ]per[- ]output[- ]token|inter[- ]token latency|per[- ]token latency|"
            r"decod(?:e|ing) (?:latency|time)",
    "throughput": r"throughput|goodput|tokens?\s*/\s*s|tokens? per second|TPS|QPS|RPS|"
                  r"requests? per second|queries per second|serving capacity|tok/s",
    "latency": r"latency|latencies|wall[- ]clock|end[- ]to[- ]end|response time|"
               r"(?:inference|execution|run|processing|completion|training|search|recovery|"
               r"compilation|generation) ?time|runtime|time|delay|makespan",
    "speed": r"speed-?ups?|faster|accelerat\w*|speed",
    "memory": r"memory|footprint|VRAM|HBM|DRAM|SRAM|KV[- ]?cache|cache|storage|GPU memory|"
              r"RAM|capacity",
    "energy": r"energy|power|watts?|joules?|perf(?:ormance)?[- /]per[- ]watt|battery",
    "accuracy": r"accuracy|accurate|quality|F1|BLEU|ROUGE|perplexity|PPL|pass@\d+|exact match|"
                r"success rate|win rate|score|error|EM\b|recall|precision|AUC|mAP|correct\w*",
    "cost": r"cost|price|dollars?|\$|expense|GPU[- ]hours|budget",
    "tokens": r"tokens?|token usage|output length|sequence length|reasoning length",
    "communication": r"communication|bandwidth|traffic|all-?reduce|synchroni[sz]ation|"
                     r"transfer|data movement",
    "size": r"model size|parameters|params|compression|sparsity|pruning|bits?|weights",
    "area": r"area|mm2|mm²|silicon",
    "utilization": r"utili[sz]ation|occupancy|hit rate|acceptance (?:rate|length)",
    "balance": r"imbalance|load balanc\w*|skew",
    "requests": r"requests|queries|calls",
}
_METRIC_RE = {name: re.compile(r"\b(?:" + pat + r")(?:e?s)?(?![A-Za-z])", re.IGNORECASE)
              for name, pat in METRICS.items()}
# A unit that says what it measures: 3,306 TPS is a throughput, 0.82 s a time.
_UNIT_METRIC = {"rate": "throughput", "time": "latency", "bytes": "memory", "energy": "energy",
                "power": "energy", "usd": "cost", "flops": "utilization"}
_TIMEISH = {"ttft", "tpot", "latency", "speed", "throughput"}
COMPATIBLE: dict[str, set[str]] = {
    "speed": _TIMEISH,
    "latency": {"latency", "speed", "ttft", "tpot"},
    "ttft": {"ttft", "latency", "speed"},
    "tpot": {"tpot", "latency", "speed"},
    "throughput": {"throughput", "speed"},
    "memory": {"memory", "size"},
    "size": {"size", "memory"},
    "utilization": {"utilization", "energy"},
    "energy": {"energy", "utilization"},
}
_CLAUSE = re.compile(r"[,;:()]|\b(?:and|while|whereas|but|with|without|using|at|compared|"
                     r"relative to|versus|vs\.)\b", re.IGNORECASE)


def compatible(a: str, b: str) -> bool:
    """Whether two metric families can describe the same measured quantity."""
    return a == b or b in COMPATIBLE.get(a, set()) or a in COMPATIBLE.get(b, set())


def _decimals(num: str) -> int:
    return len(num.split(".", 1)[1]) if "." in num else 0


def _value(num: str, mag: str | None) -> tuple[float, float]:
    """The number and an alternative reading (128K as 131,072), in plain units."""
    v = float(num.replace(",", ""))
    if not mag:
        return v, v
    binary = {"K": 1024.0, "k": 1024.0, "M": 1024.0 ** 2}.get(mag, _MAG_FACTOR[mag])
    return v * _MAG_FACTOR[mag], v * binary


def _unit_after(text: str, pos: int) -> tuple[Unit, float, int]:
    for rx, unit, factor in _UNIT_RE:
        m = rx.match(text, pos)
        if m:
            return unit, factor, m.end()
    return "", 1.0, pos


def _metric_families(text: str, start: int, end: int, before_words: int | None = None,
                     parenthetical: bool = False) -> tuple[str, ...]:
    """Metric families named in `text` around the number at [start, end), nearest first.

    Distance is counted in words. A word after the number ("4.56× higher throughput", "61%
    lower cost") is what it measures, so words before it count as farther; with
    `before_words`, only that many words before it count at all ("throughput by 1.6x" does,
    "bandwidth GPU clusters show that Lagom achieves 1.07x" does not). A number alone in
    parentheses ("the Oracle baseline (98.0%)") is about what precedes it.
    """
    before, after = (1.0, 3.0) if parenthetical else (1.5, 1.0)
    words = lambda t: len(re.findall(r"[A-Za-z0-9]+", t))  # noqa: E731
    found: list[tuple[float, str]] = []
    for name, rx in _METRIC_RE.items():
        for m in rx.finditer(text):
            if m.start() >= end:
                distance = words(text[end:m.start()]) * after
            elif m.end() <= start:
                gap = words(text[m.end():start])
                if before_words is not None and gap > before_words:
                    continue
                distance = gap * before + 0.5
            else:
                continue
            found.append((distance, name))
    found.sort(key=lambda x: x[0])
    out: list[str] = []
    for _, name in found:
        if name not in out:
            out.append(name)
    return tuple(out)


def _clauses(sentence: str) -> list[tuple[int, int]]:
    bounds = [0, *[m.start() for m in _CLAUSE.finditer(sentence)], len(sentence)]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _in_name(text: str, start: int, end: int) -> bool:
    for m in NAME_RE.finditer(text, max(0, start - 40), min(len(text), end + 40)):
        if not any(c.isdigit() for c in m.group(0)):
            continue
        if m.start() <= start and end <= m.end() and m.group(0) != text[start:end]:
            # "4.56x", "128K", "8B" alone, "2-bit" are quantities, not names.
            return not _PLAIN_QUANTITY.fullmatch(m.group(0))
    return False


def quantities(text: str) -> list[Quantity]:
    """Every quantity written in `text`, in order. LaTeX is read as plain text first, so
    offsets are those of `detex(text)`."""
    # The same abstract is read for every item and check: parse it once.
    return list(_quantities(text))


@functools.lru_cache(maxsize=2048)
def _quantities(text: str) -> tuple[Quantity, ...]:
    text, math = detex_spans(text)
    out: list[Quantity] = []
    offset = 0
    for sentence in sentences(text):
        offset = text.find(sentence, offset)
        out.extend(q for q in _sentence_quantities(sentence, max(offset, 0))
                   if not any(a <= q.start < b for a, b in math))
        offset += len(sentence)
    return tuple(out)


# Numbers that are not quantities: math scripts (π_(0.5), 2^(k+1)), dates (2026-02-25), list
# markers ("(1) … (2) …", "1." opening a line), and arXiv ids (2602.20732).
_NOT_QUANTITY = re.compile(r"[\^_]\([^()]*\)|\b\d{4}-\d{2}-\d{2}\b|(?<![\w)])\(\d{1,2}\)(?=\s)|"
                           r"^\s*\d{1,2}[.)]\s|\b\d{4}\.\d{4,5}(?:v\d+)?\b")


_DIRECTIONS: tuple[tuple[re.Pattern[str], Literal["up", "down"]], ...] = (
    (_DOWN, "down"), (_UP, "up"))


def _direction_near(sentence: str, at: int) -> Literal["up", "down", ""]:
    """The direction word ("cuts", "faster") nearest to position `at` of the sentence."""
    lo = max(0, at - 60)
    window = sentence[lo:at + 60]
    words = [(abs(w.start() - (at - lo)), d) for rx, d in _DIRECTIONS for w in rx.finditer(window)]
    return min(words)[1] if words else ""


def _sentence_quantities(sentence: str, offset: int) -> list[Quantity]:
    found: list[Quantity] = []
    clauses = _clauses(sentence)
    skip = [(m.start(), m.end()) for m in _NOT_QUANTITY.finditer(sentence)]
    for m in _QTY.finditer(sentence):
        start = m.start("a")
        if any(a <= start < b for a, b in skip):
            continue
        # Numbers glued to letters are parts of names or identifiers (Qwen3, H100, x86).
        before = sentence[start - 1] if start else " "
        if before.isalnum() or before in "_@" or (before in "-." and start >= 2
                                                 and sentence[start - 2].isalnum()):
            continue
        if _in_name(sentence, start, m.end("a") + len(m.group("amag") or "")):
            continue
        a_text, b_text = m.group("a"), m.group("b")
        low, low_alt = _value(a_text, m.group("amag"))
        high, high_alt = (low, low_alt) if not b_text else _value(b_text, m.group("bmag")
                                                                   or m.group("amag"))
        unit, factor, unit_end = ("", 1.0, m.end())
        glued = (m.group("aunit") or "").strip()
        if glued and not b_text:
            unit = "%" if glued == "%" else "x"
            unit_end = m.end()
        else:
            unit, factor, unit_end = _unit_after(sentence, m.end())
            if not unit and glued:
                unit = "%" if glued == "%" else "x"
        if m.group("amag") == "B" and not unit:
            unit = "params"
        pre = (m.group("pre") or "").strip()
        if pre == "$":
            unit = "usd"
        if unit == "tokens":
            tail = sentence[m.end():unit_end]
            if re.search(r"[KkMB]\s+tokens?", tail):  # "128 K tokens"
                mag = tail.strip()[0]
                low, high = low * _MAG_FACTOR[mag], high * _MAG_FACTOR[mag]
        noun_m = re.match(r"\s*([A-Za-z][A-Za-z/\-]*)", sentence[unit_end:])
        noun = noun_m.group(1) if noun_m else ""
        if not unit and noun and noun.lower() not in ("of", "and", "to", "in", "on", "the"):
            unit = "count"
        left = sentence[max(0, m.start() - 40):m.start()]
        qualifier = ("about" if pre in ("~", "≈", "∼") or _HEDGE.search(left) else
                     "up to" if _UPTO.search(left) else
                     "over" if pre in (">", "≥") or _OVER.search(left) else
                     "under" if pre in ("<", "≤") or _UNDER.search(left) else "")
        ca, cb = next(((a, b) for a, b in clauses if a <= start < b), (0, len(sentence)))
        clause = sentence[ca:cb]
        metrics = _metric_families(clause, start - ca, unit_end - ca, before_words=5)
        source: Literal["clause", "unit", "sentence", ""] = "clause" if metrics else ""
        if not metrics:
            # A clause without a metric shares the nearest one of its sentence: "… throughput
            # by 1.6-2.1x on 2 GPUs and 2.6-4.0x on 4 GPUs", "1.07-1.33x and 1.03-1.27x speedup".
            metrics = _metric_families(sentence, start, unit_end,
                                       parenthetical=sentence[ca:ca + 1] == "(")
            source = "sentence" if metrics else ""
        implied = _UNIT_METRIC.get(unit)
        if implied:
            metrics = (implied, *[x for x in metrics if x != implied])
            source = "unit"
        lo_w = max(ca, m.start() - 60)
        window = sentence[lo_w:min(cb, unit_end + 40)]
        direction: Literal["up", "down", ""] = ""
        if pre == "−" or (pre == "-" and unit in ("%", "pp")):
            direction = "down"
        else:
            # The direction word nearest to the number says which way it goes.
            here = m.start() - lo_w
            words = [(abs(w.start() - here), d) for rx, d in _DIRECTIONS
                     for w in rx.finditer(window)]
            if words:
                direction = min(words)[1]
        role: Role = "result"
        if unit in ("tokens", "params", "count", "bits", "") or (
                re.search(r"\b(?:on|using|with|at|across|for|from|of)\s*$", left)
                and unit in ("bytes",) and not metrics):
            role = "setting"
        if unit == "" and not b_text and float(a_text.replace(",", "")) >= 1900 \
                and float(a_text.replace(",", "")) <= 2100 and "." not in a_text:
            role = "setting"  # a year
        alts = ((low_alt * factor, high_alt * factor),) if (low_alt, high_alt) != (low, high) \
            else ()
        found.append(Quantity(
            text=sentence[m.start():unit_end].strip(), low=low * factor, high=high * factor,
            unit=unit, decimals=max(_decimals(a_text), _decimals(b_text or "")),
            qualifier=qualifier, direction=direction, metrics=metrics, metric_source=source,
            noun=noun, role=role,
            sentence=sentence, start=offset + m.start(), end=offset + unit_end,
            alternatives=alts))
    # Number words ("two GPUs", "twice as fast") count as settings and multiples; a word
    # before "times" or "-fold" ("ten times cheaper", "threefold") is a multiple.
    for m in re.finditer(r"\b(" + "|".join(_WORD_NUMBERS) + r")(?:(-?fold)\b|\b)"
                         r"(?:\s+([A-Za-z][\w-]*))?", sentence, re.IGNORECASE):
        word = m.group(1).lower()
        value = float(_WORD_NUMBERS[word])
        noun = m.group(3) or ""
        multiple = word == "twice" or bool(m.group(2)) or noun.lower() == "times"
        word_unit: Unit = "x" if multiple else "count"
        if word == "one" and noun.lower() in ("of", "another", "such", "can"):
            continue
        # A count keeps its noun ("three benchmarks"); a multiple is the words that multiply.
        end = m.end() if not multiple or noun.lower() == "times" or not noun \
            else m.end(3) - len(noun)
        found.append(Quantity(text=sentence[m.start():end].strip(), low=value, high=value,
                              unit=word_unit, decimals=0, noun="" if multiple else noun,
                              role="result" if multiple else "setting",
                              direction=_direction_near(sentence, m.start()) if multiple else "",
                              metrics=_metric_families(sentence, m.start(), end) if multiple
                              else (), metric_source="sentence" if multiple else "",
                              sentence=sentence, start=offset + m.start(), end=offset + end))
    # A verb that multiplies ("halves the latency", "doubled throughput") or "an order of
    # magnitude": a figure written in words, grounded like any other.
    for m in _VERB_MULTIPLE.finditer(sentence):
        stem = m.group(1).lower()
        value, direction = _VERB_VALUES[next(k for k in _VERB_VALUES if stem.startswith(k))]
        found.append(Quantity(
            text=m.group(0), low=value, high=value, unit="x", decimals=0,
            qualifier="about" if stem.startswith("order") else "",
            direction=direction or _direction_near(sentence, m.start()),
            metrics=_metric_families(sentence, m.start(), m.end()), metric_source="sentence",
            role="result", sentence=sentence, start=offset + m.start(), end=offset + m.end()))
    return _baselines(found, sentence, offset)


_AGAINST = r"\b(?:over|than|compared (?:to|with)|vs\.?|versus|against|relative to)\s+(?:the\s+)?"
_BASE = r"[A-Z][\w.+-]*(?:[ -][A-Z0-9][\w.+-]*)?"


def _baselines(found: list[Quantity], sentence: str, offset: int) -> list[Quantity]:
    """Bind results to what they are measured against: a result followed by "over X", and a
    list of results followed by a list of as many baselines, pairwise."""
    results = sorted((q for q in found if q.role == "result" and not q.text[:1].isalpha()),
                     key=lambda q: q.start)
    out = {id(q): q for q in found}
    i = 0
    while i < len(results):
        group = [results[i]]
        while i + 1 < len(results) and results[i + 1].unit == group[0].unit and re.fullmatch(
                r"\s*(?:,|and|, and|or)\s*", sentence[group[-1].end - offset:
                                                 results[i + 1].start - offset]):
            group.append(results[i + 1])
            i += 1
        tail = sentence[group[-1].end - offset:][:120]
        m = re.match(r"[^.;()]{0,40}?" + _AGAINST + "(" + _BASE + r"(?:\s*,\s*" + _BASE +
                     r")*(?:\s*,?\s*(?:and|or)\s+" + _BASE + r")?)", tail)
        if m:
            names = tuple(n.strip() for n in re.split(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+",
                                                   m.group(1)) if n.strip())
            if len(group) == 1:
                out[id(group[0])] = replace(group[0], against=names[0])
            elif len(names) == len(group):
                for q, name in zip(group, names, strict=True):
                    out[id(q)] = replace(q, against=name, against_list=names)
        i += 1
    return [out[id(q)] for q in found]


def names_in(text: str) -> list[str]:
    """Model, benchmark and hardware names with digits (Llama-3.1-8B, H100, GSM8K)."""
    out = []
    for m in NAME_RE.finditer(detex(text)):
        word = m.group(0).strip(".-")
        if _PLAIN_QUANTITY.fullmatch(word):
            continue
        if re.search(r"[A-Za-z]", word) and re.search(r"\d", word):
            out.append(word)
    return out


# ---------------------------------------------------------------------------------------------
# matching

Status = Literal["supported", "wrong-metric", "wrong-unit", "wrong-value", "wrong-setting",
                 "absent"]


@dataclass
class Support:
    """What an abstract says about one quantity written in a bulletin."""

    quantity: Quantity
    status: Status
    evidence: str = ""
    """The abstract sentence that states it (or, when wrong, the one that states that value)."""
    via: str = ""
    """How it matched: "exact", "rounded", "range", "converted", "setting" …"""
    message: str = ""
    source: Quantity | None = None
    """The abstract's quantity it was matched to."""

    @property
    def ok(self) -> bool:
        return self.status == "supported"


def _close(written: float, decimals: int, actual: float, qualifier: str) -> str:
    """How a written value renders an actual one: "exact", "rounded", "bound", or ""."""
    if actual == 0 and written == 0:
        return "exact"
    if math.isclose(written, actual, rel_tol=1e-9, abs_tol=1e-12):
        return "exact"
    step = 10.0 ** -decimals
    # A faithful rounding (or truncation) at the precision written: 4.6 or 4.5 for 4.56.
    if abs(written - actual) < step * (1.0 if qualifier != "about" else 1.5) and \
            abs(written - actual) <= 0.12 * max(abs(actual), 1e-9) + 1e-12:
        return "rounded"
    if qualifier == "over" and actual >= written and actual <= written * 1.5:
        return "bound"
    if qualifier == "under" and actual <= written and actual >= written / 1.5:
        return "bound"
    # Large values written with a magnitude (3.3K for 3,306, 128K for 131,072).
    if abs(written) >= 1000 and abs(written - actual) <= 0.05 * abs(actual):
        return "rounded"
    return ""


def _values(q: Quantity) -> list[tuple[float, float]]:
    return [(q.low, q.high), *q.alternatives]


def _value_match(item: Quantity, source: Quantity, others: list[Quantity]) -> str:
    """Whether the values agree, with the same unit kind: how, or ""."""
    for lo, hi in _values(item):
        for slo, shi in _values(source):
            if item.is_range:
                if source.is_range:
                    a = _close(lo, item.decimals, slo, item.qualifier)
                    b = _close(hi, item.decimals, shi, item.qualifier)
                    if a and b:
                        return "exact" if a == b == "exact" else "rounded"
                    continue
                continue
            for actual in {slo, shi}:
                how = _close(hi, item.decimals, actual, item.qualifier)
                if how:
                    return how if not source.is_range else "range"
    if item.is_range and not source.is_range:
        # "~3-6%" covering 2.8% and 5.8%: both bounds render values of the same kind.
        lows = [o for o in others if _close(item.low, item.decimals, o.value, "about")]
        highs = [o for o in others if _close(item.high, item.decimals, o.value, "about")]
        if (source in lows and highs) or (source in highs and lows):
            return "range"
    return ""


def _converted(item: Quantity, source: Quantity) -> str:
    """Whether a % and a multiple state the same change (47% faster = 1.47x; 60% less = 2.5x)."""
    pairs = [(item, source), (source, item)]
    for pct, mult in pairs:
        if pct.unit != "%" or mult.unit != "x" or pct.is_range or mult.is_range:
            continue
        p = pct.value / 100.0
        candidates = [1.0 + p]
        if p < 1:
            candidates.append(1.0 / (1.0 - p))
            candidates.append(1.0 - p)  # "0.4x the memory" = 60% less
        written = item
        for c in candidates:
            if written is pct:
                # The % is written: it is a rounding of the multiple's change.
                for alt in (mult.value - 1.0, 1.0 - 1.0 / mult.value if mult.value else 0.0,
                            1.0 - mult.value):
                    if _close(pct.value, pct.decimals, 100.0 * alt, pct.qualifier):
                        return "converted"
            elif mult.value != 1.0 and _close(mult.value - 1.0, mult.decimals, c - 1.0,
                                              mult.qualifier):
                # The change must survive the conversion: 1.5x renders "47% faster", 1x does
                # not render "1% more".
                return "converted"
    if {item.unit, source.unit} == {"x", ""} or {item.unit, source.unit} == {"%", "pp"}:
        for _, hi in _values(source):
            if _close(item.value, item.decimals, hi, item.qualifier):
                return "converted"
    return ""


def _same_unit(a: Unit, b: Unit) -> bool:
    if a == b:
        return True
    loose = {frozenset({"%", "pp"}), frozenset({"count", ""}), frozenset({"tokens", ""}),
             frozenset({"tokens", "count"}), frozenset({"params", ""}),
             frozenset({"params", "count"}), frozenset({"bits", ""}), frozenset({"bits", "count"})}
    return frozenset({a, b}) in loose


def _metric_ok(item: Quantity, source: Quantity) -> bool:
    if not item.metrics or not source.metrics:
        return True
    # What each side says the number measures is the metric named nearest to it.
    if compatible(item.metrics[0], source.metrics[0]):
        return True
    if item.metric_source == "sentence":
        # The item names no metric next to the number ("12.48x efficiency improvement"): it
        # cannot have moved the value onto another metric.
        return True
    if source.metric_source == "sentence":
        # The abstract's clause names none ("… 2.6-4.0x on 4 GPUs"): the nearest metric of
        # its sentence is what the value is about.
        return False
    return False


def bound_settings(found: list[Quantity], i: int) -> list[Quantity]:
    """The settings written after result `i` in its sentence, up to the next result ("1.6-2.1x
    on 2 GPUs and 2.6-4.0x on 4 GPUs": 2 GPUs is the first range's)."""
    out = []
    for q in found[i + 1:]:
        if q.sentence != found[i].sentence or q.role == "result":
            break
        out.append(q)
    return out


def _setting_kind(q: Quantity) -> tuple[str, str]:
    noun = q.noun.lower().rstrip("s") if q.unit == "count" else ""
    return q.unit, noun


def _settings_agree(written: list[Quantity], stated: list[Quantity]) -> Quantity | None:
    """A setting written next to a result that the abstract states, next to that result, with
    another value (None when they agree or the abstract binds no such setting)."""
    for w in written:
        same = [x for x in stated if _setting_kind(x) == _setting_kind(w)]
        if same and not any(_value_match(w, x, []) for x in same):
            return same[0]
    return None


def ground(item: Quantity, abstract: str | list[Quantity], *,
           settings: list[Quantity] | None = None) -> Support:
    """Check one quantity written in a bulletin against its paper's abstract.

    `settings` are the settings the bulletin writes next to this result (bound_settings): when
    the abstract states the value with a setting of the same kind, they must agree."""
    source = quantities(abstract) if isinstance(abstract, str) else abstract
    value_hits: list[tuple[Quantity, str]] = []
    for s in source:
        if _same_unit(item.unit, s.unit):
            how = _value_match(item, s, [o for o in source if _same_unit(item.unit, o.unit)])
        elif {item.unit, s.unit} <= {"%", "x", "pp", ""}:
            how = _converted(item, s)
        else:
            how = ""
        if how:
            value_hits.append((s, how))
    if value_hits and (item.role == "setting" or
                       item.unit in ("count", "tokens", "params", "bits", "")):
        s, how = value_hits[0]
        return Support(item, "supported", s.sentence,
                       "setting" if item.role == "setting" else how, source=s)
    conflict: tuple[Quantity, Quantity] | None = None
    for s, how in value_hits:
        if not _metric_ok(item, s):
            continue
        if s.against_list and item.against and item.against.lower() != s.against.lower() and \
                item.against.lower() in {n.lower() for n in s.against_list}:
            # The abstract pairs this value with another baseline of its list.
            return Support(item, "wrong-setting", s.sentence, "", (
                f"the abstract gives {s.text!r} over {s.against}, not over {item.against}"),
                source=s)
        other = _settings_agree(settings or [], bound_settings(source, source.index(s)))
        if other is None:
            return Support(item, "supported", s.sentence, how, source=s)
        conflict = conflict or (s, other)
    if conflict:
        s, other = conflict
        written = next(w for w in settings or [] if _setting_kind(w) == _setting_kind(other))
        def said(q: Quantity) -> str:
            return f"{q.text} {q.noun}" if q.unit == "count" and q.noun else q.text

        return Support(item, "wrong-setting", s.sentence, "", (
            f"the abstract gives {s.text!r} for {said(other)!r}, not for {said(written)!r}"),
            source=s)
    if value_hits:
        s, _ = value_hits[0]
        return Support(item, "wrong-metric", s.sentence, "", (
            f"{item.text!r} is said of {item.metrics[0]}, but the abstract gives that value for "
            f"{s.metrics[0] if s.metrics else 'something else'}"), source=s)
    # The same value under another unit kind (4.56% where the abstract says 4.56x).
    for s in source:
        if any(_close(item.value, item.decimals, v, item.qualifier) for v in (s.low, s.high)) \
                and not _same_unit(item.unit, s.unit) and item.unit and s.unit:
            return Support(item, "wrong-unit", s.sentence, "", (
                f"{item.text!r} is in {item.unit}, but the abstract's {s.text!r} is in "
                f"{s.unit}"), source=s)
    # The same metric with another value: the closest such sentence is the evidence.
    same_metric = [s for s in source if _same_unit(item.unit, s.unit) and item.metrics
                   and s.metrics and compatible(item.metrics[0], s.metrics[0])]
    if same_metric:
        return Support(item, "wrong-value", same_metric[0].sentence, "", (
            f"{item.text!r} is not the value the abstract gives for {item.metrics[0]} "
            f"({same_metric[0].text!r})"), source=same_metric[0])
    return Support(item, "absent", "", "", f"{item.text!r} is not in the abstract")


def ground_text(text: str, abstract: str) -> list[Support]:
    """Check every quantity written in `text` (an item) against the abstract."""
    source = quantities(abstract)
    written = quantities(text)
    return [ground(q, source, settings=bound_settings(written, i) if q.role == "result" else None)
            for i, q in enumerate(written)]


# ---------------------------------------------------------------------------------------------
# claims of an abstract


@dataclass
class Claim:
    """An abstract sentence that states measured results, with those results."""

    sentence: str
    results: list[Quantity]
    settings: list[Quantity]


def result_claims(abstract: str) -> list[Claim]:
    """The abstract's sentences that state a result with a number, in order."""
    by_sentence: dict[str, Claim] = {}
    for q in quantities(abstract):
        claim = by_sentence.setdefault(q.sentence, Claim(q.sentence, [], []))
        (claim.results if q.role == "result" and q.unit not in ("", "count") else
         claim.settings).append(q)
    return [c for c in by_sentence.values() if c.results]
