"""The outbound Message of a send attempt, through its states: recorded as `sending` before Gmail
is called, then marked `sent`, or closed unsent when Gmail surely never had it. Shared by the
engine and the last look before a send (replies.presend), which may close it."""

from datetime import datetime

from outreach.compiled import CompiledInsert, CompiledUpdate

from .models import Message

_NEW_MESSAGE = CompiledInsert(Message)
_MARK_SENT = CompiledUpdate(
    lambda pk, sent_at, gmail_id, thread_id, message_id: (
        Message.objects.filter(pk=pk, status=Message.Status.SENDING),
        {
            "status": Message.Status.SENT,
            "sent_at": sent_at,
            "error": "",
            "gmail_message_id": gmail_id,
            "gmail_thread_id": thread_id,
            "rfc822_message_id": message_id,
        },
    ),
    int,
    datetime,
    str,
    str,
    str,
)


def record_sending(**fields: object) -> Message:
    """The attempt's email, `sending` (the caller holds the enrollment's and mailbox's locks)."""
    message: Message = _NEW_MESSAGE.create(
        direction=Message.Direction.OUTBOUND, status=Message.Status.SENDING, **fields
    )
    return message


def mark_sent(message: Message, sent_at: datetime) -> bool:
    """`sending` becomes `sent` with what Gmail answered; False if it was not `sending` (another
    attempt marked it first)."""
    message.status, message.sent_at, message.error = Message.Status.SENT, sent_at, ""
    return bool(
        _MARK_SENT.run(
            message.pk,
            message.sent_at,
            message.gmail_message_id,
            message.gmail_thread_id,
            message.rfc822_message_id,
        )
    )


def close_unsent(message: Message) -> None:
    """The `sending` email was never handed to Gmail: it goes, as a crash before the send would
    have left nothing to find either."""
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).delete()
