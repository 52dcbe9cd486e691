"""What triage shows the model of an untrusted abstract, and what it reports to the editor."""

from __future__ import annotations

from flashnews.agents import injection
from flashnews.models import Finding, Paper


def injection_findings(paper: Paper) -> list[Finding]:
    """Text in an abstract that tries to instruct the model: shown to the editor, never obeyed."""
    return injection.findings(paper)


def _paper_vars(paper: Paper) -> dict[str, str]:
    """The triage prompt's variables for one paper: its title and abstract neutralised."""
    # Abstracts are untrusted: every role reads them neutralised (agents/injection.py).
    return {"arxiv_id": paper.arxiv_id, "title": injection.neutralise_title(paper.title),
            "categories": ", ".join(paper.categories) or "unknown",
            "abstract": injection.neutralise(paper.abstract)}

