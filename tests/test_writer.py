"""The writer: facts by code, phrasing by the model, every sentence checked by code.

Unit tests on the scripted fake model: a model that ignores the voice or length rules, returns a
fragment or copies the abstract is caught and asked again, then replaced by code's phrasing with
a note the editor sees; never published silently.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from flashnews.agents import candidates, critic, themes, writer
from flashnews.agents.writer import Writer, lead_problems, render
from flashnews.config import Settings
from flashnews.evals import editorial
from flashnews.models import Assessment, Paper, Selection
from flashnews.testing import FakeChatModel, Request, fake_factory, grounded_responder
from flashnews.text import facts, grounding, parse
from flashnews.text.claims import ground_text
from flashnews.text.grounding import NO_THEMES
from flashnews.tools.llm import Models

DATE = dt.date(2026, 2, 25)
CHESS, KNAP, FAST, TOM, REVIVE, ISO, RQ = ("2602.20732", "2602.20217", "2602.20515",
                                           "2602.20662", "2602.21140", "2602.19594",
                                           "2602.19938")


class _Ledger:
    def record_call(self, call: Any) -> None:
        return None


def _models(responder: Any = grounded_responder, **settings: Any) -> tuple[Models, FakeChatModel]:
    fake = FakeChatModel(responder=responder)
    return Models(Settings(**settings), _Ledger(), "t", factory=fake_factory(fake)), fake


def _scores(papers: dict[str, Paper]) -> dict[str, Assessment]:
    return {pid: Assessment(paper_id=pid, relevant=True, score=90, hype=50, rationale="",
                            prompt_hash="-", model="-") for pid in papers}


def _write(models: Models, papers: dict[str, Paper], main: list[str], also: list[str] = (),
           fmt: str = "flash") -> Any:
    return Writer(models).write(edition_id="t", date=DATE, fmt=fmt,  # type: ignore[arg-type]
                                selection=Selection(main=main, also=list(also)), papers=papers,
                                assessments=_scores(papers))


def _scripted(whats: list[str], leads: list[str] | None = None) -> Any:
    """A model answering item requests with `whats` in turn (then the grounded answer)."""
    queue, lead_queue = list(whats), list(leads or [])

    def respond(req: Request) -> Any:
        if req.tool == "ItemPhrase" and queue:
            what = queue.pop(0)
            if what == "<cut>":  # what llama.cpp's grammar leaves when the cap cuts a sentence
                limit = req.max_length("what") or 100
                what = ("CHESS prunes the KV cache with a context-aware policy that keeps "
                        + "blocks of recent tokens " * 20)[:limit]
            return {"headline": "A cache that prunes itself", "what": what}
        if req.tool == "LeadLine" and lead_queue:
            return {"lead": lead_queue.pop(0)}
        return grounded_responder(req)
    return respond


def test_items_quote_figures_with_their_own_clauses(papers: dict[str, Paper]) -> None:
    models, fake = _models()
    draft, _ = _write(models, papers, [CHESS, KNAP, FAST, TOM, REVIVE], [ISO, RQ])
    body = {i.paper_id: i.body for i in draft.items}
    # Each figure comes with the words its clause in the abstract binds to it.
    assert "achieving up to 1.47x wall-clock speedup" in body[KNAP]
    assert "2.5× in TTFT and 4.5× improvement in energy efficiency over GPU" in body[FAST]
    assert "inference throughput of 3,306 TPS" in body[TOM]
    assert "up to 4.56× higher throughput" in body[CHESS]
    for item in draft.items:
        p = papers[item.paper_id]
        assert all(s.ok for s in ground_text(item.body, p.abstract)), item.body
        assert facts.longest_copy(item.body, p.abstract)[0] <= candidates.RESULT_MAX_COPY
        assert not facts.first_person(item.body)
        assert parse.sentence_problem(item.body, p.abstract) == "", item.body
        assert parse.misbound(item.body, p.abstract) == []
    # The body names the method and carries its link on that name.
    assert "[CHESS](https://arxiv.org/abs/2602.20732) is" in draft.markdown
    # One headline call per main item and the lead; code writes every sentence.
    assert [c.tool for c in fake.calls] == ["Headline"] * 5 + ["LeadLine"]
    assert "**CHESS.**" not in draft.markdown  # a headline that repeats the title is dropped


def test_an_item_short_of_words_quotes_no_figure_rather_than_a_cut_one(
        papers: dict[str, Paper]) -> None:
    # FAST-Prefill's result clause (24 words) fits a main item; an also-notable line has no
    # words for it, and no shorter clause binds its figures: the line says what the work is.
    models, fake = _models()
    draft, _ = _write(models, papers, [KNAP], [FAST])
    item = next(i for i in draft.items if i.section == "also")
    assert not re.search(r"\d", item.body) and item.body.startswith("FAST-Prefill is")
    assert len(item.body.split()) <= 28
    assert "the abstract states a numbered result the item does not quote" in item.notes
    assert [c.tool for c in fake.calls] == ["Headline", "LeadLine"]  # no call for also items
    draft, _ = _write(models, papers, [FAST])
    assert "4.5× improvement in energy efficiency over GPU" in draft.items[0].body


def test_an_abstract_without_a_number_gives_an_item_without_numbers(
        papers: dict[str, Paper]) -> None:
    models, _ = _models()
    draft, _ = _write(models, papers, [REVIVE])
    (item,) = draft.items
    assert not facts.result_words(item.body) and item.body.startswith("ReviveMoE")
    assert not critic.writer_notes(draft)


def test_first_person_is_caught_and_asked_again(papers: dict[str, Paper]) -> None:
    good = "KnapSpec treats choosing draft layers as a knapsack problem solved on the fly."
    models, fake = _models(_scripted(["We propose KnapSpec, a framework for drafting.", good]),
                           writer_phrasing="model")
    draft, _ = _write(models, papers, [KNAP])
    assert draft.items[0].body.startswith(good)
    asks = [c for c in fake.calls if c.tool == "ItemPhrase"]
    assert len(asks) == 2 and "speaks as the authors" in asks[1].messages[-1]["content"]
    assert not draft.items[0].notes


@pytest.mark.parametrize("bad, why", [
    ("constrained Settings.", "fragment"),
    ("CHESS keeps the context-aware hierarchical selection policy that dynamically "
     "reconstructs a coherent context for the current decoding.", "copies"),
    ("CHESS " + "cuts the cache " * 9 + "well.", "words"),
    ("CHESS prunes the KV cache with a context-aware policy of the", "mid-phrase"),
    ("<cut>", "words"),
    ("CHESS keeps 37.5x less cache than before.", "numbers"),
])
def test_a_bad_sentence_twice_falls_back_to_code_with_a_warning(
        papers: dict[str, Paper], bad: str, why: str) -> None:
    models, fake = _models(_scripted([bad, bad]), writer_phrasing="model")
    draft, _ = _write(models, papers, [CHESS])
    item = draft.items[0]
    assert bad not in draft.markdown and "blocks of recent" not in draft.markdown
    assert item.body.startswith("CHESS is an algorithm-system co-design KV-cache management")
    assert item.notes and why in item.notes[0]
    warnings = critic.writer_notes(draft)
    assert warnings[0].severity == "warning" and warnings[0].item == CHESS
    assert len([c for c in fake.calls if c.tool == "ItemPhrase"]) == 2


def test_a_cut_off_lead_is_asked_again_then_replaced(papers: dict[str, Paper]) -> None:
    cut = "Today's papers prune KV caches with a context-aware policy " + "y" * 180
    models, _ = _models(_scripted([], leads=[cut, cut]))
    draft, _ = _write(models, papers, [CHESS, KNAP])
    assert cut not in draft.markdown and not lead_problems(draft.lead)
    assert draft.notes and "lead" in draft.notes[0]
    models, _ = _models(_scripted([], leads=[cut, "Two papers make long contexts cheaper to "
                                                  "serve."]))
    draft, _ = _write(models, papers, [CHESS, KNAP])
    assert draft.lead == "Two papers make long contexts cheaper to serve." and not draft.notes


def test_a_lead_that_is_only_too_long_is_cut_by_code(papers: dict[str, Paper]) -> None:
    long = ("Today's papers make long-context serving cheaper, with caches that prune "
            "themselves, drafts that pick their own layers, and accelerators that trade GPUs "
            "for FPGAs and ROM.")
    models, fake = _models(_scripted([], leads=[long]))
    draft, _ = _write(models, papers, [CHESS, KNAP])
    assert draft.lead == ("Today's papers make long-context serving cheaper, with caches that "
                          "prune themselves, drafts that pick their own layers, and "
                          "accelerators that trade GPUs.")
    assert not draft.notes and [c.tool for c in fake.calls].count("LeadLine") == 1


@pytest.mark.parametrize("lead, published", [
    # the model's list without its "and"
    ("Today's items focus on sparse prefill on FPGAs, balancing communication and "
     "computation, rapid failure recovery for deployments.",
     "Today's items focus on sparse prefill on FPGAs, balancing communication and "
     "computation, and rapid failure recovery for deployments."),
    # what the demo published: the cut at ", and …" left "A, B, C." behind
    ("Today's items focus on accelerating long-context prefill stages with FPGA "
     "accelerators, balancing resources in communication and computation, rapid failure "
     "recovery within LLM deployments, and hierarchical routing of queries.",
     "Today's items focus on accelerating long-context prefill stages with FPGA "
     "accelerators, balancing resources in communication and computation, and rapid failure "
     "recovery within LLM deployments."),
])
def test_a_lead_list_without_its_and_is_closed_by_code(papers: dict[str, Paper], lead: str,
                                                       published: str) -> None:
    models, fake = _models(_scripted([], leads=[lead]))
    draft, _ = _write(models, papers, [CHESS, KNAP])
    assert draft.lead == published
    assert [c.tool for c in fake.calls].count("LeadLine") == 1


@pytest.mark.parametrize("text, closed", [
    ("Caches shrink, decoding speeds up, accelerators multiply.",
     "Caches shrink, decoding speeds up, and accelerators multiply."),
    ("CHESS, which prunes caches, speeds up decoding.", None),
    ("Inference gets cheaper, faster and more reliable.", None),
    ("Work on caches, kernels, and schedulers.", None),
    ("Serving gets cheaper (by pruning, caching, offloading) today.", None),
    ("Caches shrink, decoding speeds up, including on phones.", None),
    ("Caches shrink, a long middle item that goes on and on for many more words than a list "
     "item has, decoding speeds up.", None),
])
def test_close_list(text: str, closed: str | None) -> None:
    from flashnews.text.facts import close_list

    assert close_list(text) == (closed or text)


@pytest.mark.parametrize("lead, ok", [
    ("Inference gets cheaper as caches shrink and decoding speeds up.", True),
    ("…context-aware semantic.", False),
    ("Caches shrink and decoding speeds up with", False),
    ("We look at caches today and at how they shrink.", False),
    ("Three papers cut cache costs by 4x.", False),
    (" ".join(["word"] * 26) + ".", False),
])
def test_lead_checks(lead: str, ok: bool) -> None:
    assert (not lead_problems(lead)) is ok


def test_latex_in_an_abstract_is_quoted_as_plain_text() -> None:
    paper = Paper(arxiv_id="2602.99999", title="TurboKV: Fast Caches",
                  abstract=r"Caches are slow. We propose TurboKV, a cache manager for long "
                           r"contexts. TurboKV achieves a $3.81\times$ end-to-end speedup and "
                           r"cuts memory by 10\% on Llama-3.1-8B.")
    models, _ = _models()
    draft, _ = _write(models, {paper.arxiv_id: paper}, [paper.arxiv_id])
    body = draft.items[0].body
    assert "3.81×" in body and "10%" in body and "\\" not in body and "$" not in body


def test_no_contribution_sentence_is_an_honest_fallback_with_a_warning() -> None:
    paper = Paper(arxiv_id="2602.99998", title="Cache Eviction: Lessons from Production",
                  abstract="Caches grow with context. Eviction policies matter at scale.")
    models, fake = _models()
    draft, _ = _write(models, {paper.arxiv_id: paper}, [paper.arxiv_id])
    item = draft.items[0]
    assert item.body == "Cache Eviction is about Lessons from Production."
    assert "no contribution sentence" in item.notes[0]
    assert not [c for c in fake.calls if c.tool == "ItemPhrase"]  # nothing to phrase


def test_a_bad_headline_is_dropped(papers: dict[str, Paper]) -> None:
    def respond(req: Request) -> Any:
        if req.tool == "Headline":
            return {"headline": "We made caches 37.5x faster"}
        return grounded_responder(req)

    models, _ = _models(respond)
    draft, _ = _write(models, papers, [CHESS])
    assert draft.items[0].headline == "" and "37.5" not in draft.markdown


def test_code_phrasing_makes_no_writer_call(papers: dict[str, Paper]) -> None:
    models, fake = _models(writer_phrasing="code")
    draft, _ = _write(models, papers, [CHESS, KNAP, FAST])
    assert not fake.calls and not lead_problems(draft.lead)
    assert "1.47x wall-clock speedup" in draft.markdown


def test_digest_themes_cite_the_papers_that_share_them(papers: dict[str, Paper]) -> None:
    models, fake = _models()
    ids = [CHESS, KNAP, FAST, TOM, REVIVE]
    draft, found = _write(models, papers, ids, [ISO, RQ], fmt="digest")
    shared = themes.candidates([*ids, ISO, RQ], papers)
    assert found and len(found) <= themes.MAX_THEMES
    for t in found:
        assert len(t.paper_ids) >= 2 and set(t.paper_ids) <= {*ids, ISO, RQ}
        assert any(c.label == t.title[:1].lower() + t.title[1:] or c.label == t.title
                   for c in shared)
        assert parse.sentence_problem(t.text) == ""
    # The model judged each candidate with one yes/no question.
    assert sum(1 for c in fake.calls if "research topic that these papers share" in c.text) \
        == min(len(shared), themes.MAX_ASKED)
    assert not [f for f in grounding.blocking(grounding.check_bulletin(
        draft.markdown, papers=papers)) if f.check == "theme"]


def test_a_digest_without_a_shared_theme_says_so_and_is_not_blocked(
        papers: dict[str, Paper]) -> None:
    models, _ = _models()
    draft, found = _write(models, papers, [CHESS, TOM], fmt="digest")
    assert found == [] and f"_{NO_THEMES}_" in draft.markdown
    assert "no cross-cutting theme" in draft.notes[-1]
    assert not [f for f in grounding.check_bulletin(draft.markdown, papers=papers)
                if f.check == "theme"]


def test_editorial_metrics_of_a_draft(papers: dict[str, Paper]) -> None:
    models, _ = _models()
    draft, _ = _write(models, papers, [CHESS, KNAP, FAST, TOM, REVIVE], [ISO, RQ])
    refs = {CHESS: facts.result_words("1% of the cache and 4.56x throughput"),
            KNAP: facts.result_words("up to 1.47x speedup"),
            FAST: facts.result_words("a 2.5x TTFT speedup and 9.9x less energy")}
    got = editorial.edition_metrics(draft, papers, refs)
    # 1% (CHESS), 1.47x (KnapSpec), 2.5x (FAST-Prefill); 4.56x needs a clause the parser
    # misreads in CHESS's abstract, 9.9x is in no abstract.
    assert got["headline_recall"] == pytest.approx(3 / 5)
    assert got["first_person_items"] == 0 and got["max_copy"] <= candidates.RESULT_MAX_COPY
    assert got["quotes_when_numbered"] == 1.0 and got["lead_complete"] is True


def test_pinned_items_without_a_name_render_as_before(papers: dict[str, Paper]) -> None:
    from flashnews.models import DraftItem

    item = DraftItem(paper_id=CHESS, headline="", body="Long-context LLMs demand accurate "
                     "inference.", origin="abstract")
    md = render(DATE, "flash", "Lead.", [item], papers, _scores(papers))
    assert "**[CHESS](https://arxiv.org/abs/2602.20732)**: Long-context" in md


def test_unfinished_sentence_cut_by_the_length_cap_is_dropped() -> None:
    from flashnews.agents.writer import complete_sentences

    assert complete_sentences("It works. It reaches 4.56x on-f") == "It works."
    assert complete_sentences("Done (see above)") == "Done (see above)"
    assert complete_sentences("no sentence end at all") == "no sentence end at all"
    assert complete_sentences("Items cover decoding, scaling, quantiz}") == \
        "Items cover decoding, scaling."
    assert complete_sentences("  Two  spaces.  ") == "Two spaces."


def test_item_schema_caps_the_sentence_in_the_json_schema() -> None:
    from flashnews.agents.writer import item_schema

    schema = item_schema(200).model_json_schema()
    assert schema["title"] == "ItemPhrase"
    assert schema["properties"]["what"]["maxLength"] == 200


def test_headline_repeating_the_title_is_not_rendered(papers: dict[str, Paper]) -> None:
    from flashnews.models import DraftItem

    pid = CHESS
    a = {pid: Assessment(paper_id=pid, relevant=True, score=90, hype=60, rationale="r",
                         prompt_hash="h", model="m")}
    item = DraftItem(paper_id=pid, headline="CHESS: Context-aware Hierarchical Selection",
                     body="It keeps 1% of the KV cache.")
    md = render(DATE, "flash", "Lead", [item], papers, a)
    assert "\n**[CHESS](https://arxiv.org/abs/2602.20732)**: It keeps 1% of the KV cache. " \
           "Score: 90 | Hype: 60" in md
    fresh = item.model_copy(update={"headline": "Pruning the cache to one percent"})
    assert "**Pruning the cache to one percent.** **[CHESS]" in render(
        DATE, "flash", "Lead", [fresh], papers, a)


@pytest.mark.parametrize(("headline", "ok"), [
    ("Hybrid ROM-SRAM accelerator with ternary quantization", True),
    ("Ternary accelerator balances density and tunability", True),
    ("Hybrid accelerator with ternary quantization for on-device tunable", False),  # reshaped
    ("Ternary accelerators for edge devices", True),    # plural of a word of the source
    ("Ternary quantization for", False),               # a phrase left open
])
def test_a_headline_must_end_on_a_word_of_its_source(headline: str, ok: bool) -> None:
    abstract = ("We propose a hybrid ROM-SRAM accelerator co-designed with ternary quantization, "
                "which balances density with on-device tunability on an edge device.")
    assert writer.ends_on_source(headline, "A Ternary Accelerator " + abstract) is ok
    assert writer.headline_ok(headline, abstract, "A Ternary Accelerator") is ok


def test_a_phrase_every_paper_on_the_beat_uses_is_no_theme(papers: dict[str, Paper]) -> None:
    ids = [FAST, TOM, CHESS, REVIVE, RQ]
    labels = {c.label.lower() for c in themes.candidates(ids, papers)}
    assert not labels & {"llms", "large language models", "inference", "language models"}
    # A phrase in more than a fifth of the day's other papers is no theme either.
    day = {f"2602.9{n:04d}": papers[CHESS].model_copy(update={
        "arxiv_id": f"2602.9{n:04d}", "title": "Paged attention kernels for chat",
        "abstract": "Paged attention kernels make chat serving faster."}) for n in range(12)}
    pool = {**papers, **day}
    assert "page attention kernel" in themes._common(pool, ids)
    two = [pid for pid in ids[:2]]
    shared = {**pool, **{pid: pool[pid].model_copy(update={
        "abstract": pool[pid].abstract + " We use paged attention kernels."}) for pid in two}}
    assert "paged attention kernels" not in {c.label for c in themes.candidates(ids, shared)}
    # Without the day's other papers using it, the same phrase is a theme.
    alone = {pid: shared[pid] for pid in ids}
    assert "paged attention kernels" in {c.label for c in themes.candidates(ids, alone)}
