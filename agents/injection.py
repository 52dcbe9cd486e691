"""Prompt injection: text in an abstract that addresses the model reading it instead of
describing research.

Every role (triage, writer, critic) gets an abstract through `neutralise` / `paper_block`:
- invisible characters (zero-width, bidi controls, soft hyphens) are dropped and words that mix
  Latin letters with look-alikes from other scripts (Cyrillic "о", Greek "ο") are read as Latin;
- a `</paper> … <paper>` break-out is cut out, tags and all, and `<`/`>` are neutralised, so the
  text cannot close its data block;
- a labelled keyword list ("Keywords: …", "Key-words —", "Index Terms", "Tags:") or an
  unlabelled run of comma-separated buzzwords is left out (it states no result and is the
  cheapest way to stuff an abstract with the beat's vocabulary);
- every sentence that the classifier below judges to be an instruction to the reader is left
  out, so it cannot move a score or leak into prose; `findings` shows all of it to the editor.

The classifier does not look for trigger phrases. It reads each sentence (after normalisation)
for what makes a sentence *addressed to its reader*: imperative mood (a bare verb with an
object), second person, a reference to the reader as an evaluator (reviewer, screener,
assistant, AI), to the reader's instructions (previous / your / system + instructions,
guidance, rules), a verdict asked of the reader about this very document (rate / score / treat /
answer + this paper, yes/no answers), and first-person research voice (we, our), which counts
against. A logistic model weighs them; its weights were fitted by `python -m
flashnews.evals.injection_fit` on the `tune` split of the injection dataset and on real
abstracts, and it is measured on the held-out split and on real abstracts it never saw
(docs/untrusted-input.md).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flashnews.models import Finding, Paper
from flashnews.text import split_sentences

# -- normalisation ------------------------------------------------------------------------------

@cache
def _is_invisible(ch: str) -> bool:
    """Format characters (Unicode Cf: zero-width space and joiners, bidi controls, BOM, soft
    hyphen): they render as nothing and only serve to split a word for a filter."""
    return unicodedata.category(ch) == "Cf"


@cache
def _latin_lookalike(ch: str) -> str | None:
    """The ASCII letter a non-ASCII letter is confusable with (Unicode confusables), or None."""
    if ch.isascii() or not ch.isalpha():
        return None
    from confusable_homoglyphs import confusables

    found = confusables.is_confusable(ch, preferred_aliases=["latin"], greedy=True)
    for entry in found or []:
        for glyph in entry.get("homoglyphs", []):
            c = glyph.get("c", "")
            if len(c) == 1 and c.isascii() and c.isalpha():
                return c
    return None


_WORD = re.compile(r"\w+", re.UNICODE)


def _unmix(word: str) -> str:
    """A word that mixes ASCII letters with look-alikes from other scripts, read as ASCII.

    A word written wholly in another script (a Greek letter, a Chinese term) is left alone:
    only mixing is an evasion.
    """
    # Two Latin letters at least: units such as "μs" or "kΩ" are not words to unmix.
    if word.isascii() or sum(c.isascii() and c.isalpha() for c in word) < 2:
        return word
    mapped = [(_latin_lookalike(c) or c) if not c.isascii() else c for c in word]
    return "".join(mapped) if all(c.isascii() for c in mapped) else word


def clean_text(text: str) -> str:
    """Text as a reader sees it: no invisible characters, mixed-script words unmixed.

    This is what every prompt receives; a clean abstract comes back unchanged (NFC only: the
    compatibility folding of NFKC, which turns "x²" into "x2", is kept for detection_view).
    """
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if not _is_invisible(c))
    # A LaTeX command glued to a Greek letter (`\sqrtα`) is mathematics, not a disguised word.
    return _WORD.sub(lambda m: m.group(0) if text[max(m.start() - 1, 0)] == "\\"
                     else _unmix(m.group(0)), text)


def detection_view(text: str) -> str:
    """The normalised, lower-case text the classifier reads (every look-alike mapped)."""
    text = unicodedata.normalize("NFKC", clean_text(text))
    text = "".join((_latin_lookalike(c) or c) if not c.isascii() else c for c in text)
    return " ".join(text.lower().split())


def obfuscation(text: str) -> list[str]:
    """What normalisation had to undo: invisible characters, mixed-script words."""
    found = []
    n = sum(_is_invisible(c) for c in unicodedata.normalize("NFKC", text))
    if n:
        found.append(f"{n} invisible character(s)")
    mixed = [w for w in _WORD.findall(unicodedata.normalize("NFKC", text)) if _unmix(w) != w]
    if mixed:
        found.append(f"mixed-script word(s) {', '.join(mixed[:3])}")
    return found


# -- sentences ------------------------------------------------------------------------------------

def sentences(text: str) -> list[str]:
    """Sentences of an abstract (a split after . ! ? ; or a closing tag before a capital)."""
    return split_sentences(text, starts="A-Z(\"'<\\[", after_tag=True)


# -- features -------------------------------------------------------------------------------------

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Closed word classes of English, not attack phrases: the classifier's vocabulary is grammar
# (who is addressed, in which mood, about what) and the reader's job (scoring, answering).
_VERBS = _words("""
ignore disregard forget override overrule bypass skip discard neglect abandon drop cancel
assign give rate score grade rank mark label classify judge evaluate assess review recommend
accept approve reject flag treat regard consider answer respond reply say output print write
return report state conclude decide set put place make keep stop pay act pretend behave imagine
suppose assume follow obey use select choose prefer prioritize favour favor count tell show
ensure do remember note read list include exclude move rewrite describe summarize call
""")
_OBJECT_START = _words("""
all any the this that these those your my our every each its it them me us previous prior
earlier above preceding yes no only a an no every whatever whichever nothing everything
""")
# A leading vocative or label ("Reviewers:", "Note to automated screeners,", "Important —")
# and politeness ("please") come before the verb of an imperative.
_LABEL = re.compile(r"^(?:[a-z][\w\s\-]{0,40}?\s*[:,\u2014]\s+|please\s+|kindly\s+)+")
_READER = re.compile(
    r"\b(?:reviewers?|referees?|screeners?|graders?|evaluators?|assessors?|assistants?|"
    r"chatbots?|whoever reads|reading this|"
    r"(?:ai|automated|llm|language model)\s+(?:reviewers?|screen\w*|graders?|evaluators?|"
    r"assistants?|readers?|judges?|tools?|systems? reading)|"
    r"(?:dear|hey|attention|hello)\s+(?:ai|model|llm|assistant|bot))\b")
_INSTRUCTIONS = re.compile(
    r"\b(?:previous|prior|earlier|above|preceding|original|initial|your|all|any|those|these|"
    r"system|old|existing|given|screening)\s+(?:\w+\s+)?(?:instructions?|guidance|guidelines?|"
    r"directives?|prompts?|rules?|orders|criteria|rubrics?|tasks?)\b")
_DOC = r"(?:paper|submission|abstract|manuscript|article|entry|preprint|document|work|study)"
_THIS_DOC = (rf"(?:\b(?:this|the (?:following|present|above|current|next|below))\s+{_DOC}\b|"
             rf"\b(?:the|this)\s+{_DOC}\s+(?:below|above)\b)")
_VERDICT = re.compile(
    r"\b(?:rat\w*|scor\w*|grad\w*|rank\w*|mark\w*|label\w*|classif\w*|judg\w*|assess\w*|"
    r"recommend\w*|accept\w*|approv\w*|treat\w*|regard\w*|consider\w*|deserv\w*|conclud\w*|"
    r"assign\w*|give)\b"
    rf"[^.]{{0,40}}{_THIS_DOC}"
    rf"|{_THIS_DOC}[^.]{{0,30}}\b(?:must|should|deserves?|is to be|has to be)\b")
_ANSWER = re.compile(r"\b(?:answer|respond|reply|say|output|return)\w*\s+(?:with\s+|only\s+)*"
                     r"[\"'“]?(?:yes|no)\b|\b(?:correct|right|only|expected) answer\b|"
                     r"\brelevan\w*\s*[=:]\s*(?:yes|no|\d+)")
_SCORE = re.compile(r"\b(?:score|rating|grade|relevance)\s*(?:of|:|=)?\s*\d{1,3}\b|"
                    r"\b\d{1,3}\s*(?:/|out of)\s*100\b")
_PERSONA = re.compile(r"\byou are (?:now )?(?:a|an|the)\b|\bpretend (?:to be|you)\b|"
                      r"\bfrom now on\b|\byour (?:new )?(?:role|task|job)\b")
_SECOND = re.compile(r"\b(?:you|your|yours|yourself)\b")
_FIRST = re.compile(r"\b(?:we|our|us)\b")
_TAGS = re.compile(r"</?\s*(?:paper|system|instructions?|user|assistant)\b|\[/?(?:inst|system)\]")

FEATURES = ("imperative", "second_person", "reader", "instructions", "verdict", "answer",
            "score_number", "persona", "tags", "first_person", "override")
_OVERRIDE = re.compile(r"\b(?:ignor|disregard|forget|overrid|overrul|bypass|discard|neglect|"
                       r"supersed|pay no attention)\w*")


def features(sentence: str) -> dict[str, float]:
    """The classifier's inputs for one sentence (0 or 1 each)."""
    s = detection_view(sentence)
    body = _LABEL.sub("", s).lstrip("\"'“(")
    words = re.findall(r"[a-z']+", body)
    imperative = len(words) >= 2 and words[0] in _VERBS and (
        words[1] in _OBJECT_START or words[1] in ("to", "with", "as", "it"))
    return {
        "imperative": float(imperative),
        "second_person": float(bool(_SECOND.search(s))),
        "reader": float(bool(_READER.search(s))),
        "instructions": float(bool(_INSTRUCTIONS.search(s))),
        "verdict": float(bool(_VERDICT.search(s))),
        "answer": float(bool(_ANSWER.search(s))),
        "score_number": float(bool(_SCORE.search(s))),
        "persona": float(bool(_PERSONA.search(s))),
        "tags": float(bool(_TAGS.search(s))),
        "first_person": float(bool(_FIRST.search(s))),
        "override": float(bool(_OVERRIDE.search(s))),
    }


