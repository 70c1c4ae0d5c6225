"""The sending engine: claim due enrollments, then send each stage exactly once, never after the
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
  the attempt is too old to still be on its way (`gmail.send_window()`); until then the stage
  waits, and only then is it sent again.

Never after a reply: the last look at the mailbox (the threads we wrote in, and any new thread
from the prospect) comes after the `sending` commit, and the send right after it. A reply stored
before that look began is seen, and the email is not sent; what arrives during the one round
trip between the look and Gmail storing the email cannot be seen by anyone.
"""

import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.charset import QP, Charset
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Subquery

from outreach import clock, mail_headers, remote, workers
from outreach.backoff import backoff
from outreach.compiled import CompiledInsert, CompiledQuery, CompiledUpdate
from senders import gmail
from senders import services as senders
from senders.models import Mailbox

from . import (
    classifier,
    donotcontact,
    inbound,
    schedule,
    services,
    signals,
    templating,
    tracking,
    unsubscribe,
)
from .models import Enrollment, Message, Stage

log = logging.getLogger(__name__)

# What outreach.workers calls an enrollment's claim.
CLAIM_KIND = "enrollment"
LAST_TICK_KEY = "sequences:dispatch:last_tick"
BATCH = 200
MAX_BACKOFF = timedelta(hours=6)


class Skip(Exception):
    """Nothing is sent this time: the claim is no longer ours, the enrollment moved on, stopped
    or must wait. The text says why; it is the task's result."""


# Dispatch -----------------------------------------------------------------------------------------


def dispatch_due(batch: int = BATCH) -> int:
    """Claims due enrollments and hands each to a `send_stage` task once the claim is committed.
    Safe to run from several beats or dispatchers at once: rows another one holds are skipped."""
    from .tasks import send_stage

    now = clock.now()
    cache.set(LAST_TICK_KEY, now.isoformat(), timeout=None)
    # The claims of a worker known dead end now, to be claimed again below.
    workers.take_over(CLAIM_KIND, Enrollment, now)
    with transaction.atomic():
        due = list(
            Enrollment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=Enrollment.Status.ACTIVE,
                next_action_at__lte=now,
                current_stage__kind=Stage.Kind.EMAIL,
            )
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
            .order_by("next_action_at")
            .values_list("pk", flat=True)[:batch]
        )
        # One token for the batch: a later claim of any of these rows gets a new one.
        token = secrets.token_hex(8)
        Enrollment.objects.filter(pk__in=due).update(
            claim_token=token, claimed_until=now + timedelta(seconds=settings.CLAIM_LEASE_SECONDS)
        )
        transaction.on_commit(lambda: [send_stage.delay(pk, token) for pk in due])
    return len(due)


# Sending -----------------------------------------------------------------------------------------


def send_stage(enrollment_id: int, claim_token: str) -> str:
    """Sends the enrollment's current stage if it is still due and ours; returns what happened."""
    try:
        enrollment = _claimed(enrollment_id, claim_token)
    except Skip as skip:
        return str(skip)
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
        _interrupted(enrollment_id, claim_token)
        raise
    finally:
        workers.release(CLAIM_KIND, enrollment_id)


def _interrupted(enrollment_id: int, claim_token: str) -> None:
    """An attempt cut short by something unforeseen (the database gone mid-send...) gives its
    claim back for a later try, rather than hold it until its lease runs out. An email it
    left `sending` is looked for first, as after any crash."""
    try:
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()  # a broken one is opened anew
        Enrollment.objects.filter(pk=enrollment_id, claim_token=claim_token).update(
            claim_token="",
            claimed_until=None,
            next_action_at=clock.now() + backoff(0, cap=MAX_BACKOFF),
        )
    except DatabaseError:
        log.warning("could not give back an interrupted claim", exc_info=True)


