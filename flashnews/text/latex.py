"""LaTeX in arXiv titles and abstracts read as a reader sees it, through pylatexenc.

arXiv metadata is LaTeX written by hand, often not LaTeX at all ("a 50% cut", "~5 ms", "$5"), so
the plain-text habits LaTeX would misread are escaped first; pylatexenc then parses the rest
(accents, `\\textsc{X}` -> X, `\\%`, `$3.81\\times$` -> 3.81x, math symbols to Unicode).

No figure is ever made from math notation: a superscript or subscript becomes Unicode super- or
subscript characters ("$O(n^2)$" -> "O(n²)", "$10^{-3}$" -> "10⁻³"), or `^(…)` / `_(…)` when
a character has no such form, and neither is a digit that a figure reader takes for a number (so
"$x^2 s.t.$" can no longer yield a figure "2 s"). Styled math letters (`\\mathcal{O}`, `\\mathsf{TC}`)
are read as the plain letters a reader sees.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

_SUPER = dict(zip("0123456789+-−=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱ", strict=True))
_SUB = dict(zip("0123456789+-−=()", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎", strict=True))

# Text-mode styling that pylatexenc's defaults do not know: the argument is the text.
_STYLE = ("texttt", "textsf", "textup", "textmd", "textnormal", "textrm", "mathtt", "mathnormal",
          "textsl", "uppercase", "MakeUppercase", "mbox", "hbox", "operatorname", "textsubscript")
# Citations, labels and old font switches (`{\\bf x}`) carry no words a reader sees.
_DROP = ("cite", "citep", "citet", "ref", "eqref", "label", "bf", "it", "sc", "rm", "tt", "sf",
         "sl", "em", "small", "large", "Large", "footnotesize", "normalsize", "noindent")

_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_SCRIPT = re.compile(r"([\^_])\s*(\{(?:[^{}]|\{[^{}]*\})*\}|\\[A-Za-z]+|\S)")
_HREF = re.compile(r"\\href\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_MACRO = re.compile(r"\\([A-Za-z]+)(\s*\{)?")


@cache
def _converter() -> tuple[Any, Any]:
    """The pylatexenc converter and its macro table (built once; pure, no state)."""
    try:
        from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
    except ImportError:  # a core dependency; without it, the small regex reading below
        return None, None
    db = get_default_latex_context_db().filter_context(keep_categories=None)
    db.add_context_category("flashnews", prepend=True, macros=[
        *(MacroTextSpec(m, simplify_repl="%(1)s") for m in _STYLE),
        *(MacroTextSpec(m, simplify_repl="") for m in _DROP)])
    return LatexNodes2Text(latex_context=db, math_mode="text", strict_latex_spaces=False), db


def _script(kind: str, body: str) -> str:
    """One superscript or subscript as Unicode characters, or ^(…)/_(…) as a fallback."""
    table = _SUPER if kind == "^" else _SUB
    inner = body[1:-1] if body.startswith("{") else body
    text = " ".join(_plain(inner).split())
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    if text in ("⊤", "T", "\u22ba") and kind == "^":  # a transpose
        return "ᵀ"
    return f"{kind}({text})" if text else ""


def _math(body: str) -> str:
    """A math segment with its scripts made Unicode, still LaTeX otherwise."""
    return _SCRIPT.sub(lambda m: _script(m.group(1), m.group(2)), body)


def _escape_plain(text: str) -> str:
    """Escape what an author wrote as plain text but LaTeX would read as markup."""
    text = re.sub(r"(?<!\\)%", r"\\%", text)       # a percent sign, not a comment
    text = re.sub(r"(?<!\\)&", r"\\&", text)       # an ampersand, not a table column
    text = re.sub(r"(?<!\\)#", r"\\#", text)
    # "~5 ms" at the start of a word means "about"; "3~GB" between two words is a tie.
    text = re.sub(r"(?:(?<=^)|(?<=[\s(\[]))~(?=\s*[\d$.])", r"\\textasciitilde{}", text)
    # An odd number of unescaped dollars cannot be math: they are currency.
    if len(re.findall(r"(?<!\\)\$", text)) % 2:
        text = re.sub(r"(?<!\\)\$", r"\\$", text)
    return text


@cache
def _known(name: str) -> bool:
    """A macro pylatexenc can read (its text table or its parser's)."""
    _, db = _converter()
    if db is None:
        return True
    from pylatexenc.latexwalker import get_default_latex_context_db

    return any(d.get_macro_spec(name) is not None
               for d in (db, get_default_latex_context_db())) or name in ("begin", "end")


def _keep_unknown(text: str) -> str:
    """A custom macro the text cannot define: a coined name (`\\CFE{}`) is read as that name,
    a lower-case placeholder (`\\modelname`) is left as written, one with an argument
    (`\\method{X}`) is read as its argument."""
    def repl(m: re.Match[str]) -> str:
        name, brace = m.group(1), m.group(2)
        if _known(name):
            return m.group(0)
        if brace and not m.string.startswith("}", m.end()):
            return "{"
        # A placeholder the author forgot to expand (\modelname, \ours) stays as arXiv shows it;
        # a coined name (\CFE, \LinKV) is read as that name.
        if name.islower():
            return "\\textbackslash{}" + name + (brace or "")
        return name + (" {" if brace else "")
    return _MACRO.sub(repl, text)


def _letters(text: str) -> str:
    """Styled letters (𝒪, 𝖳, ℒ, 𝐀) read as plain ones; Greek, scripts and symbols untouched."""
    out = []
    for c in text:
        if ord(c) > 0x2000 and unicodedata.category(c).startswith("L"):
            folded = unicodedata.normalize("NFKC", c)
            c = folded if len(folded) == 1 else c
        out.append(c)
    return "".join(out)


def _plain(tex: str) -> str:
    conv, _ = _converter()
    if conv is None:
        return tex
    return str(conv.latex_to_text(tex))


# A math segment that only writes a figure ("$3.81\\times$", "$<$60\\%", "$1{,}000$",
# "$\\sim$10"): digits, separators, comparison and multiplication signs, a percent sign.
_FIGURE_MATH = re.compile(r"^[\s\d.,{}~<>=+\-%]*(?:\\(?:times|sim|approx|simeq|leq|geq|le|ge|"
                          r"pm|%|,|;|!|\s)[\s\d.,{}~<>=+\-%]*)*$")
# A figure labelled by a symbol: "$\\kappa = 0.7660$", "$n=352$", "$p<0.0001$", "$R^2 \\approx 0.72$".
_LABELLED_FIGURE = re.compile(r"^\s*[^=<>\d]{1,16}?(?:\^\{?2\}?)?\s*(?:=|<|>|\\approx|\\leq|\\geq|\\le|"
                              r"\\ge|\\sim)\s*[+\-]?\d[\d.,{}]*\s*\\?%?\s*$")
_OPEN, _CLOSE = "\x03", "\x04"


def to_text(text: str) -> str:
    """Plain text of a LaTeX title or abstract, one line (a text without LaTeX comes back
    whitespace-normalised, its `%`, `&`, `~` and `$` as written)."""
    return to_text_spans(text)[0]


def to_text_spans(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`to_text`, and the spans of that text that were mathematics other than a figure
    ("g(x) ≤ 0", "O(n²)"): a figure reader must not take a number from them."""
    if "\\" not in text and "$" not in text and "{" not in text and "~" not in text:
        return _tidy(text), []
    tex = _HREF.sub(r"\2", _keep_unknown(_escape_plain(text)))

    def segment(m: re.Match[str]) -> str:
        body = next(g for g in m.groups() if g is not None)
        if _FIGURE_MATH.match(body) or _LABELLED_FIGURE.match(body):
            return "$" + _math(body) + "$"
        return _OPEN + "$" + _math(body) + "$" + _CLOSE

    tex = _MATH.sub(segment, tex)
    # Dashes stay as typed ("--" is what arXiv's own pages show, and what every recorded
    # prompt holds); a numeric range's dash was made an en dash by the caller.
    tex = tex.replace("---", "\x01").replace("--", "\x02")
    try:
        out = _plain(tex).replace("\x01", "---").replace("\x02", "--")
    except Exception as exc:  # pylatexenc on malformed input: fall back to the raw text
        log.debug("LaTeX not parsed (%s): %.80s", exc, text)
        out = re.sub(r"\\[A-Za-z]+\s*|[{}$\x03\x04]", "", text)
    # TeX's \\sim is the tilde a reader types for "about".
    out = _tidy(_letters(out).replace("\u223c", "~"))
    spans, plain, at = [], [], 0
    for piece in re.split(f"([{_OPEN}{_CLOSE}])", out):
        if piece == _OPEN:
            start = at
        elif piece == _CLOSE:
            spans.append((start, at))
        else:
            plain.append(piece)
            at += len(piece)
    return "".join(plain), spans


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    # "3.81 ×" written with math spacing: keep the sign next to its number.
    return re.sub(r"(\d)\s+×", r"\1×", text)
