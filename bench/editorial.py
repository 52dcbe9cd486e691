"""Editorial metrics of a written edition (the last draft in its checkpoint history).

`python -m bench.editorial 2026-02-25-flash [--home DIR]` prints, as JSON, the metrics of
`evals/editorial.py` for the edition's last draft: numbers per item, items quoting their
abstract's numbered result, headline-number recall against the editors' bulletins of the same
day (on the selected papers they cover; read from $FLASHNEWS_EVAL_DATA/reference), the longest copied run,
first-person items, the lead, and the model calls and tokens of each role from the run ledger.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from flashnews.config import Settings
from flashnews.evals import editorial
from flashnews.models import Draft
from flashnews.service import EditionService
from flashnews.state import view


def last_draft(edition_id: str, settings: Settings) -> tuple[Draft, dict[str, Any], Any]:
    service = EditionService(settings)
    try:
        papers = service.papers(edition_id)
        usage = service.store.usage(edition_id)
        draft = view(service.state(edition_id).values).draft
    finally:
        service.close()
    if draft is None:
        raise SystemExit(f"{edition_id} has no draft")
    return draft, papers, usage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("edition")
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()
    settings = Settings(home=args.home) if args.home else Settings()
    draft, papers, usage = last_draft(args.edition, settings)
    refs = editorial.reference_numbers(papers, date=args.edition[:10])
    out = editorial.edition_metrics(draft, papers, refs)
    out["usage"] = {role: {"calls": u.calls, "input_tokens": u.input_tokens,
                           "output_tokens": u.output_tokens, "seconds": round(u.seconds, 1)}
                    for role, u in usage.items()}
    out["lead"] = draft.lead
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
