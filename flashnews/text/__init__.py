"""Plain-text rules shared by every stage: the one sentence splitter."""

from __future__ import annotations

import re
from functools import lru_cache

SENTENCE_END = r"(?<=[.!?])\s+"
"""A sentence ends at `.`, `!` or `?` followed by white space."""


@lru_cache(maxsize=16)
def _splitter(starts: str, after_tag: bool) -> re.Pattern[str]:
    pattern = SENTENCE_END + (f"(?=[{starts}])" if starts else "")
    return re.compile(pattern + (r"|(?<=>)\s+" if after_tag else ""))


def split_sentences(text: str, *, starts: str = "", after_tag: bool = False) -> list[str]:
    """The sentences of `text`, stripped, none empty.

    `starts` is what the next sentence must begin with, as the body of a regex character class
    (e.g. "A-Z(": a capital or a parenthesis; empty: anything); `after_tag` also ends a
    sentence after a closing tag (`>`), as an abstract's markup does. Callers keep the variant
    their results were measured with: changing one changes what the model is shown.
    """
    return [s.strip() for s in _splitter(starts, after_tag).split(text) if s.strip()]


def first_sentence(text: str) -> str:
    """The first sentence of `text` (empty for an empty text)."""
    return next(iter(split_sentences(text)), "")
