"""Writing the conversations with prospects to Greenhouse, each message exactly once.

- The outbox: `record_message` runs inside the transaction that stores a Message (through the
  announcement `sequences` makes), so a message is never stored without its ActivitySync row.
- The pusher: `push_due` claims due rows with `skip_locked` and a lease, and writes each as an
  email activity on the candidate, as the Greenhouse user of the inbox's owner. Greenhouse has
  no idempotency key, so a row is marked with `write_started_at` before each write; a row found
  so marked (the answer was lost: a timeout, a dropped connection, a dead worker) first looks
  at the candidate's activity feed for the reference we put in every note, and writes again
  only if it is not there and the earlier write can no longer land (outreach.remote).
- The rate budget is the provider's (shared by every worker through Redis): when it is spent,
  the rest of the batch waits for the window instead of earning a 429.
"""

import logging
import secrets
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from outreach import clock, mail_headers, remote, workers
from outreach.backoff import backoff
from outreach.emails import absolute_url
from senders import mail
from senders import services as senders
from sequences import selectors as sequences_selectors
from sequences import services as sequences
from sequences.models import Message
from sequences.models import Visibility as SequenceVisibility

from . import greenhouse, signals
from .models import ActivitySync, AtsConnection, ThreadNotice, UserMapping, Visibility

log = logging.getLogger(__name__)

# What outreach.workers calls a row's claim.
CLAIM_KIND = "activity"
BATCH = 25
MAX_BACKOFF = timedelta(hours=1)
PAUSE_SALT = "ats_sync.pause"
PAUSE_LINK_MAX_AGE = timedelta(days=90)
NOTICE_HEADER = "X-Outreach-Notice"


# The outbox ---------------------------------------------------------------------------------------


def _auto_sync_key(organization_id: int) -> str:
    return f"ats_sync:auto_sync:{organization_id}"


# Asked for every message stored: even a Redis read each time is a measurable part of a send,
# so each process also keeps the answer this long. What a process may miss in that time after
# sync is switched on is queued afterwards by `queue_missed`.
AUTO_SYNC_MEMO_SECONDS = 10
_auto_sync_memo: dict[int, tuple[float, bool]] = {}


def auto_sync_on(organization_id: int) -> bool:
    """Whether the team writes its conversations to Greenhouse (cached; the cache is dropped
    whenever the connection is saved)."""
    now = time.monotonic()
    memo = _auto_sync_memo.get(organization_id)
    if memo is not None and memo[0] > now:
        return memo[1]
    on = cache.get(_auto_sync_key(organization_id))
    if on is None:
        on = AtsConnection.objects.filter(organization_id=organization_id, auto_sync=True).exists()
        cache.set(_auto_sync_key(organization_id), on, timeout=3600)
    _auto_sync_memo[organization_id] = (now + AUTO_SYNC_MEMO_SECONDS, on)
    return on


def forget_auto_sync(organization_id: int) -> None:
    _auto_sync_memo.pop(organization_id, None)
    cache.delete(_auto_sync_key(organization_id))


def queue_missed(organization_id: int, since: datetime) -> int:
    """Queues what was stored since sync was switched on that a process still holding the old
    answer left out; returns how many."""
    if not AtsConnection.objects.filter(organization_id=organization_id, auto_sync=True).exists():
        return 0
    queued = 0
    for message in sequences_selectors.messages_stored_since(organization_id, since):
        if _belongs_in_ats(message):
            with transaction.atomic():
                queued += _queue(message)[1]
    return queued


def _belongs_in_ats(message: Message) -> bool:
    """Every email we sent and the sender's own ones in the thread; of what came back, the
    prospect's replies (auto-replies and bounces are not part of the conversation)."""
    if message.direction == Message.Direction.OUTBOUND:
        return message.status == Message.Status.SENT
    return message.inbound_kind == Message.InboundKind.REPLY


