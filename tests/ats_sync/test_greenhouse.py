"""ats_sync.greenhouse against the sandbox's Greenhouse over HTTP, with a v1 API key and with a v3
OAuth client: finding users and candidates, writing emails as the acting user, prospects, how
Greenhouse's failures reach the product, v3 tokens, and the rate budget shared by workers."""

import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from ats_sync import greenhouse
from sandbox import control
from sandbox.greenhouse import endpoints, records
from sandbox.greenhouse.models import ActivityKind, HarvestAccessToken
from sandbox.models import ApiCall

CANDIDATE = "casey@candidates.example"
UNKNOWN_ID = 12
# One second into one of Greenhouse's 10-second windows: 9 seconds of it are left.
IN_A_WINDOW = datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)
CANDIDATES_LIST = {"v1": endpoints.V1_CANDIDATES_LIST, "v3": endpoints.V3_CANDIDATES_LIST}
EMAIL_CREATE = {"v1": endpoints.V1_EMAILS_CREATE, "v3": endpoints.V3_NOTES_CREATE}


def make_credentials(
    harvest, api: str, *, v1_permissions=control.V1_PERMISSIONS, v3_scopes=control.V3_SCOPES
) -> greenhouse.Credentials:
    """A credential of its own, with its own rate budget; for v3 its own client too, so that no
    token cached in this process by an earlier test is reused."""
    budget_key = f"test:{uuid.uuid4().hex}"
    if api == "v1":
        key = control.create_harvest_key(name="outreach", permissions=v1_permissions)
        return greenhouse.Credentials(api="v1", budget_key=budget_key, api_key=key.key)
    client = control.create_harvest_client(
        f"outreach-{uuid.uuid4().hex}", "outreach-secret", scopes=v3_scopes
    )
    return greenhouse.Credentials(
        api="v3",
        budget_key=budget_key,
        client_id=client.client_id,
        client_secret=client.client_secret,
    )


def credential_name(credentials: greenhouse.Credentials) -> str:
    """How the sandbox names the credential: the v1 key itself, or the v3 client id."""
    return credentials.api_key or credentials.client_id


@pytest.fixture(params=["v1", "v3"])
def api(request) -> str:
    return request.param


@pytest.fixture
def credentials(harvest, api) -> greenhouse.Credentials:
    return make_credentials(harvest, api)


@pytest.fixture
def ats(credentials) -> greenhouse.Harvest:
    return greenhouse.Harvest(credentials)


def write(ats, harvest, *, visibility: str = "public", acting_user_id: int | None = None) -> str:
    return ats.write_email(
        harvest.candidate.pk,
        acting_user_id=acting_user_id or harvest.recruiter.pk,
        sender="rick@acme.example",
        to=CANDIDATE,
        subject="Staff engineer role",
        body="Hi Casey,\n\nWould you have 20 minutes this week?",
        visibility=visibility,
    )


def calls(endpoint: str) -> list[int]:
    """The statuses Greenhouse answered on that endpoint, in order."""
    found = ApiCall.objects.filter(endpoint=endpoint).order_by("pk")
    return list(found.values_list("status", flat=True))


# Reads --------------------------------------------------------------------------------------


def test_check_accepts_the_credential_and_refuses_a_wrong_one(ats, credentials, api):
    ats.check()
    wrong = dataclasses.replace(
        credentials, **({"api_key": "0" * 32} if api == "v1" else {"client_secret": "wrong"})
    )
    with pytest.raises(greenhouse.AuthenticationFailed) as refused:
        greenhouse.Harvest(wrong).check()
    expected = "the API key" if api == "v1" else "the client ID or secret"
    assert f"Greenhouse refused {expected}" in str(refused.value)


def test_find_user_by_email(harvest, ats, api):
    rick = greenhouse.User(harvest.recruiter.pk, "Rick Recruiter", "rick@acme.example")
    assert ats.find_user("Rick@ACME.example") == rick
    # v3 filters users on their primary address only.
    assert ats.find_user("jobs@acme.example") == (rick if api == "v1" else None)
    control.create_greenhouse_user("gone@acme.example", "Gone Away", disabled=True)
    assert ats.find_user("gone@acme.example") is None
    assert ats.find_user("nobody@acme.example") is None


def test_find_candidate_by_email_whatever_its_case(harvest, ats):
    assert ats.find_candidate("CASEY@Candidates.example") == greenhouse.Candidate(
        harvest.candidate.pk, "Casey Candidate", (CANDIDATE,)
    )
    assert ats.find_candidate("nobody@candidates.example") is None


def test_activities_are_the_notes_and_emails_of_the_whole_feed(harvest, ats):
    for n in range(120):
        control.add_note(CANDIDATE, "ada@acme.example", f"Note {n}", visibility="private")
    # Greenhouse's own events (stage moves...) are not notes or emails.
    records.add_note(harvest.candidate, harvest.admin, "Moved to Phone Screen", kind="activity")
    remote_id = write(ats, harvest)
    found = ats.activities(harvest.candidate.pk)
    # v3 lists 100 notes to a page, so this read two pages.
    assert len(found) == 121
    assert sorted(a.body for a in found if a.kind == "note") == sorted(
        f"Note {n}" for n in range(120)
    )
    assert {a.user_id for a in found if a.kind == "note"} == {harvest.admin.pk}
    [email] = [a for a in found if a.kind == "email"]
    assert (email.id, email.user_id) == (remote_id, harvest.recruiter.pk)


