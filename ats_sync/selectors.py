"""Reads for the sync log, the prospect page's Greenhouse panel and the admin. Each is a fixed
number of queries, whatever the number of rows."""

from collections.abc import Iterable
from typing import TypedDict

from django.db.models import Count, QuerySet

from outreach.models import User
from outreach.tenancy import scope_to_user
from sequences import selectors as sequences_selectors
from sequences.models import Prospect

from .models import ActivitySync, AtsConnection

Status = ActivitySync.Status

# What the sync log shows unless asked otherwise: what needs someone's attention.
NEEDS_ATTENTION = (Status.FAILED, Status.SKIPPED)
# The order the counts are shown in.
COUNTED = (Status.SYNCED, Status.PENDING, Status.FAILED, Status.SKIPPED, Status.PAUSED)
PANEL_LIMIT = 50


def status_counts(rows: QuerySet[ActivitySync]) -> dict[str, int]:
    """How many of `rows` (already scoped) are in each status, every status present: one
    query."""
    found = dict(
        rows.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {status.value: found.get(status.value, 0) for status in COUNTED}


def team_status_counts(user: User) -> dict[str, int]:
    return status_counts(scope_to_user(ActivitySync, user))


def chosen_statuses(values: Iterable[str]) -> list[str]:
    """The statuses asked for in the log's filter (unknown ones dropped); the rows that need
    attention when none is asked for."""
    chosen = [value for value in dict.fromkeys(values) if value in Status.values]
    return chosen or [status.value for status in NEEDS_ATTENTION]


def log_rows(user: User, *, statuses: Iterable[str]) -> QuerySet[ActivitySync]:
    """The team's outbox rows in these statuses, newest first, with the message and prospect
    each row shows (joined: one query per page)."""
    return (
        scope_to_user(ActivitySync, user)
        .filter(status__in=list(statuses))
        .select_related("message__prospect")
        .order_by("-created_at", "-pk")
    )


class ProspectPanel(TypedDict):
    prospect: Prospect
    paused: bool
    candidate_id: str
    sync_on: bool
    syncs: list[ActivitySync]
    more: bool


def prospect_panel(user: User, prospect: Prospect) -> ProspectPanel:
    """What the prospect page says about Greenhouse: paused or not, the candidate's id, whether
    the team writes its conversations there at all, and the sync of each message `user` may
    see (one of a confidential sequence they may not see is left out, as on the rest of the
    page). Two queries."""
    visible = sequences_selectors.visible_messages(user).filter(prospect_id=prospect.pk)
    syncs = list(
        scope_to_user(ActivitySync, user)
        .filter(message__in=visible.values("pk"))
        .select_related("message")
        .order_by("-message__created_at", "-pk")[: PANEL_LIMIT + 1]
    )
    return {
        "prospect": prospect,
        "paused": prospect.ats_sync_paused,
        "candidate_id": prospect.ats_candidate_id,
        "sync_on": scope_to_user(AtsConnection, user).filter(auto_sync=True).exists(),
        "syncs": syncs[:PANEL_LIMIT],
        "more": len(syncs) > PANEL_LIMIT,
    }