def record_message(message: Message) -> ActivitySync | None:
    """Queues the message for Greenhouse (inside the transaction that stored it), and the
    thread's notice the first time one of its messages is queued."""
    if not _belongs_in_ats(message) or not auto_sync_on(message.organization_id):
        return None
    return _queue(message)[0]


def _queue(message: Message) -> tuple[ActivitySync, bool]:
    paused = message.prospect.ats_sync_paused
    row, created = ActivitySync.objects.get_or_create(
        message=message,
        defaults={
            "organization_id": message.organization_id,
            "status": ActivitySync.Status.PAUSED if paused else ActivitySync.Status.PENDING,
            "last_error": "Sync is paused for this candidate." if paused else "",
        },
    )
    if created and message.gmail_thread_id:
        notice, new = ThreadNotice.objects.get_or_create(
            mailbox_id=message.mailbox_id,
            gmail_thread_id=message.gmail_thread_id,
            defaults={"organization_id": message.organization_id, "prospect": message.prospect},
        )
        if new:
            signals.notice_needed.send(sender=ThreadNotice, notice=notice)
    return row, created


# The pusher ---------------------------------------------------------------------------------------

PUSHED, WAITING, RATE_LIMITED = "pushed", "waiting", "rate limited"


def push_due(batch: int = BATCH) -> int:
    """Claims due rows and pushes them one by one; returns how many were claimed. Several
    workers may run it at once: each claims rows the others have not locked."""
    now = clock.now()
    # The claims of a worker known dead end now, to be claimed again below.
    workers.take_over(CLAIM_KIND, ActivitySync, now)
    lease = timedelta(seconds=settings.CLAIM_LEASE_SECONDS)
    with transaction.atomic():
        claimed = list(
            ActivitySync.objects.select_for_update(skip_locked=True)
            .filter(status=ActivitySync.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:batch]
        )
        token = secrets.token_hex(8)
        ActivitySync.objects.filter(pk__in=claimed).update(
            claim_token=token, claimed_until=now + lease
        )
    workers.hold(CLAIM_KIND, dict.fromkeys(claimed, token), lease.total_seconds())
    try:
        for position, sync_id in enumerate(claimed):
            if push(sync_id, token) == RATE_LIMITED:
                # The budget is spent for this window: the rest waits with it, unclaimed.
                ActivitySync.objects.filter(
                    pk__in=claimed[position + 1 :], claim_token=token
                ).update(claim_token="", claimed_until=None)
                break
    finally:
        workers.release(CLAIM_KIND, *claimed)
    return len(claimed)


class _Skip(Exception):
    """The message has no place in Greenhouse (no such candidate)."""


class _Unmapped(Exception):
    """The inbox's owner has no Greenhouse user: an admin maps them, then retries."""


