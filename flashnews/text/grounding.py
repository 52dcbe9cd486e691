"""Deterministic checks of a bulletin against its sources; each problem is a Finding.

Usable on any bulletin in the house style (flashnews' own drafts, an editor's edit, a bulletin
written elsewhere). Every part is read: the lead, the items (headings, link texts, bold names),
the themes and any text outside items.
- Numbers are claims: each must be matched to an abstract sentence that states the same value
  (or a faithful rounding, range or conversion) with the same kind of unit for the same metric
  (`tools/claims.py`); one whose sentence measures something else is blocking, with both
  sentences as evidence. An item's numbers are matched to its own paper; numbers in the lead,
  themes and other text to some paper of the edition (a theme's: to the papers it cites).
- Every arXiv id anywhere (links, bare URLs, "arXiv:…", bare ids) must be a paper of the
  edition; links to other sites are reported.
- The name an item gives (link text, bold name, heading) must name the linked paper
  (`tools/names.py`).
- Scores equal the assessments; no assistant chatter, reasoning blocks, sign-offs,
  placeholders or error text; sections, date, length.
Nothing is removed: problems are reported, each with its evidence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flashnews.models import Assessment, Finding, Format, Paper, Severity, split_arxiv_id
from flashnews.text import claims, parse
from flashnews.text.names import NameIndex, is_generic, tokens

TITLE = "Inference Ecosystem — Flash News"
NO_THEMES = "No theme links two or more of today's papers."
"""What a digest says when no theme cites two of its papers (not a finding)."""
NO_THEMES_WEEK = "No theme links two or more of this week's papers."
"""The same in the week in review."""
LINK_RE = re.compile(r"\[([^\]]+)\]\((https?://arxiv\.org/(?:abs|pdf|html)/[^)\s]+)\)")
ANY_LINK_RE = re.compile(r"\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
URL_RE = re.compile(r"(?:https?://|www\.)[^\s)<>\]\"']+")
ARXIV_URL_RE = re.compile(
    r"https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/([a-z\-]+(?:\.[A-Z]{2})?/\d{7}|"
    r"\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?", re.IGNORECASE)
# An arXiv id written as text: "arXiv:2602.20732", or a bare new-style id (YYMM.NNNNN).
ID_TEXT_RE = re.compile(r"\barXiv\s*:\s*(\d{4}\.\d{4,5})(?:v\d+)?\b|(?<![\w./-])"
                        r"(\d{2}(?:0[1-9]|1[0-2])\.\d{5})(?:v\d+)?(?![\w.])", re.IGNORECASE)
SCORE_RE = re.compile(r"Score:\s*(\d{1,3})\s*\|\s*Hype:\s*(\d{1,3})")
# The line publishing puts under an item (`tools/repos.py` repo_note): the code, weights and
# data the paper names, each link flagged by its check. Like the score, it is no claim of the
# item's prose: its names, figures and links are not read as the item's.
REPO_NOTE_RE = re.compile(r"^[ \t]*(?:Code: |No code or weights named\.)[^\n]*$", re.MULTILINE)
DATE_RE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
BOLD_RE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
# Scripts a small multilingual model drifts into mid-sentence (CJK, kana, Hangul, Cyrillic).
FOREIGN_RE = re.compile(r"[\u0400-\u04ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
FIRST_PERSON_RE = re.compile(r"\b(?:we|our|us)\b", re.IGNORECASE)
SECTIONS: dict[str, list[str]] = {
    "flash": [],
    "digest": ["Highlights", "Also Noteworthy", "Cross-Cutting Themes"],
    "weekly": ["Themes", "Top Papers", "Updates"],
}
ITEM_BOUNDS = {"flash": (4, 6), "digest": (3, 8), "weekly": (1, 5)}
WORD_LIMIT = {"flash": 900, "digest": 2600, "weekly": 2600}
# `##` headings that organise a bulletin (as opposed to an item's own headline).
_STRUCTURAL = re.compile(r"highlight|also|notable|noteworthy|theme|cross-cutting|top papers|"
                         r"in brief|briefly|other|more papers|quick hits|round-?up|updates?$", re.I)

# Assistant chatter, reasoning left in, sign-offs, placeholders and error text. Lines are read
# with typographic apostrophes and quotes made plain first ("Here’s" is "Here's"). Each
# pattern needs words only an assistant addressing its requester uses, so ordinary prose
# ("Here is the catch:", "failed requests try again") is not chatter.
_OUTPUT = (r"(?:bulletin|draft|summary|summaries|digest|newsletter|edition|version|rewrite|"
           r"write-?up|post|round-?up|recap|overview|update|news ?letter|flash news|response|"
           r"answer|text|article|blurbs?)")
_CHATTER: list[tuple[str, str]] = [
    ("chatter", r"\bhere(?:'s| is| are) (?:is )?(?:the|your|a|an|my|this|today's|our)\s+"
                r"(?:[\w-]+\s+){0,4}?" + _OUTPUT + r"\b"),
    ("chatter", r"(?<![\w-])I(?:'ve|'m|'ll|'d)\b"),
    ("chatter", r"(?<![\w-])I (?:have|had|am|was|will|would|can|could|cannot|can't|couldn't|"
                r"hope|think|believe|chose|kept|made|included|added|wrote|drafted|focused|"
                r"tried|want|noticed|decided|selected|picked|removed|left|also|did|didn't|"
                r"don't|should|just|used|went|apologi[sz]e|understand|need|must|'ve|prepared|"
                r"created|generated|compiled|summari[sz]ed|rewrote|revised|updated)\b"),
    ("chatter", r"\b(?:would you like|do you want(?: me)?|shall I|should I|want me to|"
                r"if you(?:'d| would) like(?: me)?|if you want me|let me know|feel free|"
                r"happy to help|glad to help|hope (?:this|that|it) helps|hope you (?:enjoy|find|"
                r"like)|is there anything else|anything else (?:I can|you(?:'d| would)? "
                r"(?:like|want|need))|as an ai (?:assistant|language model)|"
                r"as a language model,|as you requested|"
                r"as requested|per your request|your request|you asked (?:for|me)|sure thing|"
                r"no problem[!.]|you're welcome|below is (?:the|a|your|my)|above is (?:the|a|"
                r"your|my)|(?:the|this) (?:draft|bulletin|summary) (?:above|below))\b"),
    ("chatter", r"^\W*(?:sure|certainly|of course|absolutely|okay|ok|alright|great|got it)"
                r"(?: thing)?\s*[,!.:]"),
    ("sign-off", r"^\W*(?:best(?: regards| wishes)?|kind regards|warm regards|regards|cheers|"
                 r"sincerely|thanks(?: for reading)?|thank you(?: for reading)?|happy reading|"
                 r"until next time|stay tuned)\W*$"),
    ("sign-off", r"\[\s*your (?:name|signature|team)\s*\]|^\W*(?:your|the) (?:ai )?"
                 r"(?:assistant|writer|editor)\W*$"),
    ("placeholder", r"\[(?:insert|add|link to|todo|tbd|placeholder|citation needed|your|"
                    r"paper (?:name|title|link)|name of|url|link)\b[^\]]*\](?!\()"),
    ("placeholder", r"<\s*(?:insert|add|placeholder|todo|link|paper)\b[^>]*>|\{\{[^}]*\}\}|"
                    r"\blorem ipsum\b|\[\.\.\.\]|\(\s*link\s*\)|\bXX+\b"),
    ("reasoning", r"</?\s*(?:think|thinking|thought|thoughts|reasoning|reflection|reflect|"
                  r"scratchpad|analysis|inner_monologue|plan|draft|internal)\s*>|<\|[\w-]+\|>"),
    ("reasoning", r"^\W*(?:thinking|reasoning|thought process|chain of thought|scratchpad|"
                  r"internal notes?|draft notes?)\s*:|\bthe user (?:wants|asked|is asking|"
                  r"requested|would like)\b|\blet me (?:think|start|begin|draft|write|check|"
                  r"count|re-?read|make sure|double-check|verify|summari[sz]e|go through)\b|"
                  r"\blet's (?:think|break this down|start by|begin|draft|write)\b|"
                  r"\bword count\s*:|\(\s*\d+\s+words\s*\)"),
    ("error", r"\btraceback \(most recent call last\)|^\W*(?:error|exception|fatal)\s*:|"
              r"\[errno \d+\]|\bpermission (?:was )?denied\b|\bwrite permission\b|"
              r"\b(?:please|you can|I can|I'll|let me|we can|I will) try again\b|"
              r"\btry again later\b|\bsomething went wrong\b|\binternal server error\b"),
]
CHATTER = [(kind, re.compile(p, re.IGNORECASE | re.M)) for kind, p in _CHATTER]
_TODO_RE = re.compile(r"\b(?:TODO|TBD|FIXME)\b")  # case matters: "todo" is a word
_PLAIN_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "′": "'", "`": "'", "´": "'",
                               "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "\u00a0": " "})


def plain(text: str) -> str:
    """Typographic apostrophes and quotes made plain, so patterns see "Here's" either way."""
    return text.translate(_PLAIN_QUOTES)


def chatter(line: str) -> tuple[str, str] | None:
    """(kind, the words) of the first chatter in a line, or None."""
    text = plain(line)
    for kind, pattern in CHATTER:
        m = pattern.search(text)
        if m:
            return kind, m.group(0).strip()
    m = _TODO_RE.search(text)
    return ("placeholder", m.group(0)) if m else None


# ---------------------------------------------------------------------------------------------
# the bulletin's parts


@dataclass
class Block:
    """A paragraph, list item, or a `###` item with its paragraphs; `section` is its `##`."""

    text: str
    section: str
    line: int
    end: int = 0
    kind: str = "text"
    """"title", "date", "text" (the lead or other text outside items), "item" or "theme"."""
    heading: str = ""
    """The headline the block starts with (`###`, or an item's own `##`)."""


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
    heading: str = ""
    bare: bool = False
    """The paper is linked by a bare URL, not a Markdown link."""


def _arxiv_id(url: str) -> str | None:
    m = ARXIV_URL_RE.search(url)
    if not m:
        return None
    try:
        return split_arxiv_id(m.group(1))[0]
    except ValueError:
        return m.group(1)


def blocks_of(markdown: str) -> list[Block]:
    """Split a bulletin into blocks: paragraphs, list items, and `###` items with their text."""
    blocks: list[Block] = []
    section = ""
    buf: list[str] = []
    start = 0
    last = 0
    in_item = False
    heading = ""
    pending = ""  # an item's own `##` heading, waiting for its first block

    def flush() -> None:
        nonlocal buf, in_item, heading, pending
        if buf:
            text = "\n".join(buf).strip()
            head = heading or pending
            if pending and not heading:
                text = f"{pending}\n{text}"
            blocks.append(Block(text, section, start, last, heading=head))
            pending = ""
        buf, in_item, heading = [], False, ""

    for number, line in enumerate(markdown.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("# ") or re.fullmatch(r"-{3,}|\*{3,}|_{3,}", stripped):
            flush()
            if stripped.startswith("# "):
                blocks.append(Block(stripped, section, number, number, kind="title"))
            continue
        if stripped.startswith("## "):
            flush()
            section = stripped[3:].strip()
            pending = "" if _STRUCTURAL.search(section) else section
            continue
        if stripped.startswith("### "):
            flush()
            buf, start, last, in_item = [stripped[4:].strip()], number, number, True
            heading = stripped[4:].strip()
            continue
        if not stripped:
            if not in_item:
                flush()
            continue
        if stripped.startswith(("- ", "* ", "+ ")) and not in_item:
            flush()
        if not buf:
            start = number
        buf.append(stripped)
        last = number
    flush()
    _classify(blocks)
    return _continued(blocks)


def _has_link(text: str) -> bool:
    return bool(ARXIV_URL_RE.search(text))


def _classify(blocks: list[Block]) -> None:
    seen_date = False
    for i, b in enumerate(blocks):
        if b.kind == "title":
            continue
        if not seen_date and i <= 3 and DATE_RE.search(b.text) and len(b.text) < 60 \
                and not _has_link(b.text):
            b.kind, seen_date = "date", True
        elif "theme" in b.section.lower():
            b.kind = "theme"
        elif _has_link(b.text):
            b.kind = "item"


def _continued(blocks: list[Block]) -> list[Block]:
    """An item whose block is only its name and score ("**[Title](…)** — Score: …") goes on
    in the paragraphs after it, up to the next item or heading."""
    out: list[Block] = []
    for b in blocks:
        prev = out[-1] if out else None
        if prev is not None and b.kind == "text" and prev.kind == "item" and \
                prev.section == b.section and not b.heading and \
                len(segments_of(prev)) == 1 and len(_words(prev.text)) < 4 + len(
                    _words(prev.heading)):
            prev.text += "\n\n" + b.text
            prev.end = b.end
            prev.kind = "item"
            continue
        out.append(b)
    return out


def _words(text: str) -> list[str]:
    """The words of a block besides its links, scores and markup."""
    return re.findall(r"[A-Za-z]{2,}", prose_of(ANY_LINK_RE.sub(" ", text)))


def segments_of(block: Block) -> list[Segment]:
    """Cut a block at each arXiv link: the text up to the next link is about that paper."""
    links: list[tuple[int, int, str, str, bool]] = []
    taken: list[tuple[int, int]] = []
    for m in ANY_LINK_RE.finditer(block.text):
        if _arxiv_id(m.group(2)):
            links.append((m.start(), m.end(), m.group(1), m.group(2), False))
        taken.append((m.start(), m.end()))
    for m in ARXIV_URL_RE.finditer(block.text):
        if not any(a <= m.start() < b for a, b in taken):
            links.append((m.start(), m.end(), "", m.group(0), True))
    links.sort()
    segments: list[Segment] = []
    for i, (s, _, text, url, bare) in enumerate(links):
        begin = 0 if i == 0 else s
        end = links[i + 1][0] if i + 1 < len(links) else len(block.text)
        pid = _arxiv_id(url) or url
        segments.append(Segment(pid, text, url, block.text[begin:end], block.section, block.line,
                                heading=block.heading if i == 0 else "", bare=bare))
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
    """A text's own words: arXiv links reduced to their text, URLs, scores, the repository
    note and markup removed."""
    text = REPO_NOTE_RE.sub(" ", text)
    text = ANY_LINK_RE.sub(lambda m: " " if is_generic(m.group(1)) else f" {m.group(1)} ", text)
    text = URL_RE.sub(" ", text)
    text = SCORE_RE.sub(" ", text)
    text = re.sub(r"(?<![\w*])[*_]{1,3}|[*_]{1,3}(?![\w*])|`", "", text)
    return re.sub(r"[ \t]+([,.;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text))


def linked_papers(markdown: str) -> list[str]:
    """arXiv ids of the papers a bulletin links to, in order of first appearance."""
    out = [pid for m in ANY_LINK_RE.finditer(markdown) if (pid := _arxiv_id(m.group(2)))]
    out += [pid for m in ARXIV_URL_RE.finditer(markdown) if (pid := _arxiv_id(m.group(0)))]
    order = {pid: markdown.find(pid) for pid in out}
    return sorted(dict.fromkeys(out), key=lambda p: order[p])


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that hold a bulletin back (the one filter every caller uses)."""
    return [f for f in findings if f.severity == "blocking"]


# ---------------------------------------------------------------------------------------------
# evidence: what supports each number and claim


@dataclass
class NumberEvidence:
    """A number as written in the bulletin, and the abstract sentence that states it."""

    text: str
    status: str
    via: str
    sentence: str
    """The abstract sentence (the supporting one; when wrong, the one with that value)."""
    paper_id: str = ""
    written_in: str = ""
    """The bulletin sentence the number is written in."""
    message: str = ""
    unit: str = ""
    """The quantity's unit ("x", "%", "count" …): a count written in words is a softer claim
    than a multiple written in words ("ten times cheaper", "halves the cost")."""

    @property
    def ok(self) -> bool:
        return self.status == "supported"

    @property
    def word_count(self) -> bool:
        """A count written in words ("three benchmarks"): the writer's, not a figure."""
        return self.text[:1].isalpha() and self.unit == "count"


@dataclass
class ClaimEvidence:
    """One sentence of an item with the abstract sentence that supports it best."""

    claim: str
    support: str
    overlap: float
    """The share of the claim's content words found in that abstract sentence."""
    numbers: list[NumberEvidence] = field(default_factory=list)


_CONTENT = re.compile(r"[a-z][a-z0-9\-]{3,}")
_FUNCTION_WORDS = """about above after again also among based before being below between
both could does doing during each either every from further have having into itself just made
make makes many more most much must other over same should since some such than that their them
then there these they this those through under until upon very well were what when where which
while will with within without would your using used uses show shows shown paper work approach
method methods novel"""
_FUNCTION = frozenset(_FUNCTION_WORDS.split())


def content_words(text: str) -> list[str]:
    """Words that carry a claim (4+ letters, not function words), cut to a 6-letter stem."""
    return [w[:6] for w in _CONTENT.findall(text.lower()) if w not in _FUNCTION]


def source_sentences(paper: Paper) -> list[str]:
    """The sentences a claim about the paper may rest on: its title, then its abstract's."""
    return [paper.title, *claims.sentences(claims.detex(paper.abstract))]


def best_support(claim: str, paper: Paper, prefer: list[str] | None = None
                 ) -> tuple[str, float]:
    """The abstract sentence that shares most of the claim's content words, and that share.
    Sentences in `prefer` (those stating the claim's numbers) count a whole claim more each
    time they are listed."""
    words = set(content_words(claim))
    if not words and not prefer:
        return "", 0.0
    best, score, rank = "", 0.0, 0.0
    for s in source_sentences(paper):
        have = set(content_words(s))
        share = len(words & have) / len(words) if words else 0.0
        bonus = 1.0 * (prefer or []).count(s)
        if share + bonus > rank:
            best, score, rank = s, share, share + bonus
    return best, round(score, 3)


def _skip(q: claims.Quantity) -> bool:
    """Numbers that are no claim: years, and counts written in words outside items."""
    whole = q.low == q.high and q.value == int(q.value)
    return q.unit == "" and whole and 1900 <= q.value <= 2100 and "." not in q.text


def _as_name(q: claims.Quantity, source: str) -> bool:
    """A setting that the abstract writes inside a name: "70B" of "Llama-3-70B"."""
    digits = re.sub(r"^[~≈+]|[\s,]", "", q.text)
    return bool(digits) and re.search(r"(?<![\d.])" + re.escape(digits) + r"(?![\d.])",
                                      source.replace(",", "")) is not None


def ground_numbers(text: str, paper: Paper) -> list[NumberEvidence]:
    """Every number of an item's text matched against its paper (claims.ground_text)."""
    source = f"{paper.title}. {paper.abstract}"
    out = []
    for s in claims.ground_text(text, source):
        q = s.quantity
        if _skip(q):
            continue
        status, via, evidence, message = s.status, s.via, s.evidence, s.message
        if not s.ok and q.role == "setting" and _as_name(q, claims.detex(source)):
            status, via, message = "supported", "name", ""
            evidence = next((x for x in source_sentences(paper)
                             if _as_name(q, x)), "")
        out.append(NumberEvidence(q.text, status, via, evidence, paper.arxiv_id, q.sentence,
                                  message, unit=q.unit))
    return out


def ground_anywhere(text: str, pool: list[Paper]) -> list[NumberEvidence]:
    """Numbers of text outside an item: each must be stated by some paper of the pool."""
    rank = {"supported": 0, "wrong-metric": 1, "wrong-unit": 2, "wrong-value": 3, "absent": 4}
    out: list[NumberEvidence] = []
    per_paper = [ground_numbers(text, p) for p in pool]
    count = len(per_paper[0]) if per_paper else len(
        [q for q in claims.quantities(text) if not _skip(q)])
    for i in range(count):
        options = [found[i] for found in per_paper if i < len(found)]
        if not options:
            q = [q for q in claims.quantities(text) if not _skip(q)][i]
            out.append(NumberEvidence(q.text, "absent", "", "", "", q.sentence,
                                      f"{q.text!r} is in no paper of the edition",
                                      unit=q.unit))
            continue
        out.append(min(options, key=lambda e: rank.get(e.status, 9)))
    return out


def item_evidence(text: str, paper: Paper) -> list[ClaimEvidence]:
    """For every sentence of an item, the abstract sentence that supports it best, and for
    every number in it, the sentence that states it (what the JSON and HTML channels carry)."""
    body = prose_of(text)
    numbers = ground_numbers(body, paper)
    out = []
    for sentence in claims.sentences(body):
        if len(content_words(sentence)) < 2 and not claims.quantities(sentence):
            continue  # a bare name or a two-word headline claims nothing
        mine = [n for n in numbers if n.written_in and n.written_in in sentence]
        support, overlap = best_support(sentence, paper, [n.sentence for n in mine if n.ok])
        out.append(ClaimEvidence(sentence.strip(), support, overlap, mine))
    return out


def bulletin_evidence(markdown: str, papers: dict[str, Paper]
                      ) -> list[tuple[Block, Segment, list[ClaimEvidence]]]:
    """Every item of a bulletin (its block and segment) with the evidence of its claims."""
    out = []
    for block in blocks_of(markdown):
        if block.kind != "item":
            continue
        for seg in segments_of(block):
            paper = papers.get(seg.paper_id)
            if paper is not None:
                out.append((block, seg, item_evidence(seg.text, paper)))
    return out


# ---------------------------------------------------------------------------------------------
# the checks


def check_bulletin(markdown: str, *, papers: dict[str, Paper],
                   assessments: dict[str, Assessment] | None = None, fmt: Format | None = None,
                   date: dt.date | None = None, selected: set[str] | None = None) -> list[Finding]:
    """Run every deterministic check; return the findings (empty when the bulletin is clean)."""
    findings: list[Finding] = []
    add = findings.append
    lines = markdown.splitlines()
    nonblank = [ln.strip() for ln in lines if ln.strip()]

    if not nonblank:
        return [Finding(check="empty", severity="blocking", evidence="(no text)",
                        message="the bulletin is empty")]
    if not nonblank[0].startswith("# ") or TITLE not in nonblank[0]:
        add(Finding(check="title", severity="blocking", evidence=nonblank[0][:120],
                    message=f"the first line must be the title '# {TITLE}'"))
    head_dates = [d for ln in nonblank[:4] for d in DATE_RE.findall(ln)]
    if not head_dates:
        add(Finding(check="date", severity="blocking", evidence=" / ".join(nonblank[:3])[:160],
                    message="no date line under the title"))
    elif date is not None and head_dates[0] != date.isoformat():
        add(Finding(check="date", severity="blocking", evidence=head_dates[0],
                    message=f"date line says {head_dates[0]}, the edition is {date.isoformat()}"))

    for number, line in enumerate(lines, start=1):
        found = chatter(line)
        if found:
            kind, words = found
            what = {"chatter": "assistant chatter", "sign-off": "a sign-off",
                    "placeholder": "a placeholder", "reasoning": "the model's reasoning",
                    "error": "error text"}[kind]
            add(Finding(check="chatter", severity="blocking", evidence=line.strip()[:200],
                        message=f"{what} on line {number}: {words!r}"))

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
                            evidence="; ".join(sorted(present))[:200] or "(no ## sections)",
                            message=f"missing section '## {name}' of the {fmt} format"))

    blocks = blocks_of(markdown)
    linked = [pid for pid in linked_papers(markdown) if pid in papers]
    edition = selected if selected is not None else set(linked)
    pool = [papers[pid] for pid in sorted(edition) if pid in papers]
    index = NameIndex(papers)
    seen: set[str] = set()
    items = 0
    first_item = next((i for i, b in enumerate(blocks) if b.kind == "item"), len(blocks))
    for i, block in enumerate(blocks):
        if block.kind in ("title", "date"):
            continue
        if block.kind == "theme":
            findings.extend(_check_theme(block, papers, index, edition, pool))
            continue
        if block.kind == "text":
            where = "the lead" if i < first_item else f"text outside items (line {block.line})"
            findings.extend(_check_numbers_outside(block.text, where, pool))
            continue
        for seg in segments_of(block):
            items += 1
            findings.extend(_check_segment(seg, papers, assessments, selected, seen, index))
            seen.add(seg.paper_id)
    findings.extend(_check_ids(markdown, papers, selected, findings))
    findings.extend(_check_offsite(markdown))

    if items == 0:
        add(Finding(check="length", severity="blocking", evidence=f"{len(blocks)} blocks",
                    message="the bulletin has no items"))
    elif fmt:
        low, high = ITEM_BOUNDS[fmt]
        main = _main_items(blocks, fmt)
        if main and not low <= main <= high:
            add(Finding(check="length", severity="warning", evidence=f"{main} main items",
                        message=f"{main} main items; the {fmt} format has {low}-{high}"))
    if fmt and len(markdown.split()) > WORD_LIMIT[fmt]:
        add(Finding(check="length", severity="warning", evidence=f"{len(markdown.split())} words",
                    message=f"{len(markdown.split())} words; the {fmt} format stays under "
                            f"{WORD_LIMIT[fmt]}"))
    return findings


def _main_items(blocks: list[Block], fmt: Format) -> int:
    count = 0
    for block in blocks:
        if block.kind != "item":
            continue
        section = block.section.lower()
        if fmt == "digest":
            if section == "highlights":
                count += len(segments_of(block))
        elif fmt == "weekly":
            if section == "top papers":
                count += len(segments_of(block))
        elif not block.text.lower().startswith(("also notable", "- ", "* ")) \
                and "also" not in section:
            count += len(segments_of(block))
    return count


def _quote(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _number_finding(e: NumberEvidence, where: str, item: str | None,
                    severity: Severity = "blocking") -> Finding:
    # Both sentences, whole: the bulletin's and the abstract's (the evidence a reader checks).
    evidence = f'"{e.text}" in: "{_quote(e.written_in, 600)}"'
    if e.sentence:
        evidence += f' — abstract{f" of {e.paper_id}" if e.paper_id and not item else ""}: ' \
                    f'"{_quote(e.sentence, 1000)}"'
    reason = e.message or f"{e.text!r} is not in the abstract"
    return Finding(check="number", severity=severity, item=item,
                   evidence=evidence, message=f"{where}: {reason} ({e.status})")


# What a bulletin counts of itself ("today's 5 papers"): no paper has to state that.
_SELF = re.compile(r"(?:papers?|items?|picks?|preprints?|stor(?:y|ies)|highlights?|entr(?:y|ies)|"
                   r"submissions?|works?|themes?|sections?)$", re.IGNORECASE)


def _squash(text: str) -> str:
    """A name or a text with case, spaces, hyphens and dots gone (Llama 3.1-8B = llama318b)."""
    return re.sub(r"[^a-z0-9]", "", claims.detex(text).lower())


def unknown_names(text: str, sources: list[Paper]) -> list[tuple[str, str]]:
    """Names with digits in `text` (Llama-3.1-70B, H100, GSM8K) that no source states: each
    with the source's nearest name ("Llama-3.1-8B"), or "". A model size, a GPU or a
    benchmark is a setting as much as a figure is."""
    if not sources:
        return []
    squashed = [_squash(f"{p.title} {p.abstract}") for p in sources]
    out = []
    for name in dict.fromkeys(claims.names_in(text)):
        key = _squash(name)
        # "H100s" is the plural of a name the abstract writes "H100".
        if any(key in s or (key.endswith("s") and key[:-1] in s) for s in squashed):
            continue
        stem = re.match(r"[A-Za-z]+", name)
        near = [n for p in sources for n in claims.names_in(f"{p.title}. {p.abstract}")
                if stem and n.lower().startswith(stem.group(0).lower())]
        out.append((name, near[0] if near else ""))
    return out


def _name_findings(text: str, sources: list[Paper], where: str, item: str | None
                   ) -> list[Finding]:
    out = []
    for name, near in unknown_names(text, sources):
        has = f" (it has {near})" if near else ""
        scope = "the abstract" if item else "any paper of the edition"
        out.append(Finding(check="number", severity="blocking", item=item,
                           evidence=f'"{name}" in: "{_quote(text, 400)}"',
                           message=f"{where}: {name!r} is not in {scope}{has} (wrong-setting)"))
    return out


def _check_numbers_outside(text: str, where: str, pool: list[Paper]) -> list[Finding]:
    body = prose_of(text)
    qs = [q for q in claims.quantities(body) if not _skip(q)]
    out = _name_findings(body, pool, where, None)
    if not qs:
        return out
    for q, e in zip(qs, ground_anywhere(body, pool), strict=False):
        if e.ok or e.word_count:  # counts in words ("three papers") are the writer's
            continue
        if q.unit == "count" and _SELF.match(q.noun) and q.value <= max(len(pool), 1) * 3:
            continue
        if e.status == "absent":
            e.message = f"{e.text!r} is in no paper of the edition"
        out.append(_number_finding(e, where, None))
    return out


def _names(seg: Segment) -> tuple[list[str], list[str]]:
    """The name an item gives its paper (primary: link text, else the bold name before a
    generic link, else the heading's name), and other names it shows (bold, heading)."""
    primary: list[str] = []
    for text in [seg.link_text, *seg.extra_links]:
        if text and not is_generic(text):
            primary.append(text.strip(" *_`"))
    link_at = seg.text.find(seg.url)
    bolds = [(m.start(), (m.group(1) or m.group(2)).strip()) for m in BOLD_RE.finditer(seg.text)]
    bolds = [(s, b) for s, b in bolds if "](" not in b and not SCORE_RE.search(b)]
    heading = re.split(r"\s*(?::|—|–| - )\s*", seg.heading, maxsplit=1)[0].strip() \
        if seg.heading else ""
    if not primary:
        before = [b for s, b in bolds if link_at < 0 or s < link_at]
        short = [b for b in before if len(b.split()) <= 8 and not claims.quantities(b)]
        if short:
            primary.append(short[-1].rstrip(".:"))
        elif heading and not claims.quantities(heading):
            primary.append(heading)
    others = []
    for _, b in bolds:
        b = b.rstrip(".:")
        if b in primary or len(b.split()) > 5 or claims.quantities(b):
            continue
        if re.search(r"[A-Z].*[A-Z]|\d|[a-z][A-Z]|-[A-Z]", b):  # a coined word: CHESS, KnapSpec
            others.append(b)
    if heading and heading not in primary and len(heading.split()) <= 6:
        others.append(heading)
    return primary, others


def _check_names(seg: Segment, paper: Paper, papers: dict[str, Paper],
                 index: NameIndex) -> list[Finding]:
    out = []
    primary, others = _names(seg)
    pid = seg.paper_id
    title = _quote(paper.title, 90)
    for name in primary:
        if re.fullmatch(r"\d{4}\.\d{4,5}(v\d+)?", name):
            continue
        n = index.naming(name, pid)
        if n.ok:
            continue
        whose = (f"; it names {n.owner}: {_quote(papers[n.owner].title, 70)}"
                 if n.owner and n.owner != pid else "; it names no paper of the edition")
        out.append(Finding(check="name", severity="blocking", item=pid, evidence=name,
                           message=f"{name} is not the paper at {pid}: {title}{whose}"))
    for name in others:
        n = index.naming(name, pid)
        if n.other and n.owner and n.owner_score >= 0.75:
            out.append(Finding(
                check="name", severity="blocking", item=pid, evidence=name,
                message=f"{name} is not the paper at {pid}: {title}; it names {n.owner}: "
                        f"{_quote(papers[n.owner].title, 70)}"))
    return out


def _check_segment(seg: Segment, papers: dict[str, Paper],
                   assessments: dict[str, Assessment] | None, selected: set[str] | None,
                   seen: set[str], index: NameIndex) -> list[Finding]:
    out: list[Finding] = []
    pid = seg.paper_id
    paper = papers.get(pid)
    if paper is None:
        return [Finding(check="link", severity="blocking", item=pid, evidence=seg.url,
                        message=f"link {seg.url} is not a paper of this edition")]
    if not re.match(r"https://arxiv\.org/abs/", seg.url):
        out.append(Finding(check="link", severity="warning", item=pid, evidence=seg.url,
                           message="links should be https://arxiv.org/abs/<id>"))
    if selected is not None and pid not in selected:
        out.append(Finding(check="link", severity="blocking", item=pid, evidence=seg.url,
                           message=f"{pid} is linked but was not selected for this edition"))
    if pid in seen:
        out.append(Finding(check="duplicate", severity="warning", item=pid, evidence=seg.url,
                           message=f"{pid} appears in more than one item"))
    out.extend(_check_names(seg, paper, papers, index))
    body = prose_of(seg.text)
    voice = FIRST_PERSON_RE.search(body)
    if voice:
        out.append(Finding(check="voice", severity="warning", item=pid,
                           evidence=_quote(body[max(0, voice.start() - 40):voice.end() + 40]),
                           message=f"the item on {pid} speaks as the authors ({voice.group(0)!r});"
                                   " the house voice is third person"))
    for e in ground_numbers(body, paper):
        if e.ok:
            continue
        # "three benchmarks": a count in words, a softer claim; "ten times" is a figure.
        out.append(_number_finding(e, f"the item on {pid}", pid,
                                   "warning" if e.word_count else "blocking"))
    out.extend(_name_findings(body, [paper], f"the item on {pid}", pid))
    out.extend(_check_sentences(seg, paper))
    scores = SCORE_RE.findall(seg.text)
    if not scores:
        out.append(Finding(check="score", severity="blocking", item=pid,
                           evidence=_quote(prose_of(seg.text), 120),
                           message=f"item on {pid} has no 'Score: NN | Hype: NN'"))
    elif assessments is not None:
        a = assessments.get(pid)
        score, hype = int(scores[0][0]), int(scores[0][1])
        if a is None:
            out.append(Finding(check="score", severity="blocking", item=pid,
                               evidence=f"Score: {score} | Hype: {hype}",
                               message=f"{pid} has no assessment to back its score"))
        elif (score, hype) != (a.score, a.hype):
            out.append(Finding(check="score", severity="blocking", item=pid,
                               evidence=f"Score: {score} | Hype: {hype}",
                               message=f"item says Score {score} / Hype {hype}, the assessment "
                                       f"says {a.score} / {a.hype}"))
    return out


def item_sentences(text: str) -> list[str]:
    """An item's own sentences: without its bold headline, bullet, link lead-in and score."""
    text = re.sub(r"^\s*(?:[-*]\s+)?\*\*[^*\[\]]+?\*\*\s*", "", text.strip())
    text = re.sub(r"^\s*[-*]\s+", "", text)
    prose = " ".join(prose_of(text).split())
    prose = re.sub(r"^[^.:]{1,80}?(?:\s·\s|\s—\s|:\s)", "", prose)
    return [s for s in claims.sentences(prose) if len(s.split()) >= 4]


def _check_sentences(seg: Segment, paper: Paper) -> list[Finding]:
    """Blocking: a sentence cut short (it ends where a phrase is still open, or where its
    abstract goes on with what the last word needs), and a figure put under another metric
    than its own clause in the abstract gives it (`tools/parse.py`)."""
    out = []
    abstract = claims.detex(paper.abstract)
    for sentence in item_sentences(seg.text):
        cut = parse.sentence_problem(sentence, abstract, strict=False)
        if cut:
            out.append(Finding(check="sentence", severity="blocking", item=seg.paper_id,
                               evidence=_quote(sentence),
                               message=f"the item on {seg.paper_id} has a sentence that is not "
                                       f"whole: {cut[-160:]}"))
        for wrong in parse.misbound(sentence, paper.abstract):
            out.append(Finding(check="figure", severity="blocking", item=seg.paper_id,
                               evidence=_quote(sentence),
                               message=f"the item on {seg.paper_id} puts a figure under another "
                                       f"metric: {wrong}"))
    return out


def _check_theme(block: Block, papers: dict[str, Paper], index: NameIndex, edition: set[str],
                 pool: list[Paper]) -> list[Finding]:
    among = edition if edition else set(papers)
    if prose_of(block.text).strip() in (NO_THEMES, NO_THEMES_WEEK):
        return []
    cited = {s.paper_id for s in segments_of(block)} | index.cited(block.text, among)
    out: list[Finding] = []
    first = _quote(block.text.splitlines()[0], 80)
    if len(cited) < 2:
        out.append(Finding(check="theme", severity="blocking", evidence=first,
                           message=f"theme cites {len(cited)} paper(s) of the edition by id or "
                                   "name; a theme needs at least two"))
    cited_pool = [papers[pid] for pid in sorted(cited) if pid in papers] or pool
    body = prose_of(block.text)
    for e in ground_anywhere(body, cited_pool) if claims.quantities(body) else []:
        if e.ok or e.word_count:
            continue
        if e.status == "absent":
            e.message = f"{e.text!r} is in no cited abstract"
        out.append(_number_finding(e, f"theme '{first}'", None))
    return out


def _check_ids(markdown: str, papers: dict[str, Paper], selected: set[str] | None,
               earlier: list[Finding]) -> list[Finding]:
    """Every arXiv id anywhere (bare URLs, "arXiv:…", bare ids) is a paper of the edition."""
    reported = {f.item for f in earlier if f.check == "link"}
    out = []
    for number, line in enumerate(markdown.splitlines(), start=1):
        ids = [_arxiv_id(m.group(0)) for m in ARXIV_URL_RE.finditer(line)]
        ids += [m.group(1) or m.group(2) for m in ID_TEXT_RE.finditer(ARXIV_URL_RE.sub(" ", line))]
        for pid in dict.fromkeys(i for i in ids if i):
            if pid in reported:
                continue
            if pid not in papers:
                reported.add(pid)
                out.append(Finding(check="link", severity="blocking", item=pid,
                                   evidence=_quote(line),
                                   message=f"arXiv id {pid} on line {number} is not a paper of "
                                           "this edition"))
            elif selected is not None and pid not in selected:
                reported.add(pid)
                out.append(Finding(check="link", severity="blocking", item=pid,
                                   evidence=_quote(line),
                                   message=f"{pid} is cited on line {number} but was not "
                                           "selected for this edition"))
    return out


def _check_offsite(markdown: str) -> list[Finding]:
    """Links to other sites are reported (a bulletin's sources are its arXiv papers)."""
    out = []
    for number, line in enumerate(markdown.splitlines(), start=1):
        if REPO_NOTE_RE.match(line):
            continue  # the repository note's links are the point of it
        urls = [m.group(2) for m in ANY_LINK_RE.finditer(line)]
        urls += [m.group(0) for m in URL_RE.finditer(ANY_LINK_RE.sub(" ", line))]
        for url in dict.fromkeys(urls):
            if re.match(r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/", url):
                continue
            if not re.match(r"(?:https?://|www\.)", url):
                continue
            out.append(Finding(check="offsite", severity="warning", evidence=url,
                               message=f"line {number} links to another site ({url}); the "
                                       "bulletin's sources are its arXiv papers"))
    return out


def name_matches(name: str, title: str) -> bool:
    """Whether a name covers a title's words (kept for callers that have one title only)."""
    words = set(tokens(name))
    return bool(words) and len(words & set(tokens(title))) * 2 >= len(words)
