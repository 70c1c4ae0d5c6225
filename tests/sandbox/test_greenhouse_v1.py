"""Harvest v1 over HTTP: Basic auth with the key, On-Behalf-Of on writes, candidates and users
by email, notes and emails on the activity feed read back in the documented shapes, prospects."""

import requests

from sandbox import control
from sandbox.greenhouse import endpoints


def test_requests_need_the_key_as_basic_username(harvest):
    url = f"{harvest.greenhouse.v1_url}/candidates"
    for auth in (None, ("not-a-key", ""), (harvest.key.key[:-1], "")):
        answer = requests.get(url, auth=auth, timeout=10)
        assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})
        assert "X-RateLimit-Limit" not in answer.headers
    answer = requests.get(url, auth=(harvest.key.key, ""), timeout=10)
    assert answer.status_code == 200
    assert answer.headers["X-RateLimit-Limit"] == "50"


def test_a_key_reaches_only_the_endpoints_it_was_granted(harvest):
    key = control.create_harvest_key(permissions=[endpoints.V1_CANDIDATES_LIST])
    session = harvest.greenhouse.v1(key.key)
    assert session.get(f"{harvest.greenhouse.v1_url}/candidates", timeout=10).status_code == 200
    answer = session.get(f"{harvest.greenhouse.v1_url}/users", timeout=10)
    assert answer.status_code == 403 and answer.json()["message"]


def test_candidate_by_email_in_the_documented_shape(harvest):
    control.create_candidate("sam@devmail.example", "Sam Okafor")
    found = harvest.v1().get(
        f"{harvest.greenhouse.v1_url}/candidates",
        params={"email": "Casey@Candidates.example"},
        timeout=10,
    )
    assert found.status_code == 200 and "Link" not in found.headers
    [candidate] = found.json()
    assert candidate["id"] == harvest.candidate.pk and candidate["id"] > 4_000_000_000
    assert candidate["email_addresses"] == [
        {"value": "casey@candidates.example", "type": "personal"}
    ]
    assert (candidate["first_name"], candidate["last_name"]) == ("Casey", "Candidate")
    assert candidate["application_ids"] == [candidate["applications"][0]["id"]]
    assert candidate["applications"][0]["prospect"] is False
    assert {"created_at", "updated_at", "last_activity", "is_private", "tags", "recruiter"} <= set(
        candidate
    )
    nobody = harvest.v1().get(
        f"{harvest.greenhouse.v1_url}/candidates", params={"email": "no@one.example"}, timeout=10
    )
    assert nobody.json() == []
    one = harvest.v1().get(
        f"{harvest.greenhouse.v1_url}/candidates/{harvest.candidate.pk}", timeout=10
    )
    assert one.json()["id"] == harvest.candidate.pk
    missing = harvest.v1().get(f"{harvest.greenhouse.v1_url}/candidates/1", timeout=10)
    assert (missing.status_code, missing.json()) == (404, {"message": "Resource not found"})


def test_user_by_primary_or_secondary_email(harvest):
    for email in ("rick@acme.example", "JOBS@acme.example"):
        found = harvest.v1().get(
            f"{harvest.greenhouse.v1_url}/users", params={"email": email}, timeout=10
        )
        [user] = found.json()
        assert user["id"] == harvest.recruiter.pk
        assert user["primary_email_address"] == "rick@acme.example"
        assert user["emails"] == ["rick@acme.example", "jobs@acme.example"]
        assert (user["name"], user["disabled"], user["site_admin"]) == (
            "Rick Recruiter",
            False,
            False,
        )
    everyone = harvest.v1().get(f"{harvest.greenhouse.v1_url}/users", timeout=10).json()
    # The v3 client's service account is not a user v1 lists.
    assert [user["id"] for user in everyone] == [harvest.admin.pk, harvest.recruiter.pk]


def _note(session, harvest, **body):
    return session.post(
        f"{harvest.greenhouse.v1_url}/candidates/{harvest.candidate.pk}/activity_feed/notes",
        json={"user_id": harvest.recruiter.pk, "body": "Spoke today.", "visibility": "public"}
        | body,
        timeout=10,
    )


def test_writes_need_a_valid_on_behalf_of_user(harvest):
    session = harvest.v1()
    for on_behalf_of in (None, "abc", "1"):
        if on_behalf_of:
            session.headers["On-Behalf-Of"] = on_behalf_of
        answer = _note(session, harvest)
        assert answer.status_code == 403
        assert answer.json() == {"message": "Missing or invalid On-Behalf-Of header"}
    assert control.candidate_activity("casey@candidates.example") == []
    assert _note(harvest.v1(harvest.recruiter), harvest).status_code == 201


