"""Writer: items written from facts that code finds; the model only phrases, code checks.

For each paper, code (tools/facts.py) finds the contribution (the method's name and a
third-person "X is a Y that Z" sentence) and the headline results (noun phrases with the
abstract's own numbers). The model rewrites the "what it does" sentence shorter and in its own
words and gives a headline; code checks that sentence (third person, one complete sentence within
the word limit, at most MAX_COPY words copied from the abstract, every number grounded, the
method named) and asks once more with the problems when it fails, then falls back to its own
phrasing with a note the editor sees. The result sentence is code's, so every item whose abstract
states a numbered result quotes it. Links, paper names, scores and sections are rendered by code.

On a revision round only the items (or lead, or themes) that have findings are rewritten, with
those findings as feedback; the rest is kept as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Literal, cast

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, create_model

from flashnews import prompts
from flashnews.agents import candidates, injection, themes
from flashnews.errors import ModelError
from flashnews.models import (
    Assessment,
    Draft,
    DraftItem,
    Finding,
    Format,
    Paper,
    Selection,
    ThemeText,
)
from flashnews.text import facts, parse
from flashnews.text.claims import detex, ground_text
from flashnews.text.grounding import FOREIGN_RE, NO_THEMES, TITLE
from flashnews.text.grounding import chatter as chatter_in
from flashnews.tools.llm import Models

log = logging.getLogger(__name__)
# Word budgets per item: short items keep the house style and a small local model's output fast.
# An also-notable item is one sentence on what the paper does and one with up to two results
# (the house bulletins' also-notable entries run 25-30 words and quote their numbers).
ITEM_WORDS = {("flash", "main"): 35, ("flash", "also"): 28, ("digest", "main"): 90,
              ("digest", "also"): 35, ("weekly", "main"): 90, ("weekly", "also"): 35}
# Headline results quoted per item (fewer when they do not fit the budget).
RESULTS = {("flash", "main"): 2, ("flash", "also"): 2, ("digest", "main"): 3,
           ("digest", "also"): 2}
# Words of the "what it does" sentence (the rest of the budget is the results').
WHAT_WORDS = {("flash", "main"): 22, ("flash", "also"): 16, ("digest", "main"): 30,
              ("digest", "also"): 20}
LEAD_WORDS = 25
Phrasing = Literal["headline", "model", "code"]


class ItemPhrase(BaseModel):
    """A headline and the "what it does" sentence of one item."""

    headline: str = Field(description="3 to 7 words naming the idea", max_length=70)
    what: str = Field(description="one sentence: what the work is or does")


@cache
def item_schema(max_chars: int) -> type[ItemPhrase]:
    """ItemPhrase with a length cap on the sentence. On llama.cpp the cap is part of the grammar,
    so a small model cannot ramble past its token limit."""
    return create_model("ItemPhrase", __base__=ItemPhrase, what=(str, Field(
        description="one sentence: what the work is or does", max_length=max_chars)))


class Headline(BaseModel):
    """A bold headline for one item."""

    headline: str = Field(description="3 to 7 words naming the idea", max_length=70)


class LeadLine(BaseModel):
    """The bulletin's one-line lead."""

    lead: str = Field(description="one complete sentence of at most 25 words, no numbers, no "
                                  "paper names", max_length=240)


@dataclass
class ItemFacts:
    """What code found in one abstract, and the sentences it makes of it."""

    contribution: facts.Contribution
    results: list[facts.Result]
    subject: str
    """How the item names the work: the method's name, else "The paper"."""
    numbered: bool
    """The abstract states a measured result with a number."""

    @property
    def name(self) -> str:
        return self.contribution.name


def item_facts(title: str, abstract: str, k: int = 2) -> ItemFacts:
    """The facts an item is written from (code only, no model)."""
    contrib = facts.contribution(title, abstract)
    results = facts.headline_results(abstract, k=k)
    subject = contrib.name if contrib.name and contrib.what.startswith(contrib.name) \
        else "The paper"
    return ItemFacts(contribution=contrib, results=results, subject=subject,
                     numbered=bool(results))


@dataclass
class Written:
    """One item's prose and how it came about."""

    headline: str
    what: str
    result: str
    name: str
    notes: list[str] = field(default_factory=list)
    by: Literal["model", "code"] = "model"
    calls: int = 0

    @property
    def body(self) -> str:
        return " ".join(p for p in (self.what, self.result) if p)


