"""Harvest v3 over HTTP: client credentials tokens with `sub`, Bearer tokens that expire after an
hour, scopes, site-admin-only lists, cursor paging, notes and logged emails."""

from datetime import timedelta

import requests
import time_machine
from django.utils import timezone
from google.auth import jwt

from sandbox import control


def test_a_token_acts_as_its_sub_and_expires_after_an_hour(harvest):
    gh = harvest.greenhouse
    answer = gh.token(harvest.client.client_id, harvest.client.client_secret, harvest.recruiter.pk)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    issued = answer.json()
    assert set(issued) == {"access_token", "token_type", "expires_at"}
    assert issued["token_type"] == "Bearer"
    claims = jwt.decode(issued["access_token"], verify=False)
    assert claims["sub"] == str(harvest.recruiter.pk)
    assert claims["exp"] - claims["iat"] == 3600
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {issued['access_token']}"

    def write():
        return session.post(
            f"{gh.v3_url}/notes",
            json={"candidate_id": harvest.candidate.pk, "body": "Called.", "visibility": "private"},
            timeout=10,
        )

    written = write()
    assert written.status_code == 201 and written.json()["user_id"] == harvest.recruiter.pk
    with time_machine.travel(timezone.now() + timedelta(minutes=59)):
        assert write().status_code == 201
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        expired = write()
        assert (expired.status_code, expired.json()) == (401, {"message": "Unauthorized"})
        assert gh.token(harvest.client.client_id, harvest.client.client_secret).status_code == 200
    assert len(control.candidate_activity("casey@candidates.example")) == 2


def test_the_token_endpoint_refuses_bad_clients_grants_and_subjects(harvest):
    gh, client = harvest.greenhouse, harvest.client
    wrong = gh.token(client.client_id, "wrong")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    grant = requests.post(
        gh.token_url,
        auth=(client.client_id, client.client_secret),
        data={"grant_type": "password"},
        timeout=10,
    )
    assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")
    for sub in (12, client.service_account.pk):
        unknown = gh.token(client.client_id, client.client_secret, sub)
        assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_request")
    for authorization in ("", f"Bearer {'x' * 20}"):
        answer = requests.get(
            f"{gh.v3_url}/candidates", headers={"Authorization": authorization}, timeout=10
        )
        assert answer.status_code == 401


def test_lists_need_a_site_admin_and_the_scope(harvest):
    url = f"{harvest.greenhouse.v3_url}/candidates"
    refused = harvest.v3(harvest.recruiter).get(url, timeout=10)
    assert refused.status_code == 403
    # Without `sub` a token acts as the credential's service account.
    assert harvest.v3().get(url, timeout=10).status_code == 200
    assert harvest.v3(harvest.admin).get(url, timeout=10).status_code == 200
    control.create_harvest_client("narrow", "narrow-secret", scopes=["harvest:notes:create"])
    narrow = harvest.greenhouse.v3("narrow", "narrow-secret", harvest.admin.pk)
    answer = narrow.get(url, timeout=10)
    assert answer.status_code == 403 and "harvest:candidates:list" in answer.json()["message"]


def test_candidates_by_email_and_cursor_paging(harvest):
    for n in range(4):
        control.create_candidate(f"c{n}@candidates.example", f"Candidate {n}")
    session = harvest.v3(harvest.admin)
    [casey] = session.get(
        f"{harvest.greenhouse.v3_url}/candidates",
        params={"email": "CASEY@candidates.example"},
        timeout=10,
    ).json()
    assert casey["id"] == harvest.candidate.pk
    assert casey["email_addresses"] == [{"value": "casey@candidates.example", "type": "personal"}]
    assert {"first_name", "last_name", "private", "last_activity_at", "can_email"} <= set(casey)

    page = session.get(f"{harvest.greenhouse.v3_url}/candidates?per_page=2", timeout=10)
    seen = []
    while True:
        assert page.status_code == 200
        seen += [candidate["id"] for candidate in page.json()]
        if "next" not in page.links:
            break
        next_url = page.links["next"]["url"]
        assert next_url.startswith(f"{harvest.greenhouse.v3_url}/candidates?cursor=")
        assert "&" not in next_url
        page = session.get(next_url, timeout=10)
    assert len(seen) == 5 and seen == sorted(seen)
    mixed = session.get(f"{next_url}&per_page=5", timeout=10)
    assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "cursor"


