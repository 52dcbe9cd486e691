"""Paper sources: snapshots and the arXiv announcement window."""

from __future__ import annotations

import datetime as dt

import pytest

from flashnews.errors import SourceError
from flashnews.tools.arxiv import (
    ArxivSource,
    announcement_window,
    demo_snapshot,
    read_snapshot,
    write_snapshot,
)


def test_bundled_demo_day_holds_the_real_dev_papers() -> None:
    papers = read_snapshot(demo_snapshot())
    assert len(papers) == 31 and len({p.arxiv_id for p in papers}) == 31
    assert all(p.abstract and p.title for p in papers)


def test_snapshot_round_trip_and_duplicates(tmp_path) -> None:
    papers = read_snapshot(demo_snapshot())
    path = tmp_path / "day.jsonl"
    write_snapshot(path, papers + papers[:3])  # cross-lists can repeat a paper
    again = read_snapshot(path)
    assert [p.arxiv_id for p in again] == [p.arxiv_id for p in papers]


def test_snapshot_errors_name_the_file_and_line(tmp_path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"arxiv_id": "2602.20732", "title": "t", "abstract": "a"}\n{oops\n')
    with pytest.raises(SourceError, match=r"bad\.jsonl:2"):
        read_snapshot(bad)
    with pytest.raises(SourceError, match="snapshot not found"):
        read_snapshot(tmp_path / "missing.jsonl")


@pytest.mark.parametrize(("day", "start", "end"), [
    # Wednesday's listing: Monday 14:00 ET to Tuesday 14:00 ET (EST = UTC-5).
    ("2026-02-25", "2026-02-23 19:00", "2026-02-24 19:00"),
    # Monday's listing: Thursday 14:00 to Friday 14:00.
    ("2026-02-23", "2026-02-19 19:00", "2026-02-20 19:00"),
    # Tuesday's listing: Friday 14:00 to Monday 14:00.
    ("2026-02-24", "2026-02-20 19:00", "2026-02-23 19:00"),
    # Summer time (EDT = UTC-4).
    ("2026-07-08", "2026-07-06 18:00", "2026-07-07 18:00"),
])
def test_announcement_window(day: str, start: str, end: str) -> None:
    window = announcement_window(dt.date.fromisoformat(day))
    assert window is not None
    fmt = "%Y-%m-%d %H:%M"
    assert (window[0].strftime(fmt), window[1].strftime(fmt)) == (start, end)


def test_weekends_have_no_listing() -> None:
    assert announcement_window(dt.date(2026, 2, 28)) is None
    assert announcement_window(dt.date(2026, 3, 1)) is None


def test_arxiv_query_covers_the_beat_and_the_window() -> None:
    window = announcement_window(dt.date(2026, 2, 25))
    assert window
    q = ArxivSource(["cs.DC", "cs.AR"]).query(*window)
    assert q == "(cat:cs.DC OR cat:cs.AR) AND submittedDate:[202602231900 TO 202602241900]"