def what_problems(text: str, abstract: str, *, subject: str, max_words: int) -> list[str]:
    """Why a "what it does" sentence cannot be published as is (empty when it can)."""
    out = []
    text = " ".join(text.split())
    problem = facts.sentence_problem(text, min_words=5, max_words=max_words + 3) or \
        parse.sentence_problem(text, detex(abstract))
    if problem:
        out.append(problem)
    out += parse.misbound(text, abstract)
    if facts.first_person(text):
        out.append(f"it speaks as the authors ({facts.first_person(text)!r}); use the third "
                   "person")
    run, copied = facts.longest_copy(text, abstract)
    if run > facts.MAX_COPY:
        out.append(f"it copies {run} words in a row from the abstract ({copied!r}); use your own "
                   f"words (at most {facts.MAX_COPY} in a row)")
    bad = [s.quantity.text for s in ground_text(text, abstract) if not s.ok]
    if bad:
        out.append(f"it has numbers the abstract does not state for that: {bad}")
    if subject != "The paper" and subject.lower() not in text.lower():
        out.append(f"it does not name {subject!r}")
    if chatter_in(text) is not None or FOREIGN_RE.search(text):
        out.append("it is not plain English prose about the paper")
    return out


def headline_ok(headline: str, abstract: str, title: str = "") -> bool:
    """Whether a model's headline may be published: a few words, third person, every number
    grounded, not chatter, and ending on a word of its source (see `ends_on_source`)."""
    words = headline.split()
    return (2 <= len(words) <= 9 and not facts.first_person(headline)
            and ends_on_source(headline, f"{title} {abstract}")
            and all(s.ok for s in ground_text(headline, abstract))
            and not chatter_in(headline) is not None
            and not FOREIGN_RE.search(headline))


def _forms(word: str) -> set[str]:
    """A lower-case word and its singular ("devices" -> "device", "devic")."""
    out = {word}
    for suffix in ("es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            out.add(word[: -len(suffix)])
    return out


def ends_on_source(headline: str, source: str) -> bool:
    """Whether a headline's last word is a word of its source (title and abstract; singular
    and plural alike), and not one that leaves a phrase open.

    A small model that cuts its headline short tends to end on a word it reshaped to fit
    ("… for on-device tunable." from "on-device tunability"): anchoring the last word in the
    source catches that without a list of adjectives, which the house's own headlines end on
    as predicates. A headline that fails is dropped, and the item keeps its linked name.
    """
    words = facts.words(headline)
    if not words or words[-1] in facts.DANGLING:
        return False
    seen = {f for w in facts.words(source) for f in _forms(w)}
    return bool(_forms(words[-1]) & seen)


def lead_problems(text: str) -> list[str]:
    """Why a lead cannot be published: it must be one complete sentence of at most 25 words."""
    text = " ".join(text.split())
    out = []
    problem = facts.sentence_problem(text, min_words=6, max_words=LEAD_WORDS)
    if problem:
        out.append(problem)
    if len(facts.sentences_of(text)) > 1:
        out.append("it is more than one sentence")
    if facts.first_person(text):
        out.append("it speaks in the first person")
    if re.search(r"\d", text):
        out.append("it has numbers")
    if chatter_in(text) is not None:
        out.append("it addresses the reader or talks about itself")
    return out


def _feedback(findings: list[Finding]) -> str:
    if not findings:
        return ""
    lines = "\n".join(f"- {f.message}" + (f" (evidence: {f.evidence})" if f.evidence else "")
                      for f in findings)
    return f"\nA critic found these problems in your previous version; fix them:\n{lines}\n"


def _instruction(text: str | None) -> str:
    """The editor's instruction for a `rewrite` (nothing at all without one, so a request
    without an instruction is byte for byte what it always was)."""
    return f"\nThe editor asks for this change: {text.strip()}\n" if text and text.strip() else ""


def _retry(problems: list[str], previous: str) -> str:
    lines = "\n".join(f"- {p}" for p in problems)
    return (f"\nYour previous sentence was rejected:\n{previous}\nbecause:\n{lines}\n"
            "Write it again and fix these problems.\n")


def _ended(text: str, cap: int) -> str:
    """A model's sentence with its final period: added when the model left it off, not when
    the text ran into the length cap (then it was cut, and the checks must see that)."""
    text = _clean(text)
    if text and not text.endswith((".", "!", "?")) and len(text) < 0.9 * cap:
        return text + "."
    return text


def _clean(text: str) -> str:
    return " ".join(text.split()).strip()


def _finish(text: str) -> str:
    text = _clean(text)
    return text if text.endswith((".", "!", "?")) else text + "."


def complete_sentences(text: str) -> str:
    """Drop a trailing fragment left when a length cap cut a sentence off.

    The cap is flashnews' own, so the fragment is an artifact of it, not something the model
    meant to say; a body with no complete sentence is kept whole.
    """
    text = _clean(text).rstrip("}]\"' ")
    if text.endswith((".", "!", "?", ")")):
        return text
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s)", text)]
    if ends:
        log.info("cut an unfinished sentence after %d characters", ends[-1])
        return text[: ends[-1]]
    if ", " in text:  # one sentence cut inside a list: drop the unfinished last item
        log.info("cut an unfinished list item after %d characters", text.rindex(", "))
        return text[: text.rindex(", ")] + "."
    return text


