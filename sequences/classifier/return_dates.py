"""Return dates: the last day of the absence an auto-reply announces, from the sentences that talk
about the absence (the latest date they name), with yearless dates, bare days of the month and
weekdays placed after the anchor (`received_on` or the Date header)."""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import date, timedelta

from .calendar_words import _MONTHS, _WEEKDAY, _WEEKDAY_NUMBERS
from .text import _before_sign_off, _sentences

_MONTH = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|e|\.)?\s*(?:of\s+|de\s+)?({_MONTH})\b\.?"
    rf"(?:,?\s*(?:de\s+)?(\d{{4}}))?",
    re.I,
)
_MONTH_DAY = re.compile(
    rf"\b({_MONTH})\b\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*(\d{{4}}))?", re.I
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"(?<![\d./-])(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/-]|\.\d)")
_DOTTED_NO_YEAR = re.compile(r"(?<![\d./])(\d{1,2})\.(\d{1,2})\.(?!\d)")
_DAY_ONLY = re.compile(r"\bthe (\d{1,2})(?:st|nd|rd|th)\b", re.I)
# Sentences about the absence; a date elsewhere (a ticket's creation, a signature) is not a
# return date.
_ABSENCE_CONTEXT = re.compile(
    r"\b(?:until|till|til|through|thru|back|return\w*|from|away|absent|leave|vacation|holiday"
    r"|office|ooo|bis|zurück|abwesend|urlaub|büro|jusqu\w*|retour|congés?|vacances|hasta"
    r"|regreso|vuelta|ausente|vacaciones|tot|terug|afwezig|vakantie|fino|rientro|assente|ferie"
    r"|até|regresso|férias)\b",
    re.I,
)


def _in_year(month: int, day: int, year: str | None, anchor: date | None) -> date | None:
    """A date from its parts; a yearless one is the next such day after the anchor, allowing a
    month of lateness (an auto-reply left on after its end)."""
    try:
        if year:
            full = int(year) + (2000 if len(year) == 2 else 0)
            return date(full, month, day)
        if anchor is None:
            return None
        candidate = date(anchor.year, month, day)
        if candidate < anchor - timedelta(days=30):
            candidate = date(anchor.year + 1, month, day)
        return candidate
    except ValueError:
        return None


def _pick(candidates: list[date], anchor: date | None) -> date | None:
    """Of the readings of an ambiguous date (03/04: March 4 or April 3), the nearest one still
    ahead: a wrong earlier guess costs one more auto-reply, a wrong later one months of silence."""
    if not candidates:
        return None
    ahead = [day for day in candidates if anchor is None or day >= anchor - timedelta(days=1)]
    return min(ahead or candidates)


def _dates_in(sentence: str, anchor: date | None) -> list[date]:
    found: list[date | None] = []
    taken: list[tuple[int, int]] = []

    def free(match: re.Match[str]) -> bool:
        span = match.span()
        if any(start < span[1] and span[0] < end for start, end in taken):
            return False
        taken.append(span)
        return True

    for match in _ISO_DATE.finditer(sentence):
        if free(match):
            year, month, day = match.groups()
            found.append(_in_year(int(month), int(day), year, anchor))
    for match in _NUMERIC_DATE.finditer(sentence):
        if free(match):
            first, separator, second, year = match.groups()
            day_first = _in_year(int(second), int(first), year, anchor)
            month_first = _in_year(int(first), int(second), year, anchor)
            # Dots are day-first everywhere; slashes and dashes are read both ways.
            readings = [day_first] if separator == "." else [day_first, month_first]
            found.append(_pick([d for d in readings if d], anchor))
    for match in _DAY_MONTH.finditer(sentence):
        if free(match):
            day, month, year = match.groups()
            found.append(_in_year(_MONTHS[month.lower()], int(day), year, anchor))
    for match in _MONTH_DAY.finditer(sentence):
        if free(match):
            month, day, year = match.groups()
            found.append(_in_year(_MONTHS[month.lower()], int(day), year, anchor))
    for match in _DOTTED_NO_YEAR.finditer(sentence):
        if free(match):
            day, month = match.groups()
            found.append(_in_year(int(month), int(day), None, anchor))
    for match in _DAY_ONLY.finditer(sentence):
        if free(match) and anchor is not None:
            found.append(_next_day_of_month(int(match.group(1)), anchor))
    return [day for day in found if day]


def _next_day_of_month(day: int, anchor: date) -> date | None:
    """The day a bare "the 12th" names: this month's, or the next month's once it has passed."""
    year, month = anchor.year, anchor.month
    for _ in range(3):  # a 31st may skip a month or two
        with suppress(ValueError):
            candidate = date(year, month, day)
            if candidate >= anchor - timedelta(days=1):
                return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _return_date(own: str, anchor: date | None) -> date | None:
    sentences = [s for s in _sentences(_before_sign_off(own)) if _ABSENCE_CONTEXT.search(s)]
    dates = [day for sentence in sentences for day in _dates_in(sentence, anchor)]
    if dates:
        return max(dates)
    if anchor is None:
        return None
    relative = []
    for sentence in sentences:
        if re.search(r"\btomorrow\b", sentence, re.I):
            relative.append(anchor + timedelta(days=1))
        for match in _WEEKDAY.finditer(sentence):
            ahead = (_WEEKDAY_NUMBERS[match.group(1).lower()] - anchor.weekday() - 1) % 7 + 1
            relative.append(anchor + timedelta(days=ahead))
    return max(relative, default=None)