# Writes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", ["public", "private", "admin_only"])
def test_an_email_lands_on_the_candidate_as_the_acting_user(harvest, ats, api, visibility):
    remote_id = write(ats, harvest, visibility=visibility)
    [activity] = ats.activities(harvest.candidate.pk)
    [entry] = control.candidate_activity(CANDIDATE)
    assert (activity.id, activity.user_id) == (remote_id, harvest.recruiter.pk)
    assert (entry.pk, entry.user_id) == (int(remote_id), harvest.recruiter.pk)
    if api == "v1" and visibility != "public":
        # A v1 email is seen by everyone who sees the candidate: a restricted one is a note of
        # that visibility which quotes it.
        quoted = (
            "From: rick@acme.example\nTo: casey@candidates.example\n"
            "Subject: Staff engineer role\n\nHi Casey,\n\nWould you have 20 minutes this week?"
        )
        assert (activity.kind, activity.subject, activity.body) == ("note", "", quoted)
        assert (entry.kind, entry.visibility) == (ActivityKind.NOTE, visibility)
        return
    assert (activity.kind, activity.subject) == ("email", "Staff engineer role")
    assert activity.body == "Hi Casey,\n\nWould you have 20 minutes this week?"
    assert (entry.kind, entry.from_address, entry.to_address) == (
        ActivityKind.EMAIL,
        "rick@acme.example",
        CANDIDATE,
    )
    # v1's email activities have no visibility of their own.
    assert entry.visibility == ("" if api == "v1" else visibility)


def test_create_prospect(harvest, ats, api):
    def create():
        return ats.create_prospect(
            acting_user_id=harvest.recruiter.pk,
            first_name="Pat",
            last_name="Prospect",
            email="pat@prospects.example",
            company="Globex",
            title="Staff Engineer",
        )

    if api == "v3":
        with pytest.raises(greenhouse.Rejected, match="Harvest v1 API key"):
            create()
        assert not ApiCall.objects.filter(endpoint__startswith="greenhouse.").exists()
        return
    created = create()
    assert (created.name, created.emails) == ("Pat Prospect", ("pat@prospects.example",))
    assert ats.find_candidate("pat@prospects.example") == created
    stored = control.candidate("pat@prospects.example")
    assert (stored.pk, stored.is_prospect, stored.company, stored.title) == (
        created.id,
        True,
        "Globex",
        "Staff Engineer",
    )
    written = ApiCall.objects.get(endpoint=endpoints.V1_PROSPECTS_CREATE)
    assert (written.status, written.account_email) == (201, "rick@acme.example")


# Greenhouse's refusals and failures -----------------------------------------------------------


def test_an_unknown_acting_user_is_refused(harvest, ats):
    with pytest.raises(greenhouse.PermissionDenied, match=f"user {UNKNOWN_ID} "):
        write(ats, harvest, acting_user_id=UNKNOWN_ID)
    assert control.candidate_activity(CANDIDATE) == []


def test_a_credential_without_the_permission_is_refused(harvest, api):
    narrow = make_credentials(
        harvest,
        api,
        v1_permissions=[endpoints.V1_USERS_LIST],
        v3_scopes=["harvest:users:list", "harvest:notes:create"],
    )
    with pytest.raises(greenhouse.PermissionDenied) as refused:
        greenhouse.Harvest(narrow).find_candidate(CANDIDATE)
    message = str(refused.value)
    assert "may not look up the candidate casey@candidates.example" in message
    # Greenhouse's own words say what is missing.
    missing = (
        "does not have permission to access this endpoint"
        if api == "v1"
        else "missing the scope harvest:candidates:list"
    )
    assert missing in message


def test_a_missing_candidate_and_an_invalid_write(harvest, ats, api):
    # v1 has the candidate in the path (404); v3 in the body (422).
    expected = greenhouse.NotFound if api == "v1" else greenhouse.Rejected
    with pytest.raises(expected):
        ats.write_email(
            UNKNOWN_ID,
            acting_user_id=harvest.recruiter.pk,
            sender="rick@acme.example",
            to=CANDIDATE,
            subject="Hello",
            body="Hi",
            visibility="public",
        )
    with pytest.raises(greenhouse.Rejected) as rejected:
        write(ats, harvest, visibility="everyone")
    # The admin reads Greenhouse's own words for the field it refused.
    assert "visibility: Must be one of: admin_only, private, public" in str(rejected.value)