def _send(enrollment: Enrollment, claim_token: str) -> str:
    mailbox = enrollment.mailbox
    message = None
    handed_over = False
    try:
        client = senders.gmail_for(mailbox)
        if enrollment.pending_id:
            pending = Message.objects.get(pk=enrollment.pending_id)
            if _reconcile(client, enrollment, claim_token, pending):
                return _finish(enrollment, claim_token, pending)
        _check_may_send(enrollment)
        draft = _draft(enrollment)
        message = _record_sending(enrollment, claim_token, draft, client.profile().history_id)
        recorded = time.monotonic()
        outgoing = _outgoing(enrollment, message, draft)
        if enrollment.has_sent:
            _last_look(client, enrollment, message)
        if time.monotonic() - recorded > gmail.send_window().start_within.total_seconds():
            # Past its deadline the attempt is given up, so that one found `sending` later can
            # be judged by when it was recorded.
            _give_up(enrollment, claim_token, message, "The last look at the mailbox was slow")
        handed_over = True
        sent = client.send(outgoing.raw, thread_id=message.gmail_thread_id)
    except gmail.GmailError as error:
        unsent = message if not (handed_over and error.may_have_landed) else None
        return _failed(enrollment, claim_token, error, unsent)
    message.gmail_message_id, message.gmail_thread_id = sent.id, sent.thread_id
    try:
        kept = client.headers(sent.id, ["Message-ID", "Date"]).headers
    except gmail.GmailError:
        kept = {}  # it was sent; the id we chose stands
    if kept.get("message-id"):
        message.rfc822_message_id = kept["message-id"]
    if outgoing.sent_copy is not None:
        clean = outgoing.sent_copy(
            message.rfc822_message_id, kept.get("date") or format_datetime(clock.now())
        )
        _replace_sent_copy(client, message, sent, clean)
    if mailbox.last_success_at is None or mailbox.last_success_at < clock.now() - timedelta(
        minutes=1
    ):
        senders.record_gmail_success(mailbox)
    return _finish(enrollment, claim_token, message)


# What a send reads of the enrollment and its relations: loading only these keeps the one query
# a send starts with cheap (and the refresh token is decrypted only to build a client).
CLAIM_FIELDS = (
    "organization_id",
    "status",
    "claim_token",
    "claimed_until",
    "thread_id",
    "bcc",
    "attempts",
    "next_action_at",
    "last_event",
    "sequence_id",
    "prospect_id",
    "mailbox_id",
    "alias_id",
    "enrolled_by_id",
    "current_stage_id",
    "sequence__organization_id",
    "sequence__timezone",
    "sequence__use_prospect_timezone",
    "sequence__send_days",
    "sequence__send_start",
    "sequence__send_end",
    "sequence__track_opens",
    "sequence__track_clicks",
    "sequence__unsubscribe_footer",
    "prospect__email",
    "prospect__first_name",
    "prospect__last_name",
    "prospect__company",
    "prospect__title",
    "prospect__timezone",
    "prospect__custom_fields",
    "prospect__do_not_contact",
    "prospect__ats_sync_paused",  # read by the ATS sync when the sent email is announced
    "mailbox__organization_id",
    "mailbox__owner_id",
    "mailbox__email",
    "mailbox__display_name",
    "mailbox__status",
    "mailbox__scopes",
    "mailbox__connected_at",
    "mailbox__last_success_at",
    "mailbox__owner__full_name",
    "mailbox__owner__is_active",
    "alias__email",
    "alias__display_name",
    "current_stage__sequence_id",
    "current_stage__position",
    "current_stage__kind",
    "current_stage__subject",
    "current_stage__body_html",
    "current_stage__threading",
    "enrolled_by__organization_id",
    "enrolled_by__full_name",
    "enrolled_by__is_active",
)


def _next_stage(field: str):
    return Subquery(
        Stage.objects.filter(
            sequence=OuterRef("sequence"), position__gt=OuterRef("current_stage__position")
        )
        .order_by("position")
        .values(field)[:1]
    )


