"""The week in review: from the week's published editions, a synthesis instead of a longer list.

Nothing is fetched, scored or written afresh. The week's papers are the items its daily
editions published (the editor's drops, pins and new scores included: they are what was
published), each with the Score it was published with and the prose that passed the critic
then. Code adds:

- **themes** (3-5): phrases two or more of the week's papers share, and the beat topics they
  share, judged by the model by token probability (agents/themes.py); each names and links the
  papers it draws on;
- **top papers**: the week's best by Score, then Hype, with their published text;
- **updates**: what changed since last week, each saying "Update:" and what changed: a new
  version of a paper featured before the week (the sentences its abstract gained), a follow-up
  (a paper of the week whose authors wrote one featured before, on the same subject by
  embedding), and code or weights released for a featured paper (`flashnews recheck`).

Every sentence is code's or published text, so each is grounded like a daily item (the critic
checks the weekly like any edition). A week with no edition is quiet: no weekly is written. A
week with one edition says so.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flashnews.agents import themes
from flashnews.agents.triage.rules import topics_of
from flashnews.models import Assessment, Draft, DraftItem, Paper, Selection, ThemeText
from flashnews.text import claims
from flashnews.text.grounding import NO_THEMES_WEEK, TITLE
from flashnews.tools.embeddings import Embedder
from flashnews.tools.llm import Models
from flashnews.tools.store import Store

log = logging.getLogger(__name__)

DAYS = 7
"""A weekly edition dated D covers the daily editions dated D-6 … D."""
TOP = 5
"""Papers in "Top papers"."""
MIN_THEMES, MAX_THEMES = 3, 5
FOLLOW_UP_SIMILARITY = 0.5
"""Cosine (the ranking stage's embeddings) above which a paper by authors of an earlier one is
on the same subject: a follow-up, not another paper of a prolific group."""
# The beat's topics (agents/triage/rules.py) as a reader reads them in a theme's sentence.
TOPIC_LABELS = {"kv-cache": "KV caches and long context", "decoding": "decoding",
                "quantization": "quantization and compression", "moe": "mixture-of-experts models",
                "hardware": "hardware and accelerators", "distributed": "distributed inference",
                "serving": "serving systems"}
_COUNT = ["No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"]


@dataclass
class Featured:
    """A paper one of the week's editions published, as published."""

    paper: Paper
    edition_id: str
    score: int
    hype: int
    headline: str
    body: str


@dataclass
class Update:
    """Something that changed since last week about one paper."""

    paper_id: str
    kind: str
    """"version", "follow-up", "code" or "correction"."""
    text: str
    """What changed, in code's words (the renderer adds the link and the Score)."""
    score: int
    hype: int


@dataclass
class Week:
    """What a weekly edition is written from."""

    date: dt.date
    start: dt.date
    editions: list[str] = field(default_factory=list)
    featured: dict[str, Featured] = field(default_factory=dict)
    updates: list[Update] = field(default_factory=list)
    papers: dict[str, Paper] = field(default_factory=dict)
    """Every paper the weekly may cite (its own papers dict: the critic grounds it on them)."""

    @property
    def quiet(self) -> bool:
        """No daily edition was published in the week: there is no week in review."""
        return not self.editions

    def assessments(self) -> dict[str, Assessment]:
        """The published Score and Hype of every cited paper (what the critic checks)."""
        out = {pid: Assessment(paper_id=pid, version=f.paper.version, relevant=True,
                               score=f.score, hype=f.hype, rationale="as published that week",
                               method="editor", prompt_hash="weekly", model="published",
                               topics=topics_of(f.paper))
               for pid, f in self.featured.items()}
        for u in self.updates:
            if u.paper_id not in out:
                p = self.papers[u.paper_id]
                out[u.paper_id] = Assessment(
                    paper_id=u.paper_id, version=p.version, relevant=True, score=u.score,
                    hype=u.hype, rationale="as published before", method="editor",
                    prompt_hash="weekly", model="published", topics=topics_of(p))
        return out


def to_state(week: Week) -> dict[str, Any]:
    """The week as the checkpoint keeps it (JSON; papers live in the store, under the weekly
    edition's id)."""
    return {"start": week.start.isoformat(), "editions": week.editions,
            "featured": {pid: {"edition_id": f.edition_id, "score": f.score, "hype": f.hype,
                               "headline": f.headline, "body": f.body}
                         for pid, f in week.featured.items()},
            "updates": [vars(u) for u in week.updates]}


def from_state(raw: dict[str, Any], date: dt.date, papers: dict[str, Paper]) -> Week:
    """The week a checkpoint kept, with its papers from the store."""
    week = Week(date=date, start=dt.date.fromisoformat(raw["start"]),
                editions=list(raw["editions"]), papers=dict(papers))
    week.featured = {pid: Featured(papers[pid], f["edition_id"], f["score"], f["hype"],
                                   f["headline"], f["body"])
                     for pid, f in raw["featured"].items() if pid in papers}
    week.updates = [Update(**u) for u in raw["updates"] if u["paper_id"] in papers]
    return week


def _records(store: Store, edition_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The published JSON record of each edition, by id (editions never published left out)."""
    out = {}
    for eid in edition_ids:
        raw = store.publication_record(eid)
        if raw:
            out[eid] = json.loads(raw)
    return out


def gather(store: Store, date: dt.date, embedder: Embedder | None = None) -> Week:
    """The week ending on `date`: its published daily editions, their items, what changed."""
    start = date - dt.timedelta(days=DAYS - 1)
    week = Week(date=date, start=start)
    rows = sorted((r for r in store.editions() if r.status == "published"
                   and r.format != "weekly" and start.isoformat() <= r.date <= date.isoformat()),
                  key=lambda r: (r.date, r.format))
    week.editions = [r.id for r in rows]
    records = _records(store, week.editions)
    for eid in week.editions:
        papers = store.papers(eid)
        for it in records.get(eid, {}).get("items", []):
            pid = it["arxiv_id"]
            paper = papers.get(pid)
            if paper is None or it.get("score") is None:
                continue
            best = week.featured.get(pid)
            # A paper in the flash and the digest of a day: the higher Score (then the flash).
            if best is None or it["score"] > best.score:
                week.featured[pid] = Featured(paper, eid, it["score"], it.get("hype") or 0,
                                              it.get("headline", ""), it.get("body", ""))
    week.papers = {pid: f.paper for pid, f in week.featured.items()}
    earlier = _earlier(store, week)
    week.updates = [*_new_versions(store, week, earlier),
                    *_follow_ups(week, earlier, embedder), *_releases(store, week, earlier)]
    return week


def _earlier(store: Store, week: Week) -> dict[str, tuple[str, Paper, int, int]]:
    """Papers featured before the week: id -> (edition, record, Score, Hype) as first
    published (read once per weekly: every earlier publication)."""
    out: dict[str, tuple[str, Paper, int, int]] = {}
    rows = sorted((r for r in store.editions() if r.status == "published"
                   and r.format != "weekly" and r.date < week.start.isoformat()),
                  key=lambda r: (r.date, r.format))
    for eid, record in _records(store, [r.id for r in rows]).items():
        papers = store.papers(eid)
        for it in record.get("items", []):
            pid = it["arxiv_id"]
            if pid not in out and pid in papers and it.get("score") is not None:
                out[pid] = (eid, papers[pid], it["score"], it.get("hype") or 0)
    return out


def _added_sentences(old: str, new: str) -> list[str]:
    """Sentences of the new abstract that the old one did not have, in order."""
    before = claims.sentences(" ".join(claims.detex(old).split()))
    after = claims.sentences(" ".join(claims.detex(new).split()))
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    return [s for tag, _, _, j1, j2 in matcher.get_opcodes() if tag in ("insert", "replace")
            for s in after[j1:j2]]


Earlier = dict[str, tuple[str, Paper, int, int]]


def _new_versions(store: Store, week: Week, earlier: Earlier) -> list[Update]:
    """A new version of a paper featured before the week, announced in one of its days."""
    out: list[Update] = []
    seen: set[str] = set()
    for eid in week.editions:
        for pid, paper in store.papers(eid).items():
            if pid not in earlier or pid in seen or pid in week.featured:
                continue
            _, old, score, hype = earlier[pid]
            if paper.version <= old.version:
                continue
            seen.add(pid)
            added = _added_sentences(old.abstract, paper.abstract)
            what = (f"its abstract now adds: \u201c{added[0]}\u201d" if added
                    else "its abstract is unchanged")
            week.papers[pid] = paper
            # No version number in the text: a figure the abstract does not state.
            out.append(Update(pid, "version", "a revised version of a paper featured before "
                              f"this week; {what}", score, hype))
    return out


def _follow_ups(week: Week, earlier: Earlier, embedder: Embedder | None) -> list[Update]:
    """A paper of the week by authors of one featured before, on the same subject."""
    if embedder is None:
        return []
    out: list[Update] = []
    for pid, f in week.featured.items():
        authors = set(f.paper.authors)
        related = [(oid, rec) for oid, rec in earlier.items()
                   if oid != pid and authors & set(rec[1].authors)]
        if not related:
            continue
        texts = [f"{f.paper.title}. {f.paper.abstract}"] + [
            f"{rec[1].title}. {rec[1].abstract}" for _, rec in related]
        vectors = embedder.embed(texts)
        sims = vectors[1:] @ vectors[0]
        best = int(sims.argmax())
        if float(sims[best]) < FOLLOW_UP_SIMILARITY:
            continue
        oid, (_, old, _, _) = related[best]
        shared = sorted(authors & set(old.authors))
        week.papers.setdefault(oid, old)
        # The earlier paper is not named: its name is no word of this paper's abstract, and
        # the critic rightly blocks an item that names another paper.
        out.append(Update(pid, "follow-up", f"a follow-up by {_names(shared)} to a paper of "
                          "theirs featured before this week", f.score, f.hype))
    return out


def _names(authors: list[str]) -> str:
    """"A", "A and B", or "A, B and others"."""
    if len(authors) == 1:
        return authors[0]
    if len(authors) == 2:
        return f"{authors[0]} and {authors[1]}"
    return f"{authors[0]}, {authors[1]} and others"


def _releases(store: Store, week: Week, earlier: Earlier) -> list[Update]:
    """Code or weights released (found by `flashnews recheck`) for a paper featured this week
    or before, during the week."""
    out: list[Update] = []
    for e in store.repo_events(week.start.isoformat()):
        if e.at[:10] > week.date.isoformat() or "released" not in e.event:
            continue
        f = week.featured.get(e.paper_id)
        if f is None:
            if e.paper_id not in earlier:
                continue
            _, paper, score, hype = earlier[e.paper_id]
            week.papers.setdefault(e.paper_id, paper)
        else:
            score, hype = f.score, f.hype
        day = (dt.date.fromisoformat(e.at[:10]) - week.start).days + 1
        out.append(Update(e.paper_id, "code", f"{e.event} on day {day} of the week", score, hype))
    return out


def candidates(week: Week) -> list[themes.Candidate]:
    """Beat topics two or more of the week's papers share (each paper's main topic)."""
    by_topic: dict[str, list[str]] = {}
    for pid, f in week.featured.items():
        found = topics_of(f.paper)
        if found and found[0] in TOPIC_LABELS:
            by_topic.setdefault(found[0], []).append(pid)
    return [themes.Candidate(TOPIC_LABELS[t], pids) for t, pids in by_topic.items()
            if 2 <= len(pids) < len(week.featured)]


def choose_themes(models: Models | None, week: Week, blocked: set[str],
                  background: dict[str, Paper] | None = None) -> list[ThemeText]:
    """Up to MAX_THEMES themes, each citing two or more of the week's papers. `background`: the
    week's days' other papers; a phrase common among them ("tokens", "layer" on an LLM beat)
    is no theme (agents/themes.py)."""
    ids = sorted(week.featured, key=lambda p: (-week.featured[p].score, p))
    pool = {**(background or {}), **week.papers}
    kept, _ = themes.choose(models, ids, pool, limit=2 * MAX_THEMES + len(blocked),
                            asked=12, extra=candidates(week))
    # A phrase of two words or a coined term ("edge devices", "KV cache", "MoE") before a
    # single common word ("layer", "tokens"): the model finds both shared, a reader learns
    # more from the first. The model's order is kept within each kind.
    kept.sort(key=lambda c: not _specific(c.label))
    out = [ThemeText(title=c.label[:1].upper() + c.label[1:],
                     text=themes.sentence(c, "this week's"), paper_ids=c.paper_ids)
           for c in kept]
    return [t for t in out if t.title not in blocked][:MAX_THEMES]


def _specific(label: str) -> bool:
    """Two words or more, or a coined term (capitals or digits inside)."""
    return len(label.split()) >= 2 or any(ch.isupper() or ch.isdigit() for ch in label)


def lead(week: Week) -> str:
    """Code's lead: how many papers and editions, or that the week was quiet."""
    n, e = len(week.featured), len(week.editions)
    papers = f"{_COUNT[n] if n < len(_COUNT) else n} {'paper' if n == 1 else 'papers'}"
    if e == 1:
        return (f"A quiet week: one edition was published, featuring {papers.lower()}; "
                "the review below is drawn from it alone.")
    return f"{papers} featured across {_COUNT[e].lower() if e < len(_COUNT) else e} editions."


def selection(week: Week) -> Selection:
    """What the weekly may cite: its top papers (main), then every other paper of the week and
    each paper an update is about (also). The editor's pins and drops at review change it."""
    top = sorted(week.featured.values(), key=lambda f: (-f.score, -f.hype, f.paper.arxiv_id))
    main = [f.paper.arxiv_id for f in top[:TOP]]
    also = [f.paper.arxiv_id for f in top[TOP:]]
    also += [u.paper_id for u in week.updates if u.paper_id not in main and u.paper_id not in also]
    return Selection(main=main, also=also)


def compose(models: Models | None, week: Week, *, edition_id: str, chosen: Selection,
            assessments: dict[str, Assessment], blocked: Sequence[str] = (), round_: int = 1,
            background: dict[str, Paper] | None = None) -> tuple[Draft, list[ThemeText]]:
    """The weekly draft from the papers `chosen` (the state's selection, with the editor's
    pins and drops) and their Scores in `assessments` (with the editor's rescoring).
    `blocked`: paper ids and theme titles the critic blocked in the previous round, left out."""
    skip = set(blocked)
    cited = [pid for pid in chosen.ids if pid not in skip and pid in week.papers]
    for pid in cited:  # the editor's new Score, when they rescored
        if pid in week.featured and pid in assessments:
            f = week.featured[pid]
            f.score, f.hype = assessments[pid].score, assessments[pid].hype
    for u in week.updates:
        if u.paper_id in assessments:
            u.score, u.hype = assessments[u.paper_id].score, assessments[u.paper_id].hype
    among = Week(date=week.date, start=week.start, editions=week.editions,
                 featured={pid: week.featured[pid] for pid in cited if pid in week.featured},
                 papers=week.papers)
    themes_out = choose_themes(models, among, skip, background)
    top = sorted((week.featured[pid] for pid in chosen.main if pid in cited
                  and pid in week.featured),
                 key=lambda f: (-f.score, -f.hype, f.paper.arxiv_id))
    # One line per paper: what changed about a top paper goes in its own item (so it is never
    # listed twice); the others are the Updates section's items.
    merged: dict[str, list[str]] = {}
    for u in week.updates:
        if u.paper_id in cited:
            merged.setdefault(u.paper_id, []).append(u.text)
    items = [DraftItem(paper_id=f.paper.arxiv_id, section="main", headline=f.headline,
                       body=" ".join([f.body.strip(), *(f"Update: {_sentence(t)}" for t in
                                                         merged.get(f.paper.arxiv_id, []))]))
             for f in top]
    shown = {i.paper_id for i in items}
    items += [DraftItem(paper_id=pid, headline="Update", body="; ".join(texts), section="also")
              for pid, texts in merged.items() if pid not in shown]
    notes = []
    if len(themes_out) < MIN_THEMES:
        notes.append(f"only {len(themes_out)} theme(s) link two or more of the week's papers "
                     f"(the weekly aims at {MIN_THEMES}-{MAX_THEMES})")
    text = lead(among)
    markdown = render(week.date, text, themes_out, items, week.papers,
                      {**week.assessments(), **assessments})
    return Draft(edition_id=edition_id, format="weekly", round=round_, lead=text, items=items,
                 markdown=markdown, notes=notes), themes_out


def _sentence(text: str) -> str:
    """A clause as a sentence: capitalised, one full stop."""
    text = text.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}."


