"""Selection: which papers an edition features, in order."""

from __future__ import annotations

from collections.abc import Iterable

from flashnews.models import Assessment, Selection, rank_key


def off_beat(a: Assessment, training: float = 0.0) -> bool:
    """Whether the paper is about training rather than inference (the learned ranker's
    `training` feature above `training`): never a main item unless the editor pins it."""
    return a.signals.get("training", float("-inf")) > training


def select(assessments: dict[str, Assessment], *, main: int, also: int,
           exclude: Iterable[str] = (), off_beat_training: float = 0.0) -> Selection:
    """The relevant papers by Score (rank_key): the best `main` on the beat are the main items,
    in Score order (the first is the lead); the next `also` of the rest, off-beat papers
    included, are also notable."""
    excluded = set(exclude)
    ranked = sorted((a for a in assessments.values() if a.relevant and a.paper_id not in excluded),
                    key=rank_key)
    chosen: list[Assessment] = []
    rest: list[Assessment] = []
    for a in ranked:
        if len(chosen) < main and not off_beat(a, off_beat_training):
            chosen.append(a)
        else:
            rest.append(a)
    return Selection(main=[a.paper_id for a in chosen], also=[a.paper_id for a in rest[:also]])