# The reads every send makes, compiled once per process (see outreach.compiled).
_CLAIMED = CompiledQuery(
    lambda pk: (
        Enrollment.objects.select_related(
            "sequence", "prospect", "mailbox__owner", "alias", "current_stage", "enrolled_by"
        )
        .annotate(
            pending_id=Subquery(
                Message.objects.filter(
                    enrollment=OuterRef("pk"),
                    stage=OuterRef("current_stage"),
                    status=Message.Status.SENDING,
                ).values("pk")[:1]
            ),
            has_sent=Exists(
                Message.objects.filter(
                    enrollment=OuterRef("pk"),
                    direction=Message.Direction.OUTBOUND,
                    status=Message.Status.SENT,
                )
            ),
            next_stage_id=_next_stage("pk"),
            on_do_not_contact_list=donotcontact.listed_expression(),
        )
        .only(*CLAIM_FIELDS)
        .filter(pk=pk)
    ),
    int,
)
# Locking the mailbox too serializes its sends across workers for the cap check.
_LOCKED_WITH_MAILBOX = CompiledQuery(
    lambda pk: (
        Enrollment.objects.select_related("mailbox")
        .select_for_update(of=("self", "mailbox"))
        .only("claim_token", "status", "mailbox__daily_send_cap", "mailbox__send_spacing_seconds")
        .filter(pk=pk)
    ),
    int,
)
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
# Unless a person paused or stopped it meanwhile, it moves on; its claim ends either way.
_MOVE_ON = CompiledUpdate(
    lambda pk, stage_id, status, next_stage_id, due, thread_id, event, event_at: (
        Enrollment.objects.filter(
            pk=pk, status=Enrollment.Status.ACTIVE, current_stage_id=stage_id
        ),
        {
            "status": status,
            "current_stage_id": next_stage_id,
            "next_action_at": due,
            "thread_id": thread_id,
            "attempts": 0,
            "claim_token": "",
            "claimed_until": None,
            "last_event": event,
            "last_event_at": event_at,
        },
    ),
    int,
    int,
    str,
    int,
    datetime,
    str,
    str,
    datetime,
)


def _claimed(enrollment_id: int, claim_token: str) -> Enrollment:
    """The enrollment with all a send needs, in one query."""
    enrollment = _CLAIMED.first(enrollment_id)
    if enrollment is None or enrollment.claim_token != claim_token:
        raise Skip("not our claim")
    if enrollment.claimed_until is None or enrollment.claimed_until < clock.now():
        raise Skip("claim expired")
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise Skip(f"enrollment is {enrollment.status}")
    if enrollment.current_stage is None or enrollment.current_stage.kind != Stage.Kind.EMAIL:
        raise Skip("no email stage due")
    return enrollment


def _check_may_send(enrollment: Enrollment) -> None:
    """Pauses or stops the enrollment if it may not send now, raising Skip with why."""
    sender, mailbox, prospect = enrollment.enrolled_by, enrollment.mailbox, enrollment.prospect
    if prospect.do_not_contact:
        services.stop_enrollment(
            enrollment=enrollment,
            status=Enrollment.Status.UNSUBSCRIBED,
            reason=f"{prospect.email} is marked do not contact.",
        )
        raise Skip("do not contact")
    if enrollment.on_do_not_contact_list:
        services.stop_enrollment(
            enrollment=enrollment,
            status=Enrollment.Status.STOPPED,
            reason=f"{prospect.email} is on the team's do-not-contact list.",
        )
        raise Skip("do not contact")
    if not senders.can_send_as(sender, mailbox):
        _pause(
            enrollment,
            Enrollment.PauseCause.DELEGATION_REVOKED,
            f"{sender.full_name} may no longer send as {mailbox.email}.",
        )
        raise Skip("not allowed to send as the mailbox")
    if not mailbox.is_connected:
        cause = (
            Enrollment.PauseCause.MAILBOX_DISCONNECTED
            if mailbox.status == Mailbox.Status.DISCONNECTED
            else Enrollment.PauseCause.MAILBOX_RECONNECT
        )
        _pause(enrollment, cause, f"{mailbox.email} is {mailbox.get_status_display().lower()}.")
        raise Skip("mailbox not connected")


def _pause(enrollment: Enrollment, cause: str, reason: str) -> None:
    services.pause_enrollment(enrollment=enrollment, cause=cause, reason=reason)


# The last look: replies that no poll has seen yet -----------------------------------------------