# Fitted by `python -m flashnews.evals.injection_fit` (logistic regression, L2, balanced
# classes) on the injection dataset's `tune` split and the sentences of real abstracts; the
# held-out split was not used. Printed by that command; pasted here.
WEIGHTS: dict[str, float] = {
    "imperative": 1.63, "second_person": 0.75, "reader": 1.48, "instructions": 0.92,
    "verdict": 2.41, "answer": 1.82, "score_number": 0.34, "persona": 0.34, "tags": 0.0,
    "first_person": -0.94, "override": 0.9,
}
BIAS = -2.07
THRESHOLD = 0.5


def instruction_probability(sentence: str) -> float:
    """P(the sentence instructs its reader) under the fitted logistic model."""
    f = features(sentence)
    z = BIAS + sum(WEIGHTS[k] * v for k, v in f.items())
    return 1.0 / (1.0 + math.exp(-z))


def is_instruction(sentence: str) -> bool:
    return instruction_probability(sentence) >= THRESHOLD


# -- keyword lists --------------------------------------------------------------------------------

KEYWORD_LIST = re.compile(
    r"\b(?:key[\s_\-‐‑–]*(?:words?|phrases?|terms?)|index[\s_\-‐‑–]*terms?|tags|"
    r"topics|subject terms?)\s*(?:[:\u2014\u2013]|-+)\s*[^.!?]*[.!?]?", re.IGNORECASE)
