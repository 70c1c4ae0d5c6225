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
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enrollments", type=int, default=1000)
    parser.add_argument("--mailboxes", type=int, default=100)
    args = parser.parse_args()

    port = free_port()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "SANDBOX": "1",
            "SANDBOX_URL": f"http://127.0.0.1:{port}",
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
            "SEND_JITTER_SECONDS": "0",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            # Per-task INFO lines would be measured as our CPU.
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    db_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/outreach")
    db_url = db_url.rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    sandbox = subprocess.Popen(
        [sys.executable, "manage.py", "runsandbox", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": db_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        print(json.dumps(run(args, settings, connection)))
    finally:
        sandbox.terminate()
        sandbox.wait(10)
        teardown_databases(old, verbosity=0)


def run(args, settings, connection) -> dict:
    from sandbox import control
    from senders import gmail
    from senders.models import Mailbox
    from sequences import sending
    from sequences.models import Enrollment, Message, Prospect, Stage
    from tests.factories import OrganizationFactory, SequenceFactory, UserFactory
    from tests.sandbox_fixtures import CLIENT_ID, CLIENT_SECRET, Sandbox

    settings.GOOGLE_OAUTH_CLIENT_ID, settings.GOOGLE_OAUTH_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    box = Sandbox(settings.SANDBOX_URL)
    control.register_client(CLIENT_ID, CLIENT_SECRET, [box.redirect_uri])
    org = OrganizationFactory(seats=args.mailboxes + 5)
    per_box = max(1, args.enrollments // args.mailboxes)
    rows = []
    for n in range(args.mailboxes):
        user = UserFactory(organization=org, email=f"sender{n}@{org.slug}.example")
        control.create_account(user.email, user.full_name)
        control.set_limits(user.email, units_per_minute=10**8, daily_send_limit=10**6)
        creds = box.connect(user.email, [gmail.MODIFY])
        mailbox = Mailbox.objects.create(
            organization=org,
            owner=user,
            email=user.email,
            refresh_token=creds.refresh_token,
            scopes=[gmail.MODIFY],
            daily_send_cap=2000,
            send_spacing_seconds=0,
        )
        sequence = SequenceFactory(
            owner=user, stages=0, send_days=list(range(7)), send_start="00:00", send_end="23:59"
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

    gmail_wall = gmail_cpu = 0.0
    gmail_calls = 0
    originals = {}
    for name in ("send", "headers", "profile", "thread", "search", "added_since", "raw"):
        original = getattr(gmail.Gmail, name)
        originals[name] = original

        def timed(self, *a, _original=original, **kw):
            nonlocal gmail_wall, gmail_cpu, gmail_calls
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return _original(self, *a, **kw)
            finally:
                gmail_wall += time.perf_counter() - wall
                gmail_cpu += time.thread_time() - cpu
                gmail_calls += 1

        setattr(gmail.Gmail, name, timed)
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    started, cpu_started = time.perf_counter(), time.thread_time()
    with connection.execute_wrapper(count):
        while sending.dispatch_due(batch=200):
            pass
    wall = time.perf_counter() - started
    cpu = time.thread_time() - cpu_started
    for name, original in originals.items():
        setattr(gmail.Gmail, name, original)
    sent = Message.objects.filter(status="sent").count()
    return {
        "enrollments": len(rows),
        "mailboxes": args.mailboxes,
        "sent": sent,
        "wall_seconds": round(wall, 2),
        "dispatched_per_second": round(sent / wall, 1),
        "sql_queries_per_message": round(queries / sent, 2),
        "cpu_ms_per_message_outside_gmail": round((cpu - gmail_cpu) * 1000 / sent, 2),
        "gmail_calls_per_message": round(gmail_calls / sent, 2),
        "gmail_round_trip_ms_per_message": round(gmail_wall * 1000 / sent, 2),
    }


if __name__ == "__main__":
    main()
