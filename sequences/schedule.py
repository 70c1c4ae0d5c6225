"""When a stage is due: business-day delays and the sequence's send window, in local wall-clock
time of the sequence's (or the prospect's) timezone.

Wall-clock semantics: a stage sent at 9:30 local is followed by one at 9:30 local, whatever DST
did in between, so the UTC instant moves by the DST offset. Two local times need a rule:
- a time that does not exist (spring forward, 02:30 on the night clocks jump from 02:00 to 03:00)
  becomes the first instant after the gap, 03:00;
- a time that exists twice (fall back) is the first occurrence (fold=0), unless that is before the
  previous send (or the requested start), in which case it is the second one.

Business days are Monday to Friday; public holidays are not known here.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError

ALL_DAYS = frozenset(range(7))


@dataclass(frozen=True)
class SendWindow:
    """Days (0 = Monday ... 6 = Sunday) and local hours, `start` included, `end` excluded."""

    days: frozenset[int] = frozenset(range(5))
    start: time = time(9)
    end: time = time(17)

    def __post_init__(self) -> None:
        # Accept any iterable of days (a list from a form or a JSON field) and keep it hashable.
        object.__setattr__(self, "days", frozenset(self.days))
        if not self.days:
            raise ValueError("A send window needs at least one day.")
        if not self.days <= ALL_DAYS:
            raise ValueError("Send window days are 0 (Monday) to 6 (Sunday).")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("Send window hours are local times, without a timezone.")
        if not self.start < self.end:
            raise ValueError("A send window must start before it ends.")

    def contains(self, local: datetime) -> bool:
        """Whether a local wall-clock time is inside the window."""
        return local.weekday() in self.days and self.start <= local.time() < self.end


DEFAULT_WINDOW = SendWindow()


def add_business_days(day: date, n: int) -> date:
    """`n` business days (Monday to Friday) after `day`; `day` itself for 0. From a weekend the
    count starts on the Friday before, so Saturday plus one is Monday."""
    if n < 0:
        raise ValueError("A delay in business days can't be negative.")
    if n == 0:
        return day
    if day.weekday() > 4:
        day -= timedelta(days=day.weekday() - 4)
    weeks, rest = divmod(n, 5)
    day += timedelta(weeks=weeks)
    while rest:
        day += timedelta(days=1)
        if day.weekday() < 5:
            rest -= 1
    return day


def in_window(instant: datetime, window: SendWindow, tz: ZoneInfo) -> bool:
    """Whether an aware instant falls inside the window in `tz`."""
    return window.contains(_wall(_aware(instant), tz))


def next_send_time(
    previous: datetime, delay_business_days: int, window: SendWindow, tz: ZoneInfo
) -> datetime:
    """When a stage is due (aware, UTC): `delay_business_days` after the local date of `previous`
    (the previous stage's send, or now for a first stage), at the same local time of day, then
    moved forward into the window: to its start if earlier that day, else to the start of the
    next allowed day."""
    if delay_business_days < 0:
        raise ValueError("A delay in business days can't be negative.")
    previous = _aware(previous)
    wall = _wall(previous, tz)
    due = datetime.combine(add_business_days(wall.date(), delay_business_days), wall.time())
    return _place(due, previous, window, tz)


def first_send_time(start: datetime, window: SendWindow, tz: ZoneInfo) -> datetime:
    """The first instant at or after `start` inside the window (aware, UTC): for an enrollment
    that starts now or at a chosen date."""
    start = _aware(start)
    if in_window(start, window, tz):
        return start
    return _place(_wall(start, tz), start, window, tz)


def _place(due: datetime, not_before: datetime, window: SendWindow, tz: ZoneInfo) -> datetime:
    """The first instant for the naive local time `due`, moved into the window, that is not before
    `not_before` and whose wall-clock time is in the window (a gap can push it past the end)."""
    candidate = _into_window(due, window)
    while True:
        for instant in _instants(candidate, tz):
            if instant >= not_before and window.contains(_wall(instant, tz)):
                return instant
        candidate = datetime.combine(_next_day(candidate.date(), window), window.start)


def _into_window(local: datetime, window: SendWindow) -> datetime:
    if local.weekday() in window.days:
        if local.time() < window.start:
            return datetime.combine(local.date(), window.start)
        if local.time() < window.end:
            return local
    return datetime.combine(_next_day(local.date(), window), window.start)


def _next_day(day: date, window: SendWindow) -> date:
    day += timedelta(days=1)
    while day.weekday() not in window.days:
        day += timedelta(days=1)
    return day


def _instants(local: datetime, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants a naive local time stands for, earliest first: one normally, two when the
    clocks fall back over it, and for a time the clocks sprang over, the end of the gap."""
    first = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return [first]
    if _wall(first, tz) == local:
        return sorted([first, second])
    # In a gap zoneinfo reads fold=0 with the offset from before the change and fold=1 with the
    # one after, so `second` lies before the change and `first` after it.
    return [_transition(second, first, tz)]


def _transition(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The instant the UTC offset of `tz` changes, between `before` and `after` (one change)."""
    offset = before.astimezone(tz).utcoffset()
    while after - before > timedelta(microseconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(tz).utcoffset() == offset:
            before = middle
        else:
            after = middle
    return after


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def _aware(instant: datetime) -> datetime:
    """`instant` in UTC. Comparing in UTC also avoids PEP 495's rule that an aware datetime with
    fold=1 in a repeated hour never equals one in another zone."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("Expected an aware datetime.")
    return instant.astimezone(UTC)


# Of a sequence and an enrollment ---------------------------------------------------------------
# (duck-typed on the models' fields, so that this module needs none of them)


def window_of(sequence) -> SendWindow:
    """The sequence's send window; a ValidationError says what is wrong with a stored one."""
    try:
        return SendWindow(
            days=frozenset(int(d) for d in sequence.send_days),
            start=_as_time(sequence.send_start),
            end=_as_time(sequence.send_end),
        )
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"The send window is not valid: {exc}") from exc


def _as_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def timezone_for(enrollment_or_sequence, prospect=None) -> ZoneInfo:
    """The timezone sends are timed in: the prospect's when the sequence says so and it is
    known, else the sequence's."""
    sequence = getattr(enrollment_or_sequence, "sequence", enrollment_or_sequence)
    prospect = prospect or getattr(enrollment_or_sequence, "prospect", None)
    if sequence.use_prospect_timezone and prospect is not None and prospect.timezone:
        try:
            return ZoneInfo(prospect.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(sequence.timezone)