def _is_title(headline: str, paper: Paper) -> bool:
    """Whether a headline merely repeats the paper's title or name."""
    return _title_like(headline, paper.title)


def _title_like(headline: str, title: str) -> bool:
    head = set(re.findall(r"[a-z0-9]+", headline.lower()))
    words = set(re.findall(r"[a-z0-9]+", title.lower()))
    return not head or len(head & words) >= 0.6 * len(head)


def _named(item: DraftItem, paper: Paper) -> str:
    """The name the body starts with, when it can carry the link (it names the paper)."""
    from flashnews.text.grounding import name_matches

    name = item.name
    if name and _clean(item.body).startswith(name) and name_matches(name, paper.title):
        return name
    return ""


def render(date: dt.date, fmt: Format, lead: str, items: list[DraftItem],
           papers: dict[str, Paper], assessments: dict[str, Assessment],
           themes: list[ThemeText] | None = None) -> str:
    """The bulletin's Markdown, from prose pieces and the records they are about."""

    def bold(i: DraftItem) -> str:
        head = _clean(i.headline).rstrip(".")
        return "" if _is_title(head, papers[i.paper_id]) else f"**{head}.** "

    def link(pid: str, text: str | None = None) -> str:
        return f"[{text or papers[pid].short_name}]({papers[pid].link})"

    def score(pid: str) -> str:
        return f"Score: {assessments[pid].score} | Hype: {assessments[pid].hype}"

    def lead_in(i: DraftItem) -> str:
        """The item's text with its link: on the name it starts with, else before it."""
        body = _finish(i.body)
        name = _named(i, papers[i.paper_id])
        if name:
            return f"{link(i.paper_id, name)}{body[len(name):]}"
        return f"**{link(i.paper_id)}**: {body}"

    main = [i for i in items if i.section == "main"]
    also = [i for i in items if i.section == "also"]
    out = [f"# {TITLE}", f"**{date.isoformat()}**" + (" · digest" if fmt == "digest" else ""), ""]
    if lead:
        out += [_finish(lead), ""]
    if fmt == "flash":
        for i in main:
            out += [f"{bold(i)}{lead_in(i)} {score(i.paper_id)}", ""]
        if also:
            out += ["**Also notable**", ""]
            out += [f"- {lead_in(i)} {score(i.paper_id)}" for i in also]
            out.append("")
    else:
        out += ["## Highlights", ""]
        for i in main:
            out += [f"### {_clean(i.headline).rstrip('.') or papers[i.paper_id].short_name}", "",
                    f"{link(i.paper_id)} · {score(i.paper_id)}", "", _finish(i.body), ""]
        out += ["## Also Noteworthy", ""]
        out += [f"- **{link(i.paper_id)}** · {score(i.paper_id)} — {_finish(i.body)}"
                for i in also]
        out += ["", "## Cross-Cutting Themes", ""]
        for t in themes or []:
            cites = ", ".join(link(pid) for pid in t.paper_ids)
            out += [f"**{_clean(t.title).rstrip('.')}.** {_finish(t.text)} ({cites})", ""]
        if not themes:
            out += [f"_{NO_THEMES}_", ""]
    return "\n".join(out).rstrip() + "\n"


