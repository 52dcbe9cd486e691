"""Wire scenarios: the same calls recorded from the real local server and replayed in tests.

`python -m tests.record_cassettes` (or `make record`) runs them against the embedded llama.cpp
server and writes tests/cassettes/*.yaml; tests/test_wire.py replays them with no server.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flashnews.agents import critic
from flashnews.agents.triage import Triage
from flashnews.agents.writer import Writer
from flashnews.config import EMBEDDED_MODEL_NAME, Settings
from flashnews.models import Assessment, Draft, Finding, Paper, Selection
from flashnews.tools.arxiv import demo_snapshot, read_snapshot
from flashnews.tools.llm import Models
from flashnews.tools.store import Store

CASSETTES = Path(__file__).parent / "cassettes"
REPLAY_URL = "http://127.0.0.1:8765/v1"  # recorded against whatever port; matched without it
VCR_CONFIG = {"filter_headers": ["authorization", "x-api-key", "api-key"],
              "match_on": ["method", "path", "body"], "decode_compressed_response": True}
CHESS, TOM, PATCH = "2602.20732", "2602.20662", "2602.21987"
DATE = dt.date(2026, 2, 25)


def wire_settings(home: Path, base_url: str) -> Settings:
    # The embedded model's settings, on whatever URL its server has (logprob scoring).
    return Settings(home=home, base_url=base_url, model=EMBEDDED_MODEL_NAME, max_retries=0,
                    triage_scoring="logprob")


def papers() -> dict[str, Paper]:
    return {p.arxiv_id: p for p in read_snapshot(demo_snapshot())}


def triage_logprob(models: Models, store: Store) -> dict[str, Assessment]:
    ps = papers()
    # ask_all: the wire is what is tested, so every paper is asked whatever its rank
    return Triage(models, store, models.settings, ask_all=True).run(
        [ps[CHESS], ps[TOM], ps[PATCH]])


def triage_generated(models: Models, store: Store) -> dict[str, Assessment]:
    ps = papers()
    settings = models.settings.model_copy(update={"triage_scoring": "generated"})
    return Triage(models, store, settings, ask_all=True).run([ps[CHESS], ps[PATCH]])


def writer_draft(models: Models) -> Draft:
    ps = papers()
    scores = {pid: Assessment(paper_id=pid, relevant=True, score=s, hype=h, rationale="fixed",
                              prompt_hash="-", model="-")
              for pid, s, h in [(CHESS, 93, 62), (TOM, 88, 51)]}
    draft, _ = Writer(models).write(edition_id="2026-02-25-flash", date=DATE, fmt="flash",
                                    selection=Selection(main=[CHESS, TOM]), papers=ps,
                                    assessments=scores)
    return draft


def critic_review(models: Models, draft: Draft) -> list[Finding]:
    return critic.model_review(models, draft, papers())

