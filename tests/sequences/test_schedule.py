"""Business-day delays and send windows, across the 2026 DST changes in New York (Mar 8, Nov 1)
and Berlin (Mar 29, Oct 25): pure functions, no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sequences.schedule import (
    DEFAULT_WINDOW,
    SendWindow,
    add_business_days,
    first_send_time,
    in_window,
    next_send_time,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
MON_TO_THU = SendWindow(days=frozenset({0, 1, 2, 3}), start=time(9), end=time(17))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(tz: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=tz, fold=fold)


def every_day(start: time, end: time) -> SendWindow:
    return SendWindow(days=frozenset(range(7)), start=start, end=end)


# The window ---------------------------------------------------------------------------------------


def test_default_window_is_monday_to_friday_nine_to_five():
    assert SendWindow() == DEFAULT_WINDOW
    assert DEFAULT_WINDOW.days == frozenset({0, 1, 2, 3, 4})
    assert (DEFAULT_WINDOW.start, DEFAULT_WINDOW.end) == (time(9), time(17))


def test_window_days_from_any_iterable_become_a_frozenset():
    window = SendWindow(days=[0, 2, 2, 4], start=time(8), end=time(12))
    assert window.days == frozenset({0, 2, 4})
    assert hash(window) == hash(SendWindow(days=frozenset({0, 2, 4}), start=time(8), end=time(12)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": frozenset()}, "at least one day"),
        ({"days": frozenset({7})}, "0 \\(Monday\\) to 6"),
        ({"days": frozenset({-1, 0})}, "0 \\(Monday\\) to 6"),
        ({"start": time(17), "end": time(9)}, "start before it ends"),
        ({"start": time(9), "end": time(9)}, "start before it ends"),
        ({"start": time(9, tzinfo=UTC)}, "without a timezone"),
    ],
)
def test_window_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SendWindow(**kwargs)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (local(NEW_YORK, 2026, 3, 9, 8, 59, 59), False),
        (local(NEW_YORK, 2026, 3, 9, 9, 0), True),
        (local(NEW_YORK, 2026, 3, 9, 16, 59, 59), True),
        (local(NEW_YORK, 2026, 3, 9, 17, 0), False),
        (local(NEW_YORK, 2026, 3, 7, 12, 0), False),  # Saturday
        (local(NEW_YORK, 2026, 3, 8, 12, 0), False),  # Sunday
        (utc(2026, 3, 9, 13, 0), True),  # 09:00 EDT
        (utc(2026, 3, 6, 13, 0), False),  # 08:00 EST, the Friday before
    ],
)
def test_in_window_boundaries(instant, expected):
    assert in_window(instant, DEFAULT_WINDOW, NEW_YORK) is expected


def test_in_window_depends_on_the_timezone():
    instant = utc(2026, 3, 20, 14, 0)  # 10:00 in New York, 15:00 in Berlin
    morning = SendWindow(start=time(8), end=time(12))
    assert in_window(instant, morning, NEW_YORK)
    assert not in_window(instant, morning, BERLIN)


def test_in_window_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="aware"):
        in_window(datetime(2026, 3, 9, 10), DEFAULT_WINDOW, NEW_YORK)


# Business days ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2026, 3, 2), 0, date(2026, 3, 2)),  # Monday
        (date(2026, 3, 7), 0, date(2026, 3, 7)),  # Saturday stays Saturday
        (date(2026, 3, 2), 1, date(2026, 3, 3)),
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday -> Monday
        (date(2026, 3, 5), 3, date(2026, 3, 10)),  # Thursday -> Tuesday
        (date(2026, 3, 4), 5, date(2026, 3, 11)),  # Wednesday -> Wednesday
        (date(2026, 3, 6), 5, date(2026, 3, 13)),  # Friday -> Friday
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # Saturday -> Monday
        (date(2026, 3, 8), 1, date(2026, 3, 9)),  # Sunday -> Monday
        (date(2026, 3, 7), 5, date(2026, 3, 13)),  # Saturday -> Friday
        (date(2026, 3, 8), 6, date(2026, 3, 16)),  # Sunday -> Monday
        (date(2026, 3, 2), 10, date(2026, 3, 16)),
        (date(2026, 3, 6), 11, date(2026, 3, 23)),
        (date(2026, 12, 31), 1, date(2027, 1, 1)),
    ],
)
def test_add_business_days(day, n, expected):
    assert add_business_days(day, n) == expected


def test_add_business_days_agrees_with_counting_one_by_one():
    for offset in range(14):
        day = date(2026, 3, 1) + timedelta(days=offset)
        for n in range(13):
            counted, left = day, n
            while left:
                counted += timedelta(days=1)
                left -= counted.weekday() < 5
            assert add_business_days(day, n) == counted, (day, n)


def test_add_business_days_refuses_a_negative_delay():
    with pytest.raises(ValueError, match="negative"):
        add_business_days(date(2026, 3, 2), -1)


# The next stage across DST ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "previous", "delay", "expected"),
    [
        # New York, spring forward on Sunday Mar 8: 09:30 EST, then 09:30 EDT.
        (NEW_YORK, utc(2026, 3, 6, 14, 30), 0, utc(2026, 3, 6, 14, 30)),
        (NEW_YORK, utc(2026, 3, 6, 14, 30), 1, utc(2026, 3, 9, 13, 30)),
        (NEW_YORK, utc(2026, 3, 6, 14, 30), 3, utc(2026, 3, 11, 13, 30)),
        (NEW_YORK, utc(2026, 3, 6, 14, 30), 5, utc(2026, 3, 13, 13, 30)),
        # New York, fall back on Sunday Nov 1: 09:30 EDT, then 09:30 EST.
        (NEW_YORK, utc(2026, 10, 30, 13, 30), 1, utc(2026, 11, 2, 14, 30)),
        (NEW_YORK, utc(2026, 10, 28, 13, 30), 3, utc(2026, 11, 2, 14, 30)),
        (NEW_YORK, utc(2026, 10, 30, 13, 30), 5, utc(2026, 11, 6, 14, 30)),
        # Berlin, spring forward on Sunday Mar 29: 09:30 CET, then 09:30 CEST.
        (BERLIN, utc(2026, 3, 27, 8, 30), 0, utc(2026, 3, 27, 8, 30)),
        (BERLIN, utc(2026, 3, 27, 8, 30), 1, utc(2026, 3, 30, 7, 30)),
        (BERLIN, utc(2026, 3, 26, 8, 30), 3, utc(2026, 3, 31, 7, 30)),
        (BERLIN, utc(2026, 3, 27, 8, 30), 5, utc(2026, 4, 3, 7, 30)),
        # Berlin, fall back on Sunday Oct 25: 09:30 CEST, then 09:30 CET.
        (BERLIN, utc(2026, 10, 23, 7, 30), 1, utc(2026, 10, 26, 8, 30)),
        (BERLIN, utc(2026, 10, 21, 7, 30), 3, utc(2026, 10, 26, 8, 30)),
        (BERLIN, utc(2026, 10, 23, 7, 30), 5, utc(2026, 10, 30, 8, 30)),
    ],
)
def test_next_stage_keeps_the_local_time_across_dst(tz, previous, delay, expected):
    due = next_send_time(previous, delay, DEFAULT_WINDOW, tz)
    assert due == expected
    assert due.tzinfo is UTC
    assert due.astimezone(tz).time() == time(9, 30)


def test_one_instant_two_timezones_two_answers():
    # Friday Mar 27, 14:00 UTC: 10:00 EDT in New York (already on summer time), 15:00 CET in
    # Berlin (changes two days later).
    previous = utc(2026, 3, 27, 14, 0)
    assert next_send_time(previous, 1, DEFAULT_WINDOW, NEW_YORK) == utc(2026, 3, 30, 14, 0)
    assert next_send_time(previous, 1, DEFAULT_WINDOW, BERLIN) == utc(2026, 3, 30, 13, 0)


def test_previous_may_be_given_in_any_timezone():
    previous = local(BERLIN, 2026, 3, 27, 9, 30)
    assert next_send_time(previous, 1, DEFAULT_WINDOW, BERLIN) == utc(2026, 3, 30, 7, 30)


def test_wall_clock_time_is_kept_for_every_weekday_around_the_changes():
    for tz, first_day in [
        (NEW_YORK, date(2026, 3, 2)),
        (NEW_YORK, date(2026, 10, 26)),
        (BERLIN, date(2026, 3, 23)),
        (BERLIN, date(2026, 10, 19)),
    ]:
        for offset in range(12):
            day = first_day + timedelta(days=offset)
            if day.weekday() > 4:
                continue
            previous = datetime.combine(day, time(10, 15), tzinfo=tz)
            for delay in (1, 2, 3, 4, 5, 6):
                due = next_send_time(previous, delay, DEFAULT_WINDOW, tz).astimezone(tz)
                assert due.date() == add_business_days(day, delay)
                assert due.time() == time(10, 15)


# The next stage and the window --------------------------------------------------------------------


def test_before_the_window_moves_to_its_start_that_day():
    # A first stage at 07:12 local on Monday Mar 9 (delay 0, previous = now).
    now = local(NEW_YORK, 2026, 3, 9, 7, 12)
    assert next_send_time(now, 0, DEFAULT_WINDOW, NEW_YORK) == utc(2026, 3, 9, 13, 0)


def test_end_of_window_is_excluded():
    just_before = local(BERLIN, 2026, 3, 30, 16, 59, 59)
    assert next_send_time(just_before, 0, DEFAULT_WINDOW, BERLIN) == just_before
    at_end = local(BERLIN, 2026, 3, 30, 17, 0)
    assert next_send_time(at_end, 0, DEFAULT_WINDOW, BERLIN) == utc(2026, 3, 31, 7, 0)


def test_after_the_window_on_friday_moves_over_the_weekend_and_the_change():
    friday_evening = local(NEW_YORK, 2026, 3, 6, 18, 0)  # EST
    assert next_send_time(friday_evening, 0, DEFAULT_WINDOW, NEW_YORK) == utc(2026, 3, 9, 13, 0)
    friday_evening = local(BERLIN, 2026, 10, 23, 18, 0)  # CEST
    assert next_send_time(friday_evening, 0, DEFAULT_WINDOW, BERLIN) == utc(2026, 10, 26, 8, 0)


def test_weekend_start_moves_to_monday_morning():
    saturday = local(NEW_YORK, 2026, 3, 7, 11, 0)
    assert next_send_time(saturday, 0, DEFAULT_WINDOW, NEW_YORK) == utc(2026, 3, 9, 13, 0)
    sunday = local(BERLIN, 2026, 3, 29, 11, 0)
    assert next_send_time(sunday, 0, DEFAULT_WINDOW, BERLIN) == utc(2026, 3, 30, 7, 0)


def test_a_delay_counted_from_the_weekend():
    saturday = local(BERLIN, 2026, 10, 24, 11, 0)
    assert next_send_time(saturday, 1, DEFAULT_WINDOW, BERLIN) == utc(2026, 10, 26, 10, 0)


def test_window_without_friday_moves_a_friday_stage_to_monday_at_the_start():
    wednesday = local(NEW_YORK, 2026, 10, 28, 10, 0)
    assert next_send_time(wednesday, 2, MON_TO_THU, NEW_YORK) == utc(2026, 11, 2, 14, 0)
    thursday = local(BERLIN, 2026, 3, 26, 11, 0)
    assert next_send_time(thursday, 1, MON_TO_THU, BERLIN) == utc(2026, 3, 30, 7, 0)
    assert next_send_time(thursday, 0, MON_TO_THU, BERLIN) == thursday


def test_weekend_window_days_are_used_for_delay_zero_but_not_counted_as_business_days():
    weekends = SendWindow(days=frozenset({5, 6}), start=time(10), end=time(12))
    friday = local(NEW_YORK, 2026, 3, 6, 10, 30)
    assert next_send_time(friday, 0, weekends, NEW_YORK) == utc(2026, 3, 7, 15, 0)
    # One business day after Friday is Monday, which is not in the window: next Saturday.
    assert next_send_time(friday, 1, weekends, NEW_YORK) == utc(2026, 3, 14, 14, 0)


def test_refuses_a_negative_delay_and_a_naive_previous():
    with pytest.raises(ValueError, match="negative"):
        next_send_time(utc(2026, 3, 6, 14, 0), -1, DEFAULT_WINDOW, NEW_YORK)
    with pytest.raises(ValueError, match="aware"):
        next_send_time(datetime(2026, 3, 6, 14, 0), 1, DEFAULT_WINDOW, NEW_YORK)


# Times that don't exist or exist twice ------------------------------------------------------------


def test_spring_forward_gap_moves_to_the_first_instant_after_it():
    window = every_day(time(2, 30), time(17))
    # New York: 02:30 on Mar 8 does not exist; 03:00 EDT (07:00 UTC) is the first instant after.
    saturday = local(NEW_YORK, 2026, 3, 7, 18, 0)
    assert next_send_time(saturday, 0, window, NEW_YORK) == utc(2026, 3, 8, 7, 0)
    # Berlin: 02:30 on Mar 29 does not exist; 03:00 CEST (01:00 UTC).
    saturday = local(BERLIN, 2026, 3, 28, 18, 0)
    assert next_send_time(saturday, 0, window, BERLIN) == utc(2026, 3, 29, 1, 0)
    # The day after, 02:30 exists again.
    assert next_send_time(utc(2026, 3, 29, 16, 0), 0, window, BERLIN) == utc(2026, 3, 30, 0, 30)


def test_a_window_entirely_inside_the_gap_moves_to_the_next_day():
    window = every_day(time(2, 0), time(2, 45))
    saturday = local(BERLIN, 2026, 3, 28, 18, 0)
    assert next_send_time(saturday, 0, window, BERLIN) == utc(2026, 3, 30, 0, 0)  # 02:00 CEST
    assert first_send_time(saturday, window, BERLIN) == utc(2026, 3, 30, 0, 0)


def test_fall_back_ambiguity_picks_the_first_occurrence():
    # New York: 01:30 on Nov 1 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    window = every_day(time(1, 30), time(17))
    saturday = local(NEW_YORK, 2026, 10, 31, 18, 0)
    assert next_send_time(saturday, 0, window, NEW_YORK) == utc(2026, 11, 1, 5, 30)
    # Berlin: 02:30 on Oct 25 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
    window = every_day(time(2, 30), time(17))
    saturday = local(BERLIN, 2026, 10, 24, 18, 0)
    assert next_send_time(saturday, 0, window, BERLIN) == utc(2026, 10, 25, 0, 30)


def test_fall_back_second_occurrence_is_used_rather_than_going_back_in_time():
    window = every_day(time(1, 30), time(17))
    second = local(NEW_YORK, 2026, 11, 1, 1, 30, fold=1)  # 06:30 UTC, EST
    # (PEP 495: a fold=1 time never equals a time in another zone, hence astimezone.)
    assert second.astimezone(UTC) == utc(2026, 11, 1, 6, 30)
    assert next_send_time(second, 0, window, NEW_YORK) == utc(2026, 11, 1, 6, 30)
    # Started during the repeated hour, before the window opens on the wall clock: the window
    # opens at the second 01:30, not the first one, which is already past.
    started = local(NEW_YORK, 2026, 11, 1, 1, 10, fold=1)  # 06:10 UTC
    assert first_send_time(started, window, NEW_YORK) == utc(2026, 11, 1, 6, 30)


def test_during_the_repeated_hour_both_occurrences_are_inside_the_window():
    window = every_day(time(1, 0), time(17))
    assert in_window(utc(2026, 11, 1, 5, 15), window, NEW_YORK)  # 01:15 EDT
    assert in_window(utc(2026, 11, 1, 6, 15), window, NEW_YORK)  # 01:15 EST


# The first stage ----------------------------------------------------------------------------------


def test_first_send_time_inside_the_window_is_the_start_itself():
    start = local(BERLIN, 2026, 3, 27, 10, 5, 7, 123)
    due = first_send_time(start, DEFAULT_WINDOW, BERLIN)
    assert due == start and due.tzinfo is UTC


@pytest.mark.parametrize(
    ("tz", "start", "expected"),
    [
        (NEW_YORK, local(NEW_YORK, 2026, 3, 6, 17, 0), utc(2026, 3, 9, 13, 0)),
        (NEW_YORK, local(NEW_YORK, 2026, 3, 8, 3, 0), utc(2026, 3, 9, 13, 0)),
        (NEW_YORK, local(NEW_YORK, 2026, 3, 9, 0, 0), utc(2026, 3, 9, 13, 0)),
        (NEW_YORK, local(NEW_YORK, 2026, 10, 31, 9, 0), utc(2026, 11, 2, 14, 0)),
        (BERLIN, local(BERLIN, 2026, 3, 29, 0, 0), utc(2026, 3, 30, 7, 0)),
        (BERLIN, local(BERLIN, 2026, 10, 23, 20, 0), utc(2026, 10, 26, 8, 0)),
        (BERLIN, local(BERLIN, 2026, 10, 26, 8, 59, 59), utc(2026, 10, 26, 8, 0)),
    ],
)
def test_first_send_time_moves_forward_into_the_window(tz, start, expected):
    assert first_send_time(start, DEFAULT_WINDOW, tz) == expected


def test_first_send_time_with_a_window_without_friday():
    thursday_evening = local(NEW_YORK, 2026, 10, 29, 17, 30)
    assert first_send_time(thursday_evening, MON_TO_THU, NEW_YORK) == utc(2026, 11, 2, 14, 0)


def test_first_send_time_refuses_a_naive_start():
    with pytest.raises(ValueError, match="aware"):
        first_send_time(datetime(2026, 3, 9, 10), DEFAULT_WINDOW, NEW_YORK)


@pytest.mark.parametrize("tz", [NEW_YORK, BERLIN])
@pytest.mark.parametrize("window", [DEFAULT_WINDOW, MON_TO_THU, every_day(time(1, 30), time(3, 0))])
def test_first_send_time_is_the_first_instant_in_the_window(tz, window):
    # Every hour and a quarter through the weeks around all four changes of 2026.
    for around in (utc(2026, 3, 8), utc(2026, 3, 29), utc(2026, 10, 25), utc(2026, 11, 1)):
        start = around - timedelta(days=5)
        while start < around + timedelta(days=5):
            due = first_send_time(start, window, tz)
            assert due >= start
            assert in_window(due, window, tz)
            probe = start
            while probe < due:
                assert not in_window(probe, window, tz), (start, probe, due)
                probe += timedelta(minutes=10)
            start += timedelta(minutes=75)
