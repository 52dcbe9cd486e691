"""Review: the editor's decision on a draft, or the headless auto-approve policy."""

from __future__ import annotations

from typing import Any

from langgraph.types import interrupt

from flashnews.models import Finding


def review(policy: str, edition_id: str, markdown: str, findings: list[Finding]) -> dict[str, Any]:
    """Approve automatically when headless and nothing blocks; otherwise wait for an editor.

    `interrupt` pauses the graph (state saved); the editor's answer arrives as the resume value.
    A headless run that reaches it stops with the outcome `needs-review`.
    """
    blocking = [f for f in findings if f.severity == "blocking"]
    if policy == "auto" and not blocking:
        return {"decision": "approve", "by": "auto-policy"}
    answer = interrupt({"edition_id": edition_id, "markdown": markdown,
                        "findings": [f.model_dump() for f in findings],
                        "blocking": len(blocking)})
    if not isinstance(answer, dict) or answer.get("decision") not in ("approve", "hold"):
        raise ValueError(f"review answer must be a decision, got {answer!r}")
    return answer
