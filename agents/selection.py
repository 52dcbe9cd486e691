"""Selection: which papers an edition features, in order."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from flashnews.models import Assessment, rank_key


class Selection(BaseModel):
    """Which papers an edition features, in order."""

    main: list[str] = Field(default_factory=list)
    also: list[str] = Field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [*self.main, *self.also]


def select(assessments: dict[str, Assessment], *, main: int, also: int,
           exclude: Iterable[str] = ()) -> Selection:
    """Top items by Score (ties by Hype), at most two per leading topic while others remain."""
    excluded = set(exclude)
    ranked = sorted((a for a in assessments.values() if a.relevant and a.paper_id not in excluded),
                    key=rank_key)
    chosen: list[Assessment] = []
    per_topic: dict[str, int] = {}
    rest: list[Assessment] = []
    for a in ranked:
        topic = a.topics[0] if a.topics else ""
        if len(chosen) < main and per_topic.get(topic, 0) < 2:
            chosen.append(a)
            per_topic[topic] = per_topic.get(topic, 0) + 1
        else:
            rest.append(a)
    # Diversity only reorders: if it left slots empty, fill them by rank.
    while len(chosen) < main and rest:
        chosen.append(rest.pop(0))
    chosen.sort(key=rank_key)
    return Selection(main=[a.paper_id for a in chosen], also=[a.paper_id for a in rest[:also]])
