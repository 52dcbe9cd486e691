"""arXiv's announcement schedule: windows of consecutive listings meet exactly (holidays and
DST changes included), and the default date is arXiv's latest listing in US Eastern time."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import time
from zoneinfo import ZoneInfo

import pytest

from flashnews.tools.arxiv import EASTERN, Schedule, announcement_window

HOLIDAYS = ["12-25", "01-01"]
ET = EASTERN


def _listings(schedule: Schedule, first: dt.date, last: dt.date
              ) -> list[tuple[dt.date, tuple[dt.datetime, dt.datetime]]]:
    out = []
    day = first
    while day <= last:
        w = schedule.window(day)
        if w is not None:
            out.append((day, w))
        day += dt.timedelta(days=1)
    return out


@pytest.mark.parametrize("holidays", [
    HOLIDAYS,
    # arXiv's own 2019-20 notice: no announcement on 25, 26 and 30 Dec 2019 and 1 Jan 2020,
    # plus Thanksgiving (28 Nov 2019) and Martin Luther King day (20 Jan 2020).
    ["2019-11-28", "2019-12-25", "2019-12-26", "2019-12-30", "2020-01-01", "2020-01-20"],
    # a week of holidays and a Friday holiday (the Sunday after it has nothing to announce)
    ["2026-12-24", "2026-12-25", "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31",
     "2027-01-01", "2026-07-03"],
])
@pytest.mark.parametrize("year", [2019, 2025, 2026])
def test_every_listing_of_a_year_meets_the_next_with_no_gap_or_overlap(
        holidays: list[str], year: int) -> None:
    schedule = Schedule(holidays)
    listings = _listings(schedule, dt.date(year, 1, 1), dt.date(year + 1, 1, 10))
    assert len(listings) > 240
    for (_, (_, end)), (day, (start, _)) in itertools.pairwise(listings):
        assert start == end, f"listing {day}: starts {start}, the previous one ended {end}"
    for day, (start, end) in listings:
        assert start < end
        # Every window starts and ends at a 14:00 Eastern cut-off on a working day, whichever
        # side of a DST change it is on (19:00 UTC in winter, 18:00 UTC in summer).
        for t in (start, end):
            local = t.astimezone(ET)
            assert local.time() == dt.time(14, 0) and local.weekday() < 5
            assert not schedule.is_holiday(local.date())
        assert day.weekday() < 5 or schedule.is_holiday(day - dt.timedelta(days=1)) is False
    # The year is covered from its first listing to its last, every instant exactly once.
    days = {d for d, _ in listings}
    assert all(d.weekday() < 5 for d in days)


def test_dst_changes_move_the_cutoff_in_utc_not_in_eastern() -> None:
    s = Schedule(HOLIDAYS)
    # 2026-03-08: EST -> EDT. Monday 03-09's listing holds Thu 03-05 to Fri 03-06 (EST).
    assert s.window(dt.date(2026, 3, 9)) == (dt.datetime(2026, 3, 5, 19, tzinfo=dt.UTC),
                                             dt.datetime(2026, 3, 6, 19, tzinfo=dt.UTC))
    # Tuesday 03-10: Friday 19:00 UTC (EST) to Monday 18:00 UTC (EDT).
    assert s.window(dt.date(2026, 3, 10)) == (dt.datetime(2026, 3, 6, 19, tzinfo=dt.UTC),
                                              dt.datetime(2026, 3, 9, 18, tzinfo=dt.UTC))
    # 2026-11-01: EDT -> EST.
    assert s.window(dt.date(2026, 11, 3)) == (dt.datetime(2026, 10, 30, 18, tzinfo=dt.UTC),
                                              dt.datetime(2026, 11, 2, 19, tzinfo=dt.UTC))


def test_the_listing_after_a_holiday_carries_the_days_before_it() -> None:
    """The issue's case: 2025-12-23 19:00 to 12-24 19:00 UTC, and 12-30 to 12-31, used to land
    in no edition."""
    s = Schedule(HOLIDAYS)
    utc = lambda *a: dt.datetime(*a, tzinfo=dt.UTC)  # noqa: E731
    # Wednesday 12-24's announcement (listing Thu 12-25) carries Tue 14:00 to Wed 14:00.
    assert s.window(dt.date(2025, 12, 25)) == (utc(2025, 12, 23, 19), utc(2025, 12, 24, 19))
    # Thursday 12-25 is a holiday: no listing dated Fri 12-26; Sunday's listing (Mon 12-29)
    # carries Wed 12-24 to Fri 12-26.
    assert s.window(dt.date(2025, 12, 26)) is None
    assert s.window(dt.date(2025, 12, 29)) == (utc(2025, 12, 24, 19), utc(2025, 12, 26, 19))
    assert s.window(dt.date(2025, 12, 31)) == (utc(2025, 12, 29, 19), utc(2025, 12, 30, 19))
    assert s.window(dt.date(2026, 1, 1)) == (utc(2025, 12, 30, 19), utc(2025, 12, 31, 19))
    assert s.window(dt.date(2026, 1, 2)) is None
    assert s.window(dt.date(2026, 1, 5)) == (utc(2025, 12, 31, 19), utc(2026, 1, 2, 19))
    # arXiv's 2019 notice, reproduced: 24 Dec 14:00 to 27 Dec 14:00 ET announced Sunday 29 Dec.
    notice = Schedule(["2019-12-25", "2019-12-26", "2019-12-30", "2020-01-01"])
    assert notice.window(dt.date(2019, 12, 30)) == (utc(2019, 12, 24, 19), utc(2019, 12, 27, 19))
    assert notice.window(dt.date(2020, 1, 1)) == (utc(2019, 12, 27, 19), utc(2019, 12, 31, 19))
    assert notice.window(dt.date(2020, 1, 3)) == (utc(2019, 12, 31, 19), utc(2020, 1, 2, 19))


def test_quiet_days_say_why() -> None:
    s = Schedule(HOLIDAYS)
    assert s.quiet_reason(dt.date(2026, 2, 28)) == "2026-02-28 is a Saturday"
    assert "arXiv holiday" in (s.quiet_reason(dt.date(2025, 12, 26)) or "")
    # A Friday holiday (2026-12-25): Sunday has nothing new, so Monday has no listing.
    assert "nothing new" in (s.quiet_reason(dt.date(2026, 12, 28)) or "")
    assert s.quiet_reason(dt.date(2026, 2, 25)) is None
    assert announcement_window(dt.date(2026, 2, 25)) is not None


# The default date: the instant of a run, on hosts in three zones. Times are US Eastern.
CASES = [
    (dt.datetime(2026, 3, 1, 21, 30), dt.date(2026, 3, 2)),   # Sunday after the announcement
    (dt.datetime(2026, 3, 1, 19, 59), dt.date(2026, 2, 27)),  # Sunday before it: Friday's
    (dt.datetime(2026, 3, 1, 20, 0), dt.date(2026, 3, 2)),
    (dt.datetime(2026, 2, 25, 20, 1), dt.date(2026, 2, 26)),  # Wednesday evening
    (dt.datetime(2026, 2, 25, 9, 0), dt.date(2026, 2, 25)),   # Wednesday morning
    (dt.datetime(2026, 2, 27, 21, 0), dt.date(2026, 2, 27)),  # Friday: no announcement
    (dt.datetime(2026, 2, 28, 23, 59), dt.date(2026, 2, 27)),  # Saturday
    (dt.datetime(2026, 7, 5, 20, 30), dt.date(2026, 7, 6)),   # Sunday in summer time
    (dt.datetime(2025, 12, 25, 21, 0), dt.date(2025, 12, 25)),  # holiday evening: no new one
]


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Tokyo"])
def host_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("eastern", "expected"), CASES)
def test_default_date_is_the_latest_listing_whatever_the_host_zone(
        host_zone: str, eastern: dt.datetime, expected: dt.date, monkeypatch) -> None:
    import flashnews.tools.arxiv as arxiv
    from flashnews import cli

    instant = eastern.replace(tzinfo=ET)
    monkeypatch.setattr(arxiv, "now_utc", lambda: instant.astimezone(dt.UTC))
    assert time.tzname[0] != "" and os.environ["TZ"] == host_zone
    # The host's own calendar date can differ (Tokyo is a day ahead at 20:00 Eastern); the
    # edition's date must not.
    assert cli._day(None) == expected
    assert Schedule(HOLIDAYS).latest_listing(instant.astimezone(ZoneInfo(host_zone))) == expected
