"""Benchmark of the Outreach stats page on its rollups (not part of CI).

    DATABASE_URL=postgres://... .venv/bin/python bench/stats.py --messages 1000000

Creates a scratch database and fills one organization with `--messages` sent sequence emails
(COPY, the database's triggers off while loading, as a restore would) across 20 sequences of 4
stages and 60 senders over the last year, with replies (and their sentiment), bounces,
unsubscribes, opens (some automated) and clicks. Then times the rollup build (the
`rebuild_stats` command) and GETs the stats page with the Django test client, warm, for each
grouping, over the default 30 days and over the year, and prints JSON: medians of 5 requests,
the SQL queries of one, the setup's phases.
"""

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

SEQUENCES, SENDERS, STAGES = 20, 60, 4
DAYS = 365
RUNS = 5
CHUNK = 200_000  # rows per COPY


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()

    os.environ.update({"DJANGO_SETTINGS_MODULE": "tests.settings", "LOG_LEVEL": "WARNING"})
    # Static files are served from the source folders here, as in the tests.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment()  # what the test client needs: ALLOWED_HOSTS with "testserver"
    old = setup_databases(verbosity=0, interactive=False)
    try:
        print(json.dumps(run(args)))
    finally:
        teardown_databases(old, verbosity=0)
        teardown_test_environment()


def _text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


class Copier:
    """COPY of many rows of one model: each row is the model's defaults (as an unsaved instance
    has them) with the columns given per row; the ids are the caller's."""

    def __init__(self, model, varying: tuple[str, ...], **fixed):
        from django.db import connection

        self.connection = connection
        instance = model(**fixed)
        columns = [f for f in model._meta.concrete_fields]
        self.table = model._meta.db_table
        self.names = [f.column for f in columns]
        defaults = {}
        for field in columns:
            value = getattr(instance, field.attname)
            if field.get_internal_type() == "JSONField" or isinstance(value, bool | datetime):
                defaults[field.column] = _text(value)
            else:
                defaults[field.column] = _text(field.get_db_prep_save(value, connection))
        self.template = [defaults[name] for name in self.names]
        self.slots = [self.names.index(name) for name in varying]
        self.buffer: list[str] = []
        self.rows = 0

    def add(self, *values) -> None:
        row = list(self.template)
        for slot, value in zip(self.slots, values, strict=True):
            row[slot] = _text(value)
        self.buffer.append("\t".join(row))
        if len(self.buffer) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        data = io.StringIO("\n".join(self.buffer) + "\n")
        with self.connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {self.table} ({', '.join(self.names)}) FROM STDIN", data
            )
        self.rows += len(self.buffer)
        self.buffer = []

    def done(self) -> int:
        self.flush()
        with self.connection.cursor() as cursor:
            # The table name is the model's, not input.
            last = f"SELECT max(id) FROM {self.table}"  # noqa: S608
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({last}))", [self.table]
            )
        return self.rows


