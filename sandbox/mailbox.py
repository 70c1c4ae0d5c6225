"""A Gmail mailbox: messages in threads, labels, and the history that records every change.

Every change happens with the account's row locked, so that history ids are handed out in order
whatever the number of processes and threads writing to the mailbox."""

import secrets
from datetime import timedelta
from email.message import EmailMessage

from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from . import rfc822
from .errors import bad_request, not_found
from .models import (
    INBOX,
    TRASH,
    GoogleAccount,
    HistoryKind,
    HistoryRecord,
    Message,
    Thread,
)

# Gmail keeps history for at least about a week; older start ids answer 404.
HISTORY_WINDOW = timedelta(days=7)
HISTORY_PAGE_MAX = 500


def lock(account: GoogleAccount) -> GoogleAccount:
    """The account, re-read with its row locked for the rest of the transaction."""
    return GoogleAccount.objects.select_for_update().get(pk=account.pk)


def new_gmail_id() -> str:
    """Gmail's ids are 16 hex digits that grow with time."""
    millis = int(timezone.now().timestamp() * 1000)
    return format((millis << 20) | secrets.randbits(20), "x")


def _record(account: GoogleAccount, kind: str, message: Message, changed=()) -> int:
    # Gmail's history ids increase with gaps: a client must not expect +1.
    account.history_id += 1 + secrets.randbelow(3)
    account.save(update_fields=["history_id"])
    HistoryRecord.objects.create(
        account=account,
        history_id=account.history_id,
        kind=kind,
        message_gmail_id=message.gmail_id,
        thread_gmail_id=message.thread.gmail_id,
        message_label_ids=list(message.label_ids),
        changed_label_ids=list(changed),
    )
    return account.history_id


def store(
    account: GoogleAccount,
    parsed: EmailMessage,
    *,
    labels: list[str],
    origin: str,
    thread: Thread | None = None,
) -> Message:
    """Adds a message (account locked); without a thread it starts one, whose id is its own."""
    gmail_id = new_gmail_id()
    if thread is None:
        thread = Thread.objects.create(
            account=account,
            gmail_id=gmail_id,
            subject_key=rfc822.normalize_subject(rfc822.header(parsed, "Subject")),
        )
    message = Message.objects.create(
        account=account,
        thread=thread,
        gmail_id=gmail_id,
        origin=origin,
        raw=rfc822.serialize(parsed),
        label_ids=list(dict.fromkeys(labels)),
        history_id=0,
        **rfc822.summary(parsed),
    )
    message.history_id = _record(account, HistoryKind.MESSAGE_ADDED, message)
    message.save(update_fields=["history_id"])
    return message


def thread_for_send(account: GoogleAccount, thread_id: str, parsed: EmailMessage) -> Thread | None:
    """Gmail's rule for messages.send and insert: a message joins the thread named by threadId
    only if it references an earlier message and its subject, prefixes aside, is the thread's."""
    thread = Thread.objects.filter(account=account, gmail_id=thread_id).first()
    if thread is None:
        raise not_found()
    subject = rfc822.normalize_subject(rfc822.header(parsed, "Subject"))
    if rfc822.referenced_ids(parsed) and subject == thread.subject_key:
        return thread
    return None


def thread_for_incoming(account: GoogleAccount, parsed: EmailMessage) -> Thread | None:
    """A received message joins the thread of a message of this mailbox it references, if the
    subjects match; each mailbox threads its own copy."""
    referenced = rfc822.referenced_ids(parsed)
    if not referenced:
        return None
    parent = (
        Message.objects.filter(
            account=account,
            rfc822_message_id__in=referenced,
            thread__subject_key=rfc822.normalize_subject(rfc822.header(parsed, "Subject")),
        )
        .select_related("thread")
        .order_by("-internal_date")
        .first()
    )
    return parent.thread if parent else None


def change_labels(account: GoogleAccount, message: Message, add=(), remove=()) -> Message:
    """Adds and removes labels (account locked), one history record per kind of change."""
    added = [label for label in add if label not in message.label_ids]
    removed = [label for label in remove if label in message.label_ids]
    message.label_ids = [label for label in message.label_ids if label not in removed] + added
    if added:
        message.history_id = _record(account, HistoryKind.LABEL_ADDED, message, added)
    if removed:
        message.history_id = _record(account, HistoryKind.LABEL_REMOVED, message, removed)
    message.save(update_fields=["label_ids", "history_id"])
    return message


def trash(account: GoogleAccount, message: Message) -> Message:
    return change_labels(account, message, add=[TRASH], remove=[INBOX])


def delete(account: GoogleAccount, message: Message) -> None:
    """Permanent deletion: the message goes, its history records stay."""
    _record(account, HistoryKind.MESSAGE_DELETED, message)
    thread = message.thread
    message.delete()
    if not thread.messages.exists():
        thread.delete()


def expire_history(account: GoogleAccount) -> None:
    """Forgets the history so far (account locked): every id handed out until now answers 404."""
    account.history_id += 1
    account.history_floor = account.history_id
    account.save(update_fields=["history_id", "history_floor"])
    account.history.filter(history_id__lt=account.history_floor).delete()


def _forget_old_history(account: GoogleAccount) -> int:
    """Drops records older than the window and returns the mailbox's floor."""
    old = account.history.filter(created_at__lt=timezone.now() - HISTORY_WINDOW)
    newest_old = old.order_by("-history_id").values_list("history_id", flat=True).first()
    if newest_old is not None:
        old.delete()
        GoogleAccount.objects.filter(pk=account.pk).update(
            history_floor=Greatest(F("history_floor"), newest_old)
        )
        return max(account.history_floor, newest_old)
    return account.history_floor


def _history_resource(record: HistoryRecord) -> dict:
    stub = {"id": record.message_gmail_id, "threadId": record.thread_gmail_id}
    message = {**stub, "labelIds": record.message_label_ids}
    item = {"message": message}
    if record.kind in (HistoryKind.LABEL_ADDED, HistoryKind.LABEL_REMOVED):
        item["labelIds"] = record.changed_label_ids
    key = {
        HistoryKind.MESSAGE_ADDED: "messagesAdded",
        HistoryKind.MESSAGE_DELETED: "messagesDeleted",
        HistoryKind.LABEL_ADDED: "labelsAdded",
        HistoryKind.LABEL_REMOVED: "labelsRemoved",
    }[record.kind]
    return {"id": str(record.history_id), "messages": [stub], key: [item]}


def list_history(
    account: GoogleAccount,
    *,
    start: int,
    types: list[str],
    label: str | None,
    max_results: int,
    after: int | None,
) -> dict:
    """users.history.list: the changes after `start`, oldest first."""
    if start < _forget_old_history(account):
        raise not_found()
    unknown = set(types) - set(HistoryKind.values)
    if unknown:
        raise bad_request(f"Invalid value for history types: {sorted(unknown)[0]}")
    records = account.history.filter(history_id__gt=max(start, after or 0))
    if types:
        records = records.filter(kind__in=types)
    if label:
        records = records.filter(message_label_ids__contains=[label])
    page = list(records.order_by("history_id")[: max_results + 1])
    result = {}
    if page[:max_results]:
        result["history"] = [_history_resource(record) for record in page[:max_results]]
    if len(page) > max_results:
        result["nextPageToken"] = str(page[max_results - 1].history_id)
    account.refresh_from_db(fields=["history_id"])
    result["historyId"] = str(account.history_id)
    return result
