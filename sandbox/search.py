"""The part of Gmail's search language the product uses: rfc822msgid:, in:, is:, label:, from:,
to:, subject:, after:, before:, newer_than:, older_than:, negation with '-', and bare words."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from .errors import bad_request
from .models import TRASH, UNREAD

# Gmail reads a date in after:/before: as midnight Pacific time, not UTC.
SEARCH_TIMEZONE = ZoneInfo("America/Los_Angeles")
_TOKEN = re.compile(r'(-?)(?:([a-z_0-9]+):)?("[^"]*"|\S+)', re.IGNORECASE)
_LABELS = {"inbox": "INBOX", "sent": "SENT", "trash": "TRASH", "unread": UNREAD}
_UNITS = {"d": timedelta(days=1), "m": timedelta(days=30), "y": timedelta(days=365)}


def _moment(value: str) -> datetime:
    if value.isdigit():
        return datetime.fromtimestamp(int(value), tz=UTC)
    for pattern in ("%Y/%m/%d", "%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=SEARCH_TIMEZONE)
        except ValueError:
            continue
    raise bad_request(f"Invalid date in query: {value}")


def _age(value: str) -> datetime:
    match = re.fullmatch(r"(\d+)([dmy])", value.lower())
    if not match:
        raise bad_request(f"Invalid duration in query: {value}")
    return timezone.now() - int(match.group(1)) * _UNITS[match.group(2)]


def _label(value: str) -> Q:
    label = _LABELS.get(value.lower(), value.upper())
    return Q(label_ids__contains=[label])


def _term(operator: str, value: str) -> Q:
    if operator == "rfc822msgid":
        return Q(rfc822_message_id=f"<{value.strip('<>')}>")
    if operator in ("in", "label"):
        return _label(value)
    if operator == "is":
        unread = Q(label_ids__contains=[UNREAD])
        return ~unread if value.lower() == "read" else _label(value)
    if operator == "from":
        return Q(from_header__icontains=value)
    if operator in ("to", "cc", "bcc"):
        return Q(recipients__icontains=value)
    if operator == "subject":
        return Q(subject__icontains=value)
    if operator == "after":
        return Q(internal_date__gte=_moment(value))
    if operator == "before":
        return Q(internal_date__lt=_moment(value))
    if operator == "newer_than":
        return Q(internal_date__gte=_age(value))
    if operator == "older_than":
        return Q(internal_date__lt=_age(value))
    word = f"{operator}:{value}" if operator else value
    return (
        Q(subject__icontains=word)
        | Q(snippet__icontains=word)
        | Q(from_header__icontains=word)
        | Q(recipients__icontains=word)
    )


def matching(messages, q: str, *, include_spam_trash: bool):
    """The messages of a queryset that match query `q`, as messages.list filters them."""
    condition = Q()
    mentions_trash = False
    for negated, operator, value in _TOKEN.findall(q or ""):
        operator, value = operator.lower(), value.strip('"')
        mentions_trash |= operator in ("in", "label") and value.lower() == "trash"
        term = _term(operator, value)
        condition &= ~term if negated else term
    if not (include_spam_trash or mentions_trash):
        condition &= ~Q(label_ids__contains=[TRASH])
    return messages.filter(condition)
