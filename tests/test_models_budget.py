"""The run's budget is given to Models when it is built, and every call is checked against it."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from flashnews.budget import Budget
from flashnews.config import Settings
from flashnews.errors import BudgetExhausted
from flashnews.testing import FakeChatModel, fake_factory
from flashnews.tools.llm import Models
from flashnews.tools.store import Store


class Answer(BaseModel):
    value: int


def test_a_budget_given_at_construction_limits_the_calls(settings: Settings) -> None:
    store = Store(settings.db_path)
    fake = FakeChatModel(responder=lambda req: {"value": 1})
    budget = Budget(max_calls=1)
    models = Models(settings, store, "e", factory=fake_factory(fake), budget=budget)
    assert models.budget is budget
    models.structured("writer", Answer, [HumanMessage("q")], prompt_hash="p")
    with pytest.raises(BudgetExhausted, match="budget exhausted before a writer call"):
        models.structured("writer", Answer, [HumanMessage("q")], prompt_hash="p")
    assert len(fake.calls) == 1 and budget.calls == 1
    # No budget: no limit.
    free = Models(settings, store, "e", factory=fake_factory(fake))
    assert free.budget is None
    for _ in range(3):
        free.structured("writer", Answer, [HumanMessage("q")], prompt_hash="p")
    store.close()
