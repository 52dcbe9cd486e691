"""Whole-sentence candidates for an item, built from the abstract's own constituents.

The writer never cuts a sentence to fit: it chooses among whole candidates. Those made here are
the abstract's clauses in the third person, shortened only by removing whole dependency
subtrees that a sentence can lose (a parenthesis, an adverbial or relative clause, an
appositive, a verb's adjunct), so that what is left is still a constituent of the source.
Every candidate, from here or elsewhere, is accepted only when `problems` finds nothing: one or
more whole sentences by the parser (`tools/parse.py`), third person, a copied run of at most
`MAX_COPY` words, no "this X" the item never introduced, and every figure under the metric its
own clause in the abstract binds to it.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING

from flashnews.text import facts, parse
from flashnews.text.claims import Quantity, detex, ground_text, quantities, sentences

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

MAX_COPY = 12
"""Longest run of words copied from the abstract that a candidate may keep (a whole clause of
the abstract reads better than a paraphrase that breaks it)."""
RESULT_MAX_COPY = 24
"""The same for a result sentence: a figure is quoted with its own clause, whose words bind its
metric, setting and baseline; a paraphrase is where figures got the wrong metric."""

# Verbs that say what a paper contributes or studies (lemmas: the parser gives them).
_CONTRIBUTES = {"propose", "present", "introduce", "develop", "design", "devise", "build",
                "construct", "study", "investigate", "explore", "show", "demonstrate",
                "analyze", "analyse", "establish", "derive", "provide", "describe", "evaluate",
                "formulate", "report", "release", "leverage", "address", "tackle", "identify",
                "characterize", "examine", "extend", "apply", "offer", "find", "prove", "argue"}
_SELF = {"we", "this paper", "this work", "this article", "this study", "the paper",
         "the present paper", "the present work", "this note", "this report"}
# Dependents a sentence can lose and stay whole (with their subtrees).
# Not a coordinated branch: without it, a list or a gapped clause loses its sense ("a model:
# X." of "two models: X and Y"; "cost by 80x and latency by 20x").
# Not an adjective or adverb either: "moderate step counts", "identical models", "the existing
# CPU-based implementation" lose their sense without them (labelled items, tuning split).
_OPTIONAL = {"advcl", "relcl", "acl", "appos", "parataxis", "npadvmod", "prep", "punct"}
# Adverbs that tie a sentence to the one before it: an item has no sentence before.
_DISCOURSE = {"also", "further", "furthermore", "additionally", "moreover", "then", "finally",
              "first", "next", "empirically", "theoretically"}
_CREATES = {"propose", "present", "introduce", "develop", "design", "devise", "build",
            "construct", "formulate", "release"}


def _words(text: str) -> int:
    return len(text.split())


def _third_singular(verb: Token) -> str:
    """The verb in the third person singular ("propose" -> "proposes"); past tense stays."""
    if verb.tag_ not in ("VBP", "VB"):
        return verb.text
    return _third_singular_lemma(verb.lemma_.lower())


def _present_singular(verb: Token) -> str:
    """Any form of a verb in the third person singular present ("achieving" -> "achieves")."""
    if verb.tag_ == "VBZ":
        return verb.text
    return _third_singular(verb) if verb.tag_ in ("VBP", "VB") else \
        _third_singular_lemma(verb.lemma_.lower())


def _third_singular_lemma(lemma: str) -> str:
    if lemma == "be":
        return "is"
    if lemma == "have":
        return "has"
    if re.search(r"[^aeiou]y$", lemma):
        return lemma[:-1] + "ies"
    if re.search(r"(?:s|sh|ch|x|z|o)$", lemma):
        return lemma + "es"
    return lemma + "s"


def _render(tokens: list[Token], replace: dict[int, str]) -> str:
    """The tokens as text; where tokens between two kept ones were removed, one space."""
    out = ""
    prev: Token | None = None
    for t in tokens:
        text = replace.get(t.i, t.text)
        if not text:
            continue
        if prev is not None:
            gap = prev.whitespace_ if t.i == prev.i + 1 else " "
            out += gap
        prev = t
        out += text
    out = re.sub(r"\s+([,.;:)])", r"\1", out)
    out = re.sub(r",(?=[A-Za-z])", ", ", out)
    out = re.sub(r"\(\s+", "(", out)
    out = re.sub(r"\(\s*\)", "", out)
    out = re.sub(r",\s*(?:,\s*)+", ", ", out)
    out = re.sub(r"^[,;:\s]+|[,;:\s]+$", "", out)
    return " ".join(out.split())


def _sentence(text: str) -> str:
    text = re.sub(r"^(?:[A-Z][a-z]+ ){0,2}?(?:[A-Z][a-z]+):\s+", "", text.strip())  # "Results:"
    text = text.rstrip(",;:")
    if not text:
        return ""
    first = text.split()[0]
    if not any(c.isupper() for c in first[1:]):  # "vLLM achieves …" keeps its name
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _removable(sent: Span, keep: set[int], optional: set[str] = _OPTIONAL) -> list[set[int]]:
    """Subtrees of `sent` that may go, each as a set of token indices (with the comma,
    parenthesis or conjunction that introduces it). Only whole words: nothing inside a
    hyphenated compound, nothing that leaves a list without its last item."""
    doc = sent.doc
    out = []
    for t in sent:
        if t.dep_ not in optional or t.dep_ == "punct" or t.i in keep:
            continue
        if t.dep_ == "amod" and t.head.pos_ not in ("NOUN", "PROPN"):
            continue
        if t.dep_ == "advmod" and t.head.pos_ != "VERB":
            continue
        if (t.dep_ == "prep" and t.head.pos_ in ("VERB", "AUX") and any(
                c.dep_ in ("dobj", "attr", "acomp") and c.right_edge.i == t.i - 1
                for c in t.head.children)) or (t.dep_ == "prep" and t.head.i == t.i - 1
                                              and t.head.pos_ in ("VERB", "AUX")):
            continue  # "treats LLMs as reasoners", "account for": the verb's complement
        span = {x.i for x in t.subtree}
        if span & keep:
            continue
        first, last = min(span), max(span)
        if first > sent.start and not doc[first - 1].whitespace_:
            continue  # inside "few-step", "(unknown)": the word would be cut
        if last + 1 < sent.end and not doc[last].whitespace_ and \
                doc[last + 1].text not in (",", ".", ")", ";", ":"):
            continue
        if t.dep_ == "conj":  # the branch's "and"/"or" and the comma before it go with it
            cc = [c.i for c in t.head.children if c.dep_ in ("cc", "punct") and
                  t.head.i < c.i < t.i]
            if not cc:
                continue
            span |= set(cc)
            first = min(span)
        # A parenthetical goes with both its marks; a trailing one ("…, using X") with the
        # mark before it only (the comma after it may separate the next list item).
        opened = first > sent.start and doc[first - 1].text in (",", "(", "—", "–", "--")
        if opened:
            span.add(first - 1)
        if last + 1 < sent.end and doc[last + 1].text in (",", ")", "—", "–", "--") and (
                opened or first == sent.start):
            span.add(last + 1)
        out.append(span)
    return out


def _shortened(tokens: list[Token], sent: Span, keep: set[int], replace: dict[int, str],
               max_words: int, limit: int = 12, optional: set[str] = _OPTIONAL) -> list[str]:
    """The clause and versions of it without one or two optional subtrees, within the limit."""
    mine = {t.i for t in tokens}
    spans = [s for s in _removable(sent, keep, optional) if s <= mine]
    out: list[str] = []
    options: list[set[int]] = [set()] + spans + [a | b for a, b in
                                                 itertools.combinations(spans, 2)]
    for drop in options:
        text = _render([t for t in tokens if t.i not in drop], replace)
        if 4 <= _words(text) <= max_words and text not in out:
            out.append(text)
        if len(out) >= limit:
            break
    return out


def contribution_clauses(abstract: str, title: str, max_words: int, prefer: str = ""
                         ) -> list[str]:
    """Third-person sentences made of the abstract's contribution clauses, best first: from
    the sentence `prefer` (the one code's reading of the abstract found), then sentences that
    create something ("we propose X"), then those that study or show."""
    doc = parse.parse(detex(abstract)[:parse.MAX_CHARS])
    out: list[str] = []
    key = " ".join(detex(prefer).split()[:8])
    ordered = sorted(doc.sents, key=lambda s: (not (key and s.text.startswith(key)),
                                               s.root.lemma_.lower() not in _CREATES))
    for sent in ordered:
        mine: list[str] = []
        root = sent.root
        verbs = [root]
        for v in verbs:  # "presents …, analyzes … and discusses …": every coordinated verb
            verbs += [c for c in v.children if c.dep_ == "conj" and c.pos_ == "VERB"
                      and c.tag_ in ("VBP", "VB")]
        subj = next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subj is None or root.lemma_.lower() not in _CONTRIBUTES:
            continue
        said = " ".join(x.lower_ for x in subj.subtree)
        if said not in _SELF:
            continue
        name = facts.title_name(title)
        aux = [c for c in root.lefts if c.dep_ in ("aux", "auxpass")]
        # "we are releasing" -> "the paper is releasing": the first auxiliary takes the person.
        replace: dict[int, str] = ({min(aux, key=lambda t: t.i).i: _third_singular(
            min(aux, key=lambda t: t.i))} if aux else {v.i: _third_singular(v) for v in verbs})
        for t in sent:
            if t.lower_ == "our":
                replace[t.i] = "its"
            elif t.lower_ == "we" and t.i not in {x.i for x in subj.subtree}:
                replace[t.i] = "the authors"
            elif t.lower_ in _DISCOURSE and t.dep_ == "advmod" and t.head.i == root.i:
                replace[t.i] = ""
        # "We propose X, a Y that Z": "X is a Y that Z" as well.
        obj = next((c for c in root.children if c.dep_ == "dobj"), None)
        if obj is not None:
            appos = next((c for c in obj.children if c.dep_ == "appos"), None)
            head = [t for t in obj.subtree if appos is None or t.i not in
                    {x.i for x in appos.subtree}]
            head_text = _render(head, {}).rstrip(",")
            if appos is not None and _words(head_text) <= 4 and any(
                    t.pos_ == "PROPN" for t in head) and appos.pos_ == "NOUN":
                tokens = list(appos.subtree)
                keep = {appos.i} | {c.i for c in appos.lefts}
                for text in _shortened(tokens, sent, keep, replace, max_words - 2):
                    mine.append(_sentence(f"{head_text} is {text}"))
        start = subj.i if subj.left_edge.i == subj.i else subj.left_edge.i
        tokens = [t for t in sent if t.i > max(start, subj.right_edge.i) and not t.is_space]
        keep = {root.i} | ({x.i for x in obj.subtree} if obj is not None and
                           _words(obj.text) <= 6 else {obj.i} if obj is not None else set())
        subject = name if name and name.lower() in sent.text.lower() else "The paper"
        for text in _shortened(tokens, sent, keep, replace, max_words - _words(subject)):
            if subject != "The paper" and subject.lower() in text.lower():
                continue  # "K-Search evaluates K-Search …"
            if ":" in text and not sent.text.rstrip(" .").endswith(
                    text.rsplit(":", 1)[1].strip().rstrip(".")):
                continue  # a list after a colon lost items ("two metrics: spilled energy.")
            mine.append(_sentence(f"{subject} {text}"))
        # Within a sentence, the longest version first: it says the most.
        out += sorted(mine, key=lambda c: -_words(c))
    return out


def problems(text: str, abstract: str, *, max_words: int, context: str = "",
             min_words: int = 5, max_copy: int = MAX_COPY) -> list[str]:
    """Why a candidate sentence cannot be published (empty when it can)."""
    out = []
    text = " ".join(text.split())
    if not text:
        return ["it is empty"]
    if "\\" in text or text.count("(") != text.count(")") or text.count('"') % 2:
        out.append("it has TeX or an unbalanced parenthesis or quote")
    if re.search(r"https?://|www\.", text):
        out.append("it has a URL")
    if re.search(r"\((?:i{1,3}|iv|v|[a-d]|[1-9])\)", text):
        out.append("it keeps a list's markers")
    n = _words(text)
    if n < min_words or n > max_words:
        out.append(f"it has {n} words (limit {min_words}-{max_words})")
    whole = parse.sentence_problem(text, detex(abstract))
    if whole:
        out.append(f"not a whole sentence: {whole}")
    if facts.first_person(text):
        out.append("it speaks as the authors")
    run, copied = facts.longest_copy(text, abstract)
    if run > max_copy:
        out.append(f"it copies {run} words in a row ({copied!r})")
    pointer = parse.dangling(text, context)
    if pointer:
        out.append(pointer)
    out += parse.misbound(text, abstract)
    out += [f"{s.quantity.text} is not stated so in the abstract"
            for s in ground_text(text, abstract) if not s.ok]
    return out


# What a result clause may lose: never a preposition (it carries the setting and baseline).
_RESULT_OPTIONAL = {"advcl", "relcl", "parataxis"}


def _governing_clause(tok: Token) -> tuple[Token, Token] | None:
    """The nearest verb above a figure that has its own subject, and that subject
    ("achieving 2.1x" belongs to "K-Search outperforms …, achieving 2.1x")."""
    verb = tok
    for _ in range(8):
        if verb.pos_ in ("VERB", "AUX"):
            subj = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            if subj is not None:
                return verb, subj
        if verb.head.i == verb.i:
            return None
        verb = verb.head
    return None


def _results(text: str) -> list[Quantity]:
    """The measured results among a text's numbers (not its settings: "on 4 GPUs")."""
    return [q for q in quantities(text) if q.role == "result"]


def result_clauses(abstract: str, subject: str, max_words: int, name: str = "") -> list[str]:
    """Sentences that quote the abstract's figures with their own clauses, most figures and
    most context first: the clause that governs the figure, with everything it binds (metric,
    setting, baseline), the authors or "our method" replaced by `subject`."""
    out: list[tuple[int, int, str]] = []
    for sentence in sentences(detex(abstract)[:parse.MAX_CHARS]):
        doc = parse.parse(sentence)
        for fig in _results(sentence):
            tok = doc.char_span(fig.start, fig.end, alignment_mode="expand")
            found = _governing_clause(tok.root) if tok is not None else None
            if found is None or tok is None:
                continue
            verb, subj = found
            if any(c.dep_ == "neg" for c in verb.children):
                continue  # "does not degrade": a clause cut from its subject could lose "not"
            said = " ".join(x.lower_ for x in subj.subtree)
            own = said in _SELF or said.startswith(("our ", "the proposed ")) or said == "it"
            about_work = own or bool(name and name.lower() in said)
            subject_ids = {x.i for x in subj.subtree}
            aux = [c for c in verb.lefts if c.dep_ in ("aux", "auxpass")]
            # The authors' verb in the third person: on its first auxiliary when it has one
            # ("we can reduce" -> "it can reduce"), with every coordinated verb.
            replace: dict[int, str] = {}
            if own:
                first = min(aux, key=lambda t: t.i) if aux else verb
                replace[first.i] = _third_singular(first)
                if not aux:
                    for c in verb.children:
                        if c.dep_ == "conj" and c.tag_ in ("VBP", "VB"):
                            replace[c.i] = _third_singular(c)
            for t in verb.subtree:
                if t.lower_ == "our":
                    replace[t.i] = "its"
            start = min([verb.i, *(a.i for a in aux)]) if own else subj.left_edge.i
            tokens = [t for t in verb.subtree if t.i >= start and not (own and t.i in subject_ids)]
            if tokens and tokens[-1].text in ".,;:":
                tokens = tokens[:-1]
            keep = {verb.i} | {x.i for x in tok} | {x.i for x in tok.root.ancestors}
            lead = subject if own else ""
            for text in _shortened(tokens, verb.sent, keep, replace, max_words - _words(lead),
                                   limit=6, optional=_RESULT_OPTIONAL):
                sent = _sentence(f"{lead} {text}".strip())
                out.append((-len(_results(sent)), -_words(sent), sent))
            # The figure's own verb and what follows it, said of the work ("…, delivers up to
            # 4.56× higher throughput" -> "It delivers up to 4.56× higher throughput.").
            own_verb = tok.root
            while own_verb.pos_ not in ("VERB", "AUX") and own_verb.head.i != own_verb.i:
                own_verb = own_verb.head
            # Only of the work itself ("It loses 30%" must not come from a baseline's clause),
            # and not where an auxiliary or "not" would be lost.
            if own_verb.pos_ == "VERB" and own_verb.tag_ in ("VBG", "VBP", "VB", "VBZ") and \
                    about_work and not any(c.dep_ in ("neg", "aux", "auxpass")
                                           for c in own_verb.children):
                skip = {x.i for c in own_verb.children if c.dep_ in ("conj", "cc")
                        for x in c.subtree}
                right = [t for t in own_verb.subtree if t.i > own_verb.i and t.i not in skip]
                while right and right[-1].text in ".,;:":
                    right.pop()
                text = _render(right, replace)
                if right and _words(text) + 2 <= max_words:
                    sent = _sentence(f"{subject} {_present_singular(own_verb)} {text}")
                    out.append((-len(_results(sent)), -_words(sent), sent))
    return list(dict.fromkeys(s for _, _, s in sorted(out)))


def say_less(title: str) -> str:
    """The least an item can say, whole: what the title names ("KnapSpec is about
    self-speculative decoding via adaptive layer selection.")."""
    name = facts.title_name(title)
    rest = title.split(":", 1)[1].strip() if name else title.strip()
    return _sentence(f"{name or 'The paper'} is about {facts._title_phrase(rest.rstrip('?.'))}")


def what_candidates(code: str, title: str, abstract: str, max_words: int, prefer: str = ""
                    ) -> list[str]:
    """Candidates for the "what it does" sentence, in code's order of preference: code's own
    phrasing (tools/facts.py), the abstract's contribution clauses (from the sentence code
    read, longest first), a sentence from the title, and the least an item can say.

    Code's phrasing first was chosen on the tuning split of the labelled items: 40.8% of them
    publishable against 39.4% with the clauses first (docs/writing.md)."""
    clauses = contribution_clauses(abstract, title, max_words, prefer)
    return list(dict.fromkeys(c for c in [code, *clauses, facts.from_title(title),
                                          say_less(title)] if c))


def choose(cands: list[str], abstract: str, *, max_words: int, context: str = "",
           min_words: int = 5, max_copy: int = MAX_COPY) -> tuple[str, list[str]]:
    """The first candidate that passes `problems`, and why the ones before it failed."""
    rejected: list[str] = []
    for c in cands:
        found = problems(c, abstract, max_words=max_words, context=context, min_words=min_words,
                         max_copy=max_copy)
        if not found:
            return c, rejected
        rejected.append(f"{c!r}: {found[0]}")
    return "", rejected