def push(sync_id: int, claim_token: str) -> str:
    row = ActivitySync.objects.filter(pk=sync_id, claim_token=claim_token).first()
    if row is None or row.status != ActivitySync.Status.PENDING:
        return "not ours"
    message = sequences_selectors.messages_for_ats([row.message_id])[row.message_id]
    connection = AtsConnection.objects.filter(organization_id=row.organization_id).first()
    if connection is None or not connection.has_credentials:
        return _settle(row, ActivitySync.Status.SKIPPED, "Greenhouse is not connected.")
    if message.prospect.ats_sync_paused:
        return _settle(row, ActivitySync.Status.PAUSED, "Sync is paused for this candidate.")
    harvest = greenhouse.Harvest(credentials_for(connection))
    writing = False
    try:
        acting_user_id = _greenhouse_user_id(harvest, message.mailbox.owner)
        candidate_id = _candidate_id(harvest, connection, message, acting_user_id)
        reference = _reference(message)
        if row.write_started_at is not None:
            landed = _landed(harvest, candidate_id, reference)
            verdict = remote.outcome(
                found=landed is not None,
                recorded_at=row.write_started_at,
                window=greenhouse.write_window(),
                now=clock.now(),
            )
            if verdict is remote.Outcome.LANDED and landed is not None:
                return _synced(row, candidate_id, landed)
            if verdict is remote.Outcome.MAY_STILL_LAND:
                settled = greenhouse.write_window().settled_at(row.write_started_at)
                _wait(
                    row,
                    settled - clock.now(),
                    "Greenhouse's answer to the last write was lost and the note is not in the "
                    "activity feed yet; looking again once it could no longer arrive.",
                )
                return WAITING
        body = _body(message, reference)
        ActivitySync.objects.filter(pk=row.pk).update(write_started_at=clock.now())
        writing = True
        remote_id = harvest.write_email(
            candidate_id,
            acting_user_id=acting_user_id,
            sender=message.from_address or message.mailbox.email,
            to=message.to_address or message.prospect.email,
            subject=message.subject,
            body=body,
            visibility=_visibility(connection, message),
        )
    except _Skip as skip:
        return _settle(row, ActivitySync.Status.SKIPPED, str(skip))
    except _Unmapped as unmapped:
        return _settle(row, ActivitySync.Status.FAILED, str(unmapped))
    except greenhouse.RateLimited as error:
        # Refused before anything was written: a write refused so did not land either.
        _wait(row, timedelta(seconds=error.retry_after), str(error), write_settled=writing)
        return RATE_LIMITED
    except greenhouse.Unavailable as error:
        return _retry_later(row, str(error), write_settled=writing and not error.may_have_landed)
    except greenhouse.GreenhouseError as error:
        # A refusal: nothing was written, and trying again will not change the answer.
        return _settle(row, ActivitySync.Status.FAILED, str(error), write_settled=writing)
    return _synced(row, candidate_id, remote_id)


def credentials_for(connection: AtsConnection) -> greenhouse.Credentials:
    return greenhouse.Credentials(
        api=connection.api,
        budget_key=f"org:{connection.organization_id}",
        client_id=connection.client_id,
        client_secret=connection.client_secret,
        api_key=connection.api_key,
    )


def _greenhouse_user_id(harvest: greenhouse.Harvest, user) -> int:
    """The Greenhouse user whose name the note goes under: the admin's mapping, or the one
    found by the user's email (remembered)."""
    mapping = UserMapping.objects.filter(user=user).first()
    if mapping is not None and mapping.greenhouse_user_id:
        return mapping.greenhouse_user_id
    if mapping is None or mapping.source == UserMapping.Source.EMAIL:
        found = harvest.find_user(user.email)
        UserMapping.objects.update_or_create(
            user=user,
            defaults={
                "organization_id": user.organization_id,
                "greenhouse_user_id": found.id if found else None,
                "source": UserMapping.Source.EMAIL,
                "checked_at": clock.now(),
            },
        )
        if found is not None:
            return found.id
    raise _Unmapped(
        f"{user.full_name} ({user.email}) has no Greenhouse user: map them in the ATS settings, "
        "then retry."
    )


def _candidate_id(harvest, connection: AtsConnection, message: Message, acting_user_id) -> int:
    prospect = message.prospect
    if prospect.ats_candidate_id:
        return int(prospect.ats_candidate_id)
    candidate = harvest.find_candidate(prospect.email)
    if candidate is None:
        if connection.when_candidate_missing != AtsConnection.WhenCandidateMissing.CREATE_PROSPECT:
            raise _Skip(f"No Greenhouse candidate has the email {prospect.email}.")
        candidate = harvest.create_prospect(
            acting_user_id=acting_user_id,
            first_name=prospect.first_name or prospect.email.partition("@")[0],
            last_name=prospect.last_name or "-",
            email=prospect.email,
            company=prospect.company,
            title=prospect.title,
        )
    sequences.remember_ats_candidate(prospect_id=prospect.pk, candidate_id=str(candidate.id))
    return candidate.id


def _reference(message: Message) -> str:
    """Written at the end of every note: how a retry recognizes a note already written."""
    return f"outreach ref m{message.pk}"


