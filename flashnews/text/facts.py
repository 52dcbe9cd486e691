"""The facts a bulletin item is written from, found in an abstract by code.

A 1.5B model given a raw abstract copies its opening, speaks as the authors and quotes no number
(docs/writing.md). So code does what such a model does badly:
- find the contribution sentence ("we propose X, a Y that Z") and turn it into a third-person
  sentence about the method ("X is a Y that Z"), with the method's name;
- find the result claims (tools/claims.py) and choose the headline ones, rendered as short noun
  phrases with the abstract's own numbers ("up to 4.56× higher throughput");
- check what is written: the longest run of words copied from the abstract, first person,
  complete sentences.
The model only rephrases those facts (agents/writer.py), and code checks the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flashnews.text.claims import (
    Quantity,
    detex,
    ground_text,
    quantities,
    result_claims,
    sentences,
)

# ---------------------------------------------------------------------------------------------
# checks of written text

_WORD = re.compile(r"[A-Za-z0-9]+(?:[-.'’][A-Za-z0-9]+)*")
FIRST_PERSON = re.compile(r"\b(?:we|our|ours|us|ourselves)\b", re.IGNORECASE)
MAX_COPY = 10
"""Longest run of words an item may copy verbatim from its abstract (the house bulletins copy at
most 8)."""


def words(text: str) -> list[str]:
    """Lower-case word tokens (punctuation and LaTeX ignored), as a reader compares texts."""
    return [w.lower() for w in _WORD.findall(detex(text))]


def _longest_run(a: list[str], b: list[str]) -> tuple[int, int]:
    """(length, end) of the longest run of `a` (ending before index `end`) found in `b`."""
    best, end = 0, 0
    prev = [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        cur = [0] * (len(b) + 1)
        ai = a[i - 1]
        for j in range(1, len(b) + 1):
            if ai == b[j - 1]:
                cur[j] = prev[j - 1] + 1
                if cur[j] > best:
                    best, end = cur[j], i
        prev = cur
    return best, end


def longest_copy(text: str, source: str) -> tuple[int, str]:
    """The longest run of consecutive words of `text` found verbatim in `source`."""
    a = words(text)
    best, end = _longest_run(a, words(source))
    return best, " ".join(a[end - best:end])


def first_person(text: str) -> str | None:
    """The first first-person word of a text ("we", "our" …), if any."""
    m = FIRST_PERSON.search(text)
    return m.group(0) if m else None


DANGLING = {"a", "an", "the", "of", "to", "and", "or", "with", "for", "in", "on", "by", "at",
             "from", "as", "that", "which", "its", "their", "is", "are", "while", "via", "into",
             "than", "such", "but", "this", "these", "using", "between", "over", "even", "it",
             "they"}


def sentences_of(text: str) -> list[str]:
    """Sentences of a written text (tools/claims.py's splitter)."""
    return sentences(text)


def sentence_problem(text: str, *, min_words: int = 5, max_words: int | None = None) -> str:
    """Why a text is not one or more complete sentences ("" when it is)."""
    text = " ".join(text.split())
    toks = text.split()
    if len(toks) < min_words:
        return f"it is a fragment of {len(toks)} word(s), not a sentence"
    if max_words is not None and len(toks) > max_words:
        return f"it has {len(toks)} words; the limit is {max_words}"
    if not text.endswith((".", "!", "?")):
        return "it does not end as a sentence (no final period)"
    last = re.sub(r"[^A-Za-z]", "", toks[-1]).lower()
    if last in DANGLING:
        return f"it stops mid-phrase (ends with {toks[-1]!r})"
    if not (text[0].isupper() or text[0].isdigit() or text[0] in "[*"):
        return "it does not start as a sentence"
    if text.count("(") != text.count(")"):
        return "it has an unclosed parenthesis"
    if _THAT_WITHOUT_CLAUSE.search(text):
        # "The paper finds that, due." / "shows that, in a scenario.": the clause was cut off
        return "it stops before the clause its 'that' opens"
    return ""


_THAT_WITHOUT_CLAUSE = re.compile(r"\bthat,\s+(?:[\w-]+\s+){0,3}[\w-]+[.!?]$")


_NOT_AN_ITEM = re.compile(
    r"^(?:which|that|who|whom|whose|where|when|whereas|while|although|though|because|since|"
    r"as|if|unless|including|such|especially|e\.g\.|i\.e\.|and|or|but|nor|yet|so|then|thus|"
    r"however|plus|from|to)\b", re.IGNORECASE)
_CONJUNCTION = re.compile(r"\b(?:and|or|nor|as well as|plus)\b", re.IGNORECASE)


def close_list(sentence: str, max_item_words: int = 10) -> str:
    """'focus on A, B, C.' -> 'focus on A, B, and C.': a series of three or more items whose
    last one lacks its "and" (a small model's lists often do).

    Only a plain series: commas outside parentheses, no item after the first opening like a
    clause ("which", "while", "including", a conjunction), short middle items, and no
    conjunction at all in the last item; anything else is returned as it is.
    """
    text = " ".join(sentence.split())
    parts: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0 and text[i + 1:i + 2] == " ":
            parts.append(text[start:i])
            start = i + 2
    parts.append(text[start:])
    if len(parts) < 3:
        return sentence
    items = parts[1:]
    if any(_NOT_AN_ITEM.match(p) or not p.strip() for p in items):
        return sentence
    if any(len(p.split()) > max_item_words for p in items[:-1]):
        return sentence
    if _CONJUNCTION.search(items[-1]) or len(items[-1].split()) > max_item_words + 2:
        return sentence
    return ", ".join([*parts[:-1], "and " + parts[-1]])


# ---------------------------------------------------------------------------------------------
# the contribution

_CREATE = (r"propose|present|introduce|develop|design|devise|put forward|build|construct|"
           r"create|release|curate|contribute|offer|formulate|describe|unveil")
_STUDY = (r"stud(?:y|ies|ied)|investigate|explore|show|demonstrate|analy[sz]e|establish|derive|provide|"
          r"examine|revisit|address|tackle|consider|identify|find|evaluate|extend|leverage|"
          r"report|characteri[sz]e|prove|focus")
_SUBJECT = (r"we|this (?:paper|work|article|study|report|note)|the (?:present )?(?:paper|work)|"
            r"in this (?:paper|work)(?:,)?\s*we|here,?\s*we")
_CUE_RE = re.compile(
    r"(?:^|\b)(?P<subj>" + _SUBJECT + r")\s+(?:(?:also|further|first|then|now|here|"
    r"\w+ly)\s+)?(?P<verb>(?:" + _CREATE + "|" + _STUDY + r")(?:s|es|d|ed)?)\b", re.IGNORECASE)
_LEAD_IN = re.compile(
    r"^(?:(?:in|to|for|with|by|here|thus|therefore|hence|specifically|finally|first(?:ly)?|"
    r"second(?:ly)?|third(?:ly)?|moreover|furthermore|additionally|instead|consequently|"
    r"accordingly|building on[^,]{0,60}|motivated by[^,]{0,60}|inspired by[^,]{0,60}|"
    r"to (?:address|tackle|overcome|solve|bridge|fill|close|remedy|mitigate|this end)"
    r"[^,]{0,80}|in (?:this|the present) (?:paper|work|study|article)|in particular|"
    r"as a result|to that end|towards this goal)[^,]{0,40},\s*)+", re.IGNORECASE)
_PRESENT = {"propose": "proposes", "present": "presents", "introduce": "introduces",
            "develop": "develops", "design": "designs", "devise": "devises",
            "build": "builds", "construct": "constructs", "create": "creates",
            "release": "releases", "curate": "curates", "contribute": "contributes",
            "offer": "offers", "formulate": "formulates", "describe": "describes",
            "study": "studies", "investigate": "investigates", "explore": "explores",
            "show": "shows", "demonstrate": "demonstrates", "analyze": "analyzes",
            "analyse": "analyses", "establish": "establishes", "derive": "derives",
            "provide": "provides", "examine": "examines", "revisit": "revisits",
            "address": "addresses", "tackle": "tackles", "consider": "considers",
            "identify": "identifies", "find": "finds", "evaluate": "evaluates",
            "extend": "extends", "leverage": "leverages", "report": "reports",
            "characterize": "characterizes", "characterise": "characterises",
            "prove": "proves", "focus": "focuses", "put forward": "puts forward",
            "unveil": "unveils"}
# A method name: "KnapSpec", "FAST-Prefill", "CHESS", "R&Q", "Tensor-Train RNN", "TT-RNN".
_NAME_TOKEN = (r"(?:[A-Z][A-Za-z0-9]*(?:[-&+/][A-Za-z0-9]+)*|[a-z]+[A-Z][A-Za-z0-9]*|"
               r"\d[A-Za-z0-9]*-[A-Za-z][\w-]*)")
_NAME = _NAME_TOKEN + r"(?:\s+" + _NAME_TOKEN + r"){0,3}"
_APPOSITIVE = re.compile(
    r"^(?:the\s+)?(?P<name>" + _NAME + r")(?:\s*\((?P<abbr>[^()]{1,20})\))?\s*(?:,|:|—|–| -)\s*"
    r"(?P<rest>(?:a|an|the|which|that|one|our|its)\b.*)$")
_CALLED = re.compile(
    r"^(?P<desc>(?:a|an|the)\b.{3,160}?)\s*,?\s+(?:called|named|dubbed|termed|coined|"
    r"referred to as)\s+(?P<name>" + _NAME + r")(?:\s*\((?P<abbr>[^()]{1,20})\))?"
    r"(?P<rest>.*)$")
_AND_CREATE = re.compile(r"\b(?:and|then)\s+(?:" + _CREATE + r")(?:s|d|ed)?\b", re.IGNORECASE)
_BARE_NAME = re.compile(r"^(?:the\s+)?(?P<name>" + _NAME + r")(?:\s*\((?P<abbr>[^()]{1,20})\))?"
                        r"(?P<rest>\s+(?:that|which|to|for|as)\b.*|\s*[.,;].*)?$")


@dataclass
class Contribution:
    """What the paper does, as code found it."""

    name: str
    """The method's name ("KnapSpec"), or "" when the abstract gives none."""
    source: str
    """The abstract sentence it comes from ("" when none was found)."""
    what: str
    """A third-person sentence about the work ("KnapSpec is a training-free framework …")."""
    found: bool = True
    """False: no contribution sentence; `what` is an honest fallback (the title)."""
    candidates: list[str] = field(default_factory=list)


def _is_name(text: str, title: str) -> bool:
    """Whether a capitalised phrase is the method's name, not a common word ("We", "A")."""
    first = text.split()[0]
    if len(first) < 2 or first.lower() in ("we", "it", "this", "these", "our", "the", "a", "an"):
        return False
    caps = sum(c.isupper() for c in first)
    return caps >= 2 or any(c.isdigit() for c in first) or "-" in first or \
        first.lower() in title.lower()


def title_name(title: str) -> str:
    """The name a title gives its method: the part before a colon, when short."""
    head = title.split(":", 1)[0].strip()
    return head if ":" in title and len(head.split()) <= 4 and len(head) <= 40 else ""


def candidates(abstract: str, title: str = "") -> list[str]:
    """The abstract's sentences that say what the work does, best first: one that names the
    method ("we propose KnapSpec, a …"), then other creation verbs (propose, present …), then
    study verbs (study, show …); within each, in order."""
    ranked: list[tuple[int, int, str]] = []
    for i, s in enumerate(sentences(detex(abstract))):
        m = _CUE_RE.search(s)
        if not m or m.start() > 120:
            continue
        verb = m.group("verb").lower()
        creation = bool(re.match(_CREATE, verb)) or bool(_AND_CREATE.search(s[m.end():]))
        named = creation and bool(third_person(s, title)[0]) and _names_method(s, title)
        ranked.append((0 if named else 1 if creation else 2, i, s))
    return [s for _, _, s in sorted(ranked)]


def _names_method(sentence: str, title: str) -> bool:
    """Whether a sentence introduces the method by a name (not only the title's words)."""
    name = third_person(sentence, title)[0]
    return bool(name) and name.lower() in sentence.lower()


def _present(verb: str) -> str:
    v = verb.lower()
    for base, third in _PRESENT.items():
        if v in (base, third, base + "d", base + "ed", third.replace("es", "ed")):
            return third
        if v.startswith(base[:-1]) and v.endswith(("ed", "d")):
            return third
    return v if v.endswith("s") else v + "s"


def _neutral(text: str) -> str:
    """Third person for what remains: "our method" -> "the method", "we" -> "the authors"."""
    text = re.sub(r"\bour own\b", "their own", text, flags=re.IGNORECASE)
    text = re.sub(r"\bour\b", "the", text)
    text = re.sub(r"\bOur\b", "The", text)
    text = re.sub(r"\b(?:we|We)\b", "the authors", text)
    text = re.sub(r"\bus\b", "the authors", text)
    text = re.sub(r"\bourselves\b", "themselves", text)
    return text


def _tidy(text: str) -> str:
    text = re.sub(r",?\s*to (?:the best of )?(?:our|the) knowledge,?", "", text,
                  flags=re.IGNORECASE)
    text = re.sub(r"\s*\((?:e\.g\.|i\.e\.|see|cf\.)[^()]*\)", "", text)
    text = re.sub(r"\s*\([A-Z][A-Za-z]+(?: et al\.)?,? \d{4}[a-z]?\)", "", text)  # citations
    # "a novel, history-conditioned task" / "a novel and efficient method": the praise goes,
    # its comma or "and" with it, and the article agrees with the word that now follows.
    text = re.sub(r"\b([Aa]n?) novel(?:,| and| yet| but)?\s+([\w-]+)",
                  lambda m: ("A" if m.group(1)[0] == "A" else "a")
                  + f"{_an(m.group(2))[1:]} {m.group(2)}", text)
    text = re.sub(r"\bnovel(?:,| and)?\s+", "", text)
    text = " ".join(text.split()).strip()
    # An enumerated list the splitter kept as one sentence ("… framework. ii) LAVIDA uses …"):
    # the first item is the contribution.
    text = re.split(r"(?<=[a-z0-9)][.;])\s+\(?(?:[ivx]{1,4}|\d|[a-h])\)\s", text)[0]
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    if text and not text.endswith((".", "!", "?")):
        text = text.rstrip(",;: ") + "."
    return text[:1].upper() + text[1:] if text else text


# Vowel letters that sound like a consonant ("a unified", "a one-shot", "a European") and silent
# h words ("an hour"); acronyms go by the name of their first letter ("an LLM", "a GPU").
_A_DESPITE_VOWEL = re.compile(r"^(?:uni|use|usa|usi|usu|uti|ure|uro|eu|one\b|once|ubiq|u-)",
                              re.IGNORECASE)
_AN_DESPITE_CONSONANT = re.compile(r"^(?:hour|honest|honou?r|heir)", re.IGNORECASE)
_VOWEL_LETTER_NAMES = set("AEFHILMNORSX")


def _an(word: str) -> str:
    """The indefinite article for `word` by its sound."""
    w = word.lstrip("\"'(“‘")
    if not w:
        return "a"
    head = re.match(r"[A-Z]{2,}(?=[^a-z]|$)|[A-Z](?=[-\d]|$)", w)
    if head:  # an acronym, read letter by letter
        return "an" if w[0] in _VOWEL_LETTER_NAMES else "a"
    if _AN_DESPITE_CONSONANT.match(w):
        return "an"
    if w[0].lower() in "aeiou" and not _A_DESPITE_VOWEL.match(w):
        return "an"
    if w[0].isdigit():
        return "an" if re.match(r"(?:8|11|18)(?!\d)|8\d", w) else "a"
    return "a"


def third_person(sentence: str, title: str = "") -> tuple[str, str]:
    """(name, sentence) for a contribution sentence: "We propose KnapSpec, a training-free
    framework that …" -> ("KnapSpec", "KnapSpec is a training-free framework that …")."""
    s = " ".join(sentence.split())
    lead, cue = _LEAD_IN.match(s), _CUE_RE.search(s)
    # A lead-in without its comma runs on into the contribution ("Here we present X, a …",
    # "To address these challenges we present X, a …"): then it ends where "we" begins.
    s = s[cue.start():] if lead and cue and cue.start() < lead.end() else _LEAD_IN.sub("", s)
    m = _CUE_RE.search(s)
    if not m:
        name = title_name(title)
        return name, _tidy(_neutral(s))
    rest = s[m.end():].strip()
    verb = m.group("verb")
    more = _AND_CREATE.search(rest)
    if not re.match(_CREATE, verb, re.IGNORECASE) and more:
        # "we study selective thinking … and introduce Ada-RS, an …": the creation is the news.
        verb, rest = more.group(0).split()[-1], rest[more.end():].strip()
    quoted = re.match(r"^[\"“”']([^\"“”']{1,40})[\"“”']", rest)
    if quoted:
        rest = quoted.group(1) + rest[quoted.end():]
        title = f"{title} {quoted.group(1)}"  # a quoted phrase is the method's name
    creation = bool(re.match(_CREATE, verb, re.IGNORECASE))
    if creation:
        a = _APPOSITIVE.match(rest)
        if a and _is_name(a.group("name"), title):
            name = a.group("name")
            full = name + (f" ({a.group('abbr')})" if a.group("abbr") else "")
            tail = a.group("rest")
            if re.match(r"(?:which|that)\b", tail):
                tail = re.sub(r"^(?:which|that)\s+", "", tail)
                return name, _tidy(_neutral(_authors(f"{full} {tail}")))
            tail = re.sub(r"^(?:our|its)\b", "a", tail)
            return name, _tidy(_neutral(_authors(f"{full} is {tail}")))
        c = _CALLED.match(rest)
        if c and _is_name(c.group("name"), title):
            name = c.group("name")
            full = name + (f" ({c.group('abbr')})" if c.group("abbr") else "")
            desc = re.sub(r"^the\b", _an(c.group("desc")[4:]), c.group("desc"))
            return name, _tidy(_neutral(_authors(f"{full} is {desc}{c.group('rest')}")))
        b = _BARE_NAME.match(rest)
        if b and _is_name(b.group("name"), title) and b.group("name") != rest.rstrip("."):
            name = b.group("name")
            tail = (b.group("rest") or "").strip()
            if tail.startswith(("that ", "which ")):
                tail = re.sub(r"^(?:which|that)\s+", "", tail)
                full = name + (f" ({b.group('abbr')})" if b.group("abbr") else "")
                return name, _tidy(_neutral(_authors(f"{full} {tail}")))
    name = title_name(title)
    subject = "The paper"
    obj = _agree(rest)
    return name, _tidy(_neutral(f"{subject} {_present(verb)} {obj}"))


# Verbs that, after "and", still have "we" as subject ("we propose X and analyze Y"); words that
# are as often nouns ("and design", "and study") are left out.
_AND_VERB = re.compile(r"\b(and|then) (" + "|".join(
    v for v in _PRESENT if " " not in v and v not in (
        "study", "report", "design", "release", "focus", "offer", "address", "leverage",
        "build")) + r")\b(?! (?:of|for|and|or)\b)")


def _authors(text: str) -> str:
    """ "X is a network …, and show Y" -> "…, and the authors show Y": a bare verb after "and"
    had "we" as its subject, which a sentence about the method no longer has."""
    return _AND_VERB.sub(lambda m: f"{m.group(1)} the authors {m.group(2)}", text)


def _agree(text: str) -> str:
    """ "X and analyze Y" -> "X and analyzes Y" once the subject is "The paper"."""
    return _AND_VERB.sub(lambda m: f"{m.group(1)} {_PRESENT[m.group(2)]}", text)


def _closest_to_title(cands: list[str], title: str) -> str:
    """Of the best few candidates, the one sharing most words with the title (a paper's title
    names its contribution; measured on SciTLDR's train split: +1.3 ROUGE-1), earlier first."""
    head = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", title)}

    def score(i: int) -> float:
        words = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", cands[i])}
        return len(words & head) - 0.3 * i - (1.0 if i and _names_method(cands[0], title)
                                              and not _names_method(cands[i], title) else 0.0)

    return cands[max(range(len(cands)), key=score)] if cands else ""


def contribution(title: str, abstract: str, choose: int | None = None) -> Contribution:
    """The contribution of a paper: the chosen candidate sentence in the third person.

    `choose` picks a candidate by index (the model's choice); by default the first (code's).
    Without any candidate the fallback states only the title, and `found` is False.
    """
    cands = candidates(abstract, title)
    if not cands:
        name = title_name(title)
        what = f"{name or 'The paper'} is about {title[len(name) + 1:].strip() if name else title}"
        return Contribution(name=name, source="", what=_tidy(what), found=False)
    pick = cands[choose] if choose is not None and 0 <= choose < len(cands) else \
        _closest_to_title(cands[:3], title)
    name, what = third_person(pick, title)
    return Contribution(name=name, source=pick, what=what, candidates=cands)


def _title_phrase(title: str) -> str:
    """A title as a phrase inside a sentence: common words in lower case; names, acronyms
    and words with digits as written ("Actor-Critic" is title case, "BERTgrid" a name)."""
    if title.upper() == title:  # an all-capitals title has no case to keep
        return title.lower()

    def keep(w: str) -> bool:
        parts = w.split("-")
        return any(sum(c.isupper() for c in p) >= 2 or any(c.isdigit() for c in p) or
                   (len(p) == 1 and p.isupper() and len(parts) > 1) for p in parts)

    return " ".join(w if keep(w) else w.lower() for w in title.split())


# A title that states a claim ("Sparsity Emerges Naturally in …", "Irrationality Can Help …"):
# an auxiliary, or a verb in -s before what a verb takes.
_TITLE_CLAIM = re.compile(
    r"\b(?:can|could|is|are|was|were|does|do|did|will|may|might|should|must|has|have)\b|"
    r"\b[A-Za-z][a-z]+(?<![su]s)(?<!is)s\s+(?:the|a|an|more|less|better|[a-z]+ly)\b|"
    r"\b(?:leads|helps|matters|works|fails|learns)\b",
    re.IGNORECASE)


def from_title(title: str) -> str:
    """A "what it does" sentence from the title alone ("The paper presents long-term
    forecasting using tensor-train RNNs."), or "" when a title cannot be one (a question)."""
    t = " ".join(title.split()).rstrip(" .")
    if not t or t.endswith("?"):
        return ""
    _, colon, tail = t.partition(":")
    if colon and not title_name(t) and len(tail.split()) >= 3:
        t = tail.strip()  # "Hope for the Best …: Cautious Adaptation in RL Agents"
    phrase = _title_phrase(t)
    first, _, rest = phrase.partition(" ")
    if not rest:
        return ""
    if first.lower() == "on":  # "On the Convergence of …"
        return _tidy(f"The paper studies {rest}")
    if first.lower() in ("toward", "towards"):
        return _tidy(f"The paper works {phrase}")
    if _TITLE_CLAIM.search(t.split(":")[0]):  # "Downsampling Leads to Image Memorization …"
        return _tidy(f"The paper shows that {phrase}")
    if first.lower().endswith("ing"):  # "Learning to Decompose …"
        return _tidy(f"The paper studies {phrase}")
    return _tidy(f"The paper presents {phrase}")


def what_sentence(contrib: Contribution, title: str, abstract: str, max_words: int,
                  max_copy: int = MAX_COPY) -> str:
    """Code's "what it does" sentence: the contribution sentence compacted (`compact`), or,
    where that is no complete sentence ("LDMGAN is a framework."), a sentence from the title.

    Not also for a vague sentence: that raised SciTLDR train ROUGE-1 from 30.8 to 33.3, but a
    bulletin prints the title beside the item, so the sentence repeated it (docs/evals.md)."""
    code = compact(contrib.what, max_words, abstract, max_copy)
    if not title or not sentence_problem(code):
        return code
    alt = from_title(title)
    if alt and not sentence_problem(alt, max_words=max_words) and \
            longest_copy(alt, abstract)[0] <= max_copy:
        return alt
    return code


# ---------------------------------------------------------------------------------------------
# shortening

_IS_DESC_THAT = re.compile(r"^(?P<name>.+?) is (?P<desc>(?:a|an|the) [^,;]{2,80}?),? "
                           r"(?:that|which) (?P<rest>.+)$")


def compact(what: str, max_words: int, source: str, max_copy: int = MAX_COPY) -> str:
    """Code's own phrasing of a "what it does" sentence within the word and copy limits.

    "KnapSpec is a training-free framework that reformulates draft model selection as a
    knapsack problem to …" becomes "KnapSpec, a training-free framework, reformulates draft model
    selection as a knapsack problem." (the relative pronoun dropped breaks the copied run).
    """
    # Edit the copied runs away first (code's sentence then keeps more of what the paper does);
    # what the edits cannot break is cut.
    loose = loosen(what, source, max_copy)
    if len(loose.split()) >= 5 and not first_person(loose):
        what = loose
    m = _IS_DESC_THAT.match(what.rstrip("."))
    if m:
        variant = f"{m.group('name')}, {m.group('desc')}, {m.group('rest')}"
        head = f"{m.group('name')}, {m.group('desc')}, {m.group('rest').split()[0]}"
        out = shorten(variant, max_words, source, max_copy,
                      keep=len(m.group("name")) + len(m.group("desc")) + 4)
        # Only with its verb: "X, a Y for full-piece." says nothing (then "X is a Y" is cut).
        if out and len(out.split()) >= 6 and not sentence_problem(out) \
                and len(out.rstrip(".")) >= len(head.rstrip(",.;")):
            return out
    return shorten(what, max_words, source, max_copy)


_CUT_BEFORE = re.compile(
    r",\s+(?:which|where|while|thereby|thus|enabling|allowing|achieving|leading|resulting|"
    r"yielding|making|and|but|whereas|as well as|in order|so that|without|such that)\b|"
    r";|:(?=\s)|\s+(?:--|—|–)\s+|\s+(?:which|where|while|thereby|in order to|so that|such that|"
    r"by|through|via|using|with|without|based on|to|for|that|from|on|in|across|under|at)\s+", re.IGNORECASE)


_BE = {"is", "are", "was", "were", "be", "been", "being", "get", "gets", "got"}
# Words a sentence cannot end on: modals and verbs that need their preposition ("extractor
# choice can.", "its superiority stems.").
_OPEN_ENDS = {"can", "could", "may", "might", "will", "would", "should", "must", "cannot",
              "stems", "relies", "depends", "consists", "seeks", "allows", "enables", "tends",
              "refers", "belongs"}


def _cut_badly(head: str) -> bool:
    """Whether a cut leaves a pair half open ("a separation between the power of depth-2") or
    a participle without what it needs ("guarantees for architectures applied")."""
    toks = [t.strip(",;:()").lower() for t in head.split()]
    tail = toks[-6:]
    for opener, closer in (("between", "and"), ("both", "and"), ("either", "or"),
                           ("neither", "nor")):
        if opener in tail[:-1] and closer not in tail[tail.index(opener):]:
            return True
    last = toks[-1] if toks else ""
    if last in _OPEN_ENDS:
        return True
    # Cut inside a formula ("when the matrix M =") or after a participle that opens a phrase
    # (", focusing.", ", including.").
    if re.search(r"[=+*/^<>\\-]$", head.rstrip(" ,;:")) or re.search(r",\s+[a-z]+ing$", head):
        return True
    return bool(len(toks) > 2 and re.fullmatch(r"[a-z]{3,}ed", last) and toks[-2] not in _BE
                and not re.fullmatch(r"[a-z]+(?:ly)", toks[-2]))


def shorten(sentence: str, max_words: int, source: str = "", max_copy: int = MAX_COPY,
            keep: int = 0) -> str:
    """Cut a sentence at a clause boundary to at most `max_words` words, and (with `source`)
    until no run of more than `max_copy` words is copied from it. Code's fallback phrasing:
    cruder than the model's, but it cannot be a fragment, first person or a long copy."""
    text = " ".join(sentence.split()).rstrip(".")

    def ok(t: str) -> bool:
        return len(t.split()) <= max_words and (
            not source or longest_copy(t, source)[0] <= max_copy)

    if ok(text):
        return text + "."
    cuts = [m.start() for m in _CUT_BEFORE.finditer(text)
            if len(text[:m.start()].split()) >= 4 and m.start() > keep]
    for pos in sorted(cuts, reverse=True):
        head = text[:pos].rstrip(" ,;:")
        if ok(head) and not sentence_problem(head + ".") and not _cut_badly(head):
            return head + "."
    # No boundary works: keep whole words up to the limits, dropping dangling words.
    toks = text.split()
    while toks and (not ok(" ".join(toks)) or
                    re.sub(r"[^A-Za-z]", "", toks[-1]).lower() in DANGLING):
        toks.pop()
    fallback = list(toks)
    while len(toks) > 4 and (_cut_badly(" ".join(toks)) or re.sub(
            r"[^A-Za-z]", "", toks[-1]).lower() in DANGLING):
        toks.pop()  # "when the matrix M =": back to a word a sentence can end on
    head = " ".join(toks if len(toks) > 4 else fallback).rstrip(" ,;:")
    return head + "." if head else ""


# ---------------------------------------------------------------------------------------------
# loosening copied runs

def _pick(table: dict[str, str]) -> Callable[[re.Match[str]], str]:
    return lambda m: table[(m.group(1) or "").lower()]


# Words ending in -ly that are no manner adverbs (a dropped "only" changes the meaning).
_NOT_ADVERBS = ("only", "early", "family", "families", "likely", "unlikely", "apply", "rely",
                "supply", "reply", "multiply", "anomaly", "assembly", "monopoly", "poly",
                "daily", "weekly", "monthly", "yearly", "hourly", "friendly", "costly", "timely",
                "orderly", "elderly", "italy", "july", "ally", "rally", "tally", "holly",
                "bully", "jelly", "belly", "silly", "ugly", "deadly", "lonely", "lovely",
                "hardly", "barely", "nearly", "merely", "mostly", "partly", "solely", "jointly",
                "simultaneously", "respectively", "fully", "poorly", "exactly", "strictly",
                "provably", "approximately", "roughly")
# Praise an editor cuts ("a simple, efficient method" says no more than "a method").
_PRAISE = ("new", "simple", "general", "efficient", "effective", "powerful", "systematic",
           "principled", "unified", "generic", "flexible", "scalable", "lightweight",
           "practical", "straightforward", "elegant", "promising")

# "and" that closes "between X and Y", "both X and Y"…: "as well as" would break the pair.
_PAIRED = re.compile(r"\b(?:between|both|either|neither|whether)\s+(?:[\w-]+\s+){0,5}$",
                     re.IGNORECASE)


_PREPOSITIONS = {"upon", "on", "in", "of", "to", "for", "by", "with", "from", "at", "through",
                 "under", "over", "into", "onto", "via", "during", "between", "among", "within"}


def _which_that(m: re.Match[str]) -> str:
    """ "which" -> "that", except after a preposition ("upon which" is no "upon that")."""
    before = m.string[:m.start()].split()
    return m.group(0) if before and before[-1].lower() in _PREPOSITIONS else "that"


# Verbs whose "that" opens a clause, not a relative one ("shows that this holds" is no
# "shows which this holds"), and words after such a "that" that are no verb.
_SAYS = re.compile(r"(?:show|find|found|prove|demonstrate|argue|note|observe|suggest|reveal|"
                   r"conclude|confirm|claim|ensure|verif|establish|so|such|given|hypothesi[sz])"
                   r"[a-z]*$", re.IGNORECASE)
_NOT_VERB_S = {"this", "thus", "its", "his", "is", "was", "has", "as", "us", "less", "unless"}


def _that_which(m: re.Match[str]) -> str:
    """Relative "that" -> "which"; a clause's "that" stays."""
    before = m.string[:m.start()].split()
    after = m.string[m.end():].split()
    if (before and _SAYS.match(before[-1])) or (after and after[0].lower() in _NOT_VERB_S):
        return m.group(0)
    return "which"


def _as_well_as(m: re.Match[str]) -> str:
    """ "X and Y" -> "X as well as Y", except where the "and" completes a pair."""
    return m.group(0) if _PAIRED.search(m.string[:m.start()] + " ") else " as well as"


# Generic English rewrites that keep a sentence's meaning, as (cost, pattern, replacement): 0
# loses nothing ("in order to" -> "to"), 1 is a plain synonym or a relative clause turned round,
# 2 drops a word or splits a clause off, 3 is a last resort (articles are never dropped:
# "X is system that" reads worse than a cut). None names a paper's wording: they
# are an editor's usual cuts, so they carry over to abstracts never seen here.
_LOOSEN: list[tuple[int, str, str | Callable[[re.Match[str]], str]]] = [
    (0, r"\bin order to\b", "to"), (0, r"\b(?:is|are) able to\b", "can"),
    (0, r"\butiliz(e|es|ing|ed|ation)\b",
     _pick({"e": "use", "es": "uses", "ing": "using", "ed": "used", "ation": "use"})),
    (0, r"\bby (using|leveraging|exploiting|employing|utilizing)\b", r"\1"),
    (0, r"\b(?:a|an) novel\b", "a new"), (0, r"\bnovel\b", "new"),
    (0, r"\ba (?:wide )?(?:variety|range|number|set|series) of\b", "many"),
    (0, r"\bin addition to\b", "besides"), (0, r"\bwith respect to\b", "for"),
    (0, r"\bin terms of\b", "in"),
    *[(0, rf"\b{w}\b", "") for w in ("significantly", "substantially", "considerably",
                                     "dramatically", "remarkably", "very", "indeed", "thus",
                                     "thereby", "simply", "namely", "in particular")],
    (1, r"\bleverag(e|es|ing|ed)\b",
     _pick({"e": "use", "es": "uses", "ing": "using", "ed": "used"})),
    (1, r"\bemploy(s|ing|ed)?\b", _pick({"": "use", "s": "uses", "ing": "using", "ed": "used"})),
    (1, r"\bdemonstrat(e|es|ed|ing)\b",
     _pick({"e": "show", "es": "shows", "ed": "showed", "ing": "showing"})),
    (1, r"\bsuch as\b", "like"), (1, r"\bas well as\b", "and"), (1, r"\bbased on\b", "built on"),
    (1, r"\bmultiple\b", "several"), (1, r"\bnumerous\b", "many"), (1, r"\bvarious\b", "several"),
    (1, r"\bexisting\b", "prior"), (1, r"(?<!\d )\bthrough\b(?! \d)", "via"), (1, r"\bvia\b", "through"),
    (1, r"\bapproach(es)?\b", _pick({"": "method", "es": "methods"})),
    (1, r"\bmethod(s)?\b", _pick({"": "approach", "s": "approaches"})),
    (1, r"\bachiev(e|es|ed|ing)\b",
     _pick({"e": "reach", "es": "reaches", "ed": "reached", "ing": "reaching"})),
    (1, r"\bobtain(s|ed|ing)?\b", _pick({"": "get", "s": "gets", "ed": "got", "ing": "getting"})),
    (1, r"\bimprov(e|es|ed|ing)\b",
     _pick({"e": "boost", "es": "boosts", "ed": "boosted", "ing": "boosting"})),
    (1, r"\bdifferent\b", "distinct"), (1, r"\bwithout\b(?! [a-z]+ing\b)", "with no"),
    (1, r"\bin which\b", "where"), (1, r"\bwhich (?:is|are)\b", ""), (1, r"\bthat (?:is|are)\b", ""),
    (1, r"\bwhich\b(?= [a-z]+s? )", _which_that), (1, r"(?<=[a-z] )that\b(?= [a-z]+s )", _that_which),
    *[(2, rf"\b{w}\b", "") for w in ("also", "both", "further", "effectively", "highly", "quite",
                                     "then")],
    (2, r"\bthat\b(?= [a-z]+s\b)", ""),
    # An aside in parentheses, a manner adverb, a praising adjective: a reader loses little.
    (2, r"\s*\([^()]{1,60}\)", ""),
    # (not one of a pair: "theoretically and empirically" would lose its second half)
    (2, r"(?<![\w-])(?<!\band )(?<!\bor )(?<!\bas )(?!(?:" + "|".join(_NOT_ADVERBS)
        + r")\b)[a-z]{4,}ly(?![\w-])(?! (?:and|or)\b)", ""),
    (2, r"\b(a|an|the) (?:" + "|".join(_PRAISE) + r")(?:,| and| yet| but)?\s+(?=[a-z])",
     r"\1 "),
    (1, r"\bthe (?:task|problem|notion|idea|concept|question) of (?=[a-z]+ing\b)", ""),
    # "between" is symmetric: its two single-word ends swap ("between computation and
    # communication" -> "between communication and computation").
    (1, r"\bbetween ([A-Za-z][\w-]*) and ([A-Za-z][\w-]*)(?=[,;.)]|$| (?:to|for|in|on|at|of|"
        r"with|by|and|or|while|which|that)\b)", r"between \2 and \1"),
    (2, r",? (?:which|that) (?=[a-z]+s )", ". It "),
    (2, r"\bby (?=[a-z]+ing\b)", "through "),
    (3, r"\bin\b", "within"), (3, r"\busing\b", "with"), (3, r"\bacross\b", "over"),
    (3, r"\bwith\b(?! [a-z]+ing\b)", "using"), (3, r"(?<![,;]) and\b", _as_well_as),
]
_LOOSEN_RE = [(cost, re.compile(p, re.IGNORECASE), rep) for cost, p, rep in _LOOSEN]


def _retidy(text: str) -> str:
    """Spaces and articles right again after an edit."""
    text = " ".join(text.split())
    # Articles: a lowercase one anywhere, a capital one only where a sentence starts (a
    # capital "A" elsewhere is a label: "model A is").
    text = re.sub(r"(?:^|(?<=[.!?] ))(A)n? (?=(\S+))|\b(a)n? (?=(\S+))",
                  lambda m: (m.group(1) or m.group(3))
                  + _an(m.group(2) or m.group(4))[1:] + " ", text)
    text = re.sub(r"\s+([,.;:)])", r"\1", text)
    return re.sub(r"\(\s+", "(", text)


def _copied_span(text: str, source: str) -> tuple[int, int, int]:
    """(start, end, words) of the longest run of `text` copied from `source`, in characters."""
    toks = list(_WORD.finditer(text))
    best, end = _longest_run([t.group(0).lower() for t in toks], words(source))
    if not best:
        return 0, 0, 0
    return toks[end - best].start(), toks[end - 1].end(), best


def loosen(text: str, source: str, max_copy: int = MAX_COPY, rounds: int = 30) -> str:
    """The sentence with the fewest and cheapest edits (`_LOOSEN`) that break its runs of more
    than `max_copy` words copied from `source`, as far as the edits go.

    Each round edits inside the longest copied run, preferring the cheapest edit nearest its
    middle that shortens it; cutting the sentence (`shorten`) is what is left when no edit does.
    """
    text = detex(text)
    for _ in range(rounds):
        start, end, n = _copied_span(text, source)
        if n <= max_copy:
            break
        mid = (start + end) / 2
        best: tuple[tuple[float, float], str] | None = None
        for cost, rx, rep in _LOOSEN_RE:
            for m in rx.finditer(text):
                if m.start() < start or m.end() > end:
                    continue
                new = rep(m) if callable(rep) else m.expand(rep)
                if m.group(0)[:1].isupper() and new:
                    new = new[:1].upper() + new[1:]
                cand = _retidy(text[:m.start()] + new + text[m.end():])
                n2 = _copied_span(cand, source)[2]
                if n2 >= n:
                    continue
                key = (cost + (0.5 if n2 > max_copy else 0),
                       abs((m.start() + m.end()) / 2 - mid) / max(end - start, 1))
                if best is None or key < best[0]:
                    best = (key, cand)
        if best is None:
            break
        text = best[1]
    return text


# ---------------------------------------------------------------------------------------------
# results

_GOOD_METRICS = {"throughput", "speed", "latency", "ttft", "tpot", "memory", "energy", "cost",
                 "accuracy", "tokens", "communication", "utilization", "balance", "size"}
_UNIT_WEIGHT = {"x": 3.0, "%": 2.0, "rate": 2.5, "time": 1.5, "bytes": 1.5, "energy": 1.5,
                "power": 1.0, "pp": 1.5, "usd": 1.0, "flops": 1.0}
_STOP_RIGHT = re.compile(
    r"^(?:and|while|whereas|but|with|without|compared|versus|vs\.?|over|than|across|"
    r"on|for|using|at|when|where|which|that|under|against|from|via|by|to|as|enabling|achieving|"
    r"delivering|maintaining|showing|demonstrating|leading|resulting|making|among|within|"
    r"respectively|per|is|are|was|were|after|before|compared)$", re.IGNORECASE)
_QUALS = (r"up to|about|around|approximately|roughly|nearly|over|more than|at least|as much as|"
          r"only|just|an average of|on average|a further|an additional")
_VERB_NOUN = [(r"reduc|lower|cut|decreas|shrink|sav|slash|trim", "reduction in"),
              (r"improv|boost|enhanc", "improvement in"), (r"increas|rais", "increase in"),
              (r"accelerat|speed", "speedup in")]
_LEFT_BY = re.compile(
    r"\b(?P<verb>[a-z]+(?:ing|e|es|ed|s)?)\s+(?P<metric>(?:[A-Za-z][\w/-]*\s+){0,3}?"
    r"[A-Za-z][\w/-]*)\s+by\s+(?P<qual>(?:" + _QUALS + r")\s+)?$", re.IGNORECASE)
_LEFT_OF = re.compile(
    r"(?:\b(?:an?|the)\s+)?(?P<metric>(?:[A-Za-z][\w/-]*\s+){0,2}?[A-Za-z][\w/-]*)\s+of\s+"
    r"(?P<qual>(?:" + _QUALS + r")\s+)?$", re.IGNORECASE)
_USING = re.compile(r"(?P<lead>\b(?:using|with|at|within|in)\s+(?:only\s+|just\s+|merely\s+)?)$",
                    re.IGNORECASE)
_QUAL_LEFT = re.compile(r"(?P<q>\b(?:" + _QUALS + r")\s+)$", re.IGNORECASE)
_NOT_METRIC_START = re.compile(r"^(?:and|or|the|a|an|its|their|to|by|while|which|that|also)$",
                               re.IGNORECASE)


@dataclass
class Result:
    """A headline result: the quantity and the short phrase that states it."""

    quantity: Quantity
    phrase: str
    """A noun phrase with the abstract's own number: "up to 4.56× higher throughput"."""
    score: float = 0.0
    bare: str = ""
    """The phrase without its setting and baseline (said where words are short)."""

    @property
    def adverbial(self) -> bool:
        """A phrase such as "using only 1% of the KV cache" (said after the others)."""
        return bool(re.match(r"(?:using|with|at|within|in)\b", self.phrase, re.IGNORECASE))


def _score(q: Quantity, index: int, total: int) -> float:
    s = _UNIT_WEIGHT.get(q.unit, 0.0)
    if q.metrics:
        s += 1.0 + (0.5 if q.metrics[0] in _GOOD_METRICS else 0.0)
    if q.qualifier == "up to":
        s += 0.5
    if q.direction:
        s += 0.5
    if q.qualifier == "under":
        s -= 1.0
    at = q.sentence.find(q.text)
    if at > 0 and q.sentence[at - 1] == "(":
        s -= 1.5  # a parenthetical value is an aside (a baseline's figure, a bound)
    s += 0.5 * index / max(total - 1, 1)  # results come late in an abstract
    if q.unit in ("%", "x") and q.value == 0:
        s -= 2.0
    return s


_FAMILY_NOUN = {"speed": "speedup", "throughput": "throughput", "latency": "latency",
                "ttft": "TTFT", "memory": "memory", "energy": "energy efficiency",
                "accuracy": "accuracy", "cost": "cost"}


_NEEDS_MORE = {"depending", "relative", "compared", "according", "due", "prior", "respect",
               "thanks", "subject", "close"}


def _tail(right: str) -> list[str]:
    out: list[str] = []
    for tok in right.split():
        word = tok.strip(",;:()")
        if not word or (_STOP_RIGHT.match(word) and not (word.lower() in ("in", "of") and out))\
                or len(out) >= 5:
            break
        out.append(word)
        if tok.endswith((",", ";", ":", ")", ".")) or tok.startswith("("):
            break
    # Words that need what follows them ("depending on", "relative to") cannot end a phrase.
    while out and (out[-1].lower() in DANGLING or out[-1].lower() in _NEEDS_MORE):
        out.pop()
    return out


def _spaces(text: str) -> str:
    return " ".join(text.split())


_VERBISH = re.compile(r"^(?:[a-z]+(?:ing|ed)|reduces?|cuts?|lowers?|improves?|increases?|"
                      r"boosts?|raises?|decreases?|saves?|shrinks?|accelerates?|speeds?|"
                      r"can|could|also|significantly|substantially|further|by|and|while|the|a|an)$",
                      re.IGNORECASE)


def _by_metric(left: str) -> tuple[str, str] | None:
    """For "… reducing compute costs by [up to]": ("reducing", "compute costs"); the verb of an
    earlier "X by N and Y by" is shared ("reduced time by 13-45% and tokens by")."""
    m = re.search(r"\bby\s*$", left)
    if not m:
        return None
    beat = re.search(r"\b(?:outperform|surpass|beat|exceed)\w*\s+((?:\S+\s+){0,6}?)by\s*$",
                     left, re.IGNORECASE)
    if beat and not re.search(r",|\b(?:by|while|and|with|reduc\w*|improv\w*|boost\w*)\b",
                              beat.group(1), re.IGNORECASE):
        return None  # "outperforms the state of the art by": what precedes is a baseline
    before = left[:m.start()].split()
    metric: list[str] = []
    verb = ""
    for tok in reversed(before[-7:]):
        w = tok.strip(",;:()").lower()
        if not w or (tok.endswith((",", ";", ":")) and metric):
            break
        if any(re.match(pat, w) for pat, _ in _VERB_NOUN):
            verb = w
            break
        if _STOP_LEFT.match(w):
            break
        metric.insert(0, tok.strip(",;:()"))
        if len(metric) >= 4:
            break
    if not verb:
        shared = re.findall(r"\b(reduc\w*|lower\w*|cut\w*|decreas\w*|improv\w*|increas\w*|"
                            r"boost\w*|accelerat\w*|sav\w*)\b", left, re.IGNORECASE)
        verb = shared[-1].lower() if shared else ""
    return verb, " ".join(metric)


_STOP_LEFT = re.compile(r"^(?:can|could|may|also|significantly|substantially|further|and|or|"
                        r"while|by|the|a|an|its|their|is|are|was|were|has|have|been|be|"
                        r"[a-z]+ly)$", re.IGNORECASE)


# A token with dots only inside it ("Llama-3.1-8B", not "60." of "60.0%"), and the words a
# setting cannot contain (they start another clause or result).
_TOKEN = r"(?:[\w+-]+(?:\.[\w+-]+)*)"
_NOT_SETTING = r"(?!(?:and|or|but|while|vs|versus|than|over)\b)"
_SETTING = re.compile(r"^\s*(?P<prep>on|at|with|for|using|in)\s+(?P<what>(?:the\s+)?"
                      r"(?:" + _NOT_SETTING + _TOKEN + r"\s+){0,2}?" + _NOT_SETTING + _TOKEN +
                      r"(?:\s+" + _NOT_SETTING + r"[A-Za-z][\w-]*)?)"
                      r"(?=[\s,;:)]|\.(?:\s|$)|$)")
_SETTING_END = re.compile(r"\s+(?:and|or|while|which|that|with|for|over|than|by|to|in|on|at|"
                          r"of|the|a|an)$", re.IGNORECASE)


def _setting(right: str) -> str:
    """The setting that follows a result in its sentence when it names something concrete
    (a number or a name with digits): "on 4 GPUs", "on Llama-3.1-8B", "at 128K context"."""
    m = _SETTING.match(right)
    if not m:
        return ""
    what = m.group("what")
    while _SETTING_END.search(what):
        what = _SETTING_END.sub("", what)
    if not re.search(r"\d", what) or len(what.split()) > 3:
        return ""
    return f"{m.group('prep')} {what}"


def _baseline(q: Quantity) -> str:
    """ "over NCCL": what the result is measured against, with the abstract's preposition."""
    if not q.against:
        return ""
    after = q.sentence[q.sentence.find(q.text) + len(q.text):]
    m = re.search(r"\b(over|than|compared (?:to|with)|vs\.?|versus|against|relative to)\s+"
                  r"(?:the\s+)?(?:[\w.+-]+(?:\s*,\s*|\s+(?:and|or)\s+))*?" + re.escape(q.against),
                  after)
    name = q.against.rstrip(".,;:")
    if re.search(r"-(?:based|style|like|aware|free|driven|only)$", name, re.IGNORECASE):
        return ""  # a modifier cut from its noun ("LUT-based array multipliers"), no name
    return f"{m.group(1)} {name}" if m else f"over {name}"


def _with_context(q: Quantity, said: str, right: str) -> str:
    """A result phrase with the setting and the baseline the abstract gives it, so the number
    is not read as holding everywhere: "~2.6-4.0x throughput on 4 GPUs", "1.07-1.33x speedup
    over NCCL"."""
    setting = _setting(right)
    if setting and setting.split(" ", 1)[1].lower() not in said.lower():
        said = f"{said} {setting}"
    base = _baseline(q)
    if base and q.against.rstrip(".,;:").lower() not in said.lower():
        # "48% in decode relative" + "relative to DistServe": the preposition once.
        if said.split()[-1].lower() == base.split()[0].lower():
            said = said.rsplit(" ", 1)[0]
        said = f"{said} {base}"
    return said


def phrase(q: Quantity, context: bool = True) -> str:
    """The noun phrase of the abstract that states `q`, with its own number, and (`context`)
    its setting and its baseline when the abstract gives them: "up to 4.56× higher throughput", "a 61%
    reduction in compute costs", "using only 1% of the KV cache", "1.07-1.33x speedup over
    NCCL"."""
    sent = q.sentence
    at = sent.find(q.text)
    if at < 0:
        return q.text
    said = _phrase(q)
    if not context:
        return said
    right = sent[at + len(q.text):]
    tail = _tail(right)
    # What follows the words the phrase took from the sentence (the value's own tail).
    rest = right
    for word in tail:
        k = rest.find(word)
        if k < 0:
            break
        rest = rest[k + len(word):]
    return _with_context(q, said, rest)


def _phrase(q: Quantity) -> str:
    sent = q.sentence
    at = sent.find(q.text)
    if at < 0:
        return q.text
    left, right = sent[:at], sent[at + len(q.text):]
    tail = _tail(right)
    core = (q.text + (" " + " ".join(tail) if tail else "")).rstrip(".,;:")
    qm = _QUAL_LEFT.search(left)
    qual = qm.group("q") if qm else ""
    if qm and qual:
        left = left[:qm.start()]
    named = any(re.search(pat, " ".join(tail), re.IGNORECASE)
                for pat in (r"[A-Za-z]{3,}",)) and not all(
        w.lower() in ("in", "of", "the", "a") for w in tail)
    by = _by_metric(left) if not named or (tail and tail[0].lower() in ("in", "of")) else None
    if by:
        verb, metric = by
        noun = next((n for pat, n in _VERB_NOUN if verb and re.match(pat, verb)), "")
        if not noun and q.direction:
            noun = "reduction in" if q.direction == "down" else "improvement in"
        if noun:
            if not metric:
                metric = _FAMILY_NOUN.get(q.metrics[0], "") if q.metrics else ""
            if metric:
                return _spaces(f"{qual}{q.text} {noun} {metric}")
    of = _LEFT_OF.search(left)
    if of and not _NOT_METRIC_START.match(of.group("metric").split()[0]) and not re.match(
            r"(?:[a-z]+ing|[a-z]+ed)$", of.group("metric").split()[0]):
        return _spaces(f"{of.group('metric')} of {qual}{core}")
    u = _USING.search(left)
    if u and not (named and u.group("lead").split()[0].lower() in ("with", "at", "in")):
        return _spaces(f"{u.group('lead')}{qual}{core}")
    # The metric's family noun where the abstract names none next to the value: for a multiple
    # ("2.9x speedup"), or a percentage of accuracy (a level, "90.5% accuracy") named in its own
    # clause. Any other bare percentage stays bare (and so is not quoted): "13.01% latency" for
    # "training time reductions of 13.01%", "53.31% cost" for "outperforming baselines by
    # 53.31%" misread what was measured (a change, in a direction the family noun cannot say).
    if not named and q.metrics and q.metrics[0] in _FAMILY_NOUN and (
            q.unit != "%" or (q.metrics[0] == "accuracy" and q.metric_source == "clause")):
        core = f"{core} {_FAMILY_NOUN[q.metrics[0]]}"
    return _spaces(f"{qual}{core}")


# Words that say nothing of what a figure measures ("up to 5.83%" alone is no result).
_NOT_CONTENT = {"up", "to", "about", "around", "approximately", "roughly", "nearly", "over",
                "more", "than", "at", "least", "as", "much", "only", "just", "an", "a", "the",
                "average", "of", "on", "in", "x", "further", "additional", "times", "percent",
                "fold", "with", "using", "within"}


def _says_what(said: str) -> bool:
    """Whether a result phrase names what its figure measures, not only the figure."""
    return any(w.lower() not in _NOT_CONTENT
               for w in re.findall(r"[A-Za-z][A-Za-z-]*", said))


def _device_count(q: Quantity) -> bool:
    """ "16x H100", "8× A100 GPUs": a multiple written before hardware is a count of devices."""
    if q.unit != "x":
        return False
    at = q.sentence.find(q.text)
    return bool(at >= 0 and re.match(r"\s*(?:[A-Z]+\d+[A-Za-z0-9]*|GPUs?|TPUs?|NPUs?|nodes?)\b",
                                     q.sentence[at + len(q.text):]))


def _statistic(q: Quantity) -> bool:
    """ "95% bootstrap CIs", "a 95% confidence interval": a level of a statistic, no result."""
    at = q.sentence.find(q.text)
    return bool(q.unit == "%" and at >= 0 and re.match(
        r"\s*(?:bootstrap(?:ped)?\s+)?(?:CIs?|confidence|credible|significance|bootstrap)\b",
        q.sentence[at + len(q.text):], re.IGNORECASE))


def headline_results(abstract: str, k: int = 2) -> list[Result]:
    """The abstract's headline results, best first: measured results with a unit and a metric
    (multiples and percentages first, bounds like "up to" preferred), at most `k`, one per
    value."""
    claims = result_claims(abstract)
    qs = [q for c in claims for q in c.results]
    if not qs:
        return []
    scored = [(_score(q, i, len(qs)), i, q) for i, q in enumerate(qs)]
    scored.sort(key=lambda t: (-t[0], t[1]))
    out: list[Result] = []
    seen: set[tuple[float, str]] = set()
    for s, _, q in scored:
        key = (round(q.value, 6), q.unit)
        if key in seen or s < 1.0:
            continue
        if _device_count(q) or _statistic(q):
            continue
        said = phrase(q)
        if not _says_what(said):
            continue  # a bare figure tells a reader nothing; the next result may say more
        # The phrase must state what the abstract states (the critic's own check): a phrase
        # whose metric reads differently out of its sentence is left out.
        if not all(g.ok for g in ground_text(f"It reports {said}.", abstract)):
            continue
        seen.add(key)
        bare = phrase(q, context=False)
        out.append(Result(quantity=q, phrase=said, score=s,
                          bare=bare if bare != said and all(g.ok for g in ground_text(
                              f"It reports {bare}.", abstract)) else ""))
        if len(out) == k:
            break
    # In the abstract's order, so two results read as the abstract states them.
    return sorted(out, key=lambda r: r.quantity.start)


def has_numbered_result(abstract: str) -> bool:
    """Whether an abstract states a measured result with a number."""
    return bool(headline_results(abstract, k=1))


def result_sentence(subject: str, results: list[Result], abstract: str = "") -> str:
    """Code's sentence for the headline results: "It reports up to 4.56× higher throughput,
    using only 1% of the KV cache." With `abstract`, results are left out from the last until
    every number of the sentence grounds in it (two phrases side by side can read as one)."""
    if not results:
        return ""
    if abstract:
        for n in range(len(results), 0, -1):
            # Two phrases side by side in the abstract would be one long copy: the other order.
            for order in (results[:n], results[:n][::-1]):
                text = result_sentence(subject, order)
                if all(g.ok for g in ground_text(text, abstract)) and \
                        longest_copy(text, abstract)[0] <= MAX_COPY:
                    return text
        return ""
    verb = "report" if subject.lower() in ("the authors", "they") else "reports"
    phrases = [r.phrase for r in results]
    bases = [_baseline(r.quantity) for r in results]
    if len(results) > 1 and bases[0] and len(set(bases)) == 1 and \
            all(ph.endswith(" " + bases[0]) for ph in phrases):
        # One baseline for all: said once, after the last ("… and 33% less memory than Duo").
        phrases = [ph[:-len(bases[0]) - 1] for ph in phrases[:-1]] + phrases[-1:]
    results = [Result(quantity=r.quantity, phrase=ph, score=r.score, bare=r.bare)
               for r, ph in zip(results, phrases, strict=True)]
    nouns = [_article(r.phrase) for r in results if not r.adverbial]
    extra = [r.phrase for r in results if r.adverbial]
    if not nouns:
        return f"{subject} {verb} its results {' and '.join(extra)}."
    joined = nouns[0] if len(nouns) == 1 else ", ".join(nouns[:-1]) + " and " + nouns[-1]
    return f"{subject} {verb} {joined}" + (", " + " and ".join(extra) if extra else "") + "."


def _article(text: str) -> str:
    """ "average speedup of up to 2.5×" -> "an average speedup of up to 2.5×" (a noun first)."""
    first = text.split()[0] if text.split() else ""
    if first and first[0].isalpha() and first.lower() not in (
            "up", "about", "around", "approximately", "roughly", "nearly", "over", "more",
            "at", "as", "only", "just", "an", "a", "the", "on", "within", "using", "with"):
        return f"{_an(first)} {text}"
    return text


def result_words(text: str) -> list[Quantity]:
    """Result quantities written in a text."""
    return [q for q in quantities(text) if q.role == "result" and q.unit not in ("", "count")]
