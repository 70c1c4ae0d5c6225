"""Sending one stage: claim due enrollments, then send each stage exactly once, never after the
prospect replied, never from an inbox the sender may no longer use.

Exactly once, and why it holds:
- A claim is a lease (token, until) written under `select_for_update(skip_locked=True)`; only
  the task holding the current token may write, checked under the enrollment's row lock, so a
  lease taken over from a worker thought dead stops its old holder at its next write.
- The outbound Message is committed as `sending`, with the mailbox's history id, before Gmail is
  called; the database refuses a second `sending`/`sent` Message for the same stage.
- Gmail is asked once per attempt (no resend by the HTTP layer: outreach.remote). A Message
  still `sending` when its stage comes round again (a lost answer, a dead worker) is looked for
  first: Gmail's history from the recorded id lists every message added to SENT since, at once
  (search can lag, history does not). Found, it went out. Not found, it never will only once
  the attempt is too old to still be on its way (the provider's `send_window()`); until then
  the stage waits, and only then is it sent again.

Never after a reply: the last look at the mailbox (the threads we wrote in, and any new thread
from the prospect) comes after the `sending` commit, and the send right after it. A reply stored
before that look began is seen, and the email is not sent; what arrives during the one round
trip between the look and Gmail storing the email cannot be seen by anyone.
"""

import logging
import random
import time
from datetime import datetime, timedelta
from email.utils import format_datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min

from outreach import clock, remote, workers
from outreach.backoff import backoff
from outreach.compiled import CompiledQuery
from senders import mail
from senders import services as senders
from senders.models import Mailbox

from .. import (
    lifecycle,
    locks,
    outbox,
    signals,
)
from ..models import Enrollment, Message, Stage
from ..replies import presend
from .checks import check_may_send
from .claims import CLAIM_KIND, MAX_BACKOFF, ClaimedEnrollment, claimed, give_back
from .mime import Draft, draft, outgoing
from .skip import Skip

log = logging.getLogger(__name__)


def send_stage(enrollment_id: int, claim_token: str) -> str:
    """Sends the enrollment's current stage if it is still due and ours; returns what happened."""
    try:
        enrollment = claimed(enrollment_id, claim_token)
    except Skip as skip:
        return str(skip)
    assert enrollment.claimed_until is not None  # claimed() checked it
    workers.hold(
        CLAIM_KIND,
        {enrollment_id: claim_token},
        (enrollment.claimed_until - clock.now()).total_seconds(),
    )
    try:
        return _send(enrollment, claim_token)
    except Skip as skip:
        return str(skip)
    except Exception:
        give_back(enrollment_id, claim_token)
        raise
    finally:
        workers.release(CLAIM_KIND, enrollment_id)


def _send(enrollment: ClaimedEnrollment, claim_token: str) -> str:
    mailbox = enrollment.mailbox
    message = None
    handed_over = False
    try:
        client = senders.client_for(mailbox)
        if enrollment.pending_id:
            pending = Message.objects.get(pk=enrollment.pending_id)
            if _reconcile(client, enrollment, claim_token, pending):
                return _finish(enrollment, claim_token, pending)
        check_may_send(enrollment)
        drafted = draft(enrollment)
        message = _record_sending(
            enrollment, claim_token, drafted, _history_before(client, mailbox)
        )
        recorded = time.monotonic()
        email = outgoing(enrollment, message, drafted)
        if enrollment.has_sent and (stop := presend.last_look(client, enrollment, message)):
            raise Skip(stop)
        if time.monotonic() - recorded > client.send_window().start_within.total_seconds():
            # Past its deadline the attempt is given up, so that one found `sending` later can
            # be judged by when it was recorded.
            _give_up(enrollment, claim_token, message, "The last look at the mailbox was slow")
        handed_over = True
        sent = client.send(email.raw, thread_id=message.gmail_thread_id)
    except mail.MailError as error:
        unsent = message if not (handed_over and error.may_have_landed) else None
        return _failed(enrollment, claim_token, error, unsent)
    message.gmail_message_id, message.gmail_thread_id = sent.id, sent.thread_id
    try:
        kept = client.headers(sent.id, ["Message-ID", "Date"]).headers
    except mail.MailError:
        kept = {}  # it was sent; the id we chose stands
    if kept.get("message-id"):
        message.rfc822_message_id = kept["message-id"]
    if email.sent_copy is not None and client.capabilities.replaces_tracked_sent_copy:
        clean = email.sent_copy(
            message.rfc822_message_id, kept.get("date") or format_datetime(clock.now())
        )
        _replace_sent_copy(client, message, sent, clean)
    # The mailbox's "last worked" is its sync's to record (every cycle, with its own write).
    return _finish(enrollment, claim_token, message)


# How old the cursor of a mailbox's last sync may be to mark where a send began (below).
FRESH_CURSOR = timedelta(minutes=5)


