"""The stats rollups (StatsRollup): the stats page's figures per UTC day x sequence x stage x
sender x recruiter, so that the page reads a few thousand rows whatever the number of emails.

How they stay exact: the database's triggers (migration 0012) mark each (organization, day) a
change touches dirty, in the changing transaction, whatever made it (a send, a reply, a bulk
update, a cascaded delete). `refresh` recomputes an organization's dirty days from the raw rows
with the definitions of sequences/stats.py, replacing those days' rollups; the stats page runs
it over its range before reading, and the beat task `refresh_stats` over every dirty day, so
the page seldom has any left to do. `rebuild` recomputes an organization from scratch (the
`rebuild_stats` command).

Two recomputes of one organization never overlap: each takes the organization's advisory lock
first (a transaction lock, released at its end), so each statement after it sees what the
previous one committed, and a day is never replaced twice at once.
"""

from datetime import date

from django.db import connection, transaction

from outreach.models import Organization

from .models import (
    Enrollment,
    Message,
    Sequence,
    StatsDirtyDay,
    StatsMonthRollup,
    StatsRollup,
    TrackingEvent,
)

# The advisory lock's first key (the second is the organization): "stats" in ASCII.
LOCK_SPACE = 0x73746174

TABLES = {
    "enrollment": Enrollment._meta.db_table,
    "message": Message._meta.db_table,
    "sequence": Sequence._meta.db_table,
    "event": TrackingEvent._meta.db_table,
    "rollup": StatsRollup._meta.db_table,
    "month": StatsMonthRollup._meta.db_table,
    "dirty": StatsDirtyDay._meta.db_table,
}

COUNTERS = (
    "sent",
    "bounced",
    "open_evented",
    "opened",
    "click_evented",
    "clicked",
    "replied",
    "interested",
    "unsubscribed",
)

# `days`: the days to recompute (claimed dirty days, or every day of a rebuild). `m`: their sent
# sequence emails. `ev`: each one's tracking flags. `ended` and `outcome`: as in stats.py, for
# the enrollments of those emails only: the last email each ended one sent, and how it ended.
# `cleared` drops the days' old rollups, `inserted` writes the new ones (the statement's parts
# share one snapshot: the DELETE never sees the rows the INSERT writes), and the months get the
# difference.
RECOMPUTE = """
WITH {days_cte},
m AS (
    SELECT m.id, m.enrollment_id, d.day, e.sequence_id, m.stage_id, m.mailbox_id, m.sent_by_id
    FROM days d
    JOIN {message} m ON m.organization_id = %(org)s
        AND m.direction = 'outbound' AND m.status = 'sent'
        AND m.sent_at >= d.day::timestamp AT TIME ZONE 'UTC'
        AND m.sent_at < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
    JOIN {enrollment} e ON e.id = m.enrollment_id
    JOIN {sequence} s ON s.id = e.sequence_id
    WHERE s.kind = 'sequence'
),
ev AS (
    SELECT t.message_id,
        bool_or(t.kind = 'open') AS open_evented,
        bool_or(t.kind = 'open' AND NOT t.automated) AS opened,
        bool_or(t.kind = 'click') AS click_evented,
        bool_or(t.kind = 'click' AND NOT t.automated) AS clicked
    FROM {event} t
    WHERE t.message_id IN (SELECT id FROM m)
    GROUP BY t.message_id
),
ended AS (
    SELECT x.enrollment_id,
        bool_or(x.kind = 'reply') AS reply_in,
        bool_or(x.kind = 'bounce') AS bounce_in
    FROM (
        SELECT e.id AS enrollment_id, '' AS kind
        FROM {enrollment} e
        WHERE e.id IN (SELECT enrollment_id FROM m)
            AND e.status IN ('replied', 'bounced', 'unsubscribed')
        UNION ALL
        SELECT i.enrollment_id, i.inbound_kind
        FROM {message} i
        WHERE i.organization_id = %(org)s AND i.enrollment_id IN (SELECT enrollment_id FROM m)
            AND i.direction = 'inbound' AND i.inbound_kind IN ('reply', 'bounce')
    ) x
    GROUP BY x.enrollment_id
),
outcome AS (
    SELECT last.id AS message_id,
        e.status = 'replied' OR ended.reply_in AS replied,
        e.sentiment = 'interested' AS interested,
        e.status = 'bounced' OR ended.bounce_in AS bounced,
        e.status = 'unsubscribed' AS unsubscribed
    FROM ended
    JOIN {enrollment} e ON e.id = ended.enrollment_id
    CROSS JOIN LATERAL (
        SELECT l.id FROM {message} l
        WHERE l.enrollment_id = e.id AND l.direction = 'outbound' AND l.status = 'sent'
        ORDER BY l.sent_at DESC, l.id DESC
        LIMIT 1
    ) last
),
cleared AS (
    DELETE FROM {rollup} r
    WHERE r.organization_id = %(org)s AND r.day IN (SELECT day FROM days)
    RETURNING r.*
),
inserted AS (
    INSERT INTO {rollup} (organization_id, day, sequence_id, stage_id, mailbox_id, sent_by_id,
        {counters})
    SELECT %(org)s, m.day, m.sequence_id, m.stage_id, m.mailbox_id, m.sent_by_id,
        count(*),
        count(*) FILTER (WHERE o.bounced),
        count(*) FILTER (WHERE ev.open_evented),
        count(*) FILTER (WHERE ev.opened),
        count(*) FILTER (WHERE ev.click_evented),
        count(*) FILTER (WHERE ev.clicked),
        count(*) FILTER (WHERE o.replied),
        count(*) FILTER (WHERE o.replied AND o.interested),
        count(*) FILTER (WHERE o.unsubscribed)
    FROM m
    LEFT JOIN ev ON ev.message_id = m.id
    LEFT JOIN outcome o ON o.message_id = m.id
    GROUP BY m.day, m.sequence_id, m.stage_id, m.mailbox_id, m.sent_by_id
    RETURNING *
),
change AS (
    SELECT 1 AS sign, * FROM inserted
    UNION ALL
    SELECT -1, * FROM cleared
)
INSERT INTO {month} AS t (organization_id, month, sequence_id, stage_id, mailbox_id,
    sent_by_id, {counters})
SELECT %(org)s, date_trunc('month', c.day)::date, c.sequence_id, c.stage_id, c.mailbox_id,
    c.sent_by_id, {summed}
FROM change c
GROUP BY 2, 3, 4, 5, 6
ON CONFLICT (organization_id, month, sequence_id, stage_id, mailbox_id, sent_by_id)
DO UPDATE SET {added}
"""

