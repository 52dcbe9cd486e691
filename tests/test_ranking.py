"""The ranking stage: its features, the embeddings cache, the hype evidence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flashnews.agents import hype, learner
from flashnews.agents.ranking import Ranker, vocabulary
from flashnews.agents.triage import Triage, rules_verdict
from flashnews.models import Paper
from flashnews.testing import FakeChatModel, HashingEmbedder, StubServer, fake_factory
from flashnews.tools.llm import Models
from flashnews.tools.store import Store

CHESS, TOM, PATCH, SUMER = "2602.20732", "2602.20662", "2602.21987", "2602.22200"

# The shape of the paper the old rules gate dropped on a real day: sparse attention for
# long-context inference that never writes "LLM" or "language model".
SPARSE = Paper(arxiv_id="2603.00001", title="Block-Sparse Attention Kernels for Long-Context "
               "Inference", abstract="Long-context inference is bound by attention. We present "
               "a block-sparse attention kernel built on FlashAttention that skips blocks whose "
               "scores are negligible. On Llama-3.1-8B at 128K context it reaches a 3.8x "
               "end-to-end speedup over dense attention with unchanged accuracy on RULER.",
               categories=["cs.LG"])


def _triage(settings, fake=None, embedder=None, **overrides):
    settings = settings.model_copy(update=overrides)
    store = Store(settings.db_path)
    models = Models(settings, store, "e", factory=fake_factory(fake or FakeChatModel()))
    return Triage(models, store, settings, embedder=embedder or HashingEmbedder()), store


def test_the_rules_no_longer_drop_a_paper_that_never_says_llm(settings, papers, minilm) -> None:
    assert rules_verdict(SPARSE) is not None  # what the old gate did: Score 0, no model call
    fake = FakeChatModel()
    triage, _ = _triage(settings, fake, minilm, triage_model_papers=5, triage_scoring="logprob")
    day = [SPARSE, *(p for p in papers.values() if p.label == "negative")]
    out = triage.run(day)
    a = out[SPARSE.arxiv_id]
    assert a.method == "logprob" and a.score > 0  # ranked into the top K, asked, scored
    assert a.signals["vocabulary"] > 0  # the vocabulary is a feature, not a verdict
    assert any(SPARSE.arxiv_id in c.messages[-1]["content"] for c in fake.calls)


def test_papers_outside_the_top_k_get_an_honest_ranking_score(settings, papers) -> None:
    fake = FakeChatModel()
    triage, _ = _triage(settings, fake, triage_model_papers=4, triage_scoring="logprob")
    out = triage.run(papers.values())
    asked = [a for a in out.values() if a.method == "logprob"]
    ranked = [a for a in out.values() if a.method == "ranking"]
    assert len(asked) == len(fake.calls) == 4
    assert len(ranked) == len(papers) - 4
    assert all(a.score > 0 and a.rationale.startswith("ranking: rank ") for a in ranked)
    assert {a.signals["rank"] for a in asked} == {1.0, 2.0, 3.0, 4.0}
    assert triage.stats["candidates"] == 4 and triage.stats["papers"] == len(papers)
    # the ranking stage puts on-beat dev papers above off-topic ones even with hashed words
    order = sorted(out.values(), key=lambda a: a.signals["rank"])
    labels = [papers[a.paper_id].label for a in order]
    assert labels[:4].count("positive") >= 3


def test_a_second_run_of_the_day_embeds_nothing_and_calls_no_model(settings, papers) -> None:
    emb = HashingEmbedder()
    first, _ = _triage(settings, embedder=emb, triage_scoring="logprob")
    one = first.run(papers.values())
    # + the beat file's three paragraphs (beat, training, inference)
    assert first.stats["embedded"] == len(papers) and emb.texts == len(papers) + 3
    fake = FakeChatModel()
    again, _ = _triage(settings, fake, embedder=emb, triage_scoring="logprob")
    two = again.run(papers.values())
    assert again.stats["embedded"] == 0 and emb.texts == len(papers) + 6  # only those
    assert fake.calls == [] and two == one


def test_liked_and_disliked_are_the_editors_papers_and_never_the_paper_itself(settings, papers
                                                                              ) -> None:
    emb = HashingEmbedder()
    store = Store(settings.db_path)
    featured = [p for p in papers.values() if p.label == "positive"]
    dropped = [p for p in papers.values() if p.label == "negative"]
    ranker = Ranker(emb, store, settings, history=featured, disliked=dropped)
    sig = ranker.rank(list(papers.values()))
    for group, key in ((featured, "liked"), (dropped, "disliked")):
        for p in group:  # the paper's own copy is left out
            others = [h for h in group if h.arxiv_id != p.arxiv_id]
            vecs = ranker.vectors([p, *others])
            top = sorted((vecs[h.arxiv_id] @ vecs[p.arxiv_id] for h in others), reverse=True)[:3]
            assert getattr(sig[p.arxiv_id], key) == pytest.approx(float(np.mean(top)), abs=1e-4)
    cold = Ranker(emb, store, settings).rank(list(papers.values()))
    assert all(s.liked is None and s.disliked is None for s in cold.values())


def test_featured_before_reads_earlier_days_only(settings, papers) -> None:
    store = Store(settings.db_path)
    store.save_papers("2026-02-24-flash", [papers[CHESS], papers[TOM]])
    store.mark_published("2026-02-24-flash", [(CHESS, 1), (TOM, 1)])
    store.save_papers("2026-02-25-flash", [papers[PATCH]])
    store.mark_published("2026-02-25-flash", [(PATCH, 1)])
    assert {p.arxiv_id for p in store.featured_before("2026-02-25-digest")} == {CHESS, TOM}
    assert store.featured_before("2026-02-24-flash") == []


def test_embeddings_round_trip_through_the_store(settings) -> None:
    store = Store(settings.db_path)
    v = np.arange(4, dtype=np.float32) / 7
    store.cache_embeddings("m", [("2601.00001", 1, "h", v.tobytes())])
    got = store.cached_embeddings("m", [("2601.00001", 1, "h"), ("2601.00001", 1, "x")])
    assert list(got) == [("2601.00001", 1, "h")]
    assert np.array_equal(np.frombuffer(got[("2601.00001", 1, "h")], dtype=np.float32), v)
    assert store.cached_embeddings("other-model", [("2601.00001", 1, "h")]) == {}


def test_vocabulary_is_a_soft_feature(papers) -> None:
    assert 0 < vocabulary(papers[CHESS]) <= 1
    assert vocabulary(papers[SUMER]) < vocabulary(papers[CHESS])


def test_the_embedding_model_loads_offline_from_its_package(minilm, monkeypatch) -> None:
    from flashnews.tools.embeddings import MINILM_SHA256, MINILM_WEIGHTS, check_weights, minilm_dir

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    v = minilm.embed(["KV cache compression for long-context LLM serving",
                      "Offloading the key-value cache of language model inference to CPU memory",
                      "A dataset of Sumerian tablets"])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    assert minilm.name.startswith("all-MiniLM-L6-v2@")
    assert check_weights(minilm_dir() / MINILM_WEIGHTS) and len(MINILM_SHA256) == 64


def test_tampered_weights_are_refused(tmp_path) -> None:
    from flashnews.errors import ConfigError
    from flashnews.tools.embeddings import check_weights

    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"x" * 10)
    with pytest.raises(ConfigError, match="10 bytes, expected"):
        check_weights(bad)
    with pytest.raises(ConfigError, match="sha256"):
        check_weights(bad, size=10)


# --- hype evidence ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "factor"), [
    ("reaches up to 4.56x throughput", 4.56),
    ("a $3.81\\times$ end-to-end speedup", 3.81),
    ("3.81× faster", 3.81),
    ("reducing average output tokens by up to 80%", 5.0),
    ("improves accuracy by 12%", 1.12),
    ("on 8 GPUs with 4 nodes", 1.0),
])
def test_largest_claimed_gain(text: str, factor: float) -> None:
    assert hype.largest_gain(text) == pytest.approx(factor, rel=1e-3)


def test_hype_features_are_bounded_and_configurable(settings, papers) -> None:
    p = papers[CHESS]
    f = hype.features(p, settings, significance=0.9, heat=0.4)
    assert set(f) == set(learner.HYPE_FEATURES) and all(0 <= v <= 1 for v in f.values())
    assert f["gain"] == pytest.approx(math.log(4.56) / math.log(10), abs=0.01)
    named = settings.model_copy(update={"hype_names": [p.authors[0]]})
    assert hype.features(p, named, significance=0.9, heat=0.4)["names"] == 1.0
    assert hype.artifacts(papers["2602.19619"]) == 1.0  # "Code is available at this https URL"


# --- the bench's stub endpoint ------------------------------------------------------------------


def test_the_stub_endpoints_latency_grows_with_tokens() -> None:
    stub = StubServer(latency=0.3, input_tokens_per_s=5000, output_tokens_per_s=50)
    assert stub.call_seconds(0, 0) == pytest.approx(0.3)
    assert stub.call_seconds(5000, 0) == pytest.approx(1.3)
    assert stub.call_seconds(1000, 100) == pytest.approx(0.3 + 0.2 + 2.0)