def test_a_failing_greenhouse_is_unavailable(harvest, ats, api):
    control.fail_next(CANDIDATES_LIST[api], status=503)
    with pytest.raises(greenhouse.Unavailable, match="HTTP 503"):
        ats.find_candidate(CANDIDATE)
    assert ats.find_candidate(CANDIDATE).id == harvest.candidate.pk


def test_a_dropped_answer_is_unavailable_though_the_email_landed(harvest, ats, api):
    control.drop_next(EMAIL_CREATE[api])
    with pytest.raises(greenhouse.Unavailable):
        write(ats, harvest)
    [landed] = ats.activities(harvest.candidate.pk)
    assert (landed.kind, landed.user_id) == ("email", harvest.recruiter.pk)
    assert calls(EMAIL_CREATE[api]) == [201]


def test_a_429_says_when_to_retry_and_holds_back_every_worker(harvest, ats, credentials, api):
    control.fail_next(CANDIDATES_LIST[api], status=429)
    with time_machine.travel(IN_A_WINDOW, tick=False):
        with pytest.raises(greenhouse.RateLimited) as refused:
            ats.find_candidate(CANDIDATE)
        assert refused.value.retry_after == 9
        # Another worker on the same credential waits too, without asking.
        with pytest.raises(greenhouse.RateLimited) as held:
            greenhouse.Harvest(credentials).find_candidate(CANDIDATE)
        assert held.value.retry_after == 9
    assert calls(CANDIDATES_LIST[api]) == [429]
    with time_machine.travel(IN_A_WINDOW + timedelta(seconds=10), tick=False):
        assert ats.find_candidate(CANDIDATE).id == harvest.candidate.pk


# The rate budget ------------------------------------------------------------------------------


def test_the_budget_is_never_overspent(harvest, ats, credentials, api):
    control.set_harvest_rate_limit(credential_name(credentials), 3)
    with time_machine.travel(IN_A_WINDOW, tick=False):
        for _ in range(3):
            assert ats.find_candidate(CANDIDATE).id == harvest.candidate.pk
        with pytest.raises(greenhouse.RateLimited) as held:
            ats.find_candidate(CANDIDATE)
        assert held.value.retry_after == 9
    # Greenhouse never had to refuse: the 4th call was held back here.
    assert calls(CANDIDATES_LIST[api]) == [200] * 3
    with time_machine.travel(IN_A_WINDOW + timedelta(seconds=10), tick=False):
        assert ats.find_candidate(CANDIDATE).id == harvest.candidate.pk


def test_workers_sharing_a_credential_never_both_spend_the_last_request(
    harvest, ats, credentials, api
):
    control.set_harvest_rate_limit(credential_name(credentials), 5)

    def worker(_) -> str:
        try:
            greenhouse.Harvest(credentials).find_candidate(CANDIDATE)
        except greenhouse.RateLimited:
            return "held back"
        return "called"

    with time_machine.travel(IN_A_WINDOW, tick=False):
        # The first answer tells the budget Greenhouse's limit: 4 requests are left.
        ats.find_candidate(CANDIDATE)
        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = sorted(pool.map(worker, range(8)))
    assert outcomes == ["called"] * 4 + ["held back"] * 4
    assert calls(CANDIDATES_LIST[api]) == [200] * 5


# v3 access tokens -----------------------------------------------------------------------------


@pytest.fixture
def v3(harvest) -> greenhouse.Credentials:
    return make_credentials(harvest, "v3")


def token_requests(credentials: greenhouse.Credentials) -> int:
    return ApiCall.objects.filter(
        endpoint=endpoints.TOKEN, client_id=credentials.client_id, status=200
    ).count()


def test_v3_tokens_are_reused_per_acting_user(harvest, v3):
    ats = greenhouse.Harvest(v3)
    ats.check()
    ats.find_user("rick@acme.example")
    ats.find_candidate(CANDIDATE)
    ats.activities(harvest.candidate.pk)
    # Reads act as the credential's service account: one token for all of them.
    assert token_requests(v3) == 1
    write(ats, harvest)
    # Another task in the same worker process, writing as the same user.
    write(greenhouse.Harvest(v3), harvest)
    assert token_requests(v3) == 2
    assert {entry.user_id for entry in control.candidate_activity(CANDIDATE)} == {
        harvest.recruiter.pk
    }


def test_a_refused_v3_token_is_replaced_once(harvest, v3):
    ats = greenhouse.Harvest(v3)
    ats.find_candidate(CANDIDATE)
    # Greenhouse forgets every token it issued (a revocation, a rotated credential).
    HarvestAccessToken.objects.all().delete()
    assert ats.find_candidate(CANDIDATE).id == harvest.candidate.pk
    assert token_requests(v3) == 2
    assert calls(endpoints.V3_CANDIDATES_LIST) == [200, 401, 200]


def test_a_failing_v3_sign_in_is_unavailable(harvest, v3):
    control.fail_next(endpoints.TOKEN, status=503)
    with pytest.raises(greenhouse.Unavailable, match="sign-in"):
        greenhouse.Harvest(v3).check()
    assert not ApiCall.objects.filter(endpoint=endpoints.V3_USERS_LIST).exists()
