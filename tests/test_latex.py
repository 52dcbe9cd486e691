"""LaTeX in titles and abstracts read as a reader sees it (tools/latex.py, pylatexenc)."""

from __future__ import annotations

import pytest

from flashnews.models import Paper
from flashnews.text.claims import detex, quantities
from flashnews.text.grounding import blocking, check_bulletin
from flashnews.text.latex import to_text


@pytest.mark.parametrize(("tex", "plain"), [
    (r"We propose \textsc{LinKV}.", "We propose LinKV."),
    (r"with $\mathcal{O}(n)$ cost, not $O(n^2)$", "with O(n) cost, not O(n²)"),
    (r"$\widetilde O(\mathsf{TC}/K)$", "O(TC/K)"),
    (r"a $3.81\times$ speedup and 10\% less memory", "a 3.81× speedup and 10% less memory"),
    (r"over $10^{4}$ tokens and $1{,}000$ steps at $10^{-3}$", "over 10⁴ tokens and 1,000 steps "
                                                             "at 10⁻³"),
    (r"$W^{\top}x$ and $x_{i,j}$", "Wᵀx and x_(i,j)"),
    # Plain-text habits LaTeX would misread: a percent sign, "~" for about, a lone dollar.
    ("a 50% cut, ~5 ms & more", "a 50% cut, ~5 ms & more"),
    (r"layer~17 of Stage~2B", "layer 17 of Stage 2B"),
    ("it costs $5 a day", "it costs $5 a day"),
    (r"\'{e}t\'e na\"ive", "été naïve"),
    # An author's macro: a coined name is read as the name, a placeholder stays as written.
    (r"\CFE{} is a benchmark; \modelname is fast", r"CFE is a benchmark; \modelname is fast"),
    (r"\href{https://x.org}{our code} \cite{a}", "our code"),
    ("ping--pong buffers", "ping--pong buffers"),
    (r"{\bf unbalanced", "unbalanced"),
])
def test_latex_reads_as_a_reader_sees_it(tex: str, plain: str) -> None:
    assert to_text(tex) == plain


def test_no_figure_is_made_from_math() -> None:
    # "$x^2 s.t.$" once became a figure "2 s" (a latency), and "$\pi_{0.5}$" one of 0.5.
    text = r"It solves $\min_x f(x)^2 s.t. g(x) \leq 0$ and beats $\pi_{0.5}$ at 2$\times$ speed."
    assert [q.text for q in quantities(text)] == ["2×"]
    assert "²" in detex(text)


def test_check_blocks_a_figure_made_from_math() -> None:
    paper = Paper(arxiv_id="2602.99100", title="LinKV: Linear Caches",
                  abstract=r"We propose \textsc{LinKV}, a cache with $\mathcal{O}(n)$ memory that "
                           r"minimises $\|K\|^2$ s.t. a budget, and cuts latency by 30\%.")
    md = ("# Inference Ecosystem — Flash News\n**2026-02-25**\n\nCaches.\n\n"
          "[LinKV](https://arxiv.org/abs/2602.99100) reports 2 s latency. Score: 50 | Hype: 40\n")
    found = blocking(check_bulletin(md, papers={paper.arxiv_id: paper}))
    assert [f.check for f in found] == ["number"] and "'2 s'" in found[0].message
    fine = md.replace("reports 2 s latency", "cuts latency by 30%")
    assert blocking(check_bulletin(fine, papers={paper.arxiv_id: paper})) == []
