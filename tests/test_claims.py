"""Quantities in prose and claim matching: a number is grounded by a claim, not by its value."""

from __future__ import annotations

import pytest

from flashnews.models import Paper
from flashnews.text.claims import detex, ground_text, names_in, quantities, result_claims, sentences

CHESS, FAST, KNAP, TOM, SSM, PYRAMID, SELECTIVE = (
    "2602.20732", "2602.20515", "2602.20217", "2602.20662", "2602.21144", "2602.19509",
    "2602.20130")


def _statuses(text: str, abstract: str) -> list[str]:
    return [s.status for s in ground_text(text, abstract)]


@pytest.fixture
def dev(papers: dict[str, Paper]) -> dict[str, str]:
    """Abstracts of the real dev papers (the demo snapshot) by id."""
    from flashnews.tools.arxiv import read_snapshot
    from tests.conftest import REPO

    out = {pid: p.abstract for pid, p in papers.items()}
    shared = REPO.parent / "shared" / "data" / "papers-dev.jsonl"
    if shared.exists():
        out |= {p.arxiv_id: p.abstract for p in read_snapshot(shared)}
    return out


def test_latex_is_read_as_plain_text() -> None:
    text = r"It reaches a $3.81\times$ speedup and cuts memory by 10\% ($\sim$2 GB)."
    assert detex(text) == "It reaches a 3.81× speedup and cuts memory by 10% (~2 GB)."
    qs = quantities(text)
    assert [(q.text, q.unit, q.value) for q in qs] == [
        ("3.81×", "x", 3.81), ("10%", "%", 10.0), ("~2 GB", "bytes", 2e9)]
    assert qs[0].metrics[0] == "speed" and qs[1].metrics[0] == "memory"


def test_sentences_keep_abbreviations_and_decimals() -> None:
    text = ("Oracle models (e.g., Llama-3-70B) are costly. It runs 4.5x faster vs. a GPU. "
            "Results: 13-45% less time.")
    assert sentences(text) == ["Oracle models (e.g., Llama-3-70B) are costly.",
                               "It runs 4.5x faster vs. a GPU.", "Results: 13-45% less time."]


def test_names_are_not_quantities() -> None:
    text = "On Llama-3.1-8B and Qwen3 with an H100 and GSM8K, pass@1 rises; BitNet-2B runs."
    assert quantities(text) == []
    assert names_in(text) == ["Llama-3.1-8B", "Qwen3", "H100", "GSM8K", "pass@1", "BitNet-2B"]


def test_units_metrics_and_qualifiers_of_real_abstracts(dev: dict[str, str]) -> None:
    chess = {q.text: q for q in quantities(dev[CHESS])}
    assert chess["1%"].metrics[0] == "memory"
    assert chess["4.56×"].metrics[0] == "throughput" and chess["4.56×"].qualifier == "up to"
    fast = {q.text: q for q in quantities(dev[FAST])}
    assert fast["2.5×"].metrics[0] == "ttft" and fast["4.5×"].metrics[0] == "energy"
    assert fast["4K to 128K tokens"].role == "setting"
    assert (fast["4K to 128K tokens"].low, fast["4K to 128K tokens"].high) == (4000, 128000)
    tom = {q.text: q for q in quantities(dev[TOM])}
    assert tom["3,306 TPS"].unit == "rate" and tom["3,306 TPS"].value == 3306
    pyramid = {q.text: q for q in quantities(dev[PYRAMID])}
    assert pyramid["61%"].metrics[0] == "cost" and pyramid["61%"].direction == "down"
    assert pyramid["98.0%"].metrics[0] == "accuracy"  # "the Oracle baseline (98.0%)"
    ssm = {q.text: q for q in quantities(dev[SSM])}
    # The metric named once covers both ranges of "… throughput by ~1.6-2.1x on 2 GPUs and
    # ~2.6-4.0x on 4 GPUs".
    assert ssm["~1.6-2.1x"].metrics[0] == ssm["~2.6-4.0x"].metrics[0] == "throughput"
    assert ssm["~2.6-4.0x"].qualifier == "about"


@pytest.mark.parametrize(("pid", "text", "how"), [
    (CHESS, "up to 4.6x higher throughput", "rounded"),          # 4.6x for 4.56x
    (CHESS, "using 1% of the KV cache", "exact"),
    (FAST, "contexts up to 128,000 tokens", "setting"),           # 128,000 for 128K
    (FAST, "sequences up to 128K tokens", "setting"),
    (KNAP, "Llama-3.1-8B decodes 47% faster", "converted"),       # 47% faster for 1.47x
    (KNAP, "a 1.5x wall-clock speedup", "rounded"),
    (TOM, "3,306 tokens/s on BitNet-2B", "exact"),
    (TOM, "about 3.3K tokens per second", "rounded"),
    (SSM, "1.6-2.1x more throughput on 2 GPUs", "exact"),
    (SSM, "up to 4x the throughput", "range"),
    (PYRAMID, "93% accuracy at 61% lower cost", "exact"),
    (SELECTIVE, "13–45% less inference time and 8–47% fewer tokens", "exact"),
    (FAST, "TTFT 2.5x faster, energy efficiency up 4.5x", "exact"),
])
def test_faithful_renderings_are_supported(dev: dict[str, str], pid: str, text: str,
                                           how: str) -> None:
    found = ground_text(text, dev[pid])
    assert found and all(s.ok for s in found), [(s.quantity.text, s.message) for s in found]
    assert how in {s.via for s in found}


