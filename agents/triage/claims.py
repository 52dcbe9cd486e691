"""Key claims by code: taken from the abstract's measured sentences, or checked against it."""

from __future__ import annotations

import re

from flashnews.models import KeyClaim, Paper
from flashnews.text import split_sentences


def _sentences(text: str) -> list[str]:
    # A new sentence starts with a capital or "(": what the triage prompt was measured with.
    return split_sentences(text, starts="A-Z(")


def claims_from_abstract(paper: Paper, limit: int = 3) -> list[KeyClaim]:
    """Key claims taken by code: the abstract's sentences that state a measured result."""
    out = []
    for s in _sentences(paper.abstract):
        if re.search(r"\d", s) and re.search(r"%|\d\s*[x×]|faster|speed|reduc|improv|throughput|"
                                             r"latenc|accuracy|memory|energy", s, re.IGNORECASE):
            out.append(KeyClaim(claim=s, span=s))
        if len(out) == limit:
            break
    return out


def span_supported(span: str, abstract: str) -> bool:
    norm = lambda s: " ".join(s.lower().split()).strip(" .")  # noqa: E731
    return bool(norm(span)) and norm(span) in norm(abstract)