def test_users_by_primary_email_without_service_accounts(harvest):
    session = harvest.v3()
    [rick] = session.get(
        f"{harvest.greenhouse.v3_url}/users",
        params={"primary_email": "Rick@acme.example"},
        timeout=10,
    ).json()
    assert (rick["id"], rick["primary_email"], rick["emails"]) == (
        harvest.recruiter.pk,
        "rick@acme.example",
        ["rick@acme.example", "jobs@acme.example"],
    )
    # v3 has no filter on secondary addresses.
    assert (
        session.get(
            f"{harvest.greenhouse.v3_url}/users",
            params={"primary_email": "jobs@acme.example"},
            timeout=10,
        ).json()
        == []
    )
    listed = session.get(f"{harvest.greenhouse.v3_url}/users", timeout=10).json()
    assert [user["id"] for user in listed] == [harvest.admin.pk, harvest.recruiter.pk]
    with_services = session.get(
        f"{harvest.greenhouse.v3_url}/users", params={"show_service_accounts": "true"}, timeout=10
    ).json()
    assert harvest.client.service_account.pk in [user["id"] for user in with_services]


def test_notes_and_logged_emails_are_written_and_listed(harvest):
    writer = harvest.v3(harvest.recruiter)
    note = writer.post(
        f"{harvest.greenhouse.v3_url}/notes",
        json={
            "candidate_id": harvest.candidate.pk,
            "application_id": harvest.candidate.application_id,
            "body": "Left a voicemail.",
            "visibility": "public",
            "note_type": "NOTE",
        },
        timeout=10,
    ).json()
    assert note["type"] == "NOTE" and note["visibility"] == "publicly_visible"
    assert note["application_id"] == harvest.candidate.application_id
    email = writer.post(
        f"{harvest.greenhouse.v3_url}/notes",
        json={
            "candidate_id": harvest.candidate.pk,
            "body": "Interested?",
            "visibility": "admin_only",
            "note_type": "EMAIL",
            "subject": "Staff role",
            "email_from": "rick@acme.example",
            "email_to": "casey@candidates.example",
            "email_cc": ["ada@acme.example"],
            "user_id": harvest.admin.pk,
        },
        timeout=10,
    ).json()
    assert (email["type"], email["user_id"], email["subject"]) == (
        "EMAIL",
        harvest.admin.pk,
        "Staff role",
    )
    assert (email["email_from"], email["email_to"], email["email_cc"]) == (
        "rick@acme.example",
        "casey@candidates.example",
        ["ada@acme.example"],
    )
    reader = harvest.v3(harvest.admin)
    listed = reader.get(
        f"{harvest.greenhouse.v3_url}/notes",
        params={"candidate_ids": str(harvest.candidate.pk)},
        timeout=10,
    ).json()
    assert listed == [note, email]
    only_emails = reader.get(
        f"{harvest.greenhouse.v3_url}/notes",
        params={"candidate_ids": str(harvest.candidate.pk), "type": "EMAIL"},
        timeout=10,
    ).json()
    assert only_emails == [email]
    # Both versions read the same feed.
    feed = (
        harvest.v1()
        .get(
            f"{harvest.greenhouse.v1_url}/candidates/{harvest.candidate.pk}/activity_feed",
            timeout=10,
        )
        .json()
    )
    assert [n["id"] for n in feed["notes"]] == [note["id"]]
    assert [e["id"] for e in feed["emails"]] == [email["id"]]
    refused = writer.post(
        f"{harvest.greenhouse.v3_url}/notes",
        json={"candidate_id": 12, "body": "x", "visibility": "public"},
        timeout=10,
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "candidate_id"