"""A labelled keyword list (matched on the cleaned text: "Key-words:", "KEYWORDS —", "Tags:")."""


_FUNCTION_WORDS = re.compile(r"\b(?:the|a|an|of|in|on|at|we|our|is|are|was|were|be|to|with|"
                             r"by|for|from|that|which|this|these|it|its|as|than|into|while)\b",
                             re.IGNORECASE)


def _is_buzzword_run(sentence: str) -> bool:
    """An unlabelled keyword list: five or more comma/semicolon-separated items of at most four
    words each and no function word at all (no sentence of English is built that way)."""
    items = [i.strip() for i in re.split(r"[,;]", sentence.rstrip(".")) if i.strip()]
    if len(items) < 5 or any(len(i.split()) > 4 for i in items):
        return False
    return not _FUNCTION_WORDS.search(re.sub(r"^\s*and\s+", "", sentence))


def keyword_lists(text: str) -> list[str]:
    """The keyword lists of a (cleaned) text: labelled ones and unlabelled buzzword runs."""
    text = clean_text(text)
    found = [m.group(0) for m in KEYWORD_LIST.finditer(text)]
    rest = KEYWORD_LIST.sub(" ", text)
    return found + [s for s in sentences(rest) if _is_buzzword_run(s)]


def without_keyword_lists(text: str) -> str:
    """The text without its keyword lists (what the beat rules and the model read)."""
    text = KEYWORD_LIST.sub(" ", clean_text(text))
    if "," in text or ";" in text:
        text = " ".join(s for s in sentences(text) if not _is_buzzword_run(s)) or text
    return " ".join(text.split())


