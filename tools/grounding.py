"""Deterministic checks of a bulletin against its sources; each problem is a Finding.

Usable on any bulletin in the house style (flashnews' own drafts, an editor's edit, a bulletin
written elsewhere): numbers must appear in the linked paper's abstract, links must point to papers
of the edition and carry names that match their titles, scores must equal the assessments, and no
assistant chatter, error text or meta-text may remain. Nothing is removed: problems are reported.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flashnews.models import Assessment, Finding, Format, Paper, split_arxiv_id

TITLE = "Inference Ecosystem — Flash News"
LINK_RE = re.compile(r"\[([^\]]+)\]\((https?://arxiv\.org/(?:abs|pdf|html)/[^)\s]+)\)")
BARE_LINK_RE = re.compile(r"https?://arxiv\.org/(?:abs|pdf|html)/[^)\s>\]]+")
SCORE_RE = re.compile(r"Score:\s*(\d{1,3})\s*\|\s*Hype:\s*(\d{1,3})")
NUMBER_RE = re.compile(r"(?<![A-Za-z0-9_.\-])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|(?<=-)\d+(?:\.\d+)?")
DATE_RE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "twice": 2, "half": 0.5, "single": 1}
CHATTER = [re.compile(p, re.IGNORECASE) for p in (
    r"\bhere(?:'s| is| are) (?:the|your|a|my|today)\b",
    r"\bI(?:'ve| have)? (?:drafted|written|prepared|created|generated|put together)\b",
    r"\bwould you like\b", r"\bdo you want\b", r"\blet me know\b", r"\bfeel free\b",
    r"\bI hope (?:this|that|you)\b", r"\bas an (?:ai|assistant|language model)\b",
    r"\bpermission (?:was )?denied\b", r"\bwrite permission\b", r"\btry again\b",
    r"\btraceback \(most recent call last\)", r"^\s*(?:error|exception)\s*:",
    r"^\s*(?:sure|certainly|of course)[,!.]", r"\bhappy to help\b", r"\bI(?:'m| am) sorry\b",
    r"\bI (?:cannot|can't|couldn't|could not|was unable)\b", r"\bbelow is (?:the|a|your)\b",
    r"\b(?:this|the) (?:draft|bulletin) (?:above|below)\b",
)]
# Scripts a small multilingual model drifts into mid-sentence (CJK, kana, Hangul, Cyrillic).
FOREIGN_RE = re.compile(r"[\u0400-\u04ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
FIRST_PERSON_RE = re.compile(r"\b(?:we|our|us)\b", re.IGNORECASE)
SECTIONS: dict[str, list[str]] = {
    "flash": [],
    "digest": ["Highlights", "Also Noteworthy", "Cross-Cutting Themes"],
}
ITEM_BOUNDS = {"flash": (4, 6), "digest": (3, 8)}
WORD_LIMIT = {"flash": 900, "digest": 2600}
_STOP = {"the", "a", "an", "of", "for", "and", "in", "on", "to", "with", "via", "by", "paper",
         "framework", "arxiv", "abs", "pdf", "link", "work", "study", "new", "approach"}


@dataclass
class Block:
    """A paragraph, list item, or a `###` section with its paragraphs; `section` is its `##`."""

    text: str
    section: str
    line: int


@dataclass
class Segment:
    """The part of a block that talks about one linked paper."""

    paper_id: str
    link_text: str
    url: str
    text: str
    section: str
    line: int
    extra_links: list[str] = field(default_factory=list)


def numbers_in(text: str) -> list[tuple[str, float]]:
    """Numbers written in a text, as (as written, value)."""
    return [(m.group(0), float(m.group(0).replace(",", ""))) for m in NUMBER_RE.finditer(text)]


def abstract_numbers(abstract: str) -> set[float]:
    values = {v for _, v in numbers_in(abstract)}
    for word, value in WORD_NUMBERS.items():
        if re.search(rf"\b{word}\b", abstract, re.IGNORECASE):
            values.add(float(value))
    return values


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def name_matches(name: str, title: str) -> bool:
    """Whether a link text plausibly names the paper with this title."""
    words = [t for t in _tokens(name) if len(t) >= 2 and t not in _STOP]
    if not words:
        return True
    title_tokens = set(_tokens(title))
    initials = "".join(t[0] for t in _tokens(title) if t not in _STOP)
    found = sum(1 for w in words if w in title_tokens or (len(w) >= 2 and w in initials))
    return found * 2 >= len(words)


def blocks_of(markdown: str) -> list[Block]:
    """Split a bulletin into blocks: paragraphs, list items, and `###` items with their text."""
    blocks: list[Block] = []
    section = ""
    buf: list[str] = []
    start = 0
    in_item = False

    def flush() -> None:
        nonlocal buf, in_item
        if buf:
            blocks.append(Block("\n".join(buf).strip(), section, start))
        buf, in_item = [], False

    for number, line in enumerate(markdown.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("## ") or stripped.startswith("# ") or stripped == "---":
            flush()
            if stripped.startswith("## "):
                section = stripped[3:].strip()
            continue
        if stripped.startswith("### "):
            flush()
            buf, start, in_item = [stripped[4:]], number, True
            continue
        if not stripped:
            if not in_item:
                flush()
            continue
        if stripped.startswith(("- ", "* ")) and not in_item:
            flush()
        if not buf:
            start = number
        buf.append(stripped)
    flush()
    return blocks


def segments_of(block: Block) -> list[Segment]:
    """Cut a block at each arXiv link: the text up to the next link is about that paper."""
    links = list(LINK_RE.finditer(block.text))
    segments: list[Segment] = []
    for i, m in enumerate(links):
        begin = 0 if i == 0 else m.start()
        end = links[i + 1].start() if i + 1 < len(links) else len(block.text)
        try:
            pid, _ = split_arxiv_id(m.group(2).rsplit("/", 1)[-1])
        except ValueError:
            pid = m.group(2)
        segments.append(Segment(pid, m.group(1), m.group(2), block.text[begin:end],
                                block.section, block.line))
    # Two links to the same paper next to each other (a name and an "arxiv" link) are one item.
    merged: list[Segment] = []
    for seg in segments:
        if merged and merged[-1].paper_id == seg.paper_id and \
                SCORE_RE.search(merged[-1].text) is None:
            merged[-1].text += seg.text
            merged[-1].extra_links.append(seg.link_text)
        else:
            merged.append(seg)
    return merged


def prose_of(text: str) -> str:
    """A segment's own words: links reduced to nothing, scores and markup removed."""
    text = LINK_RE.sub(" ", text)
    text = BARE_LINK_RE.sub(" ", text)
    text = SCORE_RE.sub(" ", text)
    return text.replace("*", "").replace("`", "")


