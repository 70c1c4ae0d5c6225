"""Claims: which worker may send an enrollment's current stage, until when. A claim is a lease
(token, until) written under `select_for_update(skip_locked=True)`; only the holder of the current
token may write, checked under the enrollment's row lock, so a lease taken over from a worker
thought dead stops its old holder at its next write."""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef, Subquery

from outreach import clock, workers
from outreach.backoff import backoff
from outreach.compiled import CompiledQuery

from .. import (
    dnc_match,
    locks,
)
from ..models import Enrollment, Message, Stage
from .skip import Skip

log = logging.getLogger(__name__)


# What outreach.workers calls an enrollment's claim.
CLAIM_KIND = "enrollment"


LAST_TICK_KEY = "sequences:dispatch:last_tick"


BATCH = 200


MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class Claim:
    """Enrollments claimed together, each to be sent by whoever holds `token`."""

    enrollment_ids: list[int]
    token: str


def claim_due(batch: int = BATCH) -> Claim:
    """Claims up to `batch` due enrollments, committed when this returns (tasks.py hands each
    to a send task). Safe to run from several beats or dispatchers at once: rows another one
    holds are skipped."""
    now = clock.now()
    cache.set(LAST_TICK_KEY, now.isoformat(), timeout=None)
    # The claims of a worker known dead end now, to be claimed again below.
    workers.take_over(CLAIM_KIND, Enrollment, now)
    with transaction.atomic():
        due = locks.due_enrollments(now, batch)
        # One token for the batch: a later claim of any of these rows gets a new one.
        token = secrets.token_hex(8)
        Enrollment.objects.filter(pk__in=due).update(
            claim_token=token, claimed_until=now + timedelta(seconds=settings.CLAIM_LEASE_SECONDS)
        )
    return Claim(due, token)


def give_back(enrollment_id: int, claim_token: str) -> None:
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


# What a send reads of the enrollment and its relations: loading only these keeps the one query
# a send starts with cheap.
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
    "mailbox__signature_html",
    "mailbox__status",
    "mailbox__scopes",
    "mailbox__connected_at",
    # Read with the claim, not in a query of its own when a worker first meets the mailbox.
    "mailbox__refresh_token",
    # Where the reconciliation of a lost answer starts reading Sent (engine.send).
    "mailbox__history_id",
    "mailbox__last_synced_at",
    "mailbox__owner__full_name",
    "mailbox__owner__is_active",
    "alias__email",
    "alias__display_name",
    "current_stage__sequence_id",
    "current_stage__position",
    "current_stage__kind",
    "current_stage__subject",
    "current_stage__body_html",
    "current_stage__include_signature",
    "current_stage__threading",
    "enrolled_by__organization_id",
    "enrolled_by__full_name",
    "enrolled_by__is_active",
)


def _next_stage(field: str) -> Subquery:
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
            on_do_not_contact_list=dnc_match.listed_expression(),
        )
        .only(*CLAIM_FIELDS)
        .filter(pk=pk)
    ),
    int,
)


if TYPE_CHECKING:

    class ClaimedEnrollment(Enrollment):
        """An Enrollment as the claim query loads it, its annotations typed."""

        # The stage's email left `sending` by an earlier attempt, if any.
        pending_id: int | None
        has_sent: bool
        next_stage_id: int | None
        on_do_not_contact_list: bool

else:
    ClaimedEnrollment = Enrollment


def claimed(enrollment_id: int, claim_token: str) -> ClaimedEnrollment:
    """The enrollment with all a send needs, in one query."""
    enrollment: ClaimedEnrollment | None = _CLAIMED.first(enrollment_id)
    if enrollment is None or enrollment.claim_token != claim_token:
        raise Skip("not our claim")
    if enrollment.claimed_until is None or enrollment.claimed_until < clock.now():
        raise Skip("claim expired")
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise Skip(f"enrollment is {enrollment.status}")
    if enrollment.current_stage is None or enrollment.current_stage.kind != Stage.Kind.EMAIL:
        raise Skip("no email stage due")
    return enrollment
