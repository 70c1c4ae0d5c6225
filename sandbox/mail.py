"""Sending and delivery between sandbox mailboxes, as Gmail and the mail system around it behave:
the sender's copy in SENT, one copy per recipient mailbox in its INBOX (threaded by that mailbox),
a delivery status notification for an address on a bouncing domain, and vacation replies."""

from django.db import transaction

from . import mailbox, quota, rfc822
from .errors import ApiError, bad_request
from .models import (
    INBOX,
    SENT,
    UNREAD,
    AutoReply,
    BouncingDomain,
    GoogleAccount,
    Message,
    Origin,
    Thread,
)


def send(account: GoogleAccount, raw: bytes, *, thread_id: str | None = None) -> Message:
    """users.messages.send (and the UI's Send): stores the sender's copy, then delivers."""
    parsed = rfc822.parse(raw)
    recipients = rfc822.addresses(parsed, "To", "Cc", "Bcc")
    if not recipients:
        raise bad_request("Recipient address required")
    with transaction.atomic():
        account = mailbox.lock(account)
        quota.check_sending_limit(account)
        send_as = {account.email} | set(
            account.aliases.filter(verified=True).values_list("email", flat=True)
        )
        rfc822.prepare_outgoing(parsed, account.email, account.display_name, send_as)
        thread = mailbox.thread_for_send(account, thread_id, parsed) if thread_id else None
        to_self = account.email in recipients
        sent = mailbox.store(
            account,
            parsed,
            labels=[SENT, INBOX] if to_self else [SENT],
            origin=Origin.SENT,
            thread=thread,
        )
    # Each recipient mailbox is written in its own transaction, after the sender's has committed,
    # so that two mailboxes writing to each other never wait on each other's locks.
    for recipient in recipients:
        if recipient != account.email:
            _deliver(recipient, bytes(sent.raw), sender=account, sent=sent)
    return sent


def receive(
    account: GoogleAccount, raw: bytes, *, return_path: str, thread: Thread | None = None
) -> Message:
    """Puts a message that arrived from elsewhere into the account's INBOX, unread."""
    parsed = rfc822.parse(rfc822.for_recipient(raw, account.email, return_path))
    with transaction.atomic():
        account = mailbox.lock(account)
        return mailbox.store(
            account,
            parsed,
            labels=[INBOX, UNREAD],
            origin=Origin.RECEIVED,
            thread=thread or mailbox.thread_for_incoming(account, parsed),
        )


def _deliver(address: str, raw: bytes, *, sender: GoogleAccount, sent: Message) -> None:
    recipient = GoogleAccount.objects.filter(email=address).first()
    if recipient is not None:
        received = receive(recipient, raw, return_path=sender.email)
        _answer_if_away(recipient, received)
    elif BouncingDomain.objects.filter(domain=address.rpartition("@")[2]).exists():
        bounce = rfc822.build_bounce(original_raw=raw, recipient=address, sender=sender.email)
        # Gmail files the notification in the conversation of the message that bounced.
        receive(sender, bounce, return_path="", thread=sent.thread)


def _answer_if_away(account: GoogleAccount, received: Message) -> None:
    """The vacation responder: one answer per correspondent while out of office is on, never to
    an automatic message (RFC 3834)."""
    if not account.out_of_office:
        return
    parsed = rfc822.parse(bytes(received.raw))
    correspondent = rfc822.sender_address(parsed)
    if not correspondent or correspondent == account.email or rfc822.is_automatic(parsed):
        return
    _, first_time = AutoReply.objects.get_or_create(account=account, correspondent=correspondent)
    if not first_time:
        return
    answer = rfc822.build_auto_reply(
        name=account.display_name,
        address=account.email,
        text=account.out_of_office_message,
        original=parsed,
    )
    try:
        send(account, answer, thread_id=received.thread.gmail_id)
    except ApiError:
        # Over its sending limit, the responder stays silent: the original was delivered anyway.
        return


def deliver_from_outside(address: str, raw: bytes, *, return_path: str) -> Message:
    """Mail from a sender outside the sandbox (the product's own emails): the recipient's Google
    account is created on first delivery."""
    account, _ = GoogleAccount.objects.get_or_create(email=address.strip().lower())
    return receive(account, raw, return_path=return_path)