def _history_before(client: mail.MailProvider, mailbox: Mailbox) -> str:
    """A point in the mailbox's history from before this send, where the reconciliation of a
    lost answer starts reading Sent: the cursor its last sync stored, if that sync is recent
    (reading from there lists the few emails sent since, each ruled out by its Message-ID),
    or else the mailbox's current one, which costs a call to the provider."""
    synced = mailbox.last_synced_at
    if mailbox.history_id and synced is not None and synced > clock.now() - FRESH_CURSOR:
        return mailbox.history_id
    return client.profile().cursor


_SENDS_IN_WINDOW = CompiledQuery(
    lambda mailbox_id, since: (
        Message.objects.filter(
            mailbox_id=mailbox_id,
            direction=Message.Direction.OUTBOUND,
            status__in=[Message.Status.SENDING, Message.Status.SENT],
            created_at__gte=since,
        )
        .values("mailbox_id")
        .annotate(count=Count("pk"), oldest=Min("created_at"), latest=Max("created_at"))
        .values_list("count", "oldest", "latest")
    ),
    int,
    datetime,
)


_STAGE = CompiledQuery(lambda pk: Stage.objects.filter(pk=pk), int)


def _record_sending(
    enrollment: ClaimedEnrollment, claim_token: str, draft: Draft, history_id: str
) -> Message:
    """Commits the outbound Message as `sending`, within the mailbox's cap and spacing; raises
    Skip when it must wait, or when the claim or the stage is no longer ours to send."""
    mailbox = enrollment.mailbox
    try:
        with transaction.atomic():
            locked = locks.enrollment_and_mailbox(enrollment.pk)
            if locked.claim_token != claim_token or locked.status != Enrollment.Status.ACTIVE:
                raise Skip("claim lost")
            wait_until = _cap_or_spacing(locked.mailbox)
            if wait_until is None:
                return outbox.record_sending(
                    organization_id=enrollment.organization_id,
                    prospect=enrollment.prospect,
                    enrollment=enrollment,
                    stage=enrollment.current_stage,
                    mailbox=mailbox,
                    sent_by=enrollment.enrolled_by,
                    rfc822_message_id=draft.message_id,
                    gmail_thread_id=draft.thread_id,
                    from_address=enrollment.alias.email if enrollment.alias else mailbox.email,
                    to_address=enrollment.prospect.email,
                    subject=draft.subject,
                    body_text=draft.rendered.text,
                    history_id_before=history_id,
                )
            lifecycle.defer_to_send_time(
                locks.enrollment(enrollment.pk),
                wait_until,
                "Daily cap or spacing of the mailbox reached; sending later",
            )
    except IntegrityError:
        _already_recorded(enrollment, claim_token)
    raise Skip("deferred")


def _already_recorded(enrollment: ClaimedEnrollment, claim_token: str) -> None:
    """The stage already has its email: sent (by an attempt whose end we missed: the
    enrollment moves on now), or on its way in another attempt. Raises Skip."""
    existing = Message.objects.filter(
        enrollment=enrollment,
        stage=enrollment.current_stage,
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.SENT,
    ).first()
    if existing is None:
        raise Skip("already on its way")
    _finish(enrollment, claim_token, existing)
    raise Skip("already sent")


def _give_up(enrollment: Enrollment, claim_token: str, message: Message, why: str) -> None:
    """Closes this attempt's email as never sent; the stage comes round again after a backoff
    (a mailbox slow once is likely slow for a while)."""
    with transaction.atomic():
        outbox.close_unsent(message)
        locked = locks.claimed_enrollment(enrollment.pk, claim_token)
        if locked is not None:
            attempt = locked.attempts + 1
            lifecycle.defer(
                locked,
                clock.now() + backoff(attempt, cap=MAX_BACKOFF),
                f"{why}; trying again (attempt {attempt + 1})",
                retry=True,
            )
    raise Skip(why.lower())


def _replace_sent_copy(
    client: mail.MailProvider, message: Message, sent: mail.Sent, clean_raw: bytes
) -> None:
    """Gmail shows the sender their Sent copy through the same image proxy a prospect's Gmail
    uses, so with the pixel in it every look of theirs would count as an open (and a link
    followed from it as a click). A copy without them takes its place, and the sent one goes to
    the trash; the Message then names the copy.

    The copy joins the sent one's thread when it can: only a follow-up can, as Gmail threads an
    inserted message only when it references an earlier one. The copy of a thread's first email
    starts a thread of its own, which becomes the conversation's: later stages are sent into it.

    Best effort: the email went out whatever happens here. If the sent copy cannot be trashed,
    the new one is, so that the sender never sees the email twice."""
    try:
        copy = client.insert(clean_raw, thread_id=sent.thread_id, label_ids=(mail.SENT,))
    except mail.MailError as error:
        log.warning(
            "could not file a copy without tracking in Sent: %s",
            error,
            extra={"outbound_message": message.pk},
        )
        return
    try:
        client.trash(sent.id)
    except mail.MailError as error:
        log.warning(
            "could not trash the tracked copy in Sent: %s",
            error,
            extra={"outbound_message": message.pk},
        )
        try:
            client.trash(copy.id)
        except mail.MailError:
            log.warning("the sender has two copies in Sent", extra={"outbound_message": message.pk})
        return
    message.gmail_message_id, message.gmail_thread_id = copy.id, copy.thread_id