# What makes the email pointless: the prospect answered, or the address does not exist.
_STOPPING = (classifier.REPLY, classifier.BOUNCE)


def _last_look(client: gmail.Gmail, enrollment: Enrollment, message: Message) -> None:
    """With the email recorded as `sending`, one look at what arrived from the prospect's side
    since our last send (in our threads, or a new thread from the prospect), the moment before
    it is handed to Gmail. Whatever stops it (a reply, a bounce, an out-of-office's return date,
    or a person or the sync that stopped the enrollment meanwhile) closes the email as never
    sent and raises Skip with why."""
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
        )
    )
    sent = [
        (thread, gmail_id, at)
        for direction, status, _, thread, gmail_id, at in rows
        if direction == Message.Direction.OUTBOUND and status == Message.Status.SENT
    ]
    last_sent_at = sent[-1][2]
    if any(
        kind == Message.InboundKind.REPLY and at is not None and at >= last_sent_at
        for direction, _, kind, _, _, at in rows
        if direction == Message.Direction.INBOUND
    ):
        # Recorded by the mailbox sync since we loaded the enrollment.
        _close_unsent(message)
        raise Skip(classifier.REPLY)
    known = {gmail_id for _, _, _, _, gmail_id, _ in rows}
    own = inbound.own_addresses(enrollment.mailbox)
    last_sent_ms = int(last_sent_at.timestamp() * 1000)
    # A new thread from the prospect first, by search; then our threads, the current one last:
    # a reply is most likely there, and what a read finds is only as fresh as the read.
    threads = list(dict.fromkeys(t for t, _, _ in reversed(sent)))[::-1]
    query = f"from:{enrollment.prospect.email} after:{int(sent[0][2].timestamp())}"
    new_threads = [
        message_id
        for message_id, thread_id in client.search(query, limit=20)
        if thread_id not in threads and message_id not in known
    ]
    candidates = [client.headers(message_id, inbound.HEADER_NAMES) for message_id in new_threads]
    for thread_id in threads:
        for item in client.thread(thread_id, inbound.HEADER_NAMES):
            if (
                item.id not in known
                and item.internal_date_ms >= last_sent_ms - 1000
                and inbound.sender_address(item.headers) not in own
                and "x-outreach-notice" not in item.headers
                and "SENT" not in item.label_ids
            ):
                candidates.append(item)
    verdicts = []
    for item in candidates:
        verdict = classifier.classify_headers(list(item.headers.items()))
        if verdict is None or verdict.kind == classifier.AUTO_REPLY:
            # The full message tells what headers cannot: a bounce's recipient, a return date.
            verdict = classifier.classify(client.raw(item.id))
        verdicts.append((item, verdict))
    for item, verdict in verdicts:
        with transaction.atomic():
            outcome = inbound.apply(enrollment, _record_inbound(enrollment, item, verdict), verdict)
            if verdict.kind in _STOPPING or outcome != inbound.NOTED:
                _close_unsent(message)
        if verdict.kind in _STOPPING or outcome == inbound.STOPPED:
            raise Skip(verdict.kind)
        if outcome == inbound.DEFERRED:
            raise Skip("deferred: " + verdict.kind)
    # Stopped or paused while we read the mailbox (by a person, or by the sync).
    status = Enrollment.objects.filter(pk=enrollment.pk).values_list("status", flat=True).first()
    if status != Enrollment.Status.ACTIVE:
        _close_unsent(message)
        raise Skip(f"enrollment is {status}")


def _close_unsent(message: Message) -> None:
    """The `sending` email was never handed to Gmail: it goes, as a crash before the send would
    have left nothing to find either."""
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).delete()


def _record_inbound(enrollment: Enrollment, item: gmail.MessageHeaders, verdict) -> Message:
    return inbound.record(
        mailbox=enrollment.mailbox,
        enrollment=enrollment,
        prospect=enrollment.prospect,
        item=item,
        verdict=verdict,
    )


# Building and recording the email ---------------------------------------------------------------


