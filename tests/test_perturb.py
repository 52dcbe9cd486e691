"""The critic's unseen test: perturbations built by code from the real house bulletins.

The bulletins are read from the eval data (FLASHNEWS_EVAL_DATA) at test time; the repo stores only recipes.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from flashnews.config import eval_data_dir
from flashnews.evals import perturb, runner, schema
from flashnews.models import Paper
from flashnews.text.grounding import blocking, check_bulletin

REPO = Path(__file__).resolve().parents[1]
SHARED = eval_data_dir()
needs_shared = pytest.mark.skipif(not (SHARED / "reference").is_dir(),
                                  reason="the eval data's reference/ is not present")


@pytest.fixture(scope="module")
def refs() -> dict[str, perturb.Reference]:
    return runner.house_bulletins(SHARED)


@pytest.fixture(scope="module")
def dev() -> dict[str, Paper]:
    return schema.papers()


@needs_shared
def test_every_recipe_applies_and_changes_its_bulletin(refs, dev) -> None:
    _, cases = schema.read("perturbations", schema.PerturbationCase)
    assert {c.kind for c in cases} == set(perturb.KINDS)
    for c in cases:
        p = perturb.apply(c.kind, refs[c.bulletin].markdown, dev, item=c.item, seed=c.seed)
        assert p.markdown != refs[c.bulletin].markdown, c.case_id
        if c.kind in perturb.ITEM_KINDS:
            assert p.item, c.case_id
    # The recipes are what the generator makes of these bulletins.
    assert [(c.bulletin, c.kind, c.item, c.seed) for c in cases] == perturb.recipes(
        list(refs.values()), dev)


@needs_shared
def test_the_critic_blocks_the_perturbations_and_only_real_problems(refs, dev) -> None:
    _, bulletins = schema.read("bulletins", schema.BulletinCase)
    _, cases = schema.read("perturbations", schema.PerturbationCase)
    metrics, rows = runner.bulletin_eval(bulletins, cases, dev, refs)
    assert metrics["reference_unexpected"] == 0, rows["bulletins"]
    assert metrics["reference_known"] == 1.0
    assert metrics["perturb_catch"] >= 0.95, [r for r in rows["perturbations"]
                                               if not r["caught"]]
    for kind in perturb.KINDS:
        assert metrics[f"perturb_catch_{kind.replace('-', '_')}"] >= 0.8, kind


def test_the_generator_works_on_any_bulletin_in_the_house_style(dev) -> None:
    # flashnews' own rendering (the drafts dataset's clean flash draft), not a house bulletin.
    _, drafts = schema.read("drafts", schema.DraftCase)
    clean = next(c for c in drafts if c.case_id == "clean-flash")
    ref = perturb.Reference("own", clean.fmt, clean.markdown)
    recipes = perturb.recipes([ref], dev)
    assert {k for _, k, _, _ in recipes} == set(perturb.KINDS)
    base = Counter((f.check, f.item, f.message) for f in blocking(
        check_bulletin(clean.markdown, papers=dev, fmt="flash")))
    assert not base
    missed = []
    for _, kind, item, seed in recipes:
        p = perturb.apply(kind, clean.markdown, dev, item=item, seed=seed)
        found = blocking(check_bulletin(p.markdown, papers=dev, fmt="flash"))
        if not any(f.check in perturb.EXPECT[kind] for f in found):
            missed.append((kind, p.detail))
    assert len(missed) <= 0.05 * len(recipes), missed


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _grams(text: str, n: int) -> set[tuple[str, ...]]:
    w = _words(text)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


@needs_shared
def test_no_bulletin_sentence_is_copied_into_the_repo(refs, dev) -> None:
    # Any 8 words in a row of a house bulletin, except what it quotes of arXiv (titles,
    # abstract phrases: real arXiv records may be bundled).
    n = 8
    grams = set()
    for r in refs.values():
        for line in r.markdown.splitlines():
            grams |= _grams(re.sub(r"\]\([^)]*\)", "]", line), n)  # link targets: no prose
    for p in dev.values():
        grams -= _grams(f"{p.title}. {p.abstract}", n)
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    copied = []
    for name in tracked:
        path = REPO / name
        if path.suffix not in {".py", ".md", ".jsonl", ".json", ".yaml", ".txt", ".toml"}:
            continue
        hits = _grams(path.read_text(encoding="utf-8", errors="ignore"), n) & grams
        if hits:
            copied.append((name, " ".join(next(iter(hits)))))
    assert copied == []
