"""Harvest's rate limit per credential and the fault switches on Greenhouse endpoints, including
the write whose answer is lost after it was committed."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
import time_machine

from sandbox import control
from sandbox.greenhouse import endpoints
from sandbox.models import ApiCall

# One second into a 10-second window, so that a 429 has 9 seconds left.
WINDOW_START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def _candidates(harvest, session=None):
    return (session or harvest.v1()).get(f"{harvest.greenhouse.v1_url}/candidates", timeout=10)


def test_every_answer_shows_the_budget_and_past_it_429_says_when_to_retry(harvest):
    control.set_harvest_rate_limit(harvest.key.key, 3)
    with time_machine.travel(WINDOW_START + timedelta(seconds=1), tick=False):
        remaining = [_candidates(harvest).headers["X-RateLimit-Remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        refused = _candidates(harvest)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "9"
        # Harvest's 429 leaves the budget headers out.
        assert "X-RateLimit-Limit" not in refused.headers
        assert refused.json() == {"message": "Too Many Requests"}
        # Each credential has its own budget.
        v3 = harvest.v3(harvest.admin).get(f"{harvest.greenhouse.v3_url}/users", timeout=10)
        assert (v3.status_code, v3.headers["X-RateLimit-Remaining"]) == (200, "49")
        # Errors count too: the limit is on requests.
        assert _candidates(harvest).status_code == 429
    with time_machine.travel(WINDOW_START + timedelta(seconds=10), tick=False):
        answer = _candidates(harvest)
        assert (answer.status_code, answer.headers["X-RateLimit-Limit"]) == (200, "3")


def test_concurrent_requests_never_overspend_the_budget(harvest):
    control.set_harvest_rate_limit(harvest.key.key, 5)

    def call(_):
        return _candidates(harvest, harvest.greenhouse.v1(harvest.key.key)).status_code

    with (
        time_machine.travel(WINDOW_START + timedelta(seconds=1), tick=False),
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        statuses = sorted(pool.map(call, range(12)))
    assert statuses == [200] * 5 + [429] * 7


def test_fault_switches_answer_500_503_and_429(harvest):
    control.fail_next(endpoints.V1_CANDIDATES_LIST, count=2, status=503)
    control.fail_next(endpoints.V3_USERS_LIST, status=429)
    control.fail_next(endpoints.V1_USERS_LIST, status=500)
    for _ in range(2):
        failed = _candidates(harvest)
        assert (failed.status_code, failed.json()) == (503, {"message": "Service Unavailable"})
        assert failed.headers["X-RateLimit-Remaining"]
    assert _candidates(harvest).status_code == 200
    throttled = harvest.v3().get(f"{harvest.greenhouse.v3_url}/users", timeout=10)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert harvest.v1().get(f"{harvest.greenhouse.v1_url}/users", timeout=10).status_code == 500


def test_the_token_endpoint_fails_on_demand(harvest):
    control.fail_next(endpoints.TOKEN, status=503)
    answer = harvest.greenhouse.token(harvest.client.client_id, harvest.client.client_secret)
    assert (answer.status_code, answer.json()["error"]) == (503, "temporarily_unavailable")
    assert harvest.v3().get(f"{harvest.greenhouse.v3_url}/users", timeout=10).status_code == 200


def test_latency(harvest):
    control.add_latency(endpoints.V1_CANDIDATES_LIST, 300)
    began = time.monotonic()
    assert _candidates(harvest).status_code == 200
    assert time.monotonic() - began >= 0.3


def test_a_dropped_answer_leaves_the_write_committed_exactly_once(harvest):
    url = f"{harvest.greenhouse.v1_url}/candidates/{harvest.candidate.pk}/activity_feed/notes"
    note = {"user_id": harvest.recruiter.pk, "body": "Sent stage 1.", "visibility": "private"}
    control.drop_next(endpoints.V1_NOTES_CREATE)
    session = harvest.v1(harvest.recruiter)
    with pytest.raises(requests.ConnectionError):
        session.post(url, json=note, timeout=10)
    # The client cannot tell; the feed shows the note landed, once.
    feed = session.get(url.removesuffix("/notes"), timeout=10).json()
    assert [n["body"] for n in feed["notes"]] == ["Sent stage 1."]
    dropped = ApiCall.objects.get(endpoint=endpoints.V1_NOTES_CREATE)
    assert (dropped.status, dropped.dropped) == (201, True)
    # The switch is spent; a blind retry would now write a second note.
    assert session.post(url, json=note, timeout=10).status_code == 201
    assert len(control.candidate_activity("casey@candidates.example")) == 2


def test_a_dropped_v3_answer(harvest):
    control.drop_next(endpoints.V3_NOTES_CREATE, count=1)
    session = harvest.v3(harvest.recruiter)
    with pytest.raises(requests.ConnectionError):
        session.post(
            f"{harvest.greenhouse.v3_url}/notes",
            json={"candidate_id": harvest.candidate.pk, "body": "Hi", "visibility": "public"},
            timeout=10,
        )
    [entry] = control.candidate_activity("casey@candidates.example")
    assert (entry.body, entry.user_id) == ("Hi", harvest.recruiter.pk)


def test_only_writes_can_drop_their_answer(db):
    with pytest.raises(ValueError, match="Only a write"):
        control.drop_next(endpoints.V1_CANDIDATES_LIST)


def test_calls_are_logged(harvest):
    control.fail_next(endpoints.V1_CANDIDATES_LIST, status=503)
    _candidates(harvest)
    _candidates(harvest)
    harvest.v3(harvest.admin).get(f"{harvest.greenhouse.v3_url}/users", timeout=10)
    logged = list(
        ApiCall.objects.filter(endpoint__startswith="greenhouse.")
        .order_by("pk")
        .values_list("endpoint", "status", "client_id", "account_email")
    )
    assert logged == [
        (endpoints.V1_CANDIDATES_LIST, 503, f"v1 key tests …{harvest.key.key[-4:]}", ""),
        (endpoints.V1_CANDIDATES_LIST, 200, f"v1 key tests …{harvest.key.key[-4:]}", ""),
        (endpoints.TOKEN, 200, "harvest-tests", ""),
        (endpoints.V3_USERS_LIST, 200, "harvest-tests", "ada@acme.example"),
    ]
