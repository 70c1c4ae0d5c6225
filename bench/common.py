"""What the benchmarks share: a scratch database, the sandbox served from its own process (so
that its CPU is not counted as ours), and the product pointed at it."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def scratch_database(**environment):
    """Sets Django up on a fresh test database and yields its URL, for processes the bench
    starts (workers, the sandbox) to share it."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            # Per-task INFO lines would be measured as our CPU.
            "LOG_LEVEL": "WARNING",
            **environment,
        }
    )
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    db_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/outreach")
    try:
        yield db_url.rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    finally:
        connection.close()
        teardown_databases(old, verbosity=0)


def wait_for_port(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)


@contextlib.contextmanager
def scratch_with_sandbox(**environment):
    """Sets Django up on a fresh test database, serves the sandbox on a free port, and yields
    the settings, with the product's Google client registered with the sandbox."""
    port = free_port()
    sandbox_env = {"SANDBOX": "1", "SANDBOX_URL": f"http://127.0.0.1:{port}", **environment}
    with scratch_database(**sandbox_env) as db_url:
        from django.conf import settings

        sandbox = subprocess.Popen(
            [sys.executable, "manage.py", "runsandbox", f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env={**os.environ, "DATABASE_URL": db_url},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port)
            from sandbox import control
            from tests.sandbox_fixtures import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI

            settings.GOOGLE_OAUTH_CLIENT_ID = CLIENT_ID
            settings.GOOGLE_OAUTH_CLIENT_SECRET = CLIENT_SECRET
            control.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
            yield settings
        finally:
            sandbox.terminate()
            sandbox.wait(10)


def connected_mailbox(organization, user):
    """A sandbox account for `user`, connected through the real consent and code exchange, with
    limits high enough that only our code is measured."""
    from django.conf import settings

    from sandbox import control
    from senders import gmail
    from senders.models import Mailbox
    from tests.sandbox_fixtures import Sandbox

    control.create_account(user.email, user.full_name)
    control.set_limits(user.email, units_per_minute=10**8, daily_send_limit=10**6)
    creds = Sandbox(settings.SANDBOX_URL).connect(user.email, [gmail.MODIFY])
    return Mailbox.objects.create(
        organization=organization,
        owner=user,
        email=user.email,
        refresh_token=creds.refresh_token,
        scopes=[gmail.MODIFY],
        daily_send_cap=2000,
        send_spacing_seconds=0,
    )


# What a Gmail call is, to the meters below: every method of the client that goes to Google
# (those built on them, find_sent and messages_from, are counted through them).
GMAIL_CALLS = (
    "profile",
    "send_as_aliases",
    "send",
    "insert",
    "trash",
    "headers",
    "raw",
    "thread",
    "search",
    "added_since",
)


class Meter:
    """Counts, in this process, SQL queries and Gmail calls, with the wall and CPU time spent
    inside the Gmail calls (the CPU of building a request and reading its answer, which is the
    provider call's, not ours)."""

    def __init__(self):
        self.queries = 0
        self.gmail_calls = 0
        self.gmail_wall = 0.0
        self.gmail_cpu = 0.0

    def install(self) -> None:
        from django.db import connection

        from senders import gmail

        for name in GMAIL_CALLS:
            original = getattr(gmail.Gmail, name)

            def timed(client, *args, _original=original, **kwargs):
                wall, cpu = time.perf_counter(), time.thread_time()
                try:
                    return _original(client, *args, **kwargs)
                finally:
                    self.gmail_wall += time.perf_counter() - wall
                    self.gmail_cpu += time.thread_time() - cpu
                    self.gmail_calls += 1

            setattr(gmail.Gmail, name, timed)
        # On this thread's connection wrapper, which outlives reconnections.
        connection.execute_wrappers.append(self._count)

    def _count(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def as_dict(self) -> dict:
        return dict(vars(self))


@contextlib.contextmanager
def gmail_standin(latency_ms: float):
    """Serves bench/gmail_standin.py from its own process; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(BASE_DIR / "bench" / "gmail_standin.py"),
            f"--port={port}",
            f"--latency-ms={latency_ms}",
        ]
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def standin_calls(url: str) -> dict[str, int]:
    import requests

    return requests.get(f"{url}/_calls", timeout=10).json()


def standin_environment(url: str) -> dict[str, str]:
    """The product pointed at the stand-in (through the sandbox's settings switch)."""
    return {
        "SANDBOX": "1",
        "SANDBOX_URL": url,
        "GOOGLE_OAUTH_CLIENT_ID": "bench-client.apps.googleusercontent.com",
        "GOOGLE_OAUTH_CLIENT_SECRET": "bench-secret",
    }


class Workers:
    """Real `celery worker` processes (each --pool=solo: one process, one task at a time) on
    `queues`, with a Meter installed (bench/probe.py) that each writes out when it stops."""

    def __init__(self, count: int, queues: str, db_url: str, tmp: Path):
        self.tmp = tmp
        self.processes = []
        for n in range(count):
            log = (tmp / f"worker-{n}.log").open("w")
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "probe",
                        "worker",
                        "--pool=solo",
                        f"--hostname=bench{n}@%h",
                        "--loglevel=WARNING",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                        "-Q",
                        queues,
                    ],
                    cwd=BASE_DIR,
                    env={
                        **os.environ,
                        "DATABASE_URL": db_url,
                        "PYTHONPATH": str(BASE_DIR / "bench"),
                        "BENCH_PROBE_DIR": str(tmp),
                        "CELERY_TASK_ALWAYS_EAGER": "0",
                    },
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 60
        while not all((tmp / f"{p.pid}.ready").exists() for p in self.processes):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                self.stop()
                raise RuntimeError((tmp / "worker-0.log").read_text())
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        import psutil

        total = 0.0
        for process in self.processes:
            times = psutil.Process(process.pid).cpu_times()
            total += times.user + times.system
        return total

    def stop(self) -> dict:
        """Stops them (warm shutdown) and sums what their meters counted."""
        for process in self.processes:
            process.terminate()
        totals: dict = {}
        for process in self.processes:
            process.wait(60)
            report = self.tmp / f"{process.pid}.json"
            if report.exists():
                for key, value in json.loads(report.read_text()).items():
                    totals[key] = totals.get(key, 0) + value
        return totals


def seed_team(mailboxes: int) -> tuple:
    """One team with `mailboxes` senders, each its own connected inbox (its refresh token one
    the Gmail stand-in accepts), and a one-email sequence sending any day, any hour; bulk
    inserted. Returns (organization, sequence, stage, [mailbox...])."""
    from outreach.models import User
    from senders import gmail
    from senders.models import Mailbox
    from sequences.models import Stage
    from tests.factories import OrganizationFactory, SequenceFactory

    org = OrganizationFactory(seats=mailboxes + 5)
    users = User.objects.bulk_create(
        User(
            organization=org,
            email=f"sender{n}@{org.slug}.example",
            full_name=f"Sender {n}",
            password="!",  # noqa: S106 - unusable: these never sign in
        )
        for n in range(mailboxes)
    )
    inboxes = Mailbox.objects.bulk_create(
        Mailbox(
            organization=org,
            owner=user,
            email=user.email,
            refresh_token=f"bench:{user.email}",
            scopes=[gmail.MODIFY],
            daily_send_cap=2000,
            send_spacing_seconds=0,
            history_id="100",
        )
        for user in users
    )
    sequence = SequenceFactory(
        owner=users[0],
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
    return org, sequence, stage, inboxes


def enroll_one_each(org, sequence, stage, inboxes, tag: str, due) -> list[int]:
    """One prospect enrolled from each inbox, its email due at `due`; the enrollments' ids. The
    inboxes are marked synced now, as their syncs (every 30 s) keep them in production."""
    from django.utils import timezone

    from senders.models import Mailbox
    from sequences.models import Enrollment, Prospect

    Mailbox.objects.filter(pk__in=[m.pk for m in inboxes]).update(last_synced_at=timezone.now())

    prospects = Prospect.objects.bulk_create(
        Prospect(organization=org, email=f"p-{tag}-{n}@candidates.example", first_name="P")
        for n in range(len(inboxes))
    )
    return [
        e.pk
        for e in Enrollment.objects.bulk_create(
            Enrollment(
                organization=org,
                sequence=sequence,
                prospect=prospect,
                mailbox=mailbox,
                enrolled_by_id=mailbox.owner_id,
                current_stage=stage,
                next_action_at=due,
            )
            for prospect, mailbox in zip(prospects, inboxes, strict=True)
        )
    ]
