"""Benchmark of the Outreach stats page (not part of CI).

    DATABASE_URL=postgres://... .venv/bin/python bench/stats.py --messages 100000

Creates a scratch database, fills one organization with `--messages` sent sequence emails
(bulk_create) across 20 sequences and 50 senders over the last 30 days, with replies (and their
sentiment), bounces, unsubscribes, opens (some automated) and clicks, then GETs the stats page
with the Django test client, warm, for each grouping, and prints JSON: the median of 5 requests
of the default page, the SQL queries it made, and each grouping's median apart.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

SEQUENCES, SENDERS, STAGES = 20, 50, 4
RUNS = 5


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


def generate(messages: int, rng: random.Random):
    """One organization with `messages` sent sequence emails; returns an admin of it."""
    from django.db import connection

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
    stages_of = {s.pk: [st for st in stages if st.sequence_id == s.pk] for s in sequences}

    # Enrollments that got 1 to 4 stages, until `messages` emails are planned.
    plans, planned = [], 0
    while planned < messages:
        count = min(rng.randint(1, STAGES), messages - planned)
        plans.append(count)
        planned += count
    prospects = Prospect.objects.bulk_create(
        (Prospect(organization=org, email=f"p{n}@candidates.example") for n in range(len(plans))),
        batch_size=5000,
    )
    enrollments, outbound = [], []
    for prospect, count in zip(prospects, plans, strict=True):
        sequence = rng.choice(sequences)
        sender = rng.randrange(SENDERS)
        # One in ten sends on behalf of a teammate.
        mailbox = mailboxes[sender if rng.random() > 0.1 else rng.randrange(SENDERS)]
        first = now - timedelta(days=30) + timedelta(seconds=rng.randrange(26 * 86400))
        roll = rng.random()
        status, replied_at, sentiment = Enrollment.Status.FINISHED, None, ""
        if roll < 0.08:
            status, replied_at = Enrollment.Status.REPLIED, first + timedelta(days=count * 3)
            sentiment = rng.choice([Sentiment.INTERESTED, Sentiment.NOT_INTERESTED, ""])
        elif roll < 0.11:
            status = Enrollment.Status.BOUNCED
        elif roll < 0.12:
            status = Enrollment.Status.UNSUBSCRIBED
        elif count < STAGES:
            status = Enrollment.Status.ACTIVE
        enrollments.append(
            Enrollment(
                organization=org,
                sequence=sequence,
                prospect=prospect,
                mailbox=mailbox,
                enrolled_by=users[sender],
                status=status,
                replied_at=replied_at,
                sentiment=sentiment,
            )
        )
        for position in range(count):
            sent_at = min(first + timedelta(days=position, minutes=rng.randrange(600)), now)
            outbound.append((len(enrollments) - 1, stages_of[sequence.pk][position], sent_at))
    Enrollment.objects.bulk_create(enrollments, batch_size=5000)
    rows = []
    for index, stage, sent_at in outbound:
        enrollment = enrollments[index]
        rows.append(
            Message(
                organization=org,
                prospect_id=enrollment.prospect_id,
                enrollment=enrollment,
                stage=stage,
                mailbox=enrollment.mailbox,
                sent_by=enrollment.enrolled_by,
                direction=Message.Direction.OUTBOUND,
                status=Message.Status.SENT,
                from_address=enrollment.mailbox.email,
                to_address="p@candidates.example",
                subject=stage.subject,
                created_at=sent_at,
                sent_at=sent_at,
            )
        )
    for enrollment in enrollments:
        kind = {
            Enrollment.Status.REPLIED: Message.InboundKind.REPLY,
            Enrollment.Status.BOUNCED: Message.InboundKind.BOUNCE,
        }.get(enrollment.status)
        if kind:
            rows.append(
                Message(
                    organization=org,
                    prospect_id=enrollment.prospect_id,
                    enrollment=enrollment,
                    mailbox=enrollment.mailbox,
                    direction=Message.Direction.INBOUND,
                    inbound_kind=kind,
                    from_address="p@candidates.example",
                    to_address=enrollment.mailbox.email,
                    sent_at=enrollment.replied_at or now,
                )
            )
    Message.objects.bulk_create(rows, batch_size=5000)
    sequence_of = {s.pk: s for s in sequences}
    events = []
    for message in rows[: len(outbound)]:
        sequence = sequence_of[message.stage.sequence_id]
        if sequence.track_opens:
            if rng.random() < 0.15:
                events.append(TrackingEvent(message=message, kind="open", automated=True))
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                events.append(TrackingEvent(message=message, kind="open"))
        if sequence.track_clicks and rng.random() < 0.08:
            events.append(TrackingEvent(message=message, kind="click", url="https://x.example/"))
            if rng.random() < 0.2:
                events.append(
                    TrackingEvent(
                        message=message, kind="click", url="https://x.example/", automated=True
                    )
                )
    TrackingEvent.objects.bulk_create(events, batch_size=5000)
    # What autovacuum does on a live database after a load: statistics and the visibility map.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return admin, len(rows), len(events)


def run(args) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    admin, total_messages, events = generate(args.messages, random.Random(7))
    client = Client()
    client.force_login(admin)
    timings = {}
    queries = None
    for group in ("sequence", "stage", "sender", "recruiter"):
        url = f"/stats/?group={group}"
        assert client.get(url).status_code == 200  # warm: templates, connection, caches
        samples = []
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        timings[group] = round(statistics.median(samples), 1)
        if group == "sequence":
            queries = len(captured.captured_queries)
    csv_samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        assert client.get("/stats/export.csv?group=stage").status_code == 200
        csv_samples.append((time.perf_counter() - started) * 1000)
    return {
        "messages": args.messages,
        "all_message_rows": total_messages,
        "tracking_events": events,
        "median_ms": timings["sequence"],
        "queries": queries,
        "median_ms_by_group": timings,
        "csv_median_ms": round(statistics.median(csv_samples), 1),
    }


if __name__ == "__main__":
    main()
