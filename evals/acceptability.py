"""Item acceptability: would an editor publish this item as it stands?

The dataset (`evals/datasets/items.jsonl`) holds real items that flashnews' writer wrote for the
top-ranked papers of the real days in `evals/datasets/realday.jsonl`, each labelled by reading
it against its abstract (docs/evals.md, "Labelling items"): `ok`, or the defects it has. Every
paper is in one split by a hash of its id: a third is held out of all tuning and reported on
its own.

`flashnews eval --task items` writes the items again with the current writer (code's phrasing:
no model call, so the same code writes the same item) and looks each one up by its text. An item
whose text is new has no label yet: the run says how many (`python -m
flashnews.evals.acceptability --out FILE` lists them) and the gate fails until it is labelled,
so the figure is always a reading of what the writer now writes.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from flashnews.agents.writer import Writer
from flashnews.evals import schema
from flashnews.models import Format, Paper

DEFECTS = ("fragment", "wrong-figure", "cut-name", "wrong-claim", "awkward")
"""The defect kinds of the labelling guide (docs/evals.md)."""
SLOTS: tuple[tuple[Format, Literal["main", "also"]], ...] = (
    ("flash", "main"), ("digest", "also"), ("flash", "also"), ("digest", "main"))
"""Each paper gives two items: slots 0-1 for papers of even rank, 2-3 for odd ranks."""
PER_DAY = 55
"""Top-ranked papers taken from each real day."""


def split_of(arxiv_id: str) -> str:
    """`held-out` for a third of the papers (by a hash of the id), else `tune`."""
    return "held-out" if int(hashlib.sha1(arxiv_id.encode()).hexdigest(), 16) % 3 == 0 \
        else "tune"


@dataclass
class Item:
    arxiv_id: str
    listing: str
    fmt: str
    section: str
    text: str

    @property
    def key(self) -> str:
        return f"{self.arxiv_id}:{self.fmt}:{self.section}"


def write_items(writer: Writer, papers: list[tuple[str, Paper, int]]) -> list[Item]:
    """The item bodies the writer writes for (listing, paper, rank) triples."""
    from langchain_core.messages import SystemMessage

    from flashnews import prompts

    out = []
    for listing, paper, rank in papers:
        for fmt, section in SLOTS[(rank % 2) * 2:(rank % 2) * 2 + 2]:
            prompt = prompts.load(f"writer_{fmt}")
            system = SystemMessage(prompt.render("system"))
            w = writer.item(prompt, system, paper, fmt, section)
            out.append(Item(paper.arxiv_id, listing, fmt, section, w.body))
    return out


DATASET = schema.DATASETS / "items.jsonl"


def load(path: Path = DATASET) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Labelled rows by item key (an item may be labelled in several versions of its text),
    and the dataset's version."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not path.exists():
        return out, 0
    lines = path.read_text().splitlines()
    for line in lines[1:]:
        row = json.loads(line)
        out.setdefault(row["key"], []).append(row)
    return out, int(json.loads(lines[0]).get("version", 0))


def score(items: list[Item], labels: dict[str, list[dict[str, Any]]]
          ) -> tuple[dict[str, float | None], list[dict[str, Any]]]:
    """Metrics per split and the rows of unlabelled items."""
    out: dict[str, float | None] = {}
    unlabelled = []
    by_split: dict[str, list[list[str]]] = {"tune": [], "held-out": []}
    for it in items:
        row = next((r for r in labels.get(it.key, []) if r["text"] == it.text), None)
        if row is None:
            unlabelled.append({"key": it.key, "arxiv_id": it.arxiv_id, "listing": it.listing,
                               "fmt": it.fmt, "section": it.section, "text": it.text,
                               "split": split_of(it.arxiv_id)})
            continue
        by_split[split_of(it.arxiv_id)].append(row["defects"])
    for split, rows in by_split.items():
        tag = "heldout" if split == "held-out" else "tune"
        n = len(rows)
        out[f"items_{tag}_labelled"] = float(n)
        out[f"items_{tag}_publishable"] = round(sum(not d for d in rows) / n, 4) if n else None
        counts = Counter(k for d in rows for k in set(d))
        for kind in DEFECTS:
            out[f"items_{tag}_{kind.replace('-', '_')}"] = float(counts[kind])
    out["items_unlabelled"] = float(len(unlabelled))
    return out, unlabelled


def labelled_papers(labels: dict[str, list[dict[str, Any]]], papers: dict[str, Paper]
                    ) -> list[tuple[str, Paper, int]]:
    """The papers of the labelled set as (listing, paper, rank parity) triples, in file order:
    the set is fixed by its labels (the ranker that first chose them may change; the writer is
    what this eval measures)."""
    out: dict[str, tuple[str, Paper, int]] = {}
    for rows in labels.values():
        for row in rows:
            pid = row["arxiv_id"]
            if pid in out or pid not in papers:
                continue
            slot = SLOTS.index((row["fmt"], row["section"]))
            out[pid] = (row["listing"], papers[pid], 0 if slot < 2 else 1)
    return sorted(out.values(), key=lambda t: t[0])


def top_papers(listings: dict[str, list[Paper]], ranker: Any,
               per_day: int = PER_DAY) -> list[tuple[str, Paper, int]]:
    """The top-ranked papers of each real day by the ranking stage (the packaged embeddings),
    as (listing, paper, rank) triples."""
    out = []
    for listing in sorted(listings):
        signals = ranker.rank(listings[listing])
        ranked = sorted(listings[listing], key=lambda p: signals[p.arxiv_id].rank)[:per_day]
        out += [(listing, p, r) for r, p in enumerate(ranked, start=1)]
    return out


def check_agreement(labels: dict[str, list[dict[str, Any]]], papers: dict[str, Paper]
                    ) -> dict[str, float | None]:
    """How `flashnews check`'s sentence and figure findings agree with the labels, over every
    labelled text: the share of items labelled fragment (or wrong-figure) that it blocks, and
    the share of items labelled publishable that it blocks (false alarms)."""
    from flashnews.text import parse
    from flashnews.text.claims import detex
    from flashnews.text.grounding import item_sentences

    caught = {"fragment": [0, 0], "wrong-figure": [0, 0], "ok": [0, 0]}
    for rows in labels.values():
        for row in rows:
            paper = papers.get(row["arxiv_id"])
            if paper is None:
                continue
            abstract = detex(paper.abstract)
            blocked = any(parse.sentence_problem(s, abstract, strict=False) or
                          parse.misbound(s, paper.abstract) for s in item_sentences(row["text"]))
            for kind in (row["defects"] or ["ok"]):
                if kind in caught:
                    caught[kind][0] += blocked
                    caught[kind][1] += 1

    def share(kind: str) -> float | None:
        hit, n = caught[kind]
        return round(hit / n, 4) if n else None

    return {"items_check_fragment_caught": share("fragment"),
            "items_check_figure_caught": share("wrong-figure"),
            "items_check_false_alarm": share("ok")}


def main() -> None:
    """List the items the current writer writes that have no label yet (to label them)."""
    import argparse

    from flashnews.agents.ranking import Ranker
    from flashnews.config import Settings
    from flashnews.evals.runner import _NoCache
    from flashnews.tools.embeddings import load_embedder

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--out", type=Path, required=True, help="JSONL of the unlabelled items")
    ap.add_argument("--all", action="store_true", help="every item, labelled or not")
    args = ap.parse_args()
    settings = Settings()
    listings: dict[str, list[Paper]] = {}
    for line in (schema.DATASETS / "realday.jsonl").read_text().splitlines()[1:]:
        row = json.loads(line)
        listings.setdefault(row["listing"], []).append(Paper.model_validate(row["paper"]))
    ranker = Ranker(load_embedder(settings), _NoCache(), settings)
    writer = Writer(models=None, phrasing="code")  # type: ignore[arg-type]  # code phrasing calls no model
    items = write_items(writer, top_papers(listings, ranker))
    metrics, unlabelled = score(items, {} if args.all else load()[0])
    with args.out.open("w") as f:
        for row in unlabelled:
            f.write(json.dumps(row) + "\n")
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
