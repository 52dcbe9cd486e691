"""Writer rendering: code owns links, names and scores; prose is tidied, never invented."""

from __future__ import annotations

import datetime as dt

from flashnews.agents.writer import complete_sentences, item_schema, render

from flashnews.models import Assessment, DraftItem


def test_unfinished_sentence_cut_by_the_length_cap_is_dropped() -> None:
    assert complete_sentences("It works. It reaches 4.56x on-f") == "It works."
    assert complete_sentences("Done (see above)") == "Done (see above)"
    assert complete_sentences("no sentence end at all") == "no sentence end at all"
    assert complete_sentences("Items cover decoding, scaling, quantiz}") == \
        "Items cover decoding, scaling."
    assert complete_sentences("  Two  spaces.  ") == "Two spaces."


def test_item_schema_caps_the_body_in_the_json_schema() -> None:
    schema = item_schema(200).model_json_schema()
    assert schema["title"] == "ItemText"
    assert schema["properties"]["body"]["maxLength"] == 200


def test_headline_repeating_the_title_is_not_rendered(papers) -> None:
    pid = "2602.20732"
    a = {pid: Assessment(paper_id=pid, relevant=True, score=90, hype=60, rationale="r",
                         prompt_hash="h", model="m")}
    item = DraftItem(paper_id=pid, headline="CHESS: Context-aware Hierarchical Selection",
                     body="It keeps 1% of the KV cache.")
    md = render(dt.date(2026, 2, 25), "flash", "Lead", [item], papers, a)
    assert "\n**[CHESS](https://arxiv.org/abs/2602.20732)**: It keeps 1% of the KV cache. " \
           "Score: 90 | Hype: 60" in md
    fresh = item.model_copy(update={"headline": "Pruning the cache to one percent"})
    assert "**Pruning the cache to one percent.** **[CHESS]" in render(
        dt.date(2026, 2, 25), "flash", "Lead", [fresh], papers, a)
