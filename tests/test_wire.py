"""Replays of real traffic to the embedded llama.cpp server (recorded by `make record`).

They pin down the real model path with no server: function calling gives schema-valid output,
yes/no token probabilities rank an on-beat paper above an off-beat one, writer output renders
into a bulletin, and the critic's answer parses. Requests must match the recording byte for byte
(method, path, body): a change to a prompt or a request shows here until it is re-recorded.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flashnews.agents import candidates
from flashnews.agents.writer import lead_problems
from flashnews.text import facts, parse
from flashnews.text.claims import ground_text
from flashnews.text.grounding import LINK_RE
from flashnews.tools.llm import Models
from flashnews.tools.store import Store
from tests import wire

pytestmark = pytest.mark.skipif(not (wire.CASSETTES / "writer.yaml").exists(),
                                reason="no cassettes recorded (make record)")


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, object]:
    return {**wire.VCR_CONFIG, "record_mode": "none"}


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(wire.CASSETTES)


@pytest.fixture
def models(tmp_path: Path) -> tuple[Models, Store]:
    settings = wire.wire_settings(tmp_path, wire.REPLAY_URL)
    store = Store(settings.db_path)
    return Models(settings, store, "wire"), store


@pytest.mark.embed  # the ranking stage runs on the real embedding model
@pytest.mark.vcr("triage_logprob.yaml")
def test_yes_no_scoring_ranks_on_beat_papers_first(models) -> None:
    m, store = models
    result = wire.triage_logprob(m, store)
    chess, tom, patch = result[wire.CHESS], result[wire.TOM], result[wire.PATCH]
    assert {a.method for a in result.values()} == {"logprob"}
    # The 1.5B model's P(yes) is compressed (an image denoiser still gets ~0.7) but ranks
    # on-beat papers above off-beat ones, which is what selection uses.
    assert chess.score > patch.score + 10 and tom.score > patch.score + 10
    assert chess.relevant and tom.relevant
    assert store.usage("wire")["triage"].calls == 3  # one question per paper
    assert store.usage("wire")["triage"].input_tokens > 1000


@pytest.mark.embed  # the ranking stage runs on the real embedding model
@pytest.mark.vcr("triage_generated.yaml")
def test_generated_scores_are_schema_valid_and_claims_verified(models) -> None:
    m, store = models
    out = wire.triage_generated(m, store)
    assert list(out) == [wire.CHESS, wire.PATCH]
    assert {a.method for a in out.values()} == {"generated"}
    papers = wire.papers()
    for a in out.values():
        assert 0 <= a.score <= 100 and 0 <= a.hype <= 100
        for c in a.key_claims:  # unsupported spans were dropped by code
            assert " ".join(c.span.lower().split()).strip(" .") in " ".join(
                papers[a.paper_id].abstract.lower().split())


@pytest.mark.vcr("writer.yaml")
def test_writer_output_renders_a_bulletin(models) -> None:
    m, store = models
    draft = wire.writer_draft(m)
    links = [u for _, u in LINK_RE.findall(draft.markdown)]
    assert links == [f"https://arxiv.org/abs/{wire.CHESS}", f"https://arxiv.org/abs/{wire.TOM}"]
    assert "Score: 93 | Hype: 62" in draft.markdown and not lead_problems(draft.lead)
    papers = wire.papers()
    for item in draft.items:  # the real model's phrasing, checked by code (or code's own)
        abstract = papers[item.paper_id].abstract
        assert item.body and not facts.first_person(item.body)
        # A result is quoted with its own clause (up to RESULT_MAX_COPY words of it).
        assert facts.longest_copy(item.body, abstract)[0] <= candidates.RESULT_MAX_COPY
        assert parse.sentence_problem(item.body, abstract) == ""
        assert all(s.ok for s in ground_text(item.body, abstract))
    chess = next(i for i in draft.items if i.paper_id == wire.CHESS)
    assert "4.56× higher throughput" in chess.body
    assert store.usage("wire")["writer"].calls >= 3


@pytest.mark.vcr("writer.yaml", "critic.yaml")
def test_critic_asks_about_each_claim_sentence_and_quotes_it(models) -> None:
    m, store = models
    draft = wire.writer_draft(m)
    findings = wire.critic_review(m, draft)
    # The quote is of an item's own words (its headline and body; the rendered name is a link).
    text = " ".join(f"{i.headline} {i.body}" for i in draft.items).lower()
    for f in findings:
        assert f.source == "model" and f.severity == "warning" and f.check == "unsupported"
        assert " ".join(f.evidence.lower().split()).strip(" .\"'") in " ".join(text.split())
        assert "P(yes)" in f.message
    main = [i for i in draft.items if i.section == "main"]
    assert 1 <= store.usage("wire")["critic"].calls <= 2 * len(main)


def test_cassettes_hold_no_credentials() -> None:
    for path in wire.CASSETTES.glob("*.yaml"):
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            headers = {k.lower() for k in interaction["request"]["headers"]}
            assert "authorization" not in headers, path
