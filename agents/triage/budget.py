"""Budget planning: shrink the writing plan until its estimated cost fits what is left."""

from __future__ import annotations

from flashnews.budget import Budget
from flashnews.models import Selection


def fit_to_budget(selection: Selection, fmt: str, budget: Budget, *, model_review: bool
                  ) -> tuple[Selection, dict[str, bool], list[str]]:
    """Shrink the writing plan until its estimated cost fits what is left of the budget.

    In order: drop also-notable items, skip the digest's themes, skip the model review, drop
    main items down to one. Returns the plan, what to skip, and a note for each step taken.
    Raises BudgetExhausted when not even one item can be written.
    """
    # Per call, what this run has spent so far (conservatively: writer calls read a whole
    # abstract and write prose, so at least 1000 tokens and 5 seconds).
    per_tokens = max(budget.tokens // budget.calls if budget.calls else 0, 1000)
    per_seconds = max(budget.elapsed() / budget.calls if budget.calls else 0.0, 5.0)
    main, also = list(selection.main), list(selection.also)
    skip = {"themes": False, "model_review": not model_review}
    notes: list[str] = []

    def calls() -> int:
        items = len(main) + len(also)
        # The model review asks up to two questions per reviewed item (a flash edition's
        # one-line also-notable items are not reviewed).
        reviewed = len(main) if fmt == "flash" else items
        return (items + 1 + (fmt == "digest" and not skip["themes"])
                + (0 if skip["model_review"] else 2 * reviewed))

    def fits() -> bool:
        n = calls()
        return budget.allows(n, n * per_tokens, n * per_seconds)

    dropped = 0
    while not fits() and also:
        also.pop()
        dropped += 1
    if dropped:
        notes.append(f"budget: {dropped} also-noteworthy item(s) left out")
    if not fits() and fmt == "digest":
        skip["themes"] = True
        notes.append("budget: no cross-cutting themes")
    if not fits() and not skip["model_review"]:
        skip["model_review"] = True
        notes.append("budget: no model review (deterministic checks only)")
    before = len(main)
    while not fits() and len(main) > 1:
        main.pop()
    if len(main) < before:
        notes.append(f"budget: {len(main)} main item(s) instead of {before}")
    if not fits():
        from flashnews.errors import BudgetExhausted

        raise BudgetExhausted(f"budget too small to write even one item (~{calls()} calls of "
                              f"~{per_tokens} tokens and ~{per_seconds:.0f} s each)",
                              step="select")
    return Selection(main=main, also=also), skip, notes