def test_note_and_email_are_written_and_read_back_in_the_documented_shapes(harvest):
    session = harvest.v1(harvest.recruiter)
    note = _note(session, harvest, body="Great call.", visibility="admin_only")
    assert note.status_code == 201
    note = note.json()
    assert note["body"] == "Great call." and note["visibility"] == note["visiblity"] == "admin_only"
    assert note["private"] is False
    assert note["user"] == {
        "id": harvest.recruiter.pk,
        "first_name": "Rick",
        "last_name": "Recruiter",
        "name": "Rick Recruiter",
        "employee_id": None,
    }
    email = session.post(
        f"{harvest.greenhouse.v1_url}/candidates/{harvest.candidate.pk}/activity_feed/emails",
        json={
            "user_id": str(harvest.recruiter.pk),
            "to": "casey@candidates.example",
            "from": "rick@acme.example",
            "cc": ["ada@acme.example", "hm@acme.example"],
            "subject": "Staff role",
            "body": "Interested?",
        },
        timeout=10,
    )
    assert email.status_code == 201
    email = email.json()
    assert {key: email[key] for key in ("to", "from", "cc", "subject", "body")} == {
        "to": "casey@candidates.example",
        "from": "rick@acme.example",
        "cc": ["ada@acme.example", "hm@acme.example"],
        "subject": "Staff role",
        "body": "Interested?",
    }
    feed = session.get(
        f"{harvest.greenhouse.v1_url}/candidates/{harvest.candidate.pk}/activity_feed", timeout=10
    ).json()
    assert feed["notes"] == [note]
    # The feed documents an email's cc as one string, where the create answer gave a list.
    assert feed["emails"] == [email | {"cc": "ada@acme.example, hm@acme.example"}]
    assert feed["activities"] == []
    assert [entry.kind for entry in control.candidate_activity("casey@candidates.example")] == [
        "email",
        "note",
    ]


def test_invalid_writes_are_refused_with_validation_errors(harvest):
    session = harvest.v1(harvest.recruiter)
    answer = _note(session, harvest, visibility="everyone")
    assert answer.status_code == 422
    assert answer.json() == {
        "message": "Validation error",
        "errors": [
            {"message": "Must be one of: admin_only, private, public", "field": "visibility"}
        ],
    }
    assert _note(session, harvest, body="").json()["errors"][0]["field"] == "body"
    assert _note(session, harvest, user_id=12).json()["errors"][0]["field"] == "user_id"
    broken = session.post(
        f"{harvest.greenhouse.v1_url}/candidates/{harvest.candidate.pk}/activity_feed/notes",
        data="{",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert broken.status_code == 400
    unknown = session.post(
        f"{harvest.greenhouse.v1_url}/candidates/12/activity_feed/notes",
        json={"user_id": harvest.recruiter.pk, "body": "x", "visibility": "public"},
        timeout=10,
    )
    assert unknown.status_code == 404
    assert control.candidate_activity("casey@candidates.example") == []


def test_prospect_creation_and_its_duplicate(harvest):
    body = {
        "first_name": "Lee",
        "last_name": "Chen",
        "company": "Talent Inc",
        "email_addresses": [{"value": "Lee.Chen@talentmail.example", "type": "personal"}],
        "recruiter": {"email": "rick@acme.example"},
        "application": {"job_ids": []},
    }
    session = harvest.v1(harvest.admin)
    created = session.post(f"{harvest.greenhouse.v1_url}/prospects", json=body, timeout=10)
    assert created.status_code == 201
    prospect = created.json()
    assert prospect["applications"][0]["prospect"] is True
    assert prospect["recruiter"]["id"] == harvest.recruiter.pk
    found = session.get(
        f"{harvest.greenhouse.v1_url}/candidates",
        params={"email": "lee.chen@talentmail.example"},
        timeout=10,
    )
    assert [candidate["id"] for candidate in found.json()] == [prospect["id"]]
    # Greenhouse does not deduplicate: a retried create makes a second prospect.
    session.post(f"{harvest.greenhouse.v1_url}/prospects", json=body, timeout=10)
    found = session.get(
        f"{harvest.greenhouse.v1_url}/candidates",
        params={"email": "lee.chen@talentmail.example"},
        timeout=10,
    )
    assert len(found.json()) == 2
    refused = session.post(
        f"{harvest.greenhouse.v1_url}/prospects", json={"first_name": "No"}, timeout=10
    )
    assert refused.json()["errors"] == [{"message": "Missing required field", "field": "last_name"}]
    anonymous = harvest.v1().post(f"{harvest.greenhouse.v1_url}/prospects", json=body, timeout=10)
    assert anonymous.status_code == 403


def test_lists_are_paged_with_link_headers(harvest):
    for n in range(4):
        control.create_candidate(f"c{n}@candidates.example", f"Candidate {n}")
    url = f"{harvest.greenhouse.v1_url}/candidates"
    first = harvest.v1().get(url, params={"per_page": 2}, timeout=10)
    assert len(first.json()) == 2
    assert first.links["next"]["url"] == f"{url}?page=2&per_page=2"
    assert first.links["last"]["url"] == f"{url}?page=3&per_page=2"
    last = harvest.v1().get(first.links["last"]["url"], timeout=10)
    assert len(last.json()) == 1 and "next" not in last.links
    assert last.links["prev"]["url"] == f"{url}?page=2&per_page=2"
    ids = [c["id"] for page in (first, last) for c in page.json()]
    assert len(set(ids)) == 3
    assert harvest.v1().get(url, params={"per_page": 501}, timeout=10).status_code == 422
