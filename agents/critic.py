"""Critic: deterministic checks first (tools/grounding.py), then a model review.

The model review reports mischaracterization, overclaiming and tone. Its findings are advisory
(severity warning) and must quote the item they concern: a finding whose quote is not in the draft
is the critic's own invention and is dropped. Blocking findings come from code.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Literal

from flashnews.agents import injection
from flashnews.tools.grounding import check_bulletin
from flashnews.tools.llm import Models
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from flashnews import prompts
from flashnews.models import Assessment, Draft, Finding, Paper

log = logging.getLogger(__name__)


class ModelFinding(BaseModel):
    arxiv_id: str = Field(description="the arXiv id of the item with the problem")
    kind: Literal["mischaracterization", "overclaiming", "tone"]
    problem: str = Field(description="one sentence", max_length=240)
    quote: str = Field(description="the words of the item that show the problem, copied exactly",
                       max_length=240)


class Review(BaseModel):
    """Problems found in the draft's items; an empty list when there are none."""

    findings: list[ModelFinding] = Field(default_factory=list, max_length=8)


def deterministic(draft: Draft, *, date: dt.date, papers: dict[str, Paper],
                  assessments: dict[str, Assessment], selected: set[str]) -> list[Finding]:
    return check_bulletin(draft.markdown, papers=papers, assessments=assessments,
                          fmt=draft.format, date=date, selected=selected) + writer_notes(draft)


def writer_notes(draft: Draft) -> list[Finding]:
    """The writer's own notes (a fallback it took) as warnings the editor sees: nothing the
    writer could not do as asked is published silently."""
    out = [Finding(check="writer", severity="warning", item=i.paper_id, message=note)
           for i in draft.items for note in i.notes]
    out += [Finding(check="writer", severity="warning", message=note) for note in draft.notes]
    return out


def _brief(paper: Paper) -> str:
    """What the critic needs of an abstract: its result sentences (its opening if none).

    Whole abstracts of every item would cost a small local model most of a minute per draft;
    the claims that items overstate are in these sentences.
    """
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", paper.abstract)]
    results = [s for s in sentences if re.search(r"\d", s)]
    return " ".join(results[:3] or sentences[:1])


def model_review(models: Models, draft: Draft, papers: dict[str, Paper],
                 per_call: int = 8) -> list[Finding]:
    """Ask the critic model about characterization, overclaiming and tone."""
    prompt = prompts.load("critic")
    texts = {i.paper_id: f"{i.headline} {i.body}".lower() for i in draft.items}
    # The one-line also-notable items of a flash edition get the deterministic checks only:
    # the model review costs a small local model a second per line of input.
    items = [i for i in draft.items if draft.format == "digest" or i.section == "main"]
    out = []
    for start in range(0, len(items), per_call):
        blocks = []
        for item in items[start:start + per_call]:
            p = papers[item.paper_id]
            blocks.append(injection.paper_block(p, abstract=_brief(p),
                                                label="Key sentences of the abstract")
                          + f"\nItem: {item.headline}. {item.body}")
        review = models.structured("critic", Review, [
            SystemMessage(prompt.render("system")),
            HumanMessage(prompt.render("review", items="\n\n".join(blocks)))],
            prompt_hash=prompt.hash)
        for f in review.findings:
            quote = " ".join(f.quote.split()).lower().strip(" .\"'")
            text = " ".join(texts.get(f.arxiv_id, "").split())
            if not quote or quote not in text:
                log.info("dropped critic finding without a quote from the item: %s", f)
                continue
            out.append(Finding(check=f.kind, severity="warning", item=f.arxiv_id, source="model",
                               evidence=f.quote, message=f.problem))
    return out