def generate(messages: int, rng: random.Random) -> tuple:
    """One organization with `messages` sent sequence emails; returns an admin of it and what
    was written."""
    from django.db import connection, transaction

    from outreach import clock
    from outreach.models import Role
    from senders.models import Mailbox
    from sequences.models import (
        Enrollment,
        Message,
        Prospect,
        Sentiment,
        Sequence,
        Stage,
        TrackingEvent,
        Visibility,
    )
    from tests.factories import OrganizationFactory, UserFactory

    now = clock.now()
    org = OrganizationFactory(seats=SENDERS + 5)
    admin = UserFactory(organization=org, role=Role.ADMIN, email=f"admin@{org.slug}.example")
    users = [
        UserFactory(organization=org, email=f"sender{n}@{org.slug}.example") for n in range(SENDERS)
    ]
    mailboxes = Mailbox.objects.bulk_create(
        Mailbox(organization=org, owner=user, email=user.email) for user in users
    )
    sequences = Sequence.objects.bulk_create(
        Sequence(
            organization=org,
            owner=users[n],
            name=f"Sequence {n}",
            visibility=Visibility.CONFIDENTIAL if n % 7 == 0 else Visibility.SHARED,
            track_opens=n % 4 != 0,
            track_clicks=n % 2 == 0,
        )
        for n in range(SEQUENCES)
    )
    stages = Stage.objects.bulk_create(
        Stage(sequence=sequence, position=position, subject=f"Stage {position}")
        for sequence in sequences
        for position in range(STAGES)
    )
    stages_of = {s.pk: [st.pk for st in stages if st.sequence_id == s.pk] for s in sequences}

    prospects = Copier(Prospect, ("id", "email"), organization=org)
    enrollments = Copier(
        Enrollment,
        (
            "id",
            "sequence_id",
            "prospect_id",
            "mailbox_id",
            "enrolled_by_id",
            "status",
            "replied_at",
            "sentiment",
        ),
        organization=org,
    )
    varying = ("id", "prospect_id", "enrollment_id", "stage_id", "mailbox_id", "sent_by_id")
    outbound = Copier(
        Message,
        (*varying, "from_address", "created_at", "sent_at"),
        organization=org,
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.SENT,
        to_address="p@candidates.example",
        subject="Hello",
    )
    inbound = Copier(
        Message,
        ("id", "prospect_id", "enrollment_id", "mailbox_id", "inbound_kind", "to_address"),
        organization=org,
        direction=Message.Direction.INBOUND,
        from_address="p@candidates.example",
        sent_at=now,
    )
    events = Copier(
        TrackingEvent, ("id", "message_id", "kind", "automated", "url"), kind="open", at=now
    )
    message_id = event_id = 0
    planned = enrollment_id = 0
    ends = []
    started = time.perf_counter()
    # A restore: the rollups are built afterwards, by the command, not by the triggers.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        while planned < messages:
            count = min(rng.randint(1, STAGES), messages - planned)
            planned += count
            enrollment_id += 1
            sequence = sequences[rng.randrange(SEQUENCES)]
            sender = rng.randrange(SENDERS)
            # One in ten sends on behalf of a teammate.
            mailbox = mailboxes[sender if rng.random() > 0.1 else rng.randrange(SENDERS)]
            first = now - timedelta(seconds=rng.randrange(DAYS * 86400))
            roll = rng.random()
            status, replied_at, sentiment = Enrollment.Status.FINISHED, None, ""
            if roll < 0.08:
                status, replied_at = Enrollment.Status.REPLIED, first + timedelta(days=count)
                sentiment = rng.choice([Sentiment.INTERESTED, Sentiment.NOT_INTERESTED, ""])
                ends.append((enrollment_id, Message.InboundKind.REPLY, mailbox))
            elif roll < 0.11:
                status = Enrollment.Status.BOUNCED
                ends.append((enrollment_id, Message.InboundKind.BOUNCE, mailbox))
            elif roll < 0.12:
                status = Enrollment.Status.UNSUBSCRIBED
            elif count < STAGES:
                status = Enrollment.Status.ACTIVE
            prospects.add(enrollment_id, f"p{enrollment_id}@candidates.example")
            enrollments.add(
                enrollment_id,
                sequence.pk,
                enrollment_id,
                mailbox.pk,
                users[sender].pk,
                status,
                replied_at,
                sentiment,
            )
            for position in range(count):
                message_id += 1
                sent_at = min(first + timedelta(days=position, minutes=rng.randrange(600)), now)
                outbound.add(
                    message_id,
                    enrollment_id,
                    enrollment_id,
                    stages_of[sequence.pk][position],
                    mailbox.pk,
                    users[sender].pk,
                    mailbox.email,
                    sent_at,
                    sent_at,
                )
                if sequence.track_opens:
                    opens = rng.choice([0, 0, 1, 1, 2, 3])
                    for automated in [True] * (rng.random() < 0.15) + [False] * opens:
                        event_id += 1
                        events.add(event_id, message_id, "open", automated, "")
                if sequence.track_clicks and rng.random() < 0.08:
                    for automated in [False] + [True] * (rng.random() < 0.2):
                        event_id += 1
                        events.add(event_id, message_id, "click", automated, "https://x.example/")
        prospects.done()
        enrollments.done()
        outbound.flush()
        for enrollment, kind, mailbox in ends:
            message_id += 1
            inbound.add(message_id, enrollment, enrollment, mailbox.pk, kind, mailbox.email)
        outbound.done()
        inbound.done()
        events.done()
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    # What autovacuum does on a live database after a load: statistics and the visibility map.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return (
        org,
        admin,
        {
            "enrollments": enrollments.rows,
            "all_message_rows": outbound.rows + inbound.rows,
            "tracking_events": events.rows,
            "load_s": round(loaded, 1),
            "vacuum_analyze_s": round(time.perf_counter() - started, 1),
        },
    )


def page_medians(client, params: dict) -> tuple[dict, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries = {}, 0
    for group in ("sequence", "stage", "sender", "recruiter"):
        assert client.get("/stats/", {**params, "group": group}).status_code == 200  # warm
        samples = []
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get("/stats/", {**params, "group": group})
                samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        timings[group] = round(statistics.median(samples), 1)
        queries = len(captured.captured_queries)
    return timings, queries


def run(args) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from outreach import clock
    from sequences.models import StatsRollup

    org, admin, written = generate(args.messages, random.Random(7))
    started = time.perf_counter()
    call_command("rebuild_stats", organization=org.slug, stdout=io.StringIO())
    rebuild_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sequences_statsrollup")
    client = Client()
    client.force_login(admin)
    today = clock.now().date()
    month, month_queries = page_medians(client, {})
    year, _ = page_medians(
        client, {"start": str(today - timedelta(days=DAYS - 1)), "end": str(today)}
    )
    return {
        "messages": args.messages,
        **written,
        "rollup_rows": StatsRollup.objects.filter(organization=org).count(),
        "rebuild_s": round(rebuild_s, 1),
        "median_ms": month["sequence"],
        "queries": month_queries,
        "median_ms_by_group_30_days": month,
        "median_ms_by_group_365_days": year,
    }


if __name__ == "__main__":
    main()