def _lock_claim(enrollment_id: int, claim_token: str) -> Enrollment | None:
    locked = (
        Enrollment.objects.select_related("sequence", "current_stage", "prospect")
        .select_for_update(of=("self",))
        .get(pk=enrollment_id)
    )
    if locked.claim_token != claim_token or locked.status != Enrollment.Status.ACTIVE:
        return None
    return locked


def _previous_in_thread(enrollment: Enrollment) -> Message | None:
    if not enrollment.thread_id:
        return None
    return (
        enrollment.messages.filter(
            direction=Message.Direction.OUTBOUND,
            status=Message.Status.SENT,
            gmail_thread_id=enrollment.thread_id,
        )
        .order_by("-sent_at")
        .first()
    )


def _references(enrollment: Enrollment) -> list[str]:
    return list(
        enrollment.messages.filter(gmail_thread_id=enrollment.thread_id)
        .exclude(rfc822_message_id="")
        .order_by("created_at")
        .values_list("rfc822_message_id", flat=True)
    )


# UTF-8 bodies in quoted-printable: ASCII text stays readable in "Show original".
_BODY_CHARSET = Charset("utf-8")
_BODY_CHARSET.body_encoding = QP


def build_mime(
    *,
    enrollment: Enrollment,
    rendered,
    subject: str,
    message_id: str,
    references: list[str],
    unsubscribe_url: str = "",
    date: str = "",
) -> bytes:
    mailbox, alias = enrollment.mailbox, enrollment.alias
    address = alias.email if alias else mailbox.email
    name = (alias.display_name if alias else "") or mailbox.display_name or mailbox.owner.full_name
    # The email package's older API (compat32) writes the same RFC 5322 message as EmailMessage
    # at a sixth of the CPU: it does not parse back every header it is given. Non-ASCII display
    # names and subjects become RFC 2047 encoded words either way.
    # A random boundary of our own spares the generator its search of the body for a safe one.
    email = MIMEMultipart("alternative", boundary=f"=_outreach_{secrets.token_hex(16)}")
    # Every value through mail_headers: a line break in a display name, a subject or an id read
    # from a reply would start a header of its own (a Bcc) or make the email unsendable.
    email["From"] = mail_headers.address(name, address)
    email["To"] = mail_headers.address("", enrollment.prospect.email)
    if enrollment.bcc:
        email["Bcc"] = mail_headers.header_text(enrollment.bcc)
    email["Subject"] = mail_headers.header_text(subject)
    email["Message-ID"] = mail_headers.header_text(message_id)
    if date:
        email["Date"] = mail_headers.header_text(date)
    if references:
        references = [mail_headers.header_text(reference) for reference in references]
        email["In-Reply-To"] = references[-1]
        email["References"] = " ".join(references)
    if unsubscribe_url:
        # RFC 8058: a mail client may POST "List-Unsubscribe=One-Click" to the https URI.
        email["List-Unsubscribe"] = f"<{mail_headers.header_text(unsubscribe_url)}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.attach(MIMEText(rendered.text, "plain", _BODY_CHARSET))
    email.attach(MIMEText(rendered.html, "html", _BODY_CHARSET))
    return email.as_bytes()


def _thread_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


@dataclass(frozen=True)
class Draft:
    """The stage as this prospect will get it, before anything is recorded."""

    rendered: templating.RenderedEmail
    subject: str
    references: list[str]
    thread_id: str
    message_id: str


@dataclass(frozen=True)
class Outgoing:
    raw: bytes
    # With tracking: builds the sender's own copy, without it, from (Message-ID, Date).
    sent_copy: Callable[[str, str], bytes] | None = None


def _draft(enrollment: Enrollment) -> Draft:
    """Renders the stage; a token without a value pauses the enrollment (Skip)."""
    stage = enrollment.current_stage
    try:
        rendered = services.render_stage(
            stage, enrollment.prospect, enrollment.mailbox, enrollment.alias
        )
    except templating.TemplateError as error:
        _pause(
            enrollment, Enrollment.PauseCause.MISSING_VALUE, f"Stage {stage.position + 1}: {error}"
        )
        raise Skip("template problem") from error
    previous = None if stage.starts_thread else _previous_in_thread(enrollment)
    return Draft(
        rendered=rendered,
        subject=_thread_subject(previous.subject) if previous else rendered.subject,
        references=_references(enrollment) if previous else [],
        thread_id=previous.gmail_thread_id if previous else "",
        message_id=make_msgid(domain=enrollment.mailbox.email.partition("@")[2]),
    )


