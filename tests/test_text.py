"""The one sentence splitter: each caller's variant splits as its own regex did."""

from __future__ import annotations

import re

import pytest

from evals import metrics
from flashnews.agents import injection
from flashnews.agents.triage.claims import _sentences as triage_sentences
from flashnews.text import claims, first_sentence, split_sentences

TEXTS = ["", "   ", "No end", "One result. 2x faster than before. (A note.) \"Quoted\" start. [1] "
         "cites. <b>Tag</b> ends> Here.", "We propose X. it is lower case! Is it? Yes. e.g. Fig. 3 "
         "shows 4.5% gains.  Two  spaces."]


@pytest.mark.parametrize("text", TEXTS)
def test_each_variant_splits_as_its_old_regex(text: str) -> None:
    def old(pattern: str) -> list[str]:
        return [s.strip() for s in re.split(pattern, text) if s.strip()]

    assert triage_sentences(text) == old(r"(?<=[.!?])\s+(?=[A-Z(])")
    assert metrics.sentences(text) == old(r"(?<=[.!?])\s+(?=[A-Z(0-9])")
    assert injection.sentences(text) == old(r"(?<=[.!?])\s+(?=[A-Z(\"'<\[])|(?<=>)\s+")
    assert split_sentences(text) == old(r"(?<=[.!?])\s+")
    assert first_sentence(text) == re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]
    # tools/claims.py first protects abbreviations ("e.g.", "Fig.") from the split.
    squashed = " ".join(text.split())
    protected = re.sub(claims._ABBREV, lambda m: m.group(0).replace(".", "\x00"), squashed)
    assert claims.sentences(text) == [
        p.replace("\x00", ".").strip() for p in
        re.split(r"(?<=[.!?])\s+(?=[A-Z(\"“\[0-9])", protected) if p.strip()]


def test_the_variants_differ_where_their_callers_need_them_to() -> None:
    text = "It is 2x faster. 3 GPUs suffice. (See below.)"
    assert split_sentences(text, starts="A-Z(") == ["It is 2x faster. 3 GPUs suffice.",
                                                    "(See below.)"]
    assert split_sentences(text, starts="A-Z(0-9") == ["It is 2x faster.", "3 GPUs suffice.",
                                                       "(See below.)"]
    assert split_sentences("<p>One.</p> <p>Two</p>", after_tag=True) == [
        "<p>One.</p>", "<p>Two</p>"]
    assert split_sentences("<p>One.</p> <p>Two</p>") == ["<p>One.</p> <p>Two</p>"]
