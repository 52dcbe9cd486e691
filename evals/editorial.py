"""Editorial metrics of a written edition, computed by code: what an editor checks first.

Per item: the numbers it quotes (and whether its abstract states a numbered result at all), the
longest run of words copied verbatim from the abstract, first person, whether it states a result,
the word budget. Per edition: the lead is one complete sentence, and the recall of the editors'
headline numbers: the result numbers the house bulletins of the same papers quote (read from
`$FLASHNEWS_EVAL_DATA/reference` at run time, never copied into the project) that the item quotes too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flashnews.agents.writer import ITEM_WORDS, lead_problems
from flashnews.config import eval_data_dir
from flashnews.models import Draft, DraftItem, Paper
from flashnews.text import facts
from flashnews.text.claims import Quantity, ground, ground_text, quantities
from flashnews.text.grounding import blocks_of, prose_of, segments_of

REFERENCE = eval_data_dir() / "reference"
"""The editors' bulletins (`$FLASHNEWS_EVAL_DATA/reference`)."""

_RESULT_CUE = re.compile(r"\b(?:outperform\w*|improv\w*|reduc\w*|speed\w*|faster|cuts?|lower\w*|"
                         r"higher|achiev\w*|reach\w*|report\w*|match\w*|surpass\w*|deliver\w*|"
                         r"recover\w*|find\w*|finds|shows?|beats?|gains?)\b", re.IGNORECASE)


def reference_numbers(papers: dict[str, Paper], ref_dir: Path = REFERENCE,
                      date: str = "2026-02-25") -> dict[str, list[Quantity]]:
    """Per paper id, the result numbers the editors' bulletins of `date` quote for it that its
    abstract states (a setting such as "128K tokens", or a number not in the abstract, is not
    a headline number). Empty when the bulletins are not there."""
    out: dict[str, list[Quantity]] = {}
    for path in sorted(ref_dir.glob(f"bulletin-{date}-*.md")) if ref_dir.is_dir() else []:
        for block in blocks_of(path.read_text(encoding="utf-8")):
            if "theme" in block.section.lower():
                continue
            for seg in segments_of(block):
                paper = papers.get(seg.paper_id)
                if paper is None:
                    continue
                have = out.setdefault(seg.paper_id, [])
                for s in ground_text(prose_of(seg.text), paper.abstract):
                    q = s.quantity
                    if not s.ok or q.role != "result" or q.unit in ("", "count"):
                        continue
                    if not any(round(h.value, 6) == round(q.value, 6) and h.unit == q.unit
                               for h in have):
                        have.append(q)
    return out


def item_text(item: DraftItem) -> str:
    return " ".join(p for p in (item.headline.strip().rstrip("."), item.body) if p)


def item_metrics(item: DraftItem, paper: Paper, fmt: str,
                 refs: dict[str, list[Quantity]] | None = None) -> dict[str, Any]:
    """The editorial figures of one written item."""
    text = item_text(item)
    checked = ground_text(text, paper.abstract)
    results = [s for s in checked if s.quantity.role == "result"
               and s.quantity.unit not in ("", "count")]
    run, copied = facts.longest_copy(text, paper.abstract)
    wanted = (refs or {}).get(item.paper_id)
    mine = quantities(text)
    hits = [q for q in wanted or [] if ground(q, mine).ok]
    return {
        "numbers": sum(s.ok for s in results),
        "ungrounded": sum(not s.ok for s in checked),
        "numbered_abstract": facts.has_numbered_result(paper.abstract),
        "copy": run, "copied": copied,
        "first_person": bool(facts.first_person(text)),
        "states_result": bool(results) or bool(_RESULT_CUE.search(item.body)),
        "words": len(item.body.split()),
        "within_budget": len(item.body.split()) <= ITEM_WORDS[(fmt, item.section)],
        "ref_numbers": len(wanted) if wanted is not None else None,
        "ref_hits": len(hits) if wanted is not None else None,
        "fallback": bool(item.notes),
    }


def edition_metrics(draft: Draft, papers: dict[str, Paper],
                    refs: dict[str, list[Quantity]] | None = None) -> dict[str, Any]:
    """Editorial metrics of one written edition (and its items' rows)."""
    rows = [{"item": i.paper_id, **item_metrics(i, papers[i.paper_id], draft.format, refs)}
            for i in draft.items]
    numbered = [r for r in rows if r["numbered_abstract"]]
    covered = [r for r in rows if r["ref_numbers"]]
    n = len(rows)
    return {
        "items": n,
        "numbers_per_item": sum(r["numbers"] for r in rows) / n if n else None,
        "quotes_when_numbered": (sum(r["numbers"] > 0 for r in numbered) / len(numbered)
                                 if numbered else None),
        "headline_recall": (sum(r["ref_hits"] for r in covered) /
                            sum(r["ref_numbers"] for r in covered)) if covered else None,
        "max_copy": max((r["copy"] for r in rows), default=0),
        "first_person_items": sum(r["first_person"] for r in rows),
        "result_items": sum(r["states_result"] for r in rows) / n if n else None,
        "within_budget": sum(r["within_budget"] for r in rows) / n if n else None,
        "ungrounded_numbers": sum(r["ungrounded"] for r in rows),
        "lead_complete": not lead_problems(draft.lead) if draft.lead else False,
        "fallbacks": sum(r["fallback"] for r in rows),
        "rows": rows,
    }