def _record_sending(
    enrollment: Enrollment, claim_token: str, draft: Draft, history_id: str
) -> Message:
    """Commits the outbound Message as `sending`, within the mailbox's cap and spacing; raises
    Skip when it must wait, or when the claim or the stage is no longer ours to send."""
    mailbox = enrollment.mailbox
    try:
        with transaction.atomic():
            locked = _LOCKED_WITH_MAILBOX.first(enrollment.pk)
            if locked.claim_token != claim_token or locked.status != Enrollment.Status.ACTIVE:
                raise Skip("claim lost")
            wait_until = _cap_or_spacing(locked.mailbox)
            if wait_until is None:
                return _NEW_MESSAGE.create(
                    organization_id=enrollment.organization_id,
                    prospect=enrollment.prospect,
                    enrollment=enrollment,
                    stage=enrollment.current_stage,
                    mailbox=mailbox,
                    sent_by=enrollment.enrolled_by,
                    direction=Message.Direction.OUTBOUND,
                    status=Message.Status.SENDING,
                    rfc822_message_id=draft.message_id,
                    gmail_thread_id=draft.thread_id,
                    from_address=enrollment.alias.email if enrollment.alias else mailbox.email,
                    to_address=enrollment.prospect.email,
                    subject=draft.subject,
                    body_text=draft.rendered.text,
                    history_id_before=history_id,
                )
            _defer(
                enrollment, wait_until, "Daily cap or spacing of the mailbox reached; sending later"
            )
    except IntegrityError:
        _already_recorded(enrollment, claim_token)
    raise Skip("deferred")


def _already_recorded(enrollment: Enrollment, claim_token: str) -> None:
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


def _outgoing(enrollment: Enrollment, message: Message, draft: Draft) -> Outgoing:
    """The MIME of the recorded email, with its unsubscribe link and tracking."""
    rendered, sequence = draft.rendered, enrollment.sequence
    unsubscribe_url = unsubscribe.url_for(message.pk)
    if sequence.unsubscribe_footer:
        rendered = unsubscribe.with_footer(rendered, unsubscribe_url)
    parts = {
        "enrollment": enrollment,
        "subject": draft.subject,
        "references": draft.references,
        "unsubscribe_url": unsubscribe_url,
    }
    tracked_html = tracking.instrument(rendered.html, message, sequence)
    raw = build_mime(
        rendered=replace(rendered, html=tracked_html), message_id=draft.message_id, **parts
    )
    if tracked_html == rendered.html:
        return Outgoing(raw)
    return Outgoing(
        raw,
        sent_copy=lambda kept_id, date: build_mime(
            rendered=rendered, message_id=kept_id, date=date, **parts
        ),
    )


def _give_up(enrollment: Enrollment, claim_token: str, message: Message, why: str) -> None:
    """Closes this attempt's email as never sent; the stage comes round again after a backoff
    (a mailbox slow once is likely slow for a while)."""
    with transaction.atomic():
        _close_unsent(message)
        locked = _lock_claim(enrollment.pk, claim_token)
        if locked is not None:
            attempt = locked.attempts + 1
            _reschedule(
                locked,
                clock.now() + backoff(attempt, cap=MAX_BACKOFF),
                f"{why}; trying again (attempt {attempt + 1})",
                retry=True,
            )
    raise Skip(why.lower())


