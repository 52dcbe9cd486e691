"""Grounding rate of an edition's drafts, round by round, from its checkpoint history.

`python -m bench.grounding 2026-02-25-flash [--home DIR]`: for every draft the writer produced
(first draft, then each revision after the critic), the share of numbers in the items that
an abstract sentence of the paper the item is about states (same value, unit and metric), the
items with blocking findings, and
the findings by check.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

from flashnews.config import Settings
from flashnews.service import EditionService
from flashnews.state import view
from flashnews.text import grounding
from flashnews.text.grounding import (
    blocks_of,
    check_bulletin,
    ground_numbers,
    prose_of,
    segments_of,
)


def rounds(edition_id: str, settings: Settings) -> list[dict[str, Any]]:
    service = EditionService(settings)
    try:
        from flashnews.graphs.checkpoint import open_checkpointer
        from flashnews.graphs.edition import build_graph

        papers = service.store.papers(edition_id)
        with open_checkpointer(settings) as saver:
            graph = build_graph(saver)
            history = list(graph.get_state_history({"configurable": {"thread_id": edition_id}}))
    finally:
        service.close()
    drafts: dict[int, dict] = {}
    for snap in reversed(history):  # oldest first; the last state of each round wins
        d = snap.values.get("draft")
        if d:
            drafts[d["round"]] = snap.values
    out = []
    for rnd, values in sorted(drafts.items()):
        state = view(values)
        draft, scores = state.draft, state.assessments
        assert draft is not None
        total = grounded = 0
        for block in blocks_of(draft.markdown):
            for seg in segments_of(block):
                if seg.paper_id not in papers:
                    continue
                for e in ground_numbers(prose_of(seg.text), papers[seg.paper_id]):
                    total += 1
                    grounded += e.ok
        findings = check_bulletin(draft.markdown, papers=papers, assessments=scores,
                                  fmt=draft.format, date=dt.date.fromisoformat(edition_id[:10]))
        blocking = grounding.blocking(findings)
        out.append({"round": rnd, "numbers": total, "grounded": grounded,
                    "rate": round(grounded / total, 3) if total else None,
                    "items": len(draft.items),
                    "items_blocked": len({f.item for f in blocking if f.item}),
                    "blocking": len(blocking),
                    "by_check": dict(Counter(f.check for f in findings))})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("edition")
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()
    settings = Settings(home=args.home) if args.home else Settings()
    print(json.dumps(rounds(args.edition, settings), indent=2))


if __name__ == "__main__":
    main()