class Writer:
    """Writes and revises drafts with the injected writer model."""

    def __init__(self, models: Models, phrasing: Phrasing | None = None) -> None:
        self.models = models
        self.phrasing: Phrasing = phrasing or cast(
            Phrasing, getattr(models.settings, "writer_phrasing", "headline"))

    # one sentence ----------------------------------------------------------------------------
    def headline(self, prompt: prompts.Prompt, system: SystemMessage, *, arxiv_id: str,
                 title: str, sentence: str, abstract: str, feedback: str = "") -> str:
        """The model's headline for code's sentence: kept only when code's checks pass it (a
        few words, third person, no ungrounded number, not chatter); else no headline."""
        # The title is left out of the prompt: given it, the model restates it.
        out = self.models.structured("writer", Headline, [system, HumanMessage(prompt.render(
            "headline", arxiv_id=arxiv_id, sentence=injection.neutralise(sentence),
            feedback=feedback))],
            prompt_hash=prompt.hash)
        head = _clean(out.headline).rstrip(".")
        if headline_ok(head, abstract, title) and not _title_like(head, title):
            return head
        log.info("writer: dropped the headline %r for %s", head, arxiv_id)
        return ""

    def phrase(self, prompt: prompts.Prompt, system: SystemMessage, *, arxiv_id: str,
               title: str, abstract: str, found: ItemFacts, max_words: int,
               feedback: str = "", with_headline: bool = True) -> Written:
        """The headline and "what it does" sentence of one paper.

        `headline` (the default): code's sentence, the model's headline. `model`: the model's
        phrasing of code's facts when it passes every check (asked once more with the
        problems), else code's. `code`: code alone. Measured on the embedded model
        (docs/evals.md): its rephrasings copied the abstract or dropped the method's name on 6 of 6
        items, so code's sentence is the default."""
        contrib = found.contribution
        code_what = facts.what_sentence(contrib, title, abstract, max_words)
        notes: list[str] = []
        # Whole sentences only: code's phrasing when the parser finds it whole, else another
        # whole candidate, else the least the item can say (never a fragment).
        chosen, rejected = candidates.choose(
            candidates.what_candidates(code_what, title, abstract, max_words,
                                       prefer=contrib.source), abstract,
            max_words=max_words + 3)
        if rejected:
            log.info("writer: %s: passed over %s", arxiv_id, "; ".join(rejected)[:300])
        if chosen:
            code_what = chosen
        else:
            notes.append("no whole sentence says what the paper does: " + rejected[0][:160])
        if not contrib.found:
            notes.append("no contribution sentence in the abstract: the item states only what "
                         "the title says")
        if self.phrasing != "model" or not contrib.found:
            head = ""
            if self.phrasing == "headline" and contrib.found and with_headline:
                head = self.headline(prompt, system, arxiv_id=arxiv_id, title=title,
                                     sentence=code_what, abstract=abstract, feedback=feedback)
            return Written(headline=head, what=code_what, result="", name=found.name,
                           notes=notes, by="code")
        schema = item_schema(max_words * 9)
        extra = feedback
        previous = ""
        calls = 0
        problems: list[str] = []
        for _ in (1, 2):
            human = prompt.render("item", arxiv_id=arxiv_id,
                                  title=injection.neutralise_title(title),
                                  sentence=injection.neutralise(contrib.what),
                                  subject=found.subject,
                                  max_words=max_words,
                                  feedback=extra + (_retry(problems, previous) if previous
                                                    else ""))
            try:
                out = self.models.structured("writer", schema, [system, HumanMessage(human)],
                                             prompt_hash=prompt.hash)
            except ModelError as exc:
                if "invalid output" not in str(exc):
                    raise  # the endpoint failed: the node fails and resumes
                problems = [str(exc)]
                calls += 2
                break
            calls += 1
            what = _ended(out.what, max_words * 9)
            problems = what_problems(what, abstract, subject=found.subject,
                                     max_words=max_words)
            if not problems:
                head = _clean(out.headline).rstrip(".")
                head = head if headline_ok(head, abstract, title) else ""
                return Written(headline=head, what=what,
                               result="", name=found.name, notes=notes, by="model",
                               calls=calls)
            log.info("writer: rejected the sentence for %s: %s", arxiv_id, "; ".join(problems))
            previous = what or out.what
        notes.append("the model's sentence was rejected twice (" + "; ".join(problems)[:200]
                     + "): code's phrasing is used")
        log.warning("writer: %s: %s", arxiv_id, notes[-1])
        return Written(headline="", what=code_what, result="", name=found.name, notes=notes,
                       by="code", calls=calls)

    def what_it_does(self, *, arxiv_id: str, title: str, abstract: str,
                     found: ItemFacts | None = None, max_words: int = 22) -> Written:
        """An item's "what it does" sentence alone (the SciTLDR eval task), as a flash item's."""
        prompt = prompts.load("writer_flash")
        system = SystemMessage(prompt.render("system"))
        found = found or item_facts(title, abstract, k=0)
        return self.phrase(prompt, system, arxiv_id=arxiv_id, title=title, abstract=abstract,
                           found=found, max_words=max_words, with_headline=False)

    def item(self, prompt: prompts.Prompt, system: SystemMessage, paper: Paper, fmt: Format,
             section: str, *, feedback: str = "", position: int = 0) -> Written:
        """One item: the "what it does" sentence, then a result quoted with its own clause."""
        key = (fmt, section)
        # What addresses the model instead of describing research (agents/injection.py) is no
        # fact of the paper: the writer reads the abstract without it.
        paper = paper.model_copy(update={"title": injection.clean_text(paper.title),
                                         "abstract": injection.without_injections(paper.abstract)})
        found = item_facts(paper.title, paper.abstract, k=RESULTS[key])
        budget = ITEM_WORDS[key]
        result = self._whole_result(paper.abstract, budget - 10, found.name) \
            if found.numbered else ""
        max_words = min(WHAT_WORDS[key], budget - len(result.split()))
        written = self.phrase(prompt, system, arxiv_id=paper.arxiv_id, title=paper.title,
                              abstract=paper.abstract, found=found, max_words=max_words,
                              feedback=feedback, with_headline=section == "main")
        written.result = result
        bad = [s.message for s in ground_text(written.body, paper.abstract) if not s.ok]
        if bad:  # code's own sentence must ground; say so rather than publish it silently
            written.notes.append("numbers the critic may not match: " + "; ".join(bad)[:200])
        if found.numbered and not result:
            written.notes.append("the abstract states a numbered result the item does not quote")
        return written

    @staticmethod
    def _whole_result(abstract: str, max_words: int, name: str = "") -> str:
        """A figure quoted with its own clause of the abstract (metric, setting and baseline
        as the abstract binds them), whole and within the budget; else no figure.

        Code's list of result phrases ("It reports 2.10x improvement and 14.3x gain") is no
        longer a candidate: on the labelled items 41 of its 66 sentences put a figure under
        the wrong metric, or under none, or lost its setting or baseline (docs/writing.md)."""
        options = candidates.result_clauses(abstract, "It", max_words, name)
        chosen, rejected = candidates.choose(options, abstract, max_words=max(max_words, 8),
                                             min_words=3, max_copy=candidates.RESULT_MAX_COPY)
        if rejected:
            log.info("writer: result sentences passed over: %s", "; ".join(rejected)[:300])
        return chosen

    # the draft -------------------------------------------------------------------------------
    def write(self, *, edition_id: str, date: dt.date, fmt: Format, selection: Selection,
              papers: dict[str, Paper], assessments: dict[str, Assessment],
              previous: Draft | None = None, findings: list[Finding] | None = None,
              themes: list[ThemeText] | None = None, want_themes: bool = True,
              progress: Callable[[int, int], None] | None = None,
              instruction: str | None = None, rewrite_all: bool = False
              ) -> tuple[Draft, list[ThemeText]]:
        """Write a draft, or revise `previous`: items with findings are rewritten, others kept.

        `rewrite_all` (the editor's `rewrite`) writes every item, the lead and the themes again;
        `instruction` is the editor's request, added to each of those prompts.
        """
        prompt = prompts.load(f"writer_{fmt}")
        findings = findings or []
        system = SystemMessage(prompt.render("system"))
        old = {i.paper_id: i for i in previous.items} if previous else {}
        items: list[DraftItem] = []
        plan: list[tuple[str, Literal["main", "also"]]] = [
            *((pid, "main") for pid in selection.main), *((pid, "also") for pid in selection.also)]
        for n, (pid, section) in enumerate(plan, start=1):
            mine = [f for f in findings if f.item == pid and f.check != "writer"]
            # Prose quoted from the abstract (an item pinned at review) is always written.
            if pid in old and old[pid].section == section and not mine and not rewrite_all \
                    and old[pid].origin == "writer":
                items.append(old[pid])
                continue
            w = self.item(prompt, system, papers[pid], fmt, section,
                          feedback=_feedback(mine) + _instruction(instruction), position=n - 1)
            items.append(DraftItem(paper_id=pid, headline=w.headline, body=w.body,
                                   section=section, name=w.name,
                                   notes=w.notes))
            if progress:
                progress(n, len(plan))
        general = [f for f in findings if f.item is None and f.check != "writer"]
        lead = previous.lead if previous and not general and not rewrite_all else ""
        notes = list(previous.notes) if previous and lead else []
        if not lead:
            lead, notes = self._lead(prompt, system, items, papers,
                                     _feedback(general) + _instruction(instruction))
        if fmt == "digest" and want_themes and (themes is None or general or rewrite_all):
            themes, theme_notes = self._themes(prompt, system, items, papers, general,
                                               instruction)
            notes += theme_notes
        md = render(date, fmt, lead, items, papers, assessments, themes)
        draft = Draft(edition_id=edition_id, format=fmt, round=(previous.round + 1) if previous
                      else 1, lead=lead, items=items, markdown=md, prompt_hash=prompt.hash,
                      notes=notes)
        return draft, themes or []

    def _lead(self, prompt: prompts.Prompt, system: SystemMessage, items: list[DraftItem],
              papers: dict[str, Paper], extra: str) -> tuple[str, list[str]]:
        """One complete sentence of at most 25 words, checked by code (asked once more with
        the problems, then code's own plain lead, with a note)."""
        # Headlines (else the "what" sentences) only: given paper names, a small model strings
        # them into a list.
        lines = [f"- {_clean(i.headline) or _clean(i.body).split('. ')[0]}" for i in items
                 if i.section == "main"]
        summary = "\n".join(lines)
        if self.phrasing == "code":
            return _code_lead(items), []
        problems: list[str] = []
        previous = ""
        for _ in (1, 2):
            feedback = extra + (_retry(problems, previous) if previous else "")
            lead = self.models.structured("writer", LeadLine, [system, HumanMessage(
                prompt.render("lead", items=summary, feedback=feedback))],
                prompt_hash=prompt.hash).lead
            # A list the model left without its "and" is closed by code (before the checks,
            # so the added word counts against the 25).
            lead = facts.close_list(_ended(lead, 240))
            problems = lead_problems(lead)
            if problems and all("the limit is" in p for p in problems):
                # A complete sentence that is only too long: code cuts it at a clause boundary.
                cut = facts.shorten(lead, LEAD_WORDS)
                # A cut at ", and …" leaves the list before it without its "and".
                for short in (facts.close_list(cut), cut):
                    if not lead_problems(short):
                        log.info("writer: shortened the lead %r to %r", lead, short)
                        return short, []
            if not problems:
                return lead, []
            log.info("writer: rejected the lead %r: %s", lead, "; ".join(problems))
            previous = lead
        note = ("the model's lead was rejected twice (" + "; ".join(problems)[:160]
                + "): a plain lead by code is used")
        log.warning("writer: %s", note)
        return _code_lead(items), [note]

    def _themes(self, prompt: prompts.Prompt, system: SystemMessage, items: list[DraftItem],
                papers: dict[str, Paper], findings: list[Finding],
                instruction: str | None = None) -> tuple[list[ThemeText], list[str]]:
        """Themes chosen among the phrases the items share (agents/themes.py), each citing its
        papers by code; none when no phrase is shared (the section then says so)."""
        ids = [i.paper_id for i in items]
        kept, _ = themes.choose(self.models if self.phrasing != "code" else None, ids, papers)
        out = [ThemeText(title=c.label[:1].upper() + c.label[1:], text=themes.sentence(c),
                         paper_ids=c.paper_ids) for c in kept]
        notes = [] if out else ["no phrase is shared by two or more of the items: the digest "
                                "says it has no cross-cutting theme"]
        return out, notes


_COUNT = ["No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"]


def _code_lead(items: list[DraftItem]) -> str:
    """Code's plain lead (when the model's failed twice): true of any edition of the beat."""
    n = len([i for i in items if i.section == "main"])
    count = _COUNT[n] if n < len(_COUNT) else "Several"
    return f"{count} new {'paper' if n == 1 else 'papers'} on making LLM inference faster, " \
           "cheaper or more reliable."
