"""Perturbations of real bulletins, built by code at eval time: the critic's unseen test.

The house bulletins (`$FLASHNEWS_EVAL_DATA/reference/*.md`) are read at run time and never copied into the
project: a dataset stores only recipes (which bulletin, which operation, which item, a seed), and
`apply` builds the perturbed text from the bulletin and its papers each time. Every operation is
generic (it reads the bulletin with the same parser as the critic and picks what to change by
seed), so the same recipes work on any bulletin in the house style.

Kinds (what the critic must then report as blocking):
- number-swap: a number of an item replaced by another result number of the same abstract;
- unit-swap: a number's unit changed (x <-> %, tokens/s -> ms, GB -> ms …);
- metric-swap: the metric named next to a number changed (throughput -> latency …);
- name-swap: an item's name replaced by another item's name;
- link-swap: an item's arXiv link pointed at another item's paper;
- chatter: assistant chatter added (typographic or plain apostrophes);
- reasoning: a reasoning block left in (`<think>…</think>` and the like);
- lead-number: a number no paper states put in the lead;
- fake-id: a made-up arXiv id cited in the text.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flashnews.models import Format, Paper
from flashnews.text import claims
from flashnews.text.grounding import (
    Segment,
    _names,
    blocks_of,
    ground_anywhere,
    ground_numbers,
    prose_of,
    segments_of,
)
from flashnews.text.names import names_of

KINDS = ("number-swap", "unit-swap", "metric-swap", "name-swap", "link-swap", "chatter",
         "reasoning", "lead-number", "fake-id")
EXPECT: dict[str, set[str]] = {
    "number-swap": {"number"}, "unit-swap": {"number"}, "metric-swap": {"number"},
    "lead-number": {"number"}, "name-swap": {"name"}, "link-swap": {"name", "number", "link"},
    "chatter": {"chatter"}, "reasoning": {"chatter"}, "fake-id": {"link"},
}
"""The checks whose new blocking finding counts as catching each kind."""
ITEM_KINDS = {"number-swap", "unit-swap", "metric-swap", "name-swap", "link-swap"}


@dataclass(frozen=True)
class Reference:
    """A house bulletin as read from $FLASHNEWS_EVAL_DATA/reference."""

    name: str
    fmt: Format
    markdown: str


def _constant(text: str) -> Callable[[re.Match[str]], str]:
    """A re.sub replacement that is `text` itself (no backslash escapes read in it)."""
    return lambda _m: text


def references(shared: Path) -> list[Reference]:
    """The house bulletins beside the repo, named by what follows their date ("flash",
    "digest-a" …); the format is the digest when it has `##` sections."""
    out = []
    for path in sorted((shared / "reference").glob("bulletin-*.md")):
        name = re.sub(r"^bulletin-\d{4}-\d{2}-\d{2}-", "", path.stem)
        text = path.read_text(encoding="utf-8")
        fmt: Format = "digest" if re.search(r"^## ", text, re.M) else "flash"
        out.append(Reference(name, fmt, text))
    return out


@dataclass
class Item:
    """An item of a bulletin and where it is in the Markdown."""

    index: int
    segment: Segment
    start: int
    end: int

    @property
    def paper_id(self) -> str:
        return self.segment.paper_id


def items_of(markdown: str) -> list[Item]:
    """Every item (one linked paper) with its span in the Markdown."""
    offsets = [0]
    for line in markdown.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    out: list[Item] = []
    for block in blocks_of(markdown):
        if block.kind != "item":
            continue
        lo, hi = offsets[block.line - 1], offsets[min(block.end, len(offsets) - 1)]
        segs = segments_of(block)
        starts = []
        cursor = lo
        for k, seg in enumerate(segs):
            at = markdown.find(seg.url, cursor, hi)
            if at < 0:
                at = cursor
            link = markdown.rfind("[", lo, at) if not seg.bare else at
            starts.append(lo if k == 0 else max(link, cursor))
            cursor = at + len(seg.url)
        for k, seg in enumerate(segs):
            end = starts[k + 1] if k + 1 < len(segs) else hi
            out.append(Item(len(out), seg, starts[k], end))
    return out


@dataclass
class Perturbed:
    """One perturbed bulletin: its text, the item it changed (if any), and what changed."""

    markdown: str
    item: str | None
    detail: str


class NotApplicable(ValueError):
    """The recipe has nothing to change in this bulletin (e.g. an item without numbers)."""


def _replace_in(md: str, item: Item, old: str, new: str) -> str:
    at = md.find(old, item.start, item.end)
    if at < 0:
        raise NotApplicable(f"{old!r} not in item {item.index}")
    return md[:at] + new + md[at + len(old):]


def _numeric(text: str) -> tuple[str, str, str]:
    """A quantity as written, cut into (prefix, number or range, unit suffix)."""
    m = re.search(r"\d[\d.,]*(?:\s*(?:-|–|—|to)\s*\d[\d.,]*)?[KkMB]?", text)
    if not m:
        raise NotApplicable(f"no number in {text!r}")
    return text[:m.start()], m.group(0), text[m.end():]


def _supported_results(item: Item, paper: Paper) -> list[claims.Support]:
    prose = prose_of(item.segment.text)
    return [s for s in claims.ground_text(prose, f"{paper.title}. {paper.abstract}")
            if s.ok and s.quantity.role == "result" and s.via not in ("setting", "name")]


def eligible(kind: str, item: Item, paper: Paper) -> bool:
    """Whether an item has anything for a kind of perturbation to change."""
    if kind in ("name-swap", "link-swap"):
        return True
    try:
        return bool(_candidates(kind, item, paper))
    except NotApplicable:
        return False


def _candidates(kind: str, item: Item, paper: Paper) -> list[claims.Support]:
    found = _supported_results(item, paper)
    if kind == "unit-swap":
        return [s for s in found if s.quantity.unit in _UNIT_SWAP]
    if kind == "metric-swap":
        return [s for s in found if s.quantity.metric_source == "clause"
                and s.quantity.metrics and s.quantity.metrics[0] in _METRIC_WORDS]
    if kind == "number-swap":
        others = _other_results(paper, found)
        return [s for s in found if others.get(id(s))]
    return found


def _other_results(paper: Paper, found: list[claims.Support]) -> dict[int, list[claims.Quantity]]:
    source = [q for q in claims.quantities(f"{paper.title}. {paper.abstract}")
              if q.role == "result"]
    out = {}
    for s in found:
        q = s.quantity
        out[id(s)] = [o for o in source if not any(
            claims._close(v, q.decimals, w, "about") for v in (q.low, q.high)
            for w in (o.low, o.high))]
    return out


_UNIT_SWAP = {"x": "%", "%": "x", "rate": " ms", "time": " GB", "bytes": " ms",
              "energy": " ms", "power": " ms", "usd": "%"}
_METRIC_WORDS = {"throughput": "throughput", "latency": "latency", "ttft": "TTFT",
                 "memory": "memory", "energy": "energy", "accuracy": "accuracy",
                 "cost": "cost", "speed": "speedup", "tokens": "tokens",
                 "balance": "imbalance", "communication": "communication"}


def _swap_number(md: str, item: Item, paper: Paper, rng: random.Random,
                 seed: int) -> Perturbed:
    found = _candidates("number-swap", item, paper)
    if not found:
        raise NotApplicable("no number with another number in its abstract")
    s = found[seed % len(found)]
    q = s.quantity
    others = _other_results(paper, [s])[id(s)]
    same = [o for o in others if o.unit == q.unit]
    other = rng.choice(same or others)
    pre, _, suffix = _numeric(q.text)
    _, value, _ = _numeric(other.text)
    new = f"{pre}{value}{suffix}" if same else other.text
    return Perturbed(_replace_in(md, item, q.text, new), item.paper_id, f"{q.text} -> {new}")


def _swap_unit(md: str, item: Item, paper: Paper, seed: int) -> Perturbed:
    found = _candidates("unit-swap", item, paper)
    if not found:
        raise NotApplicable("no number with a unit to change")
    q = found[seed % len(found)].quantity
    pre, value, _ = _numeric(q.text)
    new = f"{pre}{value}{_UNIT_SWAP[q.unit]}"
    return Perturbed(_replace_in(md, item, q.text, new), item.paper_id, f"{q.text} -> {new}")


def _swap_metric(md: str, item: Item, paper: Paper, rng: random.Random,
                 seed: int) -> Perturbed:
    found = _candidates("metric-swap", item, paper)
    found = found[seed % len(found):] + found[:seed % len(found)] if found else []
    for s in found:
        q = s.quantity
        at = md.find(q.text, item.start, item.end)
        if at < 0:
            continue
        # The metric's word nearest to the number, in the same line.
        line_lo = md.rfind("\n", 0, at) + 1
        line_hi = md.find("\n", at) if md.find("\n", at) >= 0 else len(md)
        rx = claims._METRIC_RE[q.metrics[0]]
        words = sorted(rx.finditer(md, line_lo, line_hi), key=lambda m: abs(m.start() - at))
        if not words:
            continue
        word = words[0]
        stated = s.source.metrics[0] if s.source and s.source.metrics else q.metrics[0]
        targets = [f for f in _METRIC_WORDS if not claims.compatible(f, q.metrics[0])
                   and not claims.compatible(f, stated)]
        rng.shuffle(targets)
        for target in targets:
            new_md = md[:word.start()] + _METRIC_WORDS[target] + md[word.end():]
            # Keep it only when the number now reads as that metric (checked by the parser).
            again = [x for x in claims.quantities(prose_of(new_md[line_lo:line_hi +
                                                                   len(new_md) - len(md)]))
                     if x.text == q.text]
            if again and again[0].metrics and again[0].metrics[0] == target:
                return Perturbed(new_md, item.paper_id,
                                 f"{word.group(0)} -> {_METRIC_WORDS[target]} ({q.text})")
    raise NotApplicable("no metric named next to a number")


def _primary_name(item: Item) -> str:
    primary, _ = _names(item.segment)
    if not primary:
        raise NotApplicable("the item gives no name")
    return primary[0]


def _swap_name(md: str, item: Item, items: list[Item], papers: dict[str, Paper],
               rng: random.Random) -> Perturbed:
    mine = _primary_name(item)
    others = []
    for other in items:
        if other.paper_id == item.paper_id:
            continue
        try:
            others.append((other, _primary_name(other)))
        except NotApplicable:
            continue
    if not others:
        raise NotApplicable("no other item's name to use")
    other, name = rng.choice(others)
    span = md[item.start:item.end]
    short = next(iter(names_of(papers[other.paper_id])), name) if other.paper_id in papers \
        else name
    # The name as the item writes it, and the paper's own names in its text.
    olds = [mine, *(names_of(papers[item.paper_id]) if item.paper_id in papers else ())]
    for old in sorted(dict.fromkeys(olds), key=len, reverse=True):
        new = name if old == mine else short
        span = re.sub(r"(?<![\w-])" + re.escape(old) + r"(?![\w-])", _constant(new), span)
    if span == md[item.start:item.end]:
        raise NotApplicable("the name is not written in the item")
    return Perturbed(md[:item.start] + span + md[item.end:], item.paper_id,
                     f"the name of {item.paper_id} -> the name of {other.paper_id}")


def _swap_link(md: str, item: Item, items: list[Item], rng: random.Random) -> Perturbed:
    others = [o.paper_id for o in items if o.paper_id != item.paper_id]
    if not others:
        raise NotApplicable("no other item")
    new_id = rng.choice(sorted(set(others)))
    url = item.segment.url
    new_url = re.sub(r"\d{4}\.\d{4,5}(?:v\d+)?", new_id, url)
    return Perturbed(_replace_in(md, item, url, new_url), item.paper_id,
                     f"{item.paper_id} -> {new_id}")


# Chatter and reasoning, assembled from parts so that no two cases are the same sentence.
_OPENERS = ["Here’s", "Here is", "Sure! Here’s", "Okay — here’s", "Certainly! Here is",
            "Below is"]
_OBJECTS = ["today’s bulletin", "the flash news edition", "your digest", "the draft you asked for",
            "a short summary of today’s papers", "the revised version"]
_CLOSERS = ["", " I’ve kept each item short.", " Let me know if you’d like any changes!",
            " Hope this helps!", " Would you like me to add more papers?",
            " I can make it longer if needed."]
_ALONE = ["Is there anything else I can help with?", "Let me know what you think!",
          "Hope this helps!", "Best regards,", "Cheers!", "[Insert closing remark here]",
          "I’m happy to revise any item.", "Feel free to ask for a longer version.",
          "I’ve left out the weaker papers.", "Thanks for reading!"]
_THOUGHTS = ["The user wants a bulletin, so I should pick the top papers first.",
             "Five items fit the word budget; the lead needs no numbers.",
             "Okay, let me count the items: five main ones and two also-notable.",
             "I need to keep the scores exactly as given."]
_TAGS = [("<think>", "</think>"), ("<reasoning>", "</reasoning>"), ("<thinking>", "</thinking>"),
         ("<scratchpad>", "</scratchpad>"), ("Thinking: ", ""), ("Let me think. ", "")]


def _plainish(text: str, rng: random.Random) -> str:
    return text.replace("’", "'") if rng.random() < 0.5 else text


def _insert(md: str, text: str, rng: random.Random) -> tuple[str, str]:
    """Put a paragraph at the top (under the date), between two items, or at the end."""
    lines = md.splitlines()
    where = rng.choice(["top", "middle", "bottom"])
    if where == "top":
        at = next((i + 1 for i, ln in enumerate(lines[:5]) if re.search(r"\d{4}-\d{2}-\d{2}",
                                                                          ln)), 1)
    elif where == "middle":
        blanks = [i for i, ln in enumerate(lines) if not ln.strip() and i > 3]
        at = rng.choice(blanks) if blanks else len(lines)
    else:
        at = len(lines)
    out = [*lines[:at], "", text, "", *lines[at:]]
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n", where


def _chatter(md: str, rng: random.Random) -> Perturbed:
    if rng.random() < 0.5:
        text = f"{rng.choice(_OPENERS)} {rng.choice(_OBJECTS)}:{rng.choice(_CLOSERS)}"
    else:
        text = rng.choice(_ALONE)
    text = _plainish(text, rng)
    new, where = _insert(md, text, rng)
    return Perturbed(new, None, f"{where}: {text}")


def _reasoning(md: str, rng: random.Random) -> Perturbed:
    open_, close = rng.choice(_TAGS)
    thought = _plainish(rng.choice(_THOUGHTS), rng)
    text = (f"{open_}\n{thought}\n{close}" if open_.startswith("<") and rng.random() < 0.5
            else f"{open_}{thought}{close}")
    new, where = _insert(md, text, rng)
    return Perturbed(new, None, f"{where}: {text!r}")


_LEAD_CLAUSES = [" — up to {x}x faster serving across the board", ", with {p}% lower latency",
                 " and {x}x higher throughput overall", ", cutting memory by {p}%",
                 " — {x}x less energy per token"]


def _lead_number(md: str, papers: list[Paper], rng: random.Random) -> Perturbed:
    for _ in range(20):
        clause = rng.choice(_LEAD_CLAUSES).format(x=round(rng.uniform(1.5, 30.0), 1),
                                                  p=rng.randint(11, 89))
        if all(not e.ok for e in ground_anywhere(clause.strip(" ,—"), papers)):
            break
    blocks = blocks_of(md)
    first_item = next((b.line for b in blocks if b.kind == "item"), None)
    lead = next((b for b in blocks if b.kind == "text" and
                 (first_item is None or b.line < first_item)), None)
    lines = md.splitlines()
    if lead is None:
        # A bulletin without a lead gets one, with the number.
        date = next((b.line for b in blocks if b.kind == "date"), 1)
        text = f"A busy day for inference systems{clause}."
        out = [*lines[:date], "", text, *lines[date:]]
        return Perturbed("\n".join(out) + "\n", None, f"new lead: {text}")
    i = lead.end - 1
    line = lines[i].rstrip()
    m = re.search(r"[.!?]\**$", line)
    lines[i] = (line[:m.start()] + clause + line[m.start():]) if m else line + clause + "."
    return Perturbed("\n".join(lines) + "\n", None, f"lead: …{clause}")


def _fake_id(md: str, papers: dict[str, Paper], rng: random.Random) -> Perturbed:
    known = set(papers)
    while True:
        pid = f"{rng.choice(['2602', '2601', '2512'])}.{rng.randint(10000, 99999)}"
        if pid not in known:
            break
    form = rng.choice([f"(see also arXiv:{pid})", f"(related: https://arxiv.org/abs/{pid})",
                       f"— a follow-up is {pid}"])
    lines = md.splitlines()
    prose = [i for i, ln in enumerate(lines) if len(ln.split()) > 8 and not ln.startswith("#")]
    if not prose:
        raise NotApplicable("no paragraph to cite from")
    i = rng.choice(prose)
    lines[i] = lines[i].rstrip() + " " + form
    return Perturbed("\n".join(lines) + "\n", None, f"line {i + 1}: {form}")


def apply(kind: str, markdown: str, papers: dict[str, Paper], *, item: int = -1,
          seed: int = 0) -> Perturbed:
    """Build one perturbation of a bulletin (NotApplicable when there is nothing to change)."""
    rng = random.Random(f"{kind}:{item}:{seed}")
    items = items_of(markdown)
    if kind in ITEM_KINDS:
        if not 0 <= item < len(items):
            raise NotApplicable(f"no item {item}")
        it = items[item]
        paper = papers.get(it.paper_id)
        if paper is None:
            raise NotApplicable(f"item {item} links to {it.paper_id}, not a known paper")
        if kind == "number-swap":
            return _swap_number(markdown, it, paper, rng, seed)
        if kind == "unit-swap":
            return _swap_unit(markdown, it, paper, seed)
        if kind == "metric-swap":
            return _swap_metric(markdown, it, paper, rng, seed)
        if kind == "name-swap":
            return _swap_name(markdown, it, items, papers, rng)
        return _swap_link(markdown, it, items, rng)
    linked = [papers[i.paper_id] for i in items if i.paper_id in papers]
    if kind == "chatter":
        return _chatter(markdown, rng)
    if kind == "reasoning":
        return _reasoning(markdown, rng)
    if kind == "lead-number":
        return _lead_number(markdown, linked, rng)
    if kind == "fake-id":
        return _fake_id(markdown, papers, rng)
    raise ValueError(f"unknown perturbation kind {kind!r}")


def recipes(refs: list[Reference], papers: dict[str, Paper], *, seeds: int = 4,
            per_item: int = 2) -> list[tuple[str, str, int, int]]:
    """Every (bulletin, kind, item, seed) that applies: each item once per item kind (number,
    unit and metric swaps twice when the item has two numbers to change), and `seeds` cases of
    each whole-bulletin kind per bulletin."""
    out = []
    for ref in refs:
        items = items_of(ref.markdown)
        for kind in KINDS:
            if kind in ITEM_KINDS:
                for it in items:
                    paper = papers.get(it.paper_id)
                    if paper is None or not eligible(kind, it, paper):
                        continue
                    n = 1 if kind in ("name-swap", "link-swap") else min(
                        per_item, len(_candidates(kind, it, paper)))
                    for seed in range(n):
                        try:
                            apply(kind, ref.markdown, papers, item=it.index, seed=seed)
                        except NotApplicable:
                            continue
                        out.append((ref.name, kind, it.index, seed))
            else:
                out += [(ref.name, kind, -1, seed) for seed in range(seeds)]
    return out


# ---------------------------------------------------------------------------------------------
# claims for the critic model: real bulletin sentences, and the same sentences made wrong


_SCOPES = [", for every model, workload and hardware target",
           ", which makes existing serving systems obsolete",
           ", with no tuning needed on any hardware",
           ", a result already proven in production at every scale",
           ", solving the problem for good",
           " — and it works for any model size without exception"]


@dataclass(frozen=True)
class ClaimCase:
    """A sentence about a paper, and whether the paper's abstract supports it."""

    case_id: str
    bulletin: str
    source_id: str
    """The paper of the item the sentence comes from."""
    paper_id: str
    """The paper it is asked about."""
    claim: str
    supported: bool
    kind: str
    """"original" (a house bulletin's sentence, on its own paper), "other-paper" (the same
    sentence asked of another item's paper, names changed) or "overstated" (the sentence with
    a sweeping claim added)."""