def test_a_range_covering_two_values_is_supported() -> None:
    abstract = "On reasoning benchmarks it improves accuracy by 5.8% and 2.8% on math."
    found = ground_text("reasoning benchmarks improve ~3-6%", abstract)
    assert [(s.status, s.via) for s in found] == [("supported", "range")]
    assert _statuses("reasoning benchmarks improve ~3-9%", abstract) != ["supported"]


@pytest.mark.parametrize(("pid", "text", "status"), [
    (CHESS, "It cuts latency 4.56x.", "wrong-metric"),            # 4.56x is throughput
    (CHESS, "Throughput rises 4.56%.", "wrong-unit"),             # the abstract says 4.56x
    (FAST, "It gives a 4.5x TTFT speedup.", "wrong-metric"),      # 4.5x is energy
    (KNAP, "1.47x higher throughput", "wrong-metric"),            # a wall-clock speedup
    (SSM, "4x lower latency on 4 GPUs", "wrong-metric"),
    (PYRAMID, "61% higher accuracy", "wrong-metric"),             # 61% is the cost saving
    (CHESS, "a 2.5x throughput gain", "wrong-value"),
    (TOM, "~500 MB of weights", "absent"),
])
def test_a_value_said_of_something_else_is_not_supported(dev: dict[str, str], pid: str,
                                                          text: str, status: str) -> None:
    found = ground_text(text, dev[pid])
    assert status in [s.status for s in found]
    wrong = next(s for s in found if s.status == status)
    if status != "absent":
        assert wrong.evidence in dev[pid]  # the abstract sentence that states the value
    assert wrong.message


def test_result_claims_are_the_sentences_with_results(dev: dict[str, str]) -> None:
    claims = result_claims(dev[FAST])
    assert len(claims) == 1 and "2.5×" in claims[0].sentence
    assert [q.text for q in claims[0].results] == ["2.5×", "4.5×"]
    assert result_claims("We propose a new scheduler for LLM serving.") == []


def test_list_markers_dates_and_ids_are_not_quantities() -> None:
    text = ("Three findings: (1) imbalance worsens with batch size, (2) frequency is no proxy. "
            "Published 2026-02-25 as 2602.20732v1.")
    assert [q.text for q in quantities(text)] == ["Three findings"]


def test_a_number_without_a_metric_of_its_own_takes_no_metric_from_its_neighbours(
        dev: dict[str, str]) -> None:
    # "efficiency" says nothing about what was measured: 12.48x fewer requests per token
    # is a fair "12.48x efficiency improvement".
    optileak = "2602.20595"
    assert _statuses("prompt reconstruction with 12.48x efficiency improvement",
                     dev[optileak]) == ["supported"]
    # The item names no metric next to 95% (the abstract's clause does not either).
    ada = "2602.19519"
    assert _statuses("80% fewer output tokens and a 95% lower thinking rate",
                     dev[ada]) == ["supported", "supported"]
    # A metric named next to the number is still held to the abstract's.
    assert "wrong-metric" in _statuses("12.48x higher accuracy", dev[optileak])


def test_a_result_moved_to_another_setting_is_not_supported(dev: dict[str, str]) -> None:
    assert _statuses("1.6-2.1x higher throughput on 2 GPUs and 2.6-4.0x on 4 GPUs",
                     dev[SSM]) == ["supported"] * 4
    swapped = ground_text("2.6-4.0x higher throughput on 2 GPUs", dev[SSM])
    assert [s.status for s in swapped] == ["wrong-setting", "supported"]
    assert "4 GPUs" in swapped[0].message and swapped[0].evidence in dev[SSM]


def test_a_result_paired_with_another_baseline_is_not_supported(dev: dict[str, str]) -> None:
    lagom = "2602.20656"  # "1.07-1.33x and 1.03-1.27x speedup over NCCL and AutoCCL"
    assert _statuses("a 1.07-1.33x speedup over NCCL", dev[lagom]) == ["supported"]
    assert _statuses("a 1.03-1.27x speedup over AutoCCL", dev[lagom]) == ["supported"]
    swapped = ground_text("a 1.03-1.27x speedup over NCCL", dev[lagom])
    assert [s.status for s in swapped] == ["wrong-setting"]
    assert "AutoCCL" in swapped[0].message
    # A baseline the abstract does not list is no contradiction.
    assert _statuses("energy efficiency 4.5x better than an A5000 GPU", dev[FAST]) == [
        "supported"]
