"""The critic model's review: one yes/no question per claim sentence, read by P(yes)."""

from __future__ import annotations

import pytest

from flashnews.agents import critic
from flashnews.evals import metrics, schema
from flashnews.models import Draft, DraftItem
from flashnews.testing import FakeChatModel, Request, fake_factory, grounded_responder
from flashnews.tools.llm import Models
from flashnews.tools.store import Store


def _models(settings, tmp_path, responder=grounded_responder) -> tuple[Models, FakeChatModel,
                                                                       Store]:
    fake = FakeChatModel(responder=responder)
    store = Store(tmp_path / "db.sqlite")
    return Models(settings, store, "e", factory=fake_factory(fake)), fake, store


def _draft(case_id: str) -> Draft:
    _, drafts = schema.read("drafts", schema.DraftCase)
    case = next(c for c in drafts if c.case_id == case_id)
    return Draft(edition_id="e", format=case.fmt, markdown=case.markdown,
                 items=[DraftItem(**i.model_dump()) for i in case.items])


def test_each_claim_sentence_is_one_short_question(settings, tmp_path) -> None:
    models, fake, store = _models(settings, tmp_path)
    draft = _draft("clean-flash")
    found = critic.model_review(models, draft, schema.papers())
    assert found == []
    asked = [c for c in fake.calls if c.kind == "critic"]
    main = [i for i in draft.items if i.section == "main"]
    # One question per sentence of the five main items (one sentence each); also-notable
    # items are not asked about: a flash edition costs at most two questions per main item.
    assert len(asked) == len(main) == 5
    assert all(c.logprobs for c in asked)
    # The abstract stays inside <paper> tags; the sentence comes after it.
    for c in asked:
        text = c.messages[-1]["content"]
        assert text.index("<paper id=") < text.index("</paper>") < text.index("Sentence about")
    assert store.usage("e")["critic"].calls == 5


def test_an_unsupported_sentence_is_an_advisory_finding_with_its_evidence(settings,
                                                                        tmp_path) -> None:
    models, _, _ = _models(settings, tmp_path)
    draft = _draft("overclaim-tom")
    found = critic.model_review(models, draft, schema.papers(), threshold=0.5)
    assert [(f.item, f.check, f.severity, f.source) for f in found] == [
        ("2602.20662", "unsupported", "warning", "model")]
    # The evidence is the item's sentence as it stands in the draft; the message gives P(yes)
    # and the abstract sentences it was asked with.
    assert found[0].evidence in " ".join(draft.markdown.split())
    assert "P(yes)" in found[0].message and "3,306 TPS" in found[0].message


def test_a_threshold_decides_what_is_reported(settings, tmp_path) -> None:
    models, _, _ = _models(settings, tmp_path, responder=lambda r: 0.4 if r.logprobs else
                           grounded_responder(r))
    draft = _draft("clean-flash")
    assert len(critic.model_review(models, draft, schema.papers(), threshold=0.5)) == 5
    assert critic.model_review(models, draft, schema.papers(), threshold=0.3) == []


def test_an_endpoint_without_token_probabilities_answers_in_words(settings, tmp_path) -> None:
    def words_only(r: Request):
        # No logprobs in the answer: the critic falls back to a yes/no function call.
        return {} if r.logprobs else grounded_responder(r)

    models, fake, _ = _models(settings, tmp_path, responder=words_only)
    found = critic.model_review(models, _draft("overclaim-tom"), schema.papers())
    assert [f.item for f in found] == ["2602.20662"]
    # Token probabilities are asked for once; then every question is asked in words.
    assert [c.tool for c in fake.calls] == [None] + ["Verdict"] * 5


def test_the_threshold_is_calibrated_on_scores() -> None:
    # Unsupported claims score low: the best cut lies between the two groups.
    assert metrics.calibrate([0.1, 0.2, 0.3], [0.6, 0.7, 0.8]) == pytest.approx(0.45)
    # Overlapping groups: the cut that catches most for the fewest false alarms.
    t = metrics.calibrate([0.1, 0.5, 0.55], [0.45, 0.7, 0.8])
    assert t is not None and 0.55 < t < 0.7
    assert metrics.calibrate([], [0.5]) is None