def _replace_sent_copy(
    client: gmail.Gmail, message: Message, sent: gmail.Sent, clean_raw: bytes
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
        copy = client.insert(clean_raw, thread_id=sent.thread_id, label_ids=["SENT"])
    except gmail.GmailError as error:
        log.warning(
            "could not file a copy without tracking in Sent: %s",
            error,
            extra={"outbound_message": message.pk},
        )
        return
    try:
        client.trash(sent.id)
    except gmail.GmailError as error:
        log.warning(
            "could not trash the tracked copy in Sent: %s",
            error,
            extra={"outbound_message": message.pk},
        )
        try:
            client.trash(copy.id)
        except gmail.GmailError:
            log.warning("the sender has two copies in Sent", extra={"outbound_message": message.pk})
        return
    message.gmail_message_id, message.gmail_thread_id = copy.id, copy.thread_id


def _cap_or_spacing(mailbox: Mailbox):
    """When the (locked) mailbox may send next, if not now."""
    now = clock.now()
    count, oldest, latest = _SENDS_IN_WINDOW.first(mailbox.pk, now - timedelta(hours=24)) or (
        0,
        None,
        None,
    )
    if count >= mailbox.daily_send_cap:
        # When the oldest send leaves the rolling day; checked again then.
        return oldest + timedelta(hours=24)
    spacing = timedelta(seconds=mailbox.send_spacing_seconds)
    if spacing and latest is not None and latest > now - spacing:
        return latest + spacing
    return None


def _jitter() -> timedelta:
    return timedelta(seconds=random.uniform(0, settings.SEND_JITTER_SECONDS))  # noqa: S311


def _defer(enrollment: Enrollment, not_before, why: str) -> None:
    """Reschedules the (locked) enrollment at its next send time from `not_before`."""
    window = services.window_of(enrollment.sequence)
    when = schedule.first_send_time(not_before, window, services.timezone_for(enrollment))
    _reschedule(enrollment, when, why)


def _reschedule(locked: Enrollment, when: datetime, event: str, *, retry: bool = False) -> None:
    """Releases the (locked) enrollment's claim until `when`, with `event` on its timeline;
    `retry`: this counts as one more attempt at the stage."""
    if retry:
        locked.attempts += 1
    locked.next_action_at = when
    locked.claim_token, locked.claimed_until = "", None
    services.record(locked, event)
    locked.save(
        update_fields=[
            "attempts",
            "next_action_at",
            "claim_token",
            "claimed_until",
            "last_event",
            "last_event_at",
        ]
    )


def _finish(enrollment: Enrollment, claim_token: str, message: Message) -> str:
    """Marks the message sent and moves the enrollment past its stage. Whoever holds the claim
    now: the email went out, so the enrollment moves on (unless it did already)."""
    now = clock.now()
    with transaction.atomic():
        message.status, message.sent_at, message.error = (
            Message.Status.SENT,
            message.sent_at or now,
            "",
        )
        marked = _MARK_SENT.run(
            message.pk,
            message.sent_at,
            message.gmail_message_id,
            message.gmail_thread_id,
            message.rfc822_message_id,
        )
        if marked:
            # Announced once, by whoever turned it from `sending` to `sent`.
            signals.message_recorded.send(sender=Message, message=message)
        following = _STAGE.first(enrollment.next_stage_id) if enrollment.next_stage_id else None
        enrollment.current_stage_id = message.stage_id
        if message.stage.starts_thread or not enrollment.thread_id:
            enrollment.thread_id = message.gmail_thread_id
        services.advance(enrollment, after=now, following=following)
        if enrollment.next_action_at is not None:
            enrollment.next_action_at += _jitter()
        moved = _MOVE_ON.run(
            enrollment.pk,
            message.stage_id,
            enrollment.status,
            enrollment.current_stage_id,
            enrollment.next_action_at,
            enrollment.thread_id,
            (
                enrollment.last_event
                if enrollment.status == Enrollment.Status.FINISHED
                else f"Stage {message.stage.position + 1} sent"
            ),
            now,
        )
        if not moved:
            # Paused or stopped meanwhile: it keeps its status, but its next stage is the one
            # after this, so that a resume never comes back to an email already sent.
            Enrollment.objects.filter(pk=enrollment.pk, current_stage_id=message.stage_id).update(
                current_stage_id=following.pk if following else message.stage_id,
                thread_id=enrollment.thread_id,
                claim_token="",
                claimed_until=None,
            )
    return "sent"


def _reconcile(
    client: gmail.Gmail, enrollment: Enrollment, claim_token: str, pending: Message
) -> bool:
    """Did this `sending` email reach Gmail before we lost track of it? Found: it is filled in,
    and True. Not found and too old to still be on its way: it is closed, and False (the stage
    may be sent). Not found yet but it may still land: the stage waits until it no longer can
    (Skip), and nothing is sent meanwhile."""
    found = client.find_sent(pending.rfc822_message_id, pending.history_id_before)
    window = gmail.send_window()
    verdict = remote.outcome(
        found=found is not None, recorded_at=pending.created_at, window=window, now=clock.now()
    )
    if verdict is remote.Outcome.LANDED:
        pending.gmail_message_id, pending.gmail_thread_id = found.id, found.thread_id
        log.info(
            "reconciled a message that had reached Gmail", extra={"outbound_message": pending.pk}
        )
        return True
    if verdict is remote.Outcome.NEVER_LANDED:
        _close_unsent(pending)
        return False
    settled = window.settled_at(pending.created_at)
    with transaction.atomic():
        locked = _lock_claim(enrollment.pk, claim_token)
        if locked is None:
            raise Skip("claim lost")
        _reschedule(
            locked,
            settled,
            "Gmail has not confirmed an earlier attempt; looking again once it could no longer "
            "arrive, before sending",
        )
    raise Skip("an earlier attempt may still reach Gmail")


# Failures ----------------------------------------------------------------------------------------


def _failed(
    enrollment: Enrollment, claim_token: str, error: gmail.GmailError, unsent: Message | None
) -> str:
    """`unsent`: this attempt's email when Gmail surely does not have it (the call failed
    before it was made, or Gmail refused it); an email whose answer was lost stays `sending`,
    to be looked for before any new attempt."""
    senders.record_gmail_failure(enrollment.mailbox, error)
    retryable = isinstance(error, gmail.RateLimited | gmail.GmailUnavailable)
    if unsent is not None and (retryable or isinstance(error, gmail.GrantRevoked)):
        _close_unsent(unsent)
    if isinstance(error, gmail.GrantRevoked | gmail.MissingScopes):
        # The mailbox is marked "needs reconnect", which pauses its enrollments (announced).
        return "mailbox needs reconnect"
    with transaction.atomic():
        locked = _lock_claim(enrollment.pk, claim_token)
        if locked is None:
            return "claim lost"
        pending = Message.objects.filter(
            enrollment=locked, stage=locked.current_stage, status=Message.Status.SENDING
        )
        if retryable:
            pending.update(error=f"{error} Gmail is asked whether it went before any new try.")
            locked.attempts += 1
            retry_after = getattr(error, "retry_after", None)
            locked.next_action_at = clock.now() + backoff(
                locked.attempts, cap=MAX_BACKOFF, retry_after=retry_after
            )
            locked.claim_token, locked.claimed_until = "", None
            services.record(locked, f"Gmail: {error} Retrying (attempt {locked.attempts + 1}).")
        else:
            pending.update(status=Message.Status.FAILED, error=str(error))
            locked.status, locked.status_reason = Enrollment.Status.FAILED, str(error)[:500]
            locked.next_action_at, locked.claim_token, locked.claimed_until = None, "", None
            services.record(locked, f"Failed: {error}")
        locked.save()
    return "retry" if retryable else "failed"


# Health ------------------------------------------------------------------------------------------


def health() -> dict:
    """What /healthz reports of the engine: the last dispatch, the oldest overdue send, and
    messages stuck in `sending` (a crash not yet reconciled)."""
    now = clock.now()
    overdue = (
        Enrollment.objects.filter(
            status=Enrollment.Status.ACTIVE,
            current_stage__kind=Stage.Kind.EMAIL,
            next_action_at__lt=now - timedelta(minutes=2),
        )
        .order_by("next_action_at")
        .values_list("next_action_at", flat=True)
        .first()
    )
    return {
        "dispatch_last_tick": cache.get(LAST_TICK_KEY),
        "oldest_overdue_send": overdue.isoformat() if overdue else None,
        "messages_stuck_sending": Message.objects.filter(
            status=Message.Status.SENDING, created_at__lt=now - timedelta(minutes=10)
        ).count(),
    }
