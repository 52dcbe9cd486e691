"""Critic: deterministic checks first (tools/grounding.py), then a model review of claims.

The model review asks the critic model one yes/no question per claim sentence of an item — does
the abstract support this sentence? — with the abstract sentences that bear on it, and reads the
answer's token probability (`Models.yes_no`). A sentence whose P(yes) falls below the
calibrated threshold (`FLASHNEWS_CRITIC_THRESHOLD`, set on the eval data, see docs/evals.md) is
a finding with the sentence, the abstract sentences and P(yes) as evidence. It sees what code
cannot (a paraphrased wrong claim, an overstatement), but on the evals it also flags a third of
the sentences the abstract does support, so its findings are advisory (warnings); blocking
findings come from code.

Cost: at most `per_item` questions per main item (two by default: a flash edition's five main
items cost at most ten short calls), each a few abstract sentences long.
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from flashnews import prompts
from flashnews.agents import injection
from flashnews.models import Assessment, Draft, DraftItem, Finding, Paper
from flashnews.text import claims
from flashnews.text.grounding import check_bulletin, content_words, source_sentences
from flashnews.tools.llm import Models, NoLogprobs

_IN_WORDS: weakref.WeakSet[Models] = weakref.WeakSet()
"""Endpoints that returned no token probabilities: the critic asks them in words."""
THRESHOLD = 0.49
"""P(yes) below which a claim is reported (calibrated on the evals; docs/evals.md)."""


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


def claim_sentences(text: str, limit: int = 2) -> list[str]:
    """The sentences of an item that claim something (content words, not a bare list of
    names), in order, at most `limit`."""
    out = []
    for s in claims.sentences(" ".join(text.split())):
        s = s.strip()
        if len(content_words(s)) >= 3:
            out.append(s)
    return out[:limit]


def relevant_sentences(claim: str, paper: Paper, k: int = 3) -> list[str]:
    """The abstract sentences that bear on a claim, in the abstract's order: those sharing
    most of its content words, and those stating its numbers."""
    words = set(content_words(claim))
    sents = source_sentences(paper)[1:]  # the title is given apart
    scored = sorted(range(len(sents)), key=lambda i: -len(words & set(content_words(sents[i]))))
    keep = set(scored[:k])
    for s in claims.ground_text(claim, paper.abstract):
        if s.evidence in sents:
            keep.add(sents.index(s.evidence))
    return [sents[i] for i in sorted(keep)][:k + 1]


@dataclass
class ClaimCheck:
    """One claim sentence of an item, asked about, with the model's P(yes)."""

    paper_id: str
    claim: str
    sentences: list[str]
    p_yes: float

    def flagged(self, threshold: float) -> bool:
        return self.p_yes < threshold


class Verdict(BaseModel):
    """Whether the abstract supports the sentence (endpoints without token probabilities)."""

    supported: bool


def ask(models: Models, paper: Paper, claim: str, *, prompt: prompts.Prompt | None = None,
        sentences: list[str] | None = None) -> ClaimCheck:
    """Ask the critic model whether the abstract supports one sentence about the paper, given
    the abstract sentences that bear on it (`sentences`, by default those of the claim)."""
    prompt = prompt or prompts.load("critic")
    sents = sentences if sentences is not None else relevant_sentences(claim, paper)
    messages = [SystemMessage(prompt.render("system")),
                HumanMessage(prompt.render(
                    "support", arxiv_id=paper.arxiv_id,
                    # The abstract is data: neutralised as in every other role's paper block.
                    title=injection.neutralise_title(paper.title),
                    sentences=injection.neutralise(" ".join(sents)), claim=claim))]
    p: float | None = None
    if models not in _IN_WORDS:
        try:
            p = models.yes_no("critic", messages, prompt_hash=prompt.hash)
        except NoLogprobs:
            _IN_WORDS.add(models)  # ask this endpoint in words from now on
    if p is None:
        # An endpoint without token probabilities answers in words: P(yes) is 1 or 0.
        p = 1.0 if models.structured("critic", Verdict, messages,
                                     prompt_hash=prompt.hash).supported else 0.0
    return ClaimCheck(paper.arxiv_id, claim, sents, round(p, 4))


def review_items(models: Models, items: list[DraftItem], papers: dict[str, Paper], *,
                 per_item: int = 2) -> list[ClaimCheck]:
    """Ask about the claim sentences of each item (at most `per_item` each)."""
    prompt = prompts.load("critic")
    out = []
    for item in items:
        paper = papers[item.paper_id]
        # One set of abstract sentences for the whole item: the paper block is then the same
        # for its sentences, and a server with prefix caching reads it once.
        sents = relevant_sentences(item.body, paper)
        for claim in claim_sentences(item.body, per_item):
            out.append(ask(models, paper, claim, prompt=prompt, sentences=sents))
    return out


def model_review(models: Models, draft: Draft, papers: dict[str, Paper], *,
                 threshold: float = THRESHOLD, per_item: int = 2) -> list[Finding]:
    """The critic model's findings on a draft: claims the abstract does not support."""
    # The one-line also-notable items of a flash edition get the deterministic checks only.
    items = [i for i in draft.items if draft.format == "digest" or i.section == "main"]
    out = []
    for c in review_items(models, items, papers, per_item=per_item):
        if not c.flagged(threshold):
            continue
        # The evidence is the item's own sentence (the review loop keeps a model finding while
        # its sentence is in the draft); the message gives the abstract's.
        out.append(Finding(
            check="unsupported", severity="warning", item=c.paper_id, source="model",
            evidence=c.claim,
            message=f"the critic model doubts the abstract supports this sentence (P(yes) "
                    f"{c.p_yes:.2f} < {threshold:.2f}); the abstract says: "
                    f"\"{' '.join(c.sentences)}\""))
    return out
