"""Editor decisions as triage cases: what an editor pinned, dropped or rescored is a verdict.

The review loop exports decisions as JSON lines (`flashnews decisions EDITION --format jsonl`),
roughly `{"edition_id", "at", "command", "args", "reason", "round"}`. `pin` makes the paper a
positive case, `drop` a negative one, `rescore` a case with the editor's Score/Hype (positive
when the Score reaches the relevance threshold). Other commands (move, edit, rewrite, approve)
say nothing about a paper's score and are skipped. A later decision on the same paper of the
same edition replaces an earlier one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from flashnews.errors import ConfigError
from flashnews.evals import schema
from flashnews.models import Paper, split_arxiv_id

_ID = re.compile(r"^\d{4}\.\d{4,5}(v\d+)?$")
_ID_KEYS = ("paper_id", "arxiv_id", "paper", "item", "id")


class EditorDecision(BaseModel):
    """One exported decision; fields this reader does not use are kept, never an error."""

    model_config = ConfigDict(extra="allow")

    edition_id: str
    command: str
    args: Any = None
    at: str | None = None
    reason: str = ""
    round: int | None = None


def _target(args: Any) -> tuple[str | None, list[int]]:
    """The paper id and the numbers (score, hype) in a decision's arguments."""
    pid: str | None = None
    nums: list[int] = []
    if isinstance(args, dict):
        for key in _ID_KEYS:
            if isinstance(args.get(key), str):
                pid = args[key]
                break
        nums = [int(args[k]) for k in ("score", "hype") if isinstance(args.get(k), int | float)]
        return pid, nums
    items = args.split() if isinstance(args, str) else list(args or [])
    named: dict[str, int] = {}
    for a in items:
        text = str(a).strip()
        kv = re.fullmatch(r"(score|hype)[=:](\d{1,3})", text, re.IGNORECASE)
        if pid is None and _ID.match(text):
            pid = text
        elif kv:
            named[kv.group(1).lower()] = int(kv.group(2))
        elif re.fullmatch(r"\d{1,3}", text):
            nums.append(int(text))
    if named:  # "score=90 hype=40": by name, whatever the order
        nums = [named[k] for k in ("score", "hype") if k in named]
    return pid, nums


def to_case(d: EditorDecision, paper: Paper | None, threshold: int = 50
            ) -> schema.TriageCase | None:
    """The triage case a decision makes, or None when it says nothing about a score."""
    command = d.command.lower().strip()
    if command not in ("pin", "drop", "rescore"):
        return None
    pid_raw, nums = _target(d.args)
    if pid_raw is None:
        raise ConfigError(f"{command} decision of {d.edition_id} names no paper: {d.args!r}")
    pid, _ = split_arxiv_id(pid_raw)
    if paper is None:
        raise ConfigError(f"paper {pid} of {d.edition_id} not found: pass --papers SNAPSHOT "
                          "(or run it in the data dir where the edition ran)")
    score = hype = None
    label: Literal["positive", "negative"]
    if command == "rescore":
        if not nums:
            raise ConfigError(f"rescore of {pid} in {d.edition_id} gives no score: {d.args!r}")
        score = max(0, min(100, nums[0]))
        hype = max(0, min(100, nums[1])) if len(nums) > 1 else None
        label = "positive" if score >= threshold else "negative"
    else:
        label = "positive" if command == "pin" else "negative"
    return schema.TriageCase(case_id=f"editor-{d.edition_id}-{pid}", paper_id=pid,
                             label=label, ref_score=score, ref_hype=hype,
                             source="editor", paper=paper, edition_id=d.edition_id,
                             decided_at=d.at, reason=d.reason)


def read_decisions(path: Path) -> list[EditorDecision]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(EditorDecision.model_validate(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            raise ConfigError(f"{path}:{n}: not an editor decision: "
                              f"{' '.join(str(exc).split())[:200]}") from None
    return out


def add_decisions(path: Path, lookup: dict[str, dict[str, Paper]] | None = None, *,
                  papers: dict[str, Paper] | None = None, root: Path = schema.DATASETS,
                  threshold: int = 50) -> tuple[int, int, int]:
    """Add the cases of a decisions file to the editor dataset (bumping its version).

    Papers are found in `papers` (a snapshot), else in `lookup[edition_id]` (the store's papers
    of that edition), else in the eval papers. Returns (added or replaced, skipped, version).
    """
    known = schema.papers(root=root)
    path_e = root / "editor.jsonl"
    header, cases = (schema.read("editor", schema.TriageCase, root=root) if path_e.exists()
                     else (schema.EDITOR_HEADER, []))
    by_id = {c.case_id: c for c in cases}
    changed = skipped = 0
    for d in read_decisions(path):
        pid_raw, _ = _target(d.args)
        pid = split_arxiv_id(pid_raw)[0] if pid_raw else ""
        paper = ((papers or {}).get(pid) or (lookup or {}).get(d.edition_id, {}).get(pid)
                 or known.get(pid))
        case = to_case(d, paper, threshold)
        if case is None:
            skipped += 1
            continue
        if by_id.get(case.case_id) != case:
            by_id[case.case_id] = case
            changed += 1
    if changed:
        header = header.model_copy(update={"version": header.version + 1})
        schema.write("editor", header, list(by_id.values()), root=root)
    return changed, skipped, header.version