def check_bulletin(markdown: str, *, papers: dict[str, Paper],
                   assessments: dict[str, Assessment] | None = None, fmt: Format | None = None,
                   date: dt.date | None = None, selected: set[str] | None = None) -> list[Finding]:
    """Run every deterministic check; return the findings (empty when the bulletin is clean)."""
    findings: list[Finding] = []
    add = findings.append
    lines = markdown.splitlines()
    nonblank = [ln.strip() for ln in lines if ln.strip()]

    if not nonblank:
        return [Finding(check="empty", severity="blocking", message="the bulletin is empty")]
    if not nonblank[0].startswith("# ") or TITLE not in nonblank[0]:
        add(Finding(check="title", severity="blocking", evidence=nonblank[0][:120],
                    message=f"the first line must be the title '# {TITLE}'"))
    head_dates = [d for ln in nonblank[:4] for d in DATE_RE.findall(ln)]
    if not head_dates:
        add(Finding(check="date", severity="blocking", message="no date line under the title"))
    elif date is not None and head_dates[0] != date.isoformat():
        add(Finding(check="date", severity="blocking", evidence=head_dates[0],
                    message=f"date line says {head_dates[0]}, the edition is {date.isoformat()}"))

    for number, line in enumerate(lines, start=1):
        for pattern in CHATTER:
            m = pattern.search(line)
            if m:
                add(Finding(check="chatter", severity="blocking", evidence=line.strip()[:200],
                            message=f"assistant chatter or error text on line {number}: "
                                    f"{m.group(0)!r}"))
                break

    sources = " ".join(f"{p.title} {p.abstract}" for p in papers.values())
    for number, line in enumerate(lines, start=1):
        foreign = [m.group(0) for m in FOREIGN_RE.finditer(line) if m.group(0) not in sources]
        if foreign:
            add(Finding(check="language", severity="blocking", evidence=foreign[0],
                        message=f"line {number} switches language ({foreign[0]!r}); the "
                                "bulletin is English"))

    if fmt:
        present = {ln[3:].strip().lower() for ln in nonblank if ln.startswith("## ")}
        for name in SECTIONS[fmt]:
            if name.lower() not in present:
                add(Finding(check="section", severity="blocking",
                            message=f"missing section '## {name}' of the {fmt} format"))

    seen: set[str] = set()
    items = 0
    for block in blocks_of(markdown):
        theme = "theme" in block.section.lower()
        if theme:
            findings.extend(_check_theme(block, papers))
            continue
        for seg in segments_of(block):
            items += 1
            findings.extend(_check_segment(seg, papers, assessments, selected, seen))
            seen.add(seg.paper_id)

    if items == 0:
        add(Finding(check="length", severity="blocking", message="the bulletin has no items"))
    elif fmt:
        low, high = ITEM_BOUNDS[fmt]
        main = _main_items(markdown, fmt)
        if main and not low <= main <= high:
            add(Finding(check="length", severity="warning",
                        message=f"{main} main items; the {fmt} format has {low}-{high}"))
    if fmt and len(markdown.split()) > WORD_LIMIT[fmt]:
        add(Finding(check="length", severity="warning",
                    message=f"{len(markdown.split())} words; the {fmt} format stays under "
                            f"{WORD_LIMIT[fmt]}"))
    return findings


