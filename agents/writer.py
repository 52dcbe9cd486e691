"""Writer: the model writes each item's prose; code renders the bulletin around it.

Links, paper names, scores and sections are rendered from the selection and the assessments, so
they cannot drift from the sources. On a revision round only the items (or lead, or themes) that
have findings are rewritten, with those findings as feedback; the rest is kept as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from functools import cache

from flashnews.agents import injection
from flashnews.agents.triage import Selection
from flashnews.tools.grounding import TITLE
from flashnews.tools.llm import Models
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, create_model

from flashnews import prompts
from flashnews.models import Assessment, Draft, DraftItem, Finding, Format, Paper

# Word budgets per item: short items keep the house style and a small local model's output fast.
log = logging.getLogger(__name__)
ITEM_WORDS = {("flash", "main"): 35, ("flash", "also"): 20, ("digest", "main"): 90,
              ("digest", "also"): 35}


class ItemText(BaseModel):
    """The prose of one bulletin item."""

    headline: str = Field(description="3 to 8 words naming the idea", max_length=80)
    body: str = Field(description="what the work does and its headline result")


@cache
def item_schema(max_chars: int) -> type[ItemText]:
    """ItemText with a length cap on the body. On llama.cpp the cap is part of the grammar, so a
    small model cannot ramble past its token limit and leave a truncated (invalid) call."""
    return create_model("ItemText", __base__=ItemText, body=(str, Field(
        description="what the work does and its headline result", max_length=max_chars)))


class LeadLine(BaseModel):
    """The bulletin's one-line lead."""

    lead: str = Field(description="one sentence, no numbers, no paper names", max_length=220)


class Theme(BaseModel):
    title: str = Field(description="a short title", max_length=80)
    text: str = Field(description="two sentences", max_length=400)
    arxiv_ids: list[str] = Field(description="ids of at least two items that show the theme")


class Themes(BaseModel):
    """Cross-cutting themes of a digest."""

    themes: list[Theme] = Field(max_length=3)


class ThemeText(BaseModel):
    title: str
    text: str
    paper_ids: list[str]


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


def _clean(text: str) -> str:
    return " ".join(text.split()).strip()


def _finish(text: str) -> str:
    text = _clean(text)
    return text if text.endswith((".", "!", "?")) else text + "."


def complete_sentences(text: str) -> str:
    """Drop a trailing fragment left when the length cap cut a sentence off.

    The cap is flashnews' own (see item_schema), so the fragment is an artifact of it, not
    something the model meant to say; a body with no complete sentence is kept whole.
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
    head = set(re.findall(r"[a-z0-9]+", headline.lower()))
    title = set(re.findall(r"[a-z0-9]+", paper.title.lower()))
    return not head or len(head & title) >= 0.6 * len(head)


def render(date: dt.date, fmt: Format, lead: str, items: list[DraftItem],
           papers: dict[str, Paper], assessments: dict[str, Assessment],
           themes: list[ThemeText] | None = None) -> str:
    """The bulletin's Markdown, from prose pieces and the records they are about."""

    def bold(i: DraftItem) -> str:
        head = _clean(i.headline).rstrip(".")
        return "" if _is_title(head, papers[i.paper_id]) else f"**{head}.** "

    def link(pid: str) -> str:
        return f"[{papers[pid].short_name}]({papers[pid].link})"

    def score(pid: str) -> str:
        return f"Score: {assessments[pid].score} | Hype: {assessments[pid].hype}"

    main = [i for i in items if i.section == "main"]
    also = [i for i in items if i.section == "also"]
    out = [f"# {TITLE}", f"**{date.isoformat()}**" + (" · digest" if fmt == "digest" else ""), ""]
    if lead:
        out += [_finish(lead), ""]
    if fmt == "flash":
        for i in main:
            out += [f"{bold(i)}**{link(i.paper_id)}**: {_finish(i.body)} {score(i.paper_id)}", ""]
        if also:
            out += ["**Also notable**", ""]
            out += [f"- **{link(i.paper_id)}**: {_finish(i.body)} {score(i.paper_id)}"
                    for i in also]
            out.append("")
    else:
        out += ["## Highlights", ""]
        for i in main:
            out += [f"### {_clean(i.headline).rstrip('.')}", "",
                    f"{link(i.paper_id)} · {score(i.paper_id)}", "", _finish(i.body), ""]
        out += ["## Also Noteworthy", ""]
        out += [f"- **{link(i.paper_id)}** · {score(i.paper_id)} — {_finish(i.body)}"
                for i in also]
        out += ["", "## Cross-Cutting Themes", ""]
        for t in themes or []:
            cites = ", ".join(link(pid) for pid in t.paper_ids)
            out += [f"**{_clean(t.title).rstrip('.')}.** {_finish(t.text)} ({cites})", ""]
        if not themes:
            out += ["_Left out to stay within this run's budget._", ""]
    return "\n".join(out).rstrip() + "\n"