# The dirty days of the range, claimed and deleted at once: if the transaction rolls back, they
# are dirty again. Rows another transaction still holds are left to it.
CLAIM = """
DELETE FROM {dirty} WHERE id IN (
    SELECT id FROM {dirty}
    WHERE organization_id = %(org)s AND day IN (
        SELECT DISTINCT day FROM {dirty}
        WHERE organization_id = %(org)s AND day BETWEEN %(start)s AND %(end)s
        ORDER BY day
        LIMIT %(limit)s
    )
    FOR UPDATE SKIP LOCKED
)
RETURNING day
"""

# The days the beat task recomputes per transaction: the organization's lock, for which its
# stats page waits, is held for a few days' recompute, not a year's after a bulk change.
BEAT_DAYS = 7

# The claimed days, as an array the planner can count (a day or two plans index lookups, a
# year hash joins).
CLAIMED_DAYS = "days AS (SELECT DISTINCT unnest(%(days)s::date[]) AS day)"

# Every day from the organization's first sent email to its last.
ALL_DAYS = """
span AS (
    SELECT min(sent_at) AS first, max(sent_at) AS last FROM {message}
    WHERE organization_id = %(org)s AND direction = 'outbound' AND status = 'sent'
),
days AS (
    SELECT generate_series(
        (span.first AT TIME ZONE 'UTC')::date, (span.last AT TIME ZONE 'UTC')::date, '1 day'
    )::date AS day
    FROM span
)
"""


def _lock(organization_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_SPACE, organization_id])


def _try_lock(organization_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_SPACE, organization_id])
        return cursor.fetchone()[0]


def _recompute(days_cte: str, params: dict) -> None:
    sql = RECOMPUTE.format(
        days_cte=days_cte.format(**TABLES),
        counters=", ".join(COUNTERS),
        summed=", ".join(f"sum(c.sign * c.{name})" for name in COUNTERS),
        added=", ".join(f"{name} = t.{name} + excluded.{name}" for name in COUNTERS),
        **TABLES,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _refresh_claimed(organization_id: int, start: date, end: date, limit: int | None = None) -> int:
    """Under the organization's lock: so a recompute in progress is waited for, not skipped.
    Returns how many days it recomputed (the first `limit` dirty ones; None: all)."""
    with connection.cursor() as cursor:
        cursor.execute(
            CLAIM.format(**TABLES),
            {"org": organization_id, "start": start, "end": end, "limit": limit},
        )
        days = sorted({day for (day,) in cursor.fetchall()})
    if days:
        _recompute(CLAIMED_DAYS, {"org": organization_id, "days": days})
    return len(days)


def refresh(organization_id: int, *, start: date = date.min, end: date = date.max) -> None:
    """Recompute the organization's dirty days from `start` to `end`: two queries if none
    is dirty, three however many are. Waits for a recompute of the organization running."""
    with transaction.atomic(savepoint=False):
        _lock(organization_id)
        _refresh_claimed(organization_id, start, end)


def refresh_dirty() -> int:
    """Recompute every organization's dirty days (the beat task), BEAT_DAYS per transaction;
    an organization being recomputed already (by its stats page) is left to the next run.
    Returns how many days were recomputed."""
    refreshed = 0
    organizations = (
        StatsDirtyDay.objects.order_by().values_list("organization_id", flat=True).distinct()
    )
    for organization_id in list(organizations):
        while True:
            with transaction.atomic():
                if not _try_lock(organization_id):
                    break
                done = _refresh_claimed(organization_id, date.min, date.max, BEAT_DAYS)
            if not done:
                break
            refreshed += done
    return refreshed


def rebuild(organization: Organization) -> int:
    """Replace all the organization's rollups by a recount from the raw rows; returns how
    many rollup rows it has now."""
    with transaction.atomic():
        _lock(organization.pk)
        StatsDirtyDay.objects.filter(organization=organization).delete()
        StatsRollup.objects.filter(organization=organization).delete()
        StatsMonthRollup.objects.filter(organization=organization).delete()
        _recompute(ALL_DAYS, {"org": organization.pk})
        return StatsRollup.objects.filter(organization=organization).count()