def _landed(harvest, candidate_id: int, reference: str) -> str | None:
    for activity in harvest.activities(candidate_id):
        if reference in activity.body:
            return activity.id
    return None


def _body(message: Message, reference: str) -> str:
    lines = []
    owner, sender = message.mailbox.owner, message.sent_by
    if sender is not None and sender.pk != owner.pk:
        lines.append(f"Sent by {sender.full_name} on behalf of {owner.full_name}.\n")
    lines.append(sequences_selectors.conversation_text(message) or "(no text)")
    lines.append(f"\n--\n{reference}")
    return "\n".join(lines)


def _visibility(connection: AtsConnection, message: Message) -> str:
    enrollment = message.enrollment
    if enrollment is not None and enrollment.sequence.visibility == SequenceVisibility.CONFIDENTIAL:
        return Visibility.ADMIN_ONLY
    return connection.visibility


def _synced(row: ActivitySync, candidate_id: int, remote_id: str) -> str:
    ActivitySync.objects.filter(pk=row.pk).update(
        status=ActivitySync.Status.SYNCED,
        candidate_id=candidate_id,
        remote_id=str(remote_id),
        write_started_at=None,
        last_error="",
        synced_at=clock.now(),
        claim_token="",
        claimed_until=None,
    )
    return PUSHED


# `write_settled`: the write this attempt made is known not to have landed (Greenhouse refused
# it, or it never reached Greenhouse), so the next attempt need not look for it.


def _settle(row: ActivitySync, status: str, error: str, *, write_settled: bool = False) -> str:
    changes = {"status": status, "last_error": error, "claim_token": "", "claimed_until": None}
    if write_settled:
        changes["write_started_at"] = None
    ActivitySync.objects.filter(pk=row.pk).update(**changes)
    return status


def _wait(row: ActivitySync, delay: timedelta, error: str, *, write_settled: bool = False) -> None:
    changes = {
        "next_attempt_at": clock.now() + delay,
        "last_error": error,
        "claim_token": "",
        "claimed_until": None,
    }
    if write_settled:
        changes["write_started_at"] = None
    ActivitySync.objects.filter(pk=row.pk).update(**changes)


def _retry_later(row: ActivitySync, error: str, *, write_settled: bool = False) -> str:
    attempts = row.attempts + 1
    delay = backoff(attempts, cap=MAX_BACKOFF)
    ActivitySync.objects.filter(pk=row.pk).update(attempts=attempts)
    _wait(row, delay, f"{error} Retrying (attempt {attempts + 1}).", write_settled=write_settled)
    return WAITING


# What admins and recruiters do -----------------------------------------------------------------


def retry(*, organization_id: int, ids: Iterable[int]) -> int:
    """Failed or skipped rows (once their cause is fixed) go back in the queue."""
    return ActivitySync.objects.filter(
        organization_id=organization_id,
        pk__in=ids,
        status__in=[ActivitySync.Status.FAILED, ActivitySync.Status.SKIPPED],
    ).update(
        status=ActivitySync.Status.PENDING,
        next_attempt_at=clock.now(),
        attempts=0,
        last_error="",
    )


@transaction.atomic
def pause_candidate(*, prospect_id: int, organization_id: int) -> bool:
    """Nothing more of this prospect's is written to Greenhouse until resumed."""
    changed = sequences.set_ats_sync_paused(prospect_id=prospect_id, paused=True)
    ActivitySync.objects.filter(
        organization_id=organization_id,
        message__prospect_id=prospect_id,
        status=ActivitySync.Status.PENDING,
    ).update(status=ActivitySync.Status.PAUSED, last_error="Sync is paused for this candidate.")
    return changed