class Writer:
    """Writes and revises drafts with the injected writer model."""

    def __init__(self, models: Models) -> None:
        self.models = models

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
        plan = [(pid, "main") for pid in selection.main] + [(pid, "also") for pid in selection.also]
        for n, (pid, section) in enumerate(plan, start=1):
            mine = [f for f in findings if f.item == pid]
            # Prose quoted from the abstract (an item pinned at review) is always written.
            if pid in old and old[pid].section == section and not mine and not rewrite_all \
                    and old[pid].origin == "writer":
                items.append(old[pid])
                continue
            paper = papers[pid]
            words = ITEM_WORDS[(fmt, section)]
            # ~7 characters a word, with room to finish the sentence.
            schema = item_schema(words * 9)
            text = self.models.structured("writer", schema, [system, HumanMessage(prompt.render(
                "item", arxiv_id=pid, title=injection.neutralise_title(paper.title),
                abstract=injection.neutralise(paper.abstract),
                feedback=_feedback(mine) + _instruction(instruction), max_words=words))],
                prompt_hash=prompt.hash)
            items.append(DraftItem(paper_id=pid, headline=text.headline,
                                   body=complete_sentences(text.body),
                                   section=section))  # type: ignore[arg-type]
            if progress:
                progress(n, len(plan))
        general = [f for f in findings if f.item is None]
        # Headlines only: given paper names, a small model strings them into a list.
        summary = "\n".join(f"- {_clean(i.headline)}" for i in items if i.section == "main")
        lead = previous.lead if previous and not general and not rewrite_all else ""
        if not lead:
            lead = self.models.structured("writer", LeadLine, [system, HumanMessage(
                prompt.render("lead", items=summary) + _feedback(general)
                + _instruction(instruction))],
                prompt_hash=prompt.hash).lead
            lead = complete_sentences(lead)
        if fmt == "digest" and want_themes and (themes is None or general or rewrite_all):
            themes = self._themes(prompt, system, items, papers, general, instruction)
        md = render(date, fmt, lead, items, papers, assessments, themes)
        draft = Draft(edition_id=edition_id, format=fmt, round=(previous.round + 1) if previous
                      else 1, lead=lead, items=items, markdown=md, prompt_hash=prompt.hash)
        return draft, themes or []

    def _themes(self, prompt: prompts.Prompt, system: SystemMessage, items: list[DraftItem],
                papers: dict[str, Paper], findings: list[Finding],
                instruction: str | None = None) -> list[ThemeText]:
        ids = {i.paper_id for i in items}
        listing = "\n".join(f"[{i.paper_id}] {papers[i.paper_id].title}: {_clean(i.body)}"
                            for i in items)

        def check(result: Themes) -> None:
            if not result.themes:
                raise ValueError("give at least one theme")
            for t in result.themes:
                cited = set(t.arxiv_ids)
                if not cited <= ids:
                    raise ValueError(f"theme {t.title!r} cites ids not in the list: "
                                     f"{sorted(cited - ids)}")
                if len(cited) < 2:
                    raise ValueError(f"theme {t.title!r} must cite at least two of the ids")

        result = self.models.structured("writer", Themes, [system, HumanMessage(
            prompt.render("themes", items=listing) + _feedback(findings)
            + _instruction(instruction))],
            prompt_hash=prompt.hash, check=check)
        return [ThemeText(title=t.title, text=t.text, paper_ids=list(dict.fromkeys(t.arxiv_ids)))
                for t in result.themes[:3]]
