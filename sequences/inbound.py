"""What an email from the prospect's side does, whoever noticed it (the mailbox sync, or the
engine's check just before a send): recorded as an inbound Message, then a reply stops the
enrollment and tells the people concerned, a bounce marks it bounced, an auto-reply is noted
and, with a return date, the next stage waits until after it."""

from datetime import datetime, time, timedelta
from email.utils import parseaddr

from django.db import transaction
from django.urls import reverse

from outreach import clock, permissions
from outreach.models import User
from outreach.notifications import notify

from . import classifier, schedule, selectors, services, signals
from .models import Enrollment, Message, Prospect, Sequence

STOPPED, DEFERRED, NOTED = "stopped", "deferred", "noted"
DELAY_RETRY = timedelta(hours=4)

# What the metadata reads fetch: what the classifier decides on, and what we match on.
HEADER_NAMES = tuple(
    dict.fromkeys(
        [*classifier.HEADERS_USED, "From", "To", "Subject", "Message-ID", "X-Outreach-Notice"]
    )
)

KINDS = {
    classifier.REPLY: Message.InboundKind.REPLY,
    classifier.BOUNCE: Message.InboundKind.BOUNCE,
}


def storable(value: str, column: str) -> str:
    """What someone wrote, as the Message column holds it: PostgreSQL refuses a null character,
    and a reply that cannot be stored would never stop the sequence."""
    return value.replace("\x00", "")[: Message._meta.get_field(column).max_length]


def storable_headers(headers: dict[str, str]) -> dict[str, str]:
    """A message's Message-ID, From, To and Subject, as its Message row keeps them."""
    return {
        column: storable(headers.get(name, ""), column)
        for name, column in (
            ("message-id", "rfc822_message_id"),
            ("from", "from_address"),
            ("to", "to_address"),
            ("subject", "subject"),
        )
    }


def record(*, mailbox, enrollment: Enrollment | None, prospect: Prospect, item, verdict) -> Message:
    """Stores the message once (by its Gmail id in that mailbox), announcing it; returns it."""

    with transaction.atomic():
        message, created = Message.objects.get_or_create(
            mailbox=mailbox,
            gmail_message_id=item.id,
            direction=Message.Direction.INBOUND,
            defaults={
                "organization_id": prospect.organization_id,
                "prospect": prospect,
                "enrollment": enrollment,
                "inbound_kind": KINDS.get(verdict.kind, Message.InboundKind.AUTO_REPLY),
                "gmail_thread_id": item.thread_id,
                **storable_headers(item.headers),
                # Gmail's snippet: enough to show in a timeline or a notification.
                "body_text": storable(item.snippet, "body_text"),
                "sent_at": datetime.fromtimestamp(
                    item.internal_date_ms / 1000, tz=clock.now().tzinfo
                ),
            },
        )
        if created:
            signals.message_recorded.send(sender=Message, message=message)
    return message


def apply(enrollment: Enrollment, message: Message, verdict) -> str:
    """Acts on `verdict` for the enrollment; returns STOPPED, DEFERRED or NOTED."""
    with transaction.atomic():
        locked = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("sequence", "prospect", "mailbox__owner", "enrolled_by")
            .get(pk=enrollment.pk)
        )
        if verdict.kind == classifier.REPLY and locked.replied_at is None:
            # A reply after the last stage still counts: the sequence did its job.
            if locked.status in (*Enrollment.OPEN, Enrollment.Status.FINISHED):
                _stop(locked, Enrollment.Status.REPLIED, "Replied", message)
            else:
                services.record(locked, "Replied", message)
            locked.replied_at = message.sent_at or clock.now()
            locked.save()
            transaction.on_commit(lambda: _tell_about_reply(locked, message))
            return STOPPED
        if locked.status not in Enrollment.OPEN:
            return NOTED
        if verdict.kind == classifier.BOUNCE:
            _stop(locked, Enrollment.Status.BOUNCED, f"Bounced: {verdict.reason}", message)
            locked.save()
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
        services.record(locked, text, message)
        waits = (
            not_before is not None
            and locked.next_action_at is not None
            and locked.next_action_at < not_before
        )
        if waits:
            locked.next_action_at = schedule.first_send_time(
                not_before, services.window_of(locked.sequence), services.timezone_for(locked)
            )
            locked.claim_token, locked.claimed_until = "", None
        locked.save()
        return DEFERRED if waits else NOTED


def _stop(locked: Enrollment, status: str, reason: str, message: Message) -> None:
    locked.status, locked.status_reason = status, reason[:500]
    locked.next_action_at, locked.pause_cause = None, ""
    locked.claim_token, locked.claimed_until = "", None
    services.record(locked, reason, message)


def _not_before(locked: Enrollment, verdict) -> datetime | None:
    if verdict.kind == classifier.DELIVERY_DELAY:
        return clock.now() + DELAY_RETRY
    if verdict.return_date is None:
        return None
    # The day after the last day away, at the start of the sequence's day.
    tz = services.timezone_for(locked)
    return datetime.combine(verdict.return_date + timedelta(days=1), time(0), tzinfo=tz)


def _tell_about_reply(enrollment: Enrollment, message: Message) -> None:
    """Tells the person who enrolled the prospect and the inbox's owner. Someone who may not see
    the sequence (the owner who lent the inbox to a confidential one) hears who replied and
    where, not in what: neither the sequence nor the subject of its emails."""
    mailbox, prospect = enrollment.mailbox, enrollment.prospect
    who = prospect.full_name or prospect.email
    people = {enrollment.enrolled_by_id: enrollment.enrolled_by, mailbox.owner_id: mailbox.owner}
    for person in people.values():
        if selectors.sees_traces_of(person, enrollment.sequence):
            _tell(person, *_reply_alert(enrollment, message, who))
        else:
            # The prospect's page if their role opens it; else the reply in their own Gmail.
            url = (
                reverse("sequences:prospect", args=[prospect.pk])
                if permissions.allows(person, permissions.Access.RECRUITER)
                else message.gmail_url
            )
            _tell(
                person,
                f"{who} replied to an email sent from {mailbox.email}.",
                url,
                f"{who} replied",
            )


def _reply_alert(enrollment: Enrollment, message: Message, who: str) -> tuple[str, str, str]:
    """The whole alert: its text, its link and its email subject."""
    mailbox = enrollment.mailbox
    inbox = (
        f" (in {mailbox.owner.full_name}'s inbox, {mailbox.email})"
        if mailbox.owner_id != enrollment.enrolled_by_id
        else ""
    )
    if enrollment.sequence.kind == Sequence.Kind.ONE_OFF:
        text = f"{who} replied to your email{inbox}: {message.subject}"
        url = reverse("sequences:prospect", args=[enrollment.prospect_id])
    else:
        text = f"{who} replied to {enrollment.sequence.name}{inbox}: {message.subject}"
        url = reverse("sequences:timeline", args=[enrollment.pk])
    return text, url, f"{who} replied: {message.subject}"


def _tell(person: User, text: str, url: str, subject: str) -> None:
    if not person.is_active or not (person.notify_replies_in_app or person.notify_replies_by_email):
        return
    notify(
        person,
        text,
        url=url,
        email_subject=subject if person.notify_replies_by_email else None,
        in_app=person.notify_replies_in_app,
    )


def own_addresses(mailbox) -> set[str]:
    """The mailbox's address and its send-as aliases: mail from these is never the prospect's."""
    return {mailbox.email, *mailbox.aliases.values_list("email", flat=True)}


def sender_address(headers: dict[str, str]) -> str:
    return parseaddr(headers.get("from", ""))[1].lower()
