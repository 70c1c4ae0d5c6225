"""Several clients at once, as web, worker and tests call the sandbox: history ids stay unique and
ordered, the quota is never overspent, two mailboxes writing to each other never deadlock."""

from concurrent.futures import ThreadPoolExecutor

import time_machine
from django.utils import timezone
from googleapiclient.errors import HttpError

from sandbox import control
from sandbox.models import HistoryRecord
from tests.sandbox.conftest import CANDIDATE, RECRUITER
from tests.sandbox.mails import outgoing


def _sender(sandbox, credentials, sender, to):
    def send(n: int) -> int:
        # One client per thread: httplib2 connections are not shared between threads.
        gmail = sandbox.gmail(credentials)
        body = outgoing(sender=sender, to=to, subject=f"Message {n}")
        try:
            gmail.users().messages().send(userId="me", body=body).execute(num_retries=0)
        except HttpError as error:
            return error.status_code
        return 200

    return send


def test_concurrent_sends_spend_the_quota_exactly_and_keep_history_ordered(sandbox):
    control.create_account(RECRUITER)
    control.create_account(CANDIDATE)
    control.set_limits(RECRUITER, units_per_minute=500)
    send = _sender(sandbox, sandbox.connect(RECRUITER), RECRUITER, CANDIDATE)
    with (
        time_machine.travel(timezone.now().replace(second=1), tick=False),
        ThreadPoolExecutor(max_workers=6) as pool,
    ):
        statuses = sorted(pool.map(send, range(10)))
    assert statuses == [200] * 5 + [403] * 5
    for email in (RECRUITER, CANDIDATE):
        ids = list(
            HistoryRecord.objects.filter(account__email=email).values_list("history_id", flat=True)
        )
        assert len(ids) == 5 and len(set(ids)) == 5
    assert control.messages(CANDIDATE, "INBOX").count() == 5


def test_two_mailboxes_sending_to_each_other_at_once(sandbox):
    control.create_account(RECRUITER)
    control.create_account(CANDIDATE)
    sends = [
        _sender(sandbox, sandbox.connect(RECRUITER), RECRUITER, CANDIDATE),
        _sender(sandbox, sandbox.connect(CANDIDATE), CANDIDATE, RECRUITER),
    ]
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda n: sends[n % 2](n), range(12)))
    assert statuses == [200] * 12
    assert (
        control.messages(RECRUITER, "INBOX").count()
        == control.messages(CANDIDATE, "INBOX").count()
        == 6
    )