@transaction.atomic
def resume_candidate(*, prospect_id: int, organization_id: int) -> bool:
    """What was held while paused is written now, and what comes later too."""
    changed = sequences.set_ats_sync_paused(prospect_id=prospect_id, paused=False)
    ActivitySync.objects.filter(
        organization_id=organization_id,
        message__prospect_id=prospect_id,
        status=ActivitySync.Status.PAUSED,
    ).update(status=ActivitySync.Status.PENDING, next_attempt_at=clock.now(), last_error="")
    return changed


# The notice in the sender's thread, and its pause link --------------------------------------------


def pause_link(notice: ThreadNotice) -> str:
    token = signing.TimestampSigner(salt=PAUSE_SALT).sign_object({"notice": notice.pk})
    return absolute_url(reverse("ats_sync:pause", args=[token]))


def notice_for_link(token: str) -> ThreadNotice | None:
    """The notice whose pause link this is, if the link is genuine and not expired."""
    try:
        data = signing.TimestampSigner(salt=PAUSE_SALT).unsign_object(
            token, max_age=PAUSE_LINK_MAX_AGE
        )
    except signing.BadSignature:
        return None
    return ThreadNotice.objects.select_related("prospect").filter(pk=data.get("notice")).first()


@transaction.atomic
def pause_from_link(notice: ThreadNotice) -> bool:
    """Pauses sync for the notice's candidate; a link works once (False the second time)."""
    used = ThreadNotice.objects.filter(pk=notice.pk, pause_used_at__isnull=True).update(
        pause_used_at=clock.now()
    )
    if not used:
        return False
    pause_candidate(prospect_id=notice.prospect_id, organization_id=notice.organization_id)
    return True


def place_notice(notice_id: int) -> bool:
    """Files the notice in the sender's copy of the thread (Gmail insert: nothing is sent)."""
    notice = ThreadNotice.objects.select_related("mailbox__owner", "prospect").get(pk=notice_id)
    if notice.placed_at is not None:
        return False
    thread = sequences_selectors.thread_messages(notice.mailbox_id, notice.gmail_thread_id)
    if not thread:
        return False
    mailbox = notice.mailbox
    email = MIMEText(_notice_text(notice), "plain", "utf-8")
    # Through mail_headers: a line break in the display name or in the thread's subject (which
    # may be the prospect's) would start a header of its own or make the notice unplaceable.
    email["From"] = mail_headers.address(
        mailbox.display_name or mailbox.owner.full_name, mailbox.email
    )
    email["To"] = mail_headers.address("", mailbox.email)
    subject = mail_headers.header_text(thread[0].subject)
    email["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    references = [
        mail_headers.header_text(m.rfc822_message_id) for m in thread if m.rfc822_message_id
    ]
    if references:
        # Gmail threads an inserted message only when it references one of the thread's.
        email["In-Reply-To"] = references[-1]
        email["References"] = " ".join(references)
    email["Message-ID"] = make_msgid(domain=mailbox.email.partition("@")[2])
    email["Date"] = format_datetime(clock.now())
    email[NOTICE_HEADER] = "ats-sync"
    try:
        client = senders.client_for(mailbox)
        if not client.capabilities.inserts_messages:
            return False  # a provider that cannot file a message gets no notice
        placed = client.insert(
            email.as_bytes(), thread_id=notice.gmail_thread_id, label_ids=(mail.INBOX,)
        )
    except mail.MailError as error:
        ThreadNotice.objects.filter(pk=notice.pk).update(last_error=str(error))
        log.warning("could not place the ATS sync notice: %s", error, extra={"notice": notice.pk})
        return False
    ThreadNotice.objects.filter(pk=notice.pk).update(
        gmail_message_id=placed.id, placed_at=clock.now(), last_error=""
    )
    return True


def _notice_text(notice: ThreadNotice) -> str:
    prospect = notice.prospect
    return (
        f"This conversation with {prospect.email} is being written to Greenhouse "
        "(the candidate's activity feed), message by message.\n\n"
        "Only you can see this note: it was filed in your mailbox, not sent.\n\n"
        f"To stop syncing this candidate's emails, open: {pause_link(notice)}\n"
    )
