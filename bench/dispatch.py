"""Benchmark of the sending engine against the sandbox's Gmail (not part of CI).

    .venv/bin/python bench/dispatch.py --enrollments 1000 --mailboxes 100

Creates a scratch database, serves the sandbox from a separate process (so its CPU is not
counted as ours), connects the mailboxes through the real OAuth flow, enrolls the prospects,
then runs the dispatcher and the send tasks inline in this process, and prints JSON: enrollments
dispatched per second, SQL queries and CPU milliseconds per sent message outside the Gmail
calls, and the Gmail round trips apart. Caps and spacing are off, jitter is zero.
"""

import argparse
import json
import time

from common import Meter, connected_mailbox, scratch_with_sandbox


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enrollments", type=int, default=1000)
    parser.add_argument("--mailboxes", type=int, default=100)
    args = parser.parse_args()
    with scratch_with_sandbox(SEND_JITTER_SECONDS="0"):
        print(json.dumps(run(args)))


def run(args) -> dict:
    from sequences import tasks
    from sequences.models import Enrollment, Message, Prospect, Stage
    from tests.factories import OrganizationFactory, SequenceFactory, UserFactory

    org = OrganizationFactory(seats=args.mailboxes + 5)
    per_box = max(1, args.enrollments // args.mailboxes)
    rows = []
    for n in range(args.mailboxes):
        user = UserFactory(organization=org, email=f"sender{n}@{org.slug}.example")
        mailbox = connected_mailbox(org, user)
        sequence = SequenceFactory(
            owner=user,
            stages=0,
            send_days=list(range(7)),
            send_start="00:00",
            send_end="23:59:59.999999",
        )
        stage = Stage.objects.create(
            sequence=sequence,
            position=0,
            subject="Hello {{first_name}}",
            body_html="<p>Hi {{first_name}}, a role for you.</p>",
        )
        for i in range(per_box):
            prospect = Prospect(
                organization=org, email=f"p{n}-{i}@candidates.example", first_name="P"
            )
            rows.append((sequence, stage, mailbox, user, prospect))
    Prospect.objects.bulk_create([r[4] for r in rows])
    from django.utils import timezone

    Enrollment.objects.bulk_create(
        Enrollment(
            organization=org,
            sequence=s,
            prospect=p,
            mailbox=m,
            enrolled_by=u,
            current_stage=st,
            next_action_at=timezone.now(),
        )
        for s, st, m, u, p in rows
    )

    # Each inbox synced once, as beat keeps them (every 30 s): a send starts from that cursor.
    from sequences import replies

    for mailbox_id in {row[2].pk for row in rows}:
        replies.sync_mailbox(mailbox_id)

    meter = Meter()
    meter.install()

    # The tasks the dispatcher hands over run here as a worker runs them: through a tracer built
    # once (Celery's eager mode would build one per call, a cost no worker pays).
    from celery.app.trace import build_tracer
    from celery.utils import uuid

    from sequences.tasks import send_stage

    handed_over = []
    send_stage.apply_async = lambda args, **_: handed_over.append(args)
    run_task = build_tracer(send_stage.name, send_stage, app=send_stage.app, propagate=True)

    started, cpu_started = time.perf_counter(), time.thread_time()
    while tasks.dispatch_due(batch=200):
        while handed_over:
            run_task(uuid(), handed_over.pop(0), {}, {"delivery_info": {}})
    wall = time.perf_counter() - started
    cpu = time.thread_time() - cpu_started
    queries, gmail_calls = meter.queries, meter.gmail_calls
    sent = Message.objects.filter(status="sent").count()
    return {
        "enrollments": len(rows),
        "mailboxes": args.mailboxes,
        "sent": sent,
        "wall_seconds": round(wall, 2),
        "dispatched_per_second": round(sent / wall, 1),
        "sql_queries_per_message": round(queries / sent, 2),
        "cpu_ms_per_message_outside_gmail": round((cpu - meter.gmail_cpu) * 1000 / sent, 2),
        "gmail_calls_per_message": round(gmail_calls / sent, 2),
        "gmail_round_trip_ms_per_message": round(meter.gmail_wall * 1000 / sent, 2),
    }


if __name__ == "__main__":
    main()