def _cap_or_spacing(mailbox: Mailbox) -> datetime | None:
    """When the (locked) mailbox may send next, if not now."""
    now = clock.now()
    sends: tuple[int, datetime, datetime] | None = _SENDS_IN_WINDOW.first(
        mailbox.pk, now - timedelta(hours=24)
    )
    if sends is None:
        return None
    count, oldest, latest = sends
    if count >= mailbox.daily_send_cap:
        # When the oldest send leaves the rolling day; checked again then.
        return oldest + timedelta(hours=24)
    spacing = timedelta(seconds=mailbox.send_spacing_seconds)
    if spacing and latest is not None and latest > now - spacing:
        return latest + spacing
    return None


def _jitter() -> timedelta:
    return timedelta(seconds=random.uniform(0, settings.SEND_JITTER_SECONDS))  # noqa: S311


def _finish(enrollment: ClaimedEnrollment, claim_token: str, message: Message) -> str:
    """Marks the message sent and moves the enrollment past its stage. Whoever holds the claim
    now: the email went out, so the enrollment moves on (unless it did already)."""
    with transaction.atomic():
        if outbox.mark_sent(message, message.sent_at or clock.now()):
            # Announced once, by whoever turned it from `sending` to `sent`.
            signals.message_recorded.send(sender=Message, message=message)
        following = _STAGE.first(enrollment.next_stage_id) if enrollment.next_stage_id else None
        lifecycle.sent(enrollment, message, following=following, jitter=_jitter())
    return "sent"


def _reconcile(
    client: mail.MailProvider, enrollment: Enrollment, claim_token: str, pending: Message
) -> bool:
    """Did this `sending` email reach Gmail before we lost track of it? Found: it is filled in,
    and True. Not found and too old to still be on its way: it is closed, and False (the stage
    may be sent). Not found yet but it may still land: the stage waits until it no longer can
    (Skip), and nothing is sent meanwhile."""
    found = client.find_sent(pending.rfc822_message_id, pending.history_id_before)
    window = client.send_window()
    verdict = remote.outcome(
        found=found is not None, recorded_at=pending.created_at, window=window, now=clock.now()
    )
    if verdict is remote.Outcome.LANDED:
        assert found is not None
        pending.gmail_message_id, pending.gmail_thread_id = found.id, found.thread_id
        log.info(
            "reconciled a message that had reached Gmail", extra={"outbound_message": pending.pk}
        )
        return True
    if verdict is remote.Outcome.NEVER_LANDED:
        outbox.close_unsent(pending)
        return False
    settled = window.settled_at(pending.created_at)
    with transaction.atomic():
        locked = locks.claimed_enrollment(enrollment.pk, claim_token)
        if locked is None:
            raise Skip("claim lost")
        lifecycle.defer(
            locked,
            settled,
            "Gmail has not confirmed an earlier attempt; looking again once it could no longer "
            "arrive, before sending",
        )
    raise Skip("an earlier attempt may still reach Gmail")


def _failed(
    enrollment: Enrollment, claim_token: str, error: mail.MailError, unsent: Message | None
) -> str:
    """`unsent`: this attempt's email when Gmail surely does not have it (the call failed
    before it was made, or Gmail refused it); an email whose answer was lost stays `sending`,
    to be looked for before any new attempt."""
    senders.record_mail_failure(enrollment.mailbox, error)
    retryable = isinstance(error, mail.RateLimited | mail.Unavailable)
    if unsent is not None and (retryable or isinstance(error, mail.GrantRevoked)):
        outbox.close_unsent(unsent)
    if isinstance(error, mail.GrantRevoked | mail.MissingScopes):
        # The mailbox is marked "needs reconnect", which pauses its enrollments (announced).
        return "mailbox needs reconnect"
    with transaction.atomic():
        locked = locks.claimed_enrollment(enrollment.pk, claim_token)
        if locked is None:
            return "claim lost"
        pending = Message.objects.filter(
            enrollment=locked, stage=locked.current_stage, status=Message.Status.SENDING
        )
        if retryable:
            pending.update(error=f"{error} Gmail is asked whether it went before any new try.")
            retry_after = getattr(error, "retry_after", None)
            lifecycle.defer(
                locked,
                clock.now()
                + backoff(locked.attempts + 1, cap=MAX_BACKOFF, retry_after=retry_after),
                f"Gmail: {error} Retrying (attempt {locked.attempts + 2}).",
                retry=True,
            )
        else:
            pending.update(status=Message.Status.FAILED, error=str(error))
            lifecycle.fail(locked, str(error))
    return "retry" if retryable else "failed"
