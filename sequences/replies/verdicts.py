"""What an email from the prospect's side does, whoever noticed it (the mailbox sync, or the
engine's check just before a send): recorded as an inbound Message, then a reply stops the
enrollment and tells the people concerned, a bounce marks it bounced, an auto-reply is noted
and, with a return date, the next stage waits until after it."""

from datetime import datetime, time, timedelta

from django.db import transaction

from outreach import clock

from .. import classifier, lifecycle, locks, schedule
from ..models import Enrollment, Message, Prospect
from .alerts import tell_about_reply

STOPPED, DEFERRED, NOTED = "stopped", "deferred", "noted"

DELAY_RETRY = timedelta(hours=4)


def apply(enrollment: Enrollment, message: Message, verdict: classifier.Classification) -> str:
    """Acts on `verdict` for the enrollment; returns STOPPED, DEFERRED or NOTED."""
    with transaction.atomic():
        locked = locks.enrollment(enrollment.pk)
        if verdict.kind == classifier.REPLY and lifecycle.reply(locked, message):
            transaction.on_commit(lambda: tell_about_reply(locked, message))
            return STOPPED
        if locked.status not in Enrollment.OPEN:
            return NOTED
        if verdict.kind == classifier.BOUNCE:
            lifecycle.bounce(locked, message, verdict.reason)
            if verdict.permanent:
                Prospect.objects.filter(pk=locked.prospect_id).update(bounced_at=clock.now())
            return STOPPED
        not_before = _not_before(locked, verdict)
        if verdict.kind == classifier.DELIVERY_DELAY:
            text = f"Delivery to {locked.prospect.email} is delayed; the next stage waits"
        elif not_before is not None:
            text = f"Auto-reply: away until {verdict.return_date:%b %d}; the next stage waits"
        else:
            text = f"Auto-reply received ({verdict.reason}); the sequence goes on"
        if not_before is None or not (
            locked.next_action_at is not None and locked.next_action_at < not_before
        ):
            lifecycle.note(locked, text, message)
            return NOTED
        lifecycle.defer_to_send_time(locked, not_before, text, message=message)
        return DEFERRED


def _not_before(locked: Enrollment, verdict: classifier.Classification) -> datetime | None:
    if verdict.kind == classifier.DELIVERY_DELAY:
        return clock.now() + DELAY_RETRY
    if verdict.return_date is None:
        return None
    # The day after the last day away, at the start of the sequence's day.
    tz = schedule.timezone_for(locked)
    return datetime.combine(verdict.return_date + timedelta(days=1), time(0), tzinfo=tz)
