"""Exactly once and never after a reply, against real processes under faults: the real worker
and beat commands, the sandbox served apart, a Redis of the test's own, and a fault proxy of
the test's own between the workers and the sandbox that loses answers after the sandbox stored
the email, holds requests past the client's timeout, or acts the moment a request arrives.

Each scenario counts from what the sandbox stored, per prospect and stage: duplicates, missing
emails, and follow-ups sent after a reply stored before the check. `make test` runs a short
version of each; `make chaos` (CHAOS=long) runs them long, at the sizes the closing notes give.
"""

import base64
import email
import json
import os
import random
import signal
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import psycopg2
import pytest
import redis
from django.db import connection
from django.utils import timezone

from outreach.celery import app
from outreach.models import Role
from sandbox import control
from senders import gmail
from senders.models import Mailbox
from sequences import services
from sequences.models import Enrollment, Message
from tests.chaos.harness import (
    PRODUCT_DB_NAME,
    PRODUCT_ENV,
    Redis,
    Sandbox,
    Stack,
    owner_of_connection,
    tally,
)
from tests.conftest import database_url, wait_until
from tests.factories import ProspectFactory, UserFactory
from tests.sandbox_fixtures import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI
from tests.sandbox_fixtures import Sandbox as SandboxClient
from tests.sequences.test_sending import make_sequence

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(1200)]

LONG = os.environ.get("CHAOS") == "long"
SEND = r"/messages/send"
THREAD = r"/threads/"
SENDER = "rick@acme.example"
FINAL = (Enrollment.Status.FINISHED, Enrollment.Status.REPLIED)


def scale(short: int, long: int) -> int:
    return long if LONG else short


def report(scenario: str, **figures) -> None:
    """One JSON line per scenario: what the closing note quotes (`-s` shows it)."""
    print(json.dumps({"scenario": scenario, "long": LONG, **figures}))


# Processes --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chaos_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("chaos")


@pytest.fixture(scope="module")
def test_database_url(django_db_setup) -> str:
    return database_url(connection.settings_dict)


