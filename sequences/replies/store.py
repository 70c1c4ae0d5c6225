"""An email from the prospect's side, stored once as an inbound Message (and announced): what we
read of it, and how its columns hold what someone wrote."""

from datetime import datetime
from email.utils import parseaddr

from django.db import transaction

from outreach import clock
from senders import mail
from senders.models import Mailbox

from .. import classifier, signals
from ..models import Enrollment, Message, Prospect

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


# How long each text column of Message is (every one a CharField or TextField).
_LONGEST: dict[str, int | None] = {
    field.name: getattr(field, "max_length", None) for field in Message._meta.concrete_fields
}


def storable(value: str, column: str) -> str:
    """What someone wrote, as the Message column holds it: PostgreSQL refuses a null character,
    and a reply that cannot be stored would never stop the sequence."""
    return value.replace("\x00", "")[: _LONGEST[column]]


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


def record(
    *,
    mailbox: Mailbox,
    enrollment: Enrollment | None,
    prospect: Prospect,
    item: mail.MessageHeaders,
    verdict: classifier.Classification,
) -> Message:
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


def own_addresses(mailbox: Mailbox) -> set[str]:
    """The mailbox's address and its send-as aliases: mail from these is never the prospect's."""
    return {mailbox.email, *mailbox.aliases.values_list("email", flat=True)}


def sender_address(headers: dict[str, str]) -> str:
    return parseaddr(headers.get("from", ""))[1].lower()
