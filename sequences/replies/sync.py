"""Mailbox sync: notice what arrived in each connected mailbox since the last look, through
Gmail's history, and act on what a prospect sent (see step.py).

A quiet mailbox costs one `history.list` call per cycle, whatever it watches. Watched: the
threads of its open enrollments, and of enrollments stopped in the last 30 days (later messages
in them still matter, e.g. for the ATS); and any new thread from a prospect it is writing to.
"""

import logging
import secrets
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q

from outreach import clock
from senders import mail
from senders import services as senders
from senders.models import Mailbox

from .. import classifier, signals
from ..models import Enrollment, Message
from . import step, store

log = logging.getLogger(__name__)


STOPPED_WATCH = timedelta(days=30)


LOCK_SECONDS = 300

# What a sync cycle did (the task's result): counts, or why it was skipped.
SyncResult = Mapping[str, int | str | bool]


def mailboxes_to_sync() -> list[int]:
    """Beat's fan-out: the connected mailboxes with something to watch and no sync already
    queued or running, each now marked queued (until its sync ends, or SYNC_QUEUED_SECONDS
    pass). A constant number of queries, whatever the number of mailboxes; rows another
    fan-out holds are skipped."""
    now = clock.now()
    cutoff = now - STOPPED_WATCH
    with transaction.atomic():
        ids = list(
            Mailbox.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Mailbox.Status.CONNECTED)
            .filter(Q(sync_queued_until__isnull=True) | Q(sync_queued_until__lte=now))
            .filter(
                Q(pk__in=Enrollment.objects.filter(status__in=Enrollment.OPEN).values("mailbox_id"))
                | Q(
                    pk__in=Enrollment.objects.filter(last_event_at__gte=cutoff).values("mailbox_id")
                )
                # An inbox whose open enrollments moved to another sender: replies may still
                # come.
                | Q(
                    pk__in=Message.objects.filter(
                        direction=Message.Direction.OUTBOUND,
                        enrollment__status__in=Enrollment.OPEN,
                    )
                    .exclude(enrollment__mailbox_id=F("mailbox_id"))
                    .values("mailbox_id")
                )
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Mailbox.objects.filter(pk__in=ids).update(
            sync_queued_until=now + timedelta(seconds=settings.SYNC_QUEUED_SECONDS)
        )
    return ids


def sync_mailbox(mailbox_id: int) -> SyncResult:
    """One sync cycle of one mailbox; never two at once for the same mailbox. Ends the mark
    `mailboxes_to_sync` set, so that the next tick queues the mailbox again."""
    key, token = f"sequences:sync:{mailbox_id}", secrets.token_hex(8)
    if not cache.add(key, token, timeout=LOCK_SECONDS):
        # A second delivery of the task: the running one ends the mark.
        return {"skipped": "another sync of this mailbox is running"}
    advanced = False
    try:
        mailbox = Mailbox.objects.select_related("owner").get(pk=mailbox_id)
        if not mailbox.is_connected:
            return {"skipped": "not connected"}
        try:
            result = _sync(mailbox, senders.client_for(mailbox))
            advanced = True  # _advance ended the mark with the same write
            return result
        except mail.MailError as error:
            senders.record_mail_failure(mailbox, error)
            return {"error": str(error)}
    finally:
        if not advanced:
            Mailbox.objects.filter(pk=mailbox_id).update(sync_queued_until=None)
        if cache.get(key) == token:
            cache.delete(key)


def _sync(mailbox: Mailbox, client: mail.MailProvider) -> SyncResult:
    if not mailbox.history_id:
        return _full_resync(mailbox, client)
    try:
        added, latest = client.added_since(mailbox.history_id)
    except mail.NotFound:
        return _full_resync(mailbox, client)
    handled = _handle(mailbox, client, added)
    _advance(mailbox, latest)
    return {"new": len(added), **handled}


def _full_resync(mailbox: Mailbox, client: mail.MailProvider) -> SyncResult:
    """History too old (or never taken): a fresh id first, so nothing arriving meanwhile is
    missed, then every watched thread and every prospect's new thread."""
    fresh = client.profile().cursor
    watch = _Watch(mailbox)
    ids: list[str] = []
    for thread_id in watch.threads:
        ids.extend(item.id for item in client.thread(thread_id, ["From"]))
    cutoff = clock.now() - STOPPED_WATCH
    for email in watch.prospects:
        ids.extend(mid for mid, _ in client.messages_from(email, cutoff, limit=50))
    handled = _handle(mailbox, client, list(dict.fromkeys(ids)), watch=watch)
    _advance(mailbox, fresh, force=True)
    return {"resynced": True, "new": len(ids), **handled}


class _Watch:
    def __init__(self, mailbox: Mailbox):
        cutoff = clock.now() - STOPPED_WATCH
        # Those sending from this inbox, and those that sent from it before they moved to
        # another sender: a reply into their old thread must stop them too.
        sent_from_here = Message.objects.filter(
            mailbox=mailbox, direction=Message.Direction.OUTBOUND
        ).values("enrollment_id")
        enrollments = (
            Enrollment.objects.filter(Q(mailbox=mailbox) | Q(pk__in=sent_from_here))
            .filter(Q(status__in=Enrollment.OPEN) | Q(last_event_at__gte=cutoff))
            .select_related("prospect")
        )
        self.by_thread: dict[str, Enrollment] = {}
        self.by_prospect: dict[str, Enrollment] = {}
        for enrollment in enrollments.order_by("created_at"):
            self.by_prospect[enrollment.prospect.email.lower()] = enrollment
        threads = (
            Message.objects.filter(
                enrollment__in=list(self.by_prospect.values()),
                direction=Message.Direction.OUTBOUND,
                mailbox=mailbox,  # thread ids mean something only in their own inbox
            )
            .exclude(gmail_thread_id="")
            .values_list("gmail_thread_id", "enrollment_id")
        )
        by_id = {e.pk: e for e in self.by_prospect.values()}
        for thread_id, enrollment_id in threads:
            self.by_thread[thread_id] = by_id[enrollment_id]
        self.threads = list(self.by_thread)
        self.prospects = [
            email for email, e in self.by_prospect.items() if e.status in Enrollment.OPEN
        ]


def _handle(
    mailbox: Mailbox,
    client: mail.MailProvider,
    message_ids: list[str],
    watch: "_Watch | None" = None,
) -> SyncResult:
    known = set(
        Message.objects.filter(mailbox=mailbox, gmail_message_id__in=message_ids).values_list(
            "gmail_message_id", flat=True
        )
    )
    fresh = [mid for mid in message_ids if mid not in known]
    counts: dict[str, int] = {"replies": 0, "bounces": 0, "auto_replies": 0}
    if not fresh:
        return counts
    watch = watch or _Watch(mailbox)
    own = store.own_addresses(mailbox)
    for message_id in fresh:
        try:
            item = client.headers(message_id, store.HEADER_NAMES)
        except mail.NotFound:
            continue  # deleted since
        sender = store.sender_address(item.headers)
        enrollment = watch.by_thread.get(item.thread_id)
        if enrollment is None:
            open_one = watch.by_prospect.get(sender)
            if open_one is None or open_one.status not in Enrollment.OPEN:
                continue  # not about anyone we write to
            enrollment = open_one
        if "x-outreach-notice" in item.headers or mail.TRASH in item.label_ids:
            # The sync notice we placed in the sender's own thread; or a message in the bin,
            # such as the tracked original whose clean copy replaced it in Sent.
            continue
        if sender in own or mail.SENT in item.label_ids:
            # The owner writing in the thread by hand: not the prospect's answer, but part of
            # the conversation (the ATS sync carries it).
            _record_own(mailbox, enrollment, item)
            continue
        verdict = step.take_in(client, mailbox, enrollment, item).verdict
        key = {classifier.REPLY: "replies", classifier.BOUNCE: "bounces"}.get(
            verdict.kind, "auto_replies"
        )
        counts[key] += 1
    return counts


def _record_own(mailbox: Mailbox, enrollment: Enrollment, item: mail.MessageHeaders) -> None:
    rfc822_id = item.headers.get("message-id", "")
    if rfc822_id and Message.objects.filter(mailbox=mailbox, rfc822_message_id=rfc822_id).exists():
        return  # one of our own sends (or its pixel-free copy in Sent)
    with transaction.atomic():
        message, created = Message.objects.get_or_create(
            mailbox=mailbox,
            gmail_message_id=item.id,
            defaults={
                "organization_id": enrollment.organization_id,
                "prospect": enrollment.prospect,
                "enrollment": enrollment,
                "direction": Message.Direction.OUTBOUND,
                "status": Message.Status.SENT,
                "gmail_thread_id": item.thread_id,
                **store.storable_headers(item.headers),
                "sent_at": clock.now(),
            },
        )
        if created:
            signals.message_recorded.send(sender=Message, message=message)


def _advance(mailbox: Mailbox, history_id: str, *, force: bool = False) -> None:
    """Moves the stored history id forward only (after what was read is stored)."""
    rows = Mailbox.objects.filter(pk=mailbox.pk)
    # The provider answered: the mailbox's "last worked", recorded here for sends too (which
    # would otherwise each pay a write for it).
    now = clock.now()
    done = {"last_synced_at": now, "last_success_at": now, "sync_queued_until": None}
    if not force and mailbox.history_id and int(history_id) <= int(mailbox.history_id):
        rows.update(**done)
        return
    rows.update(history_id=history_id, **done)
