"""Scopes, quota, the daily sending limit and the fault switches, as the Gmail client sees them."""

import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from googleapiclient.errors import HttpError

from sandbox import control, scopes
from sandbox.models import ApiCall
from tests.sandbox.conftest import CANDIDATE, RECRUITER
from tests.sandbox.mails import outgoing


def _send(gmail, subject="Hello"):
    return (
        gmail.users()
        .messages()
        .send(userId="me", body=outgoing(sender=RECRUITER, to=CANDIDATE, subject=subject))
        .execute(num_retries=0)
    )


def _failure(call) -> tuple[int, dict]:
    with pytest.raises(HttpError) as raised:
        call.execute(num_retries=0)
    return raised.value.status_code, json.loads(raised.value.content)["error"]


def test_a_call_outside_the_granted_scopes_gets_insufficient_permissions(sandbox):
    control.create_account(RECRUITER)
    gmail = sandbox.gmail(sandbox.connect(RECRUITER, [scopes.SEND]))
    _send(gmail)
    status, error = _failure(gmail.users().getProfile(userId="me"))
    assert status == 403
    assert {key: error[key] for key in ("code", "message", "errors", "status")} == {
        "code": 403,
        "message": "Request had insufficient authentication scopes.",
        "errors": [
            {
                "message": "Insufficient Permission",
                "domain": "global",
                "reason": "insufficientPermissions",
            }
        ],
        "status": "PERMISSION_DENIED",
    }
    assert error["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    for call in (
        gmail.users().messages().list(userId="me"),
        gmail.users().history().list(userId="me", startHistoryId="1"),
        gmail.users().settings().sendAs().list(userId="me"),
    ):
        assert _failure(call)[0] == 403


def test_the_metadata_scope_refuses_search_and_bodies(sandbox):
    control.create_account(RECRUITER)
    gmail = sandbox.gmail(sandbox.connect(RECRUITER, [scopes.METADATA]))
    status, error = _failure(gmail.users().messages().list(userId="me", q="in:inbox"))
    assert (status, error["message"]) == (403, "Metadata scope does not support 'q' parameter")
    assert gmail.users().messages().list(userId="me").execute() == {"resultSizeEstimate": 0}


def test_quota_exhaustion_gives_the_user_rate_limit_error_until_the_next_minute(recruiter_gmail):
    control.set_limits(RECRUITER, units_per_minute=250)
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        _send(recruiter_gmail)
        _send(recruiter_gmail)
        status, error = _failure(
            recruiter_gmail.users()
            .messages()
            .send(userId="me", body=outgoing(sender=RECRUITER, to=CANDIDATE, subject="3"))
        )
        assert status == 403
        assert error == {
            "code": 403,
            "message": "User Rate Limit Exceeded",
            "errors": [
                {
                    "message": "User Rate Limit Exceeded",
                    "domain": "usageLimits",
                    "reason": "userRateLimitExceeded",
                }
            ],
            "status": "PERMISSION_DENIED",
        }
        # 50 units left: cheaper calls still go through.
        recruiter_gmail.users().getProfile(userId="me").execute()
    with time_machine.travel(timezone.now().replace(second=5) + timedelta(minutes=1), tick=False):
        _send(recruiter_gmail)


def test_the_daily_sending_limit_gives_the_mail_sending_rate_limit_error(recruiter_gmail):
    control.set_limits(RECRUITER, daily_send_limit=2)
    _send(recruiter_gmail)
    _send(recruiter_gmail)
    status, error = _failure(
        recruiter_gmail.users()
        .messages()
        .send(userId="me", body=outgoing(sender=RECRUITER, to=CANDIDATE, subject="3"))
    )
    assert status == 429
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error["errors"][0]["reason"] == "rateLimitExceeded"
    assert error["message"].startswith("User-rate limit exceeded.  Retry after ")
    assert error["message"].endswith("Z (Mail sending)")
    with pytest.raises(Exception, match="Mail sending"):
        control.send_as(RECRUITER, to=[CANDIDATE], subject="From the UI", body="Hi")
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        _send(recruiter_gmail)


def test_fail_next_calls_with_google_error_shapes(recruiter_gmail):
    control.fail_next("gmail.users.messages.list", count=3, status=503)
    control.fail_next("gmail.users.getProfile", count=1, status=429, email=RECRUITER)
    status, error = _failure(recruiter_gmail.users().messages().list(userId="me"))
    assert (status, error["errors"][0]["reason"], error["status"]) == (
        503,
        "backendError",
        "UNAVAILABLE",
    )
    status, error = _failure(recruiter_gmail.users().getProfile(userId="me"))
    assert (status, error["errors"][0]["reason"]) == (429, "rateLimitExceeded")
    recruiter_gmail.users().getProfile(userId="me").execute()
    control.clear_faults()
    recruiter_gmail.users().messages().list(userId="me").execute()


def test_the_client_library_retries_a_failed_call(recruiter_gmail):
    control.fail_next("gmail.users.getProfile", count=1, status=500)
    assert (
        recruiter_gmail.users().getProfile(userId="me").execute(num_retries=1)["emailAddress"]
        == RECRUITER
    )


def test_faults_for_one_account_leave_the_others_alone(recruiter_gmail, candidate_gmail):
    control.fail_next("*", count=5, status=500, email=CANDIDATE)
    recruiter_gmail.users().getProfile(userId="me").execute()
    assert _failure(candidate_gmail.users().getProfile(userId="me"))[0] == 500


def test_latency(recruiter_gmail):
    control.add_latency("gmail.users.getProfile", 300)
    began = time.monotonic()
    recruiter_gmail.users().getProfile(userId="me").execute()
    assert time.monotonic() - began >= 0.3


def test_calls_are_logged_with_their_status(recruiter_gmail):
    control.fail_next("gmail.users.getProfile", status=503)
    _failure(recruiter_gmail.users().getProfile(userId="me"))
    recruiter_gmail.users().getProfile(userId="me").execute()
    logged = list(
        ApiCall.objects.filter(endpoint="gmail.users.getProfile").values_list(
            "status", "account_email", "units"
        )
    )
    assert logged == [(200, RECRUITER, 1), (503, RECRUITER, 0)]
    assert ApiCall.objects.filter(endpoint="oauth2.token", status=200).exists()