# -- structure: an assessment written as data, text in another language -------------------------

# A JSON object with a quoted key ({"score": 95, "relevant": "yes"}): data addressed to a parser.
_JSON_OBJECT = re.compile(r"\{[^{}]{0,400}?[\"'“”‘’][^\"'“”‘’{}]{1,40}[\"'“”‘’]\s*:[^{}]{0,400}\}")
# Two or more "key: value" pairs whose values are verdicts (a whole number up to 100, yes/no, a
# boolean) with nothing after them: "Score: 95 | Hype: 60", "relevant: yes; priority: 1".
# (A measured result is written with decimals or "=": "F1: 0.96", "AE = 131.5"; a verdict is
# a whole number: "Score: 95".)
_PAIR = (r"[A-Za-z][\w\-]{1,24}(?:\s[A-Za-z][\w\-]{1,24})?\s*:\s*"
         r"(?:[\"'“]?(?:yes|no|true|false|high|low)[\"'”]?|(?:100|\d{1,2})(?:\s*/\s*10+)?)"
         r"(?=\s*(?:[,;|/)\]}.]|$))")
_PAIRS = re.compile(rf"{_PAIR}(?:\s*[,;|/]?\s*{_PAIR})+", re.IGNORECASE)


def structured(text: str) -> list[str]:
    """Assessments written as data in a text: JSON objects and runs of verdict pairs."""
    found = _json_assessments(text)
    for obj in found:
        text = text.replace(obj, " ")
    return found + [m.group(0) for m in _PAIRS.finditer(text)]


def _json_assessments(text: str) -> list[str]:
    """JSON objects with a verdict among their values (a number, yes/no, a boolean): an
    example record such as {"name": "Alice"} is research text, not an assessment."""
    return [m.group(0) for m in _JSON_OBJECT.finditer(text)
            if re.search(r":\s*(?:[\"'“‘]?(?:yes|no|true|false)\b|\d)", m.group(0), re.I)]


@cache
def _language_identifier() -> Any:
    """py3langid's model (97 languages), loaded once on first use."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


FOREIGN_CONFIDENCE = 0.9
"""How sure the language identifier must be that a sentence is not English. Over the 6,152
sentences of at least 20 letters of the two real listings (837 abstracts), none reached it."""


def language_of(sentence: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of one sentence, by py3langid."""
    lang, p = _language_identifier().classify(sentence)
    return str(lang), float(p)


