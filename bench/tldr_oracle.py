"""How far choosing a better sentence could take the SciTLDR score, under code's rewrite rules.

`python -m bench.tldr_oracle [--split dev] [--limit 100]`: for each paper, every abstract
sentence is put through code's rewrite (third person, copy and length limits, as the flash item's
"what it does" sentence) and scored with the eval's ROUGE-1 (max over the human TL;DRs). Reports
the mean ROUGE-1 of code's pick, of the best contribution candidate (an oracle over the sentences
code may choose from) and of the best of all sentences (problem statements included, first-person
results scored 0). On the train split the papers are a fixed shuffle (seed 0).
"""

from __future__ import annotations

import argparse
import json
import random

from flashnews.agents.writer import WHAT_WORDS
from flashnews.evals import tldr
from flashnews.text import facts
from flashnews.text.claims import detex, sentences

WORDS = WHAT_WORDS[("flash", "main")]
"""The flash main item's "what it does" budget, as the tldr eval uses it."""


def _score(sentence: str, targets: list[str]) -> float:
    return 0.0 if facts.first_person(sentence) else tldr.rouge(sentence, targets)["rouge1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", choices=["train", "dev"])
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    cases = tldr.read_scitldr(tldr.SCITLDR / f"{args.split}.jsonl")
    if args.split == "train":
        random.Random(0).shuffle(cases)
    cases = cases[:args.limit]
    pick, best_cand, best_any = [], [], []
    for c in cases:
        abstract = c.abstract
        contrib = facts.contribution(c.title, abstract)
        mine = _score(facts.what_sentence(contrib, c.title, abstract, WORDS), c.target)
        cands = [mine]
        for i in range(len(contrib.candidates)):
            chosen = facts.contribution(c.title, abstract, choose=i)
            cands.append(_score(facts.what_sentence(chosen, c.title, abstract, WORDS), c.target))
        every = [mine]
        for s in sentences(detex(abstract)):
            every.append(_score(facts.compact(facts.third_person(s, c.title)[1], WORDS, abstract),
                                c.target))
        pick.append(mine)
        best_cand.append(max(cands))
        best_any.append(max(every))

    def mean(xs: list[float]) -> float:
        return round(sum(xs) / len(xs), 2)

    print(json.dumps({"split": args.split, "papers": len(cases), "code_pick_rouge1": mean(pick),
                      "oracle_candidates_rouge1": mean(best_cand),
                      "oracle_any_sentence_rouge1": mean(best_any)}, indent=2))


if __name__ == "__main__":
    main()