@pytest.fixture(scope="module")
def redis_server(chaos_dir):
    server = Redis(chaos_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sandbox_process(chaos_dir, test_database_url, redis_server):
    served = Sandbox(chaos_dir, test_database_url, redis_server.url)
    yield served
    served.process.stop()


@pytest.fixture
def stack(
    transactional_db, tmp_path, test_database_url, sandbox_process, redis_server, monkeypatch
):
    # The consent and code exchange below speak plain HTTP to the sandbox.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    redis.Redis.from_url(redis_server.url).flushall()
    control.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    running = Stack(tmp_path, test_database_url, sandbox_process, redis_server)
    yield running
    running.stop()
    assert running.proxy.errors == []


# A campaign -------------------------------------------------------------------------------------


@dataclass
class Campaign:
    mailbox: Mailbox
    prospects: list[str]
    stages: int

    def enrollments(self):
        return Enrollment.objects.filter(mailbox=self.mailbox)

    def settled(self) -> bool:
        return (
            not self.enrollments().exclude(status__in=FINAL).exists()
            and not Message.objects.filter(status=Message.Status.SENDING).exists()
        )


def campaign(sandbox_process, n: int, stages: int = 2) -> Campaign:
    org = UserFactory.create(role=Role.ADMIN, email="ada@acme.example").organization
    recruiter = UserFactory(
        organization=org, role=Role.RECRUITER, email=SENDER, full_name="Rick Recruiter"
    )
    control.create_account(SENDER, "Rick Recruiter")
    control.set_limits(SENDER, units_per_minute=10**8, daily_send_limit=10**5)
    credentials = SandboxClient(sandbox_process.url).connect(SENDER, [gmail.MODIFY])
    mailbox = Mailbox.objects.create(
        organization=org,
        owner=recruiter,
        email=SENDER,
        display_name="Rick Recruiter",
        refresh_token=credentials.refresh_token,
        scopes=[gmail.MODIFY],
        daily_send_cap=2000,
        send_spacing_seconds=0,
    )
    sequence = make_sequence(recruiter, mailbox, kinds=("email",) * stages)
    emails = [f"p{i:03}@candidates.example" for i in range(n)]
    prospects = []
    for i, address in enumerate(emails):
        control.create_account(address, f"Person {i}")
        prospects.append(ProspectFactory(organization=org, email=address, first_name=f"P{i}"))
    services.enroll(sequence=sequence, prospects=prospects, by=recruiter, mailbox=mailbox)
    return Campaign(mailbox, emails, stages)


def stagger(run: Campaign, seconds: float) -> None:
    """Makes the enrollments come due one after another, `seconds` apart, from now."""
    now = timezone.now()
    for position, pk in enumerate(run.enrollments().order_by("pk").values_list("pk", flat=True)):
        Enrollment.objects.filter(pk=pk).update(
            next_action_at=now + timedelta(seconds=seconds * position)
        )


def run_to_the_end(stack: Stack, run: Campaign, seconds: int) -> None:
    unsettled = run.enrollments().exclude(status__in=FINAL)
    assert wait_until(run.settled, seconds, every=0.25), (
        f"not settled: {list(unsettled.values_list('status', 'last_event'))}\n{stack.logs()}"
    )


def assert_each_stage_once(stack: Stack, run: Campaign) -> None:
    counted = tally(run.prospects, SENDER)
    expected = {email: set(range(1, run.stages + 1)) for email in run.prospects}
    assert counted.duplicates() == {}, stack.logs()
    assert counted.missing(expected) == {}, stack.logs()
    assert run.enrollments().filter(status=Enrollment.Status.FINISHED).count() == len(run.prospects)


def reconciled(stack: Stack) -> int:
    return stack.logs_count("reconciled a message that had reached Gmail")


# Scenarios --------------------------------------------------------------------------------------


def test_answers_lost_after_gmail_stored_the_email_send_nothing_twice(stack, sandbox_process):
    lost = scale(4, 12)
    run = campaign(sandbox_process, n=scale(12, 40))
    closed = stack.proxy.lose_answer("POST", SEND, count=lost, how="close")
    reset = stack.proxy.lose_answer("POST", SEND, count=lost, how="reset")
    stack.worker()
    stack.worker()
    stack.beat()

    run_to_the_end(stack, run, scale(120, 400))
    assert (closed.used, reset.used) == (lost, lost)
    assert_each_stage_once(stack, run)
    assert reconciled(stack) == 2 * lost  # every lost answer was found in Sent, none resent
    report("lost answers", dropped_close=lost, dropped_reset=lost, sends=2 * len(run.prospects))


def test_sends_that_land_after_the_client_gave_up_are_waited_for(stack, sandbox_process):
    late = scale(2, 5)
    run = campaign(sandbox_process, n=scale(6, 15), stages=1)
    # Forwarded 6 s after the worker sent it: the client gave up at 2 s, its retry comes
    # while Gmail still has nothing, and Gmail stores it before the 8 s window ends.
    held = stack.proxy.hold("POST", SEND, seconds=6, count=late)
    stack.worker()
    stack.beat()

    assert PRODUCT_ENV["GMAIL_TIMEOUT_SECONDS"] == "2"  # the hold is sized on it
    run_to_the_end(stack, run, scale(120, 300))
    assert held.used == late
    # Every held send reached Gmail in the end, however early the run looked finished.
    assert wait_until(lambda: all(e.answered_at for e in stack.proxy.exchanges("POST", SEND)), 30)
    assert_each_stage_once(stack, run)
    assert reconciled(stack) == late
    waits = stack.logs_count("an earlier attempt may still reach Gmail")
    assert waits >= 1, stack.logs()
    report("sends outliving the timeout", late=late, waited=waits)


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # it goes to the broker
def test_workers_killed_while_their_send_is_in_flight_send_it_once(
    stack, sandbox_process, redis_server
):
    children_to_kill, workers_to_kill = scale(4, 20), scale(1, 2)
    run = campaign(sandbox_process, n=scale(14, 50), stages=1)
    control.add_latency("gmail.users.messages.send", 1500)
    run.enrollments().update(next_action_at=timezone.now() + timedelta(days=1))
    workers = [stack.worker(concurrency=3), stack.worker(concurrency=3)]
    killed = {"children": 0, "workers": 0}
    lock = threading.Lock()
    replacing: list[threading.Thread] = []

    def kill_the_sender(exchange):
        """Kills the process whose send is on its way to Gmail, which takes 1.5 s to store it:
        a pool process (its task comes back from the broker at once), or now and then its whole
        worker (its tasks are lost with it; its heartbeat stops)."""
        if exchange.method != "POST" or "/messages/send" not in exchange.path:
            return
        worker_of = {pid: w for w in workers if w.popen.poll() is None for pid in w.children()}
        pid = owner_of_connection(exchange.client_port, list(worker_of))
        if pid is None:
            return
        with lock:
            whole = (
                killed["workers"] < workers_to_kill and killed["children"] >= children_to_kill // 2
            )
            if whole:
                killed["workers"] += 1
            elif killed["children"] < children_to_kill:
                killed["children"] += 1
            else:
                return
        if whole:
            worker_of[pid].kill()
            # Started aside: the proxy goes on carrying the other workers' requests meanwhile.
            replacing.append(
                threading.Thread(target=lambda: workers.append(stack.worker(concurrency=3)))
            )
            replacing[-1].start()
            return
        os.kill(pid, signal.SIGKILL)
        # The broker gives the task back (as it does for a killed pool process), and it is
        # taken up at once by an idle process, while Gmail is still storing the email.
        redeliver(recipient_of(exchange))

    def redeliver(prospect: str) -> None:
        try:
            held = run.enrollments().get(prospect__email=prospect)
        finally:
            connection.close()
        with app.connection_for_write(redis_server.url) as broker:
            app.send_task(
                "sequences.tasks.send_stage", args=[held.pk, held.claim_token], connection=broker
            )

    stack.proxy.on_request(kill_the_sender)
    stack.beat()
    # Due 0.4 s apart, to workers with idle processes: a task the broker gives back is taken
    # up at once, while the killed process's send is still on its way to Gmail.
    stagger(run, seconds=0.4)

    run_to_the_end(stack, run, scale(180, 600))
    for thread in replacing:
        thread.join()
    assert killed == {"children": children_to_kill, "workers": workers_to_kill}
    assert_each_stage_once(stack, run)
    assert reconciled(stack) >= children_to_kill
    # Taken up again while the first attempt was still on its way: it waited, never resent.
    waits = stack.logs_count("an earlier attempt may still reach Gmail")
    assert waits >= 1, stack.logs()
    assert stack.logs_count("took over the leases of dead workers") >= 1, stack.logs()
    report("killed mid-send", **killed, waited=waits, sends=len(run.prospects))


def test_two_beats_and_two_workers_send_each_stage_once(stack, sandbox_process):
    run = campaign(sandbox_process, n=scale(20, 100))
    stack.worker()
    stack.worker()
    stack.beat()
    stack.beat()

    run_to_the_end(stack, run, scale(120, 400))
    assert_each_stage_once(stack, run)
    report("two beats", sends=2 * len(run.prospects))


def test_a_broker_restart_delays_and_drops_nothing(stack, sandbox_process, redis_server):
    run = campaign(sandbox_process, n=scale(16, 60))
    control.add_latency("gmail.users.messages.send", 200)
    stack.worker()
    stack.worker()
    stack.beat()
    sent = Message.objects.filter(status=Message.Status.SENT)
    assert wait_until(lambda: sent.count() >= len(run.prospects) // 2, 60), stack.logs()

    redis_server.kill()  # queued and unacknowledged tasks go with it
    time.sleep(1)
    redis_server.start()

    run_to_the_end(stack, run, scale(180, 400))
    assert_each_stage_once(stack, run)
    report("broker restart", sends=2 * len(run.prospects))


def test_postgres_connections_terminated_mid_run_lose_and_duplicate_nothing(
    stack, sandbox_process, test_database_url
):
    run = campaign(sandbox_process, n=scale(16, 60))
    control.add_latency("gmail.users.messages.send", 100)
    stack.worker()
    stack.worker()
    stack.beat()
    terminated = 0
    # Not `with admin:`, which would hold one transaction (and one snapshot of who is
    # connected) for the whole loop.
    admin = psycopg2.connect(test_database_url)
    admin.autocommit = True
    try:
        deadline = time.monotonic() + scale(6, 25)
        while time.monotonic() < deadline:
            with admin.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    [PRODUCT_DB_NAME],
                )
                terminated += cursor.fetchone()[0]
            time.sleep(0.3)
    finally:
        admin.close()

    run_to_the_end(stack, run, scale(180, 400))
    assert terminated > 0
    assert_each_stage_once(stack, run)
    report("postgres connections terminated", terminated=terminated, sends=2 * len(run.prospects))


def recipient_of(send) -> str:
    """The To of the email in a messages.send request."""
    raw = base64.urlsafe_b64decode(json.loads(send.body)["raw"] + "==")
    return email.message_from_bytes(raw)["To"]


def prospect_of(thread: str | None) -> str | None:
    """Whom the engine wrote to in that thread."""
    if not thread:
        return None
    return (
        Message.objects.filter(gmail_thread_id=thread, direction=Message.Direction.OUTBOUND)
        .values_list("to_address", flat=True)
        .first()
    )


def test_no_follow_up_after_a_reply_stored_before_the_check(stack, sandbox_process):
    """With 100 ms per Gmail call. A third of the candidates answer the moment the check's
    first read reaches Gmail (before Gmail reads): none may get the follow-up. A third answer
    the moment the follow-up itself reaches Gmail, after the check: the one round trip nothing
    can close. The rest answer on their own, at random moments around the follow-up."""
    run = campaign(sandbox_process, n=scale(18, 45))
    control.add_latency("*", 100)
    at_check, at_send = set(run.prospects[0::3]), set(run.prospects[1::3])
    on_their_own = run.prospects[2::3]
    answered: set[str] = set()
    lock = threading.Lock()

    def answer(prospect: str | None) -> None:
        with lock:
            if prospect is None or prospect in answered:
                return
            answered.add(prospect)
        first = control.messages(prospect, "INBOX").order_by("internal_date").first()
        control.reply(prospect, first, "Happy to talk, thanks!")

    def racing(exchange):
        try:
            if exchange.method == "GET" and THREAD in exchange.path:
                prospect = prospect_of(exchange.path.split("/threads/")[1].split("?")[0])
                if prospect in at_check:
                    answer(prospect)
            elif exchange.method == "POST" and SEND in exchange.path:
                prospect = prospect_of(json.loads(exchange.body).get("threadId"))
                if prospect in at_send:
                    answer(prospect)
        finally:
            connection.close()

    def answer_on_their_own():
        try:
            for prospect in random.sample(on_their_own, len(on_their_own)):
                inbox = control.messages(prospect, "INBOX")
                wait_until(inbox.exists, 60, every=0.05)
                time.sleep(random.uniform(0, 1.2))
                answer(prospect)
        finally:
            connection.close()

    stack.proxy.on_request(racing)
    stack.worker()
    stack.worker()
    stack.beat()
    on_their_own_thread = threading.Thread(target=answer_on_their_own)
    on_their_own_thread.start()
    run_to_the_end(stack, run, scale(180, 400))
    on_their_own_thread.join()

    after_an_earlier_reply, windows, reads_to_store, round_trips = [], [], [], []
    exchanges = stack.proxy.exchanges()
    for send in stack.proxy.exchanges("POST", SEND):
        thread = json.loads(send.body).get("threadId")
        if not thread or not send.delivered:
            continue  # a first email, or one whose answer was lost
        began = max(
            e.received_at
            for e in exchanges
            if e.method == "GET"
            and f"/threads/{thread}" in e.path
            and e.received_at < send.received_at
        )
        last_look = max(
            (
                e
                for e in exchanges
                if e.client_port == send.client_port
                and e.answered_at is not None
                and e.answered_at <= send.received_at
            ),
            key=lambda e: e.answered_at,
        )
        windows.append((send.received_at - last_look.answered_at) * 1000)
        reads_to_store.append((send.forwarded_at - last_look.forwarded_at) * 1000)
        round_trips.append((last_look.answered_at - last_look.forwarded_at) * 1000)
        prospect = prospect_of(thread)
        reply = control.messages(SENDER, "INBOX").filter(from_header__icontains=prospect).first()
        if reply is not None and reply.internal_date.timestamp() < began:
            after_an_earlier_reply.append(prospect)

    counted = tally(run.prospects, SENDER)
    assert counted.duplicates() == {}
    assert after_an_earlier_reply == [], stack.logs()
    assert [p for p in at_check if counted.by_prospect[p][2]] == []
    replied = set(
        run.enrollments()
        .filter(status=Enrollment.Status.REPLIED)
        .values_list("prospect__email", flat=True)
    )
    assert at_check <= replied
    # From the check's last answer to the send: no Gmail call (100 ms) fits between them.
    assert summary(windows)["median"] < 100
    report(
        "replies racing the follow-up",
        prospects=len(run.prospects),
        follow_ups_after_a_reply_stored_before_the_check=len(after_an_earlier_reply),
        follow_ups_in_the_last_round_trip=sum(counted.by_prospect[p][2] for p in at_send),
        # The end of the check (its last answer back) to the send call, as the proxy sees it.
        check_to_send_ms=summary(windows),
        # The window a reply can fall in unseen: the last read reaching Gmail to the send
        # reaching Gmail, i.e. that read's round trip plus the gap above.
        last_read_to_send_ms=summary(reads_to_store),
        last_read_round_trip_ms=summary(round_trips),
    )


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "median": round(statistics.median(values), 1),
        "p95": round(statistics.quantiles(values, n=20)[-1], 1) if len(values) > 1 else values[0],
    }