def foreign(text: str) -> list[tuple[str, str]]:
    """Sentences of an English field written in another language, as (language, sentence).

    The bulletin is English and every role reads English: a sentence in another language is
    one no English grammar check can read, and the cheapest way to pass an instruction by one.
    """
    out = []
    # Split wherever a sentence ends, whatever follows: a sentence in Chinese or Russian starts
    # with no Latin capital, so the English splitter would glue it to the one before.
    for s in re.split(r"(?<=[.!?。！？])\s*(?=\S)", text):
        s = s.strip()
        if sum(c.isalpha() for c in s) < 20:
            continue
        lang, p = language_of(s)
        if lang != "en" and p >= FOREIGN_CONFIDENCE:
            out.append((lang, s))
    return out


# -- neutralising ---------------------------------------------------------------------------------

_BREAKOUT = re.compile(r"</\s*paper\s*>.*?(?:<\s*paper\b[^>]*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?\s*paper\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Detected:
    """What neutralising took out of one text, for the editor."""

    breakouts: list[str]
    keyword_lists: list[str]
    instructions: list[str]
    obfuscation: list[str]
    structured: list[str] = field(default_factory=list)
    """Assessments written as data (a JSON object, "Score: 95 | Hype: 60")."""
    foreign: list[tuple[str, str]] = field(default_factory=list)
    """Sentences in another language, with the language's code."""

    @property
    def steering(self) -> list[str]:
        """Everything that addresses the model (keyword lists only stuff the text)."""
        return [*self.breakouts, *self.structured, *self.instructions,
                *(f"[{lang}] {s}" for lang, s in self.foreign)]

    @property
    def any(self) -> bool:
        return bool(self.keyword_lists or self.steering)


def _strip_structure(text: str) -> str:
    """The text without break-outs, paper tags and assessments written as data."""
    if "paper" in text.lower():
        text = _TAG.sub(" ", _BREAKOUT.sub(" ", text))
    for obj in _json_assessments(text) if "{" in text else []:
        text = text.replace(obj, " ")
    if ":" in text or "=" in text:
        text = _PAIRS.sub(" ", text)
    return text


def detect(text: str) -> Detected:
    """Everything `neutralise` would remove from `text`, and what it had to normalise."""
    clean = clean_text(text)
    breakouts = [m.group(0) for m in _BREAKOUT.finditer(clean)]
    rest = _TAG.sub(" ", _BREAKOUT.sub(" ", clean))
    data = structured(rest)
    rest = _strip_structure(rest)
    lists = keyword_lists(rest)
    rest = without_keyword_lists(rest)
    other = foreign(rest)
    for _, s in other:
        rest = rest.replace(s, " ")
    return Detected(breakouts=breakouts, keyword_lists=lists,
                    instructions=[s for s in sentences(rest) if is_instruction(s)],
                    obfuscation=obfuscation(text), structured=data, foreign=other)


def without_injections(text: str) -> str:
    """The text minus everything addressed to the model (break-outs, assessments written as
    data, keyword lists, instruction sentences, sentences in another language), normalised. A
    clean abstract comes back as it was."""
    clean = without_keyword_lists(_strip_structure(clean_text(text)))
    for _, s in foreign(clean):
        clean = clean.replace(s, " ")
    return " ".join(s for s in sentences(clean) if not is_instruction(s))


def _escape(text: str) -> str:
    # Tags inside an abstract could close the data block early; neutralise them.
    return text.replace("<", "‹").replace(">", "›")


MAX_FIELD_CHARS = 6000
"""The most of one abstract any prompt reads: about 1,500 tokens (arXiv's own limit is 1,920
characters, so a real abstract is never cut), so a 200 KB field cannot overflow a small
model's context, in any role or scoring path; one bad paper never blocks the day."""
MAX_TITLE_CHARS = 400


def capped(text: str, limit: int) -> str:
    """`text` if it fits, else its first whole sentences within `limit` characters (a first
    sentence longer than that is cut at a word and marked with an ellipsis)."""
    if len(text) <= limit:
        return text
    out = ""
    for s in sentences(text):
        if len(out) + len(s) + 1 > limit:
            break
        out = f"{out} {s}".strip()
    return out or text[:limit].rsplit(" ", 1)[0] + " …"


def neutralise(text: str) -> str:
    """The text as it may appear inside a prompt's data block: injections removed, tags
    escaped, invisible characters dropped, at most MAX_FIELD_CHARS."""
    return _escape(capped(without_injections(text[:20 * MAX_FIELD_CHARS]), MAX_FIELD_CHARS))


TITLE_WITHHELD = "(title withheld: it addresses the model)"


def neutralise_title(title: str) -> str:
    """A title for a prompt: what neutralises an abstract, normalised and escaped, one line, at
    most MAX_TITLE_CHARS; a title that is nothing but an instruction is withheld."""
    title = title[:4 * MAX_TITLE_CHARS]
    kept = without_injections(title) if detect(title).steering else clean_text(title)
    return _escape(capped(" ".join(kept.split()), MAX_TITLE_CHARS)) or TITLE_WITHHELD


def paper_block(paper: Paper, *, abstract: str | None = None, categories: bool = False,
                label: str = "Abstract") -> str:
    """The paper as a delimited data block for any prompt: `<paper id=…>` … `</paper>`.

    `abstract` replaces the whole abstract (e.g. the critic's key sentences); it is
    neutralised all the same.
    """
    lines = [f'<paper id="{paper.arxiv_id}">', f"Title: {neutralise_title(paper.title)}"]
    if categories:
        lines.append(f"Categories: {', '.join(paper.categories) or 'unknown'}")
    lines.append(f"{label}: {neutralise(paper.abstract if abstract is None else abstract)}")
    lines.append("</paper>")
    return "\n".join(lines)


# -- findings -------------------------------------------------------------------------------------

def _what(found: Detected) -> str:
    parts = []
    if found.breakouts:
        parts.append(f"{len(found.breakouts)} break-out(s) of the paper block")
    if found.structured:
        parts.append(f"{len(found.structured)} assessment(s) written as data")
    if found.instructions:
        parts.append(f"{len(found.instructions)} sentence(s) addressed to the model")
    if found.foreign:
        langs = ", ".join(sorted({lang for lang, _ in found.foreign}))
        parts.append(f"{len(found.foreign)} sentence(s) in another language ({langs})")
    return "; ".join(parts)


def findings(paper: Paper) -> list[Finding]:
    """What in the title and abstract tries to steer the model: shown to the editor, never
    obeyed (every role reads the paper without it), and never published headless."""
    out: list[Finding] = []
    title, abstract = detect(paper.title), detect(paper.abstract)
    obfuscated = [*title.obfuscation, *abstract.obfuscation]
    how = f" ({'; '.join(obfuscated)} normalised)" if obfuscated else ""
    lists = [*title.keyword_lists, *abstract.keyword_lists]
    if lists:
        out.append(Finding(
            check="keyword-list", severity="warning", item=paper.arxiv_id, source="triage",
            evidence=lists[0][:200],
            message=f"abstract of {paper.arxiv_id} carries a keyword list; the rules and the "
                    f"model judged the paper without it{how}"))
    where = [(name, found) for name, found in (("title", title), ("abstract", abstract))
             if found.steering]
    if where:
        steering = [s for _, found in where for s in found.steering]
        what = "; ".join(f"{name}: {_what(found)}" for name, found in where)
        out.append(Finding(
            check="prompt-injection", severity="warning", item=paper.arxiv_id, source="triage",
            evidence=" | ".join(s[:160] for s in steering)[:300],
            message=f"{' and '.join(n for n, _ in where)} of {paper.arxiv_id} "
                    f"{'address' if len(where) > 1 else 'addresses'} the model "
                    f"({what}); left out of what every role reads, so the score is the "
                    f"model's judgement of the paper alone; a headless run does not publish "
                    f"it{how}"))
    return out
