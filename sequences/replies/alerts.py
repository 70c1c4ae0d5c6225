"""Who hears of a reply, and what they are told."""

from django.urls import reverse

from outreach import permissions
from outreach.models import User
from outreach.notifications import notify

from .. import selectors
from ..models import Enrollment, Message, Sequence


def tell_about_reply(enrollment: Enrollment, message: Message) -> None:
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
                in_replies(message)
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
    else:
        text = f"{who} replied to {enrollment.sequence.name}{inbox}: {message.subject}"
    return text, in_replies(message), f"{who} replied: {message.subject}"


def in_replies(message: Message) -> str:
    """Where a reply is read: its place in the replies inbox (with its text, sentiment and the
    way back to the thread)."""
    return f"{reverse('sequences:replies')}#reply-{message.pk}"


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
