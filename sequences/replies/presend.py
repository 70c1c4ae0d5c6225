"""The last look before a send: what arrived from the prospect's side that no sync has seen yet,
read the moment before the email is handed to Gmail."""

from senders import mail

from .. import classifier, outbox
from ..models import Enrollment, Message
from . import step, store, verdicts

# What makes the email pointless: the prospect answered, or the address does not exist.
_STOPPING = (classifier.REPLY, classifier.BOUNCE)


def last_look(client: mail.MailProvider, enrollment: Enrollment, message: Message) -> str | None:
    """With the email recorded as `sending`, one look at what arrived from the prospect's side
    since our last send (in our threads, or a new thread from the prospect), the moment before
    it is handed to Gmail. Whatever stops it (a reply, a bounce, an out-of-office's return date,
    or a person or the sync that stopped the enrollment meanwhile) closes the email as never
    sent and is returned as why not to send; None: send it."""
    rows = list(
        Message.objects.filter(enrollment_id=enrollment.pk)
        .order_by("sent_at", "created_at")
        .values_list(
            "direction",
            "status",
            "inbound_kind",
            "gmail_thread_id",
            "gmail_message_id",
            "sent_at",
            "mailbox_id",
        )
    )
    # A sent email always has its time.
    sent = [
        (thread, gmail_id, at, mailbox_id)
        for direction, status, _, thread, gmail_id, at, mailbox_id in rows
        if direction == Message.Direction.OUTBOUND and status == Message.Status.SENT and at
    ]
    last_sent_at = sent[-1][2]
    if any(
        kind == Message.InboundKind.REPLY and at is not None and at >= last_sent_at
        for direction, _, kind, _, _, at, _ in rows
        if direction == Message.Direction.INBOUND
    ):
        # Recorded by the mailbox sync since we loaded the enrollment.
        outbox.close_unsent(message)
        return classifier.REPLY
    known = {gmail_id for _, _, _, _, gmail_id, _, _ in rows}
    own = store.own_addresses(enrollment.mailbox)
    last_sent_ms = int(last_sent_at.timestamp() * 1000)
    # A new thread from the prospect first, by search; then our threads, the current one last:
    # a reply is most likely there, and what a read finds is only as fresh as the read.
    # Only this inbox's threads can be read here: an enrollment moved from another sender has
    # its earlier threads in that inbox, whose own sync watches them.
    threads = list(
        dict.fromkeys(t for t, _, _, box in reversed(sent) if box == enrollment.mailbox_id)
    )[::-1]
    new_threads = [
        message_id
        for message_id, thread_id in client.messages_from(
            enrollment.prospect.email, sent[0][2], limit=20
        )
        if thread_id not in threads and message_id not in known
    ]
    candidates = [client.headers(message_id, store.HEADER_NAMES) for message_id in new_threads]
    for thread_id in threads:
        for item in client.thread(thread_id, store.HEADER_NAMES):
            if (
                item.id not in known
                and item.internal_date_ms >= last_sent_ms - 1000
                and store.sender_address(item.headers) not in own
                and "x-outreach-notice" not in item.headers
                and mail.SENT not in item.label_ids
            ):
                candidates.append(item)
    for item in candidates:
        taken = step.take_in(
            client,
            enrollment.mailbox,
            enrollment,
            item,
            then=lambda taken: outbox.close_unsent(message) if taken.stops_the_send else None,
        )
        if taken.stops_the_send:
            deferred = taken.outcome == verdicts.DEFERRED and taken.verdict.kind not in _STOPPING
            return f"deferred: {taken.verdict.kind}" if deferred else taken.verdict.kind
    # Stopped or paused while we read the mailbox (by a person, or by the sync).
    status = Enrollment.objects.filter(pk=enrollment.pk).values_list("status", flat=True).first()
    if status != Enrollment.Status.ACTIVE:
        outbox.close_unsent(message)
        return f"enrollment is {status}"
    return None