def _main_items(markdown: str, fmt: Format) -> int:
    count = 0
    for block in blocks_of(markdown):
        section = block.section.lower()
        if fmt == "digest":
            if section == "highlights":
                count += len(segments_of(block))
        elif not block.text.lower().startswith(("also notable", "- ", "* ")) \
                and "also" not in section:
            count += len(segments_of(block))
    return count


def _check_segment(seg: Segment, papers: dict[str, Paper],
                   assessments: dict[str, Assessment] | None, selected: set[str] | None,
                   seen: set[str]) -> list[Finding]:
    out: list[Finding] = []
    pid = seg.paper_id
    paper = papers.get(pid)
    if paper is None:
        return [Finding(check="link", severity="blocking", item=pid, evidence=seg.url,
                        message=f"link {seg.url} is not a paper of this edition")]
    if not seg.url.startswith("https://arxiv.org/abs/"):
        out.append(Finding(check="link", severity="warning", item=pid, evidence=seg.url,
                           message="links should be https://arxiv.org/abs/<id>"))
    if selected is not None and pid not in selected:
        out.append(Finding(check="link", severity="blocking", item=pid, evidence=seg.url,
                           message=f"{pid} is linked but was not selected for this edition"))
    if pid in seen:
        out.append(Finding(check="duplicate", severity="warning", item=pid,
                           message=f"{pid} appears in more than one item"))
    for name in [seg.link_text, *seg.extra_links]:
        if not name_matches(name, paper.title):
            out.append(Finding(check="name", severity="blocking", item=pid, evidence=name,
                               message=f"link text {name!r} does not name the linked paper "
                                       f"{pid} ({paper.title[:80]})"))
    known = abstract_numbers(paper.abstract + " " + paper.title)
    voice = FIRST_PERSON_RE.search(prose_of(seg.text))
    if voice:
        out.append(Finding(check="voice", severity="warning", item=pid, evidence=voice.group(0),
                           message=f"the item on {pid} speaks as the authors ({voice.group(0)!r});"
                                   " the house voice is third person"))
    for written, value in numbers_in(prose_of(seg.text)):
        if value not in known:
            out.append(Finding(check="number", severity="blocking", item=pid, evidence=written,
                               message=f"{written!r} in the item on {pid} is not in its "
                                       "abstract"))
    scores = SCORE_RE.findall(seg.text)
    if not scores:
        out.append(Finding(check="score", severity="blocking", item=pid,
                           message=f"item on {pid} has no 'Score: NN | Hype: NN'"))
    elif assessments is not None:
        a = assessments.get(pid)
        score, hype = int(scores[0][0]), int(scores[0][1])
        if a is None:
            out.append(Finding(check="score", severity="blocking", item=pid,
                               message=f"{pid} has no assessment to back its score"))
        elif (score, hype) != (a.score, a.hype):
            out.append(Finding(check="score", severity="blocking", item=pid,
                               evidence=f"Score: {score} | Hype: {hype}",
                               message=f"item says Score {score} / Hype {hype}, the assessment "
                                       f"says {a.score} / {a.hype}"))
    return out


def _check_theme(block: Block, papers: dict[str, Paper]) -> list[Finding]:
    cited = {s.paper_id for s in segments_of(block)}
    lowered = block.text.lower()
    for pid, p in papers.items():
        if p.short_name.lower() in lowered and len(p.short_name) >= 3:
            cited.add(pid)
    out: list[Finding] = []
    first = block.text.splitlines()[0][:80]
    if len(cited) < 2:
        out.append(Finding(check="theme", severity="blocking", evidence=first,
                           message=f"theme cites {len(cited)} paper(s) of the edition; "
                                   "a theme needs at least two"))
    known: set[float] = set()
    for pid in cited & papers.keys():
        known |= abstract_numbers(papers[pid].abstract + " " + papers[pid].title)
    for written, value in numbers_in(prose_of(block.text)):
        if value not in known:
            out.append(Finding(check="number", severity="blocking", evidence=written,
                               message=f"{written!r} in theme '{first}' is in no cited abstract"))
    return out


def linked_papers(markdown: str) -> list[str]:
    """arXiv ids of the papers a bulletin links to, in order of first appearance."""
    out: list[str] = []
    for m in LINK_RE.finditer(markdown):
        try:
            out.append(split_arxiv_id(m.group(2).rsplit("/", 1)[-1])[0])
        except ValueError:
            continue
    return list(dict.fromkeys(out))


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "blocking"]