def render(date: dt.date, lead_text: str, chosen: Sequence[ThemeText],
           items: Sequence[DraftItem], papers: dict[str, Paper],
           assessments: dict[str, Assessment]) -> str:
    """The weekly's Markdown from its items (main: the top papers, with their published text;
    also: the updates, with what changed) and themes. The editor's drop, pin, move and rescore
    at review render it again (agents/editor.py): a theme left with fewer than two papers
    goes, and each theme's count follows its papers."""

    def link(pid: str) -> str:
        p = papers[pid]
        return f"[{p.short_name}]({p.link})"

    def score(pid: str) -> str:
        a = assessments[pid]
        return f"Score: {a.score} | Hype: {a.hype}"

    out = [f"# {TITLE}", f"**{date.isoformat()}** · the week in review", "", lead_text, "",
           "## Themes", ""]
    shown = 0
    for t in chosen:
        cited = [pid for pid in t.paper_ids if pid in papers]
        if len(cited) < 2:
            continue
        n = len(cited)
        text = re.sub(r"^\w+ of this week's", f"{_COUNT[n] if n < len(_COUNT) else 'Several'} "
                      "of this week's", t.text)
        out += [f"**{t.title}.** {text} ({', '.join(link(pid) for pid in cited)})", ""]
        shown += 1
    if not shown:
        out += [f"_{NO_THEMES_WEEK}_", ""]
    out += ["## Top Papers", ""]
    for i in items:  # the text as published that day (its headline was that day's)
        if i.section == "main":
            out += [f"- **{link(i.paper_id)}** · {score(i.paper_id)} — {i.body.strip()}"]
    out += ["", "## Updates", ""]
    updates = [i for i in items if i.section != "main"]
    for i in updates:
        out += [f"- Update: **{link(i.paper_id)}** · {score(i.paper_id)} — {_sentence(i.body)}"]
    if not updates:
        marked = any("Update: " in i.body for i in items if i.section == "main")
        out += ["_What changed about this week's top papers is in their items above._" if marked
                else "_Nothing featured before this week changed._"]
    return "\n".join(out).rstrip() + "\n"