def _similar(pid: str, pool: list[str], papers: dict[str, Paper]) -> str | None:
    from flashnews.text.grounding import content_words

    def words(p: str) -> set[str]:
        return set(content_words(f"{papers[p].title} {papers[p].abstract}"))

    mine = words(pid)
    others = [p for p in pool if p != pid and p in papers]
    return max(others, key=lambda p: (len(mine & words(p)), p), default=None)


def _rename(text: str, old: Paper, new: Paper) -> str:
    new_name = next(iter(names_of(new)), new.title)
    for name in sorted(names_of(old), key=len, reverse=True):
        text = re.sub(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", new_name, text)
    return text


def body_of(item: Item) -> str:
    """An item's own sentences: without its heading, its bold headline, its name-and-score
    line."""
    text = item.segment.text
    if item.segment.heading and text.startswith(item.segment.heading):
        text = text[len(item.segment.heading):]
    text = re.sub(r"^\s*\*\*[^*]+[.!?]\*\*\s*", "", text)  # a flash headline
    lines = []
    for line in text.splitlines():
        # A line that is the item's name and score, nothing more, is no sentence of it.
        rest = prose_of(re.sub(r"\[[^\]]*\]\([^)]*\)", " ", line))
        if len(re.findall(r"[A-Za-z]{3,}", rest)) > 3:
            lines.append(prose_of(line))
    return " ".join(" ".join(lines).split())


def _specific(claim: str, paper: Paper, other: Paper | None) -> float:
    """How much more of a claim's wording its own abstract has than another paper's."""
    from flashnews.text.grounding import content_words

    words = set(content_words(claim))
    if not words:
        return 0.0
    own = len(words & set(content_words(f"{paper.title} {paper.abstract}")))
    theirs = len(words & set(content_words(f"{other.title} {other.abstract}"))) if other else 0
    return (own - theirs) / len(words)


def claim_cases(refs: list[Reference], papers: dict[str, Paper], *,
                per_item: int = 1) -> list[ClaimCase]:
    """For every item of every house bulletin, its first claim sentence(s) on its own paper,
    on the most similar other paper of the bulletin, and with a sweeping claim added."""
    from flashnews.agents.critic import claim_sentences

    out: list[ClaimCase] = []
    for ref in refs:
        items = items_of(ref.markdown)
        pool = [i.paper_id for i in items]
        for it in items:
            paper = papers.get(it.paper_id)
            if paper is None:
                continue
            other = _similar(paper.arxiv_id, pool, papers)
            # Sentences without numbers first (the code checks numbers already), the most
            # specific to their paper first (so that on another paper they are wrong).
            # A sentence with a number its abstract does not state is no supported sentence.
            sound = [c for c in claim_sentences(body_of(it), 8)
                     if all(e.ok for e in ground_numbers(c, paper))]
            ranked = sorted(sound, key=lambda c: (
                bool(claims.quantities(c)), -_specific(c, paper, papers.get(other or ""))))
            for k, claim in enumerate(ranked[:per_item]):
                rng = random.Random(f"{ref.name}:{it.index}:{k}")
                base = f"{ref.name}-{it.index}-{k}"
                pid = paper.arxiv_id
                out.append(ClaimCase(f"{base}-original", ref.name, pid, pid, claim, True,
                                     "original"))
                if other:
                    out.append(ClaimCase(f"{base}-other-paper", ref.name, pid, other,
                                         _rename(claim, paper, papers[other]), False,
                                         "other-paper"))
                stem = claim.rstrip(" .!")
                out.append(ClaimCase(f"{base}-overstated", ref.name, pid, pid,
                                     stem + rng.choice(_SCOPES) + ".", False, "overstated"))
    return out
