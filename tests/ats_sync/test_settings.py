"""The ATS settings page (team admins only): Greenhouse credentials, write-only and encrypted at
rest, tested against the sandbox's Greenhouse; the team's sync settings; which Greenhouse user
each teammate is, found by email or set by an admin (whose choice a lookup never overwrites)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from ats_sync import services
from ats_sync.models import AtsConnection, UserMapping
from outreach import clock
from outreach.models import Role
from sandbox import control
from tests.factories import UserFactory

SECRET = "plain-client-secret-0f1e2d3c"
API_KEY = "0123456789abcdef0123456789abcdef"

SETTINGS = "/ats/"
TEST = "/ats/test/"
FIND = "/ats/users/find/"


def map_url(user) -> str:
    return f"/ats/users/{user.pk}/"


def raw_column(column: str, pk: int) -> str:
    """What the database really holds, under the field's decryption."""
    with db_connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM ats_sync_atsconnection WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def row_of(page: str, email: str) -> str:
    """The user-mapping table row of that teammate."""
    found = re.search(rf'<tr data-user="{re.escape(email)}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {email}"
    return found.group(1)


def connect_greenhouse(org, harvest, **fields) -> AtsConnection:
    return AtsConnection.objects.create(
        organization=org,
        api="v3",
        client_id=harvest.client.client_id,
        client_secret=harvest.client.client_secret,
        **fields,
    )


def flashes(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Who reaches the page -------------------------------------------------------------------------


def test_only_team_admins_reach_the_ats_settings(client, admin_user, recruiter, org):
    sender = UserFactory(organization=org, role=Role.SENDER, email="hana@acme.example")
    client.force_login(admin_user)
    page = client.get(SETTINGS)
    assert page.status_code == 200
    assert b"Greenhouse credentials" in page.content

    for user in (recruiter, sender):
        client.force_login(user)
        assert client.get(SETTINGS).status_code == 403
        posts = {
            SETTINGS: {"section": "sync", "auto_sync": "on", "visibility": "public"},
            TEST: {"api": "v1", "api_key": API_KEY},
            FIND: {},
            map_url(recruiter): {"greenhouse_user_id": "7"},
        }
        for url, data in posts.items():
            assert client.post(url, data).status_code == 403, url
    assert not AtsConnection.objects.exists()
    assert not UserMapping.objects.exists()

    client.logout()
    response = client.get(SETTINGS)
    assert response.status_code == 302 and "/login/" in response["Location"]


# Credentials ----------------------------------------------------------------------------------


def test_secrets_are_stored_encrypted_and_never_rendered(admin_client, org):
    response = admin_client.post(
        SETTINGS,
        {"section": "credentials", "api": "v3", "client_id": "client-abc", "client_secret": SECRET},
    )
    assert response.status_code == 302

    stored = AtsConnection.objects.get(organization=org)
    assert (stored.api, stored.client_id, stored.client_secret) == ("v3", "client-abc", SECRET)
    raw = raw_column("client_secret", stored.pk)
    assert raw and raw != SECRET and SECRET not in raw

    page = admin_client.get(SETTINGS).content.decode()
    assert SECRET not in page
    assert 'data-stored="client_secret"' in page
    assert 'data-stored="api_key"' not in page
    assert 'value="client-abc"' in page  # the client id is no secret

    # A blank secret keeps the stored one; the v1 key is stored the same way.
    admin_client.post(
        SETTINGS,
        {"section": "credentials", "api": "v1", "client_id": "client-abc", "api_key": API_KEY},
    )
    stored.refresh_from_db()
    assert (stored.api, stored.client_secret, stored.api_key) == ("v1", SECRET, API_KEY)
    raw_key = raw_column("api_key", stored.pk)
    assert raw_key and API_KEY not in raw_key
    page = admin_client.get(SETTINGS).content.decode()
    assert SECRET not in page and API_KEY not in page
    assert 'data-stored="client_secret"' in page and 'data-stored="api_key"' in page

    # A form sent back with an error does not echo the secret typed either.
    response = admin_client.post(
        SETTINGS, {"section": "credentials", "api": "v9", "client_secret": "typed-secret-42"}
    )
    assert response.status_code == 200
    assert b"typed-secret-42" not in response.content
    assert b"Select a valid choice" in response.content
    stored.refresh_from_db()
    assert (stored.api, stored.client_secret) == ("v1", SECRET)


def test_automatic_sync_needs_credentials_and_is_for_the_whole_team(admin_client, org, committed):
    sync = {"section": "sync", "auto_sync": "on", "visibility": "public"}
    response = admin_client.post(SETTINGS, {**sync, "when_candidate_missing": "create_prospect"})
    assert response.status_code == 200
    assert b"Enter and save Greenhouse credentials before switching automatic sync on" in (
        response.content
    )
    assert not AtsConnection.objects.filter(auto_sync=True).exists()

    admin_client.post(
        SETTINGS,
        {"section": "credentials", "api": "v1", "api_key": API_KEY},
    )
    assert services.auto_sync_on(org.pk) is False  # now cached by the pusher's side
    with committed():
        response = admin_client.post(
            SETTINGS, {**sync, "when_candidate_missing": "create_prospect"}, follow=True
        )
    assert "Sync settings saved: emails and replies are written to Greenhouse." in flashes(response)
    stored = AtsConnection.objects.get(organization=org)
    assert (stored.auto_sync, stored.visibility, stored.when_candidate_missing) == (
        True,
        "public",
        "create_prospect",
    )
    assert stored.api_key == API_KEY  # saving the sync settings left the credentials alone
    assert services.auto_sync_on(org.pk) is True

    page = response.content.decode()
    assert "Automatic sync is on" in page
    assert "often interviewers" in page
    assert "confidential</strong> sequences are always written as admins only" in page

    with committed():
        admin_client.post(
            SETTINGS,
            {"section": "sync", "visibility": "admin_only", "when_candidate_missing": "skip"},
        )
    assert services.auto_sync_on(org.pk) is False


def test_testing_without_credentials_says_what_is_missing(admin_client):
    response = admin_client.post(TEST, follow=True)
    assert flashes(response) == [
        "Test failed: Enter the client ID and secret of a Harvest v3 credential first."
    ]


@pytest.mark.parametrize("api", ["v3", "v1"])
def test_test_connection_asks_greenhouse_and_keeps_the_outcome(client, harvest, admin_user, api):
    client.force_login(admin_user)
    good = (
        {"client_id": harvest.client.client_id, "client_secret": harvest.client.client_secret}
        if api == "v3"
        else {"api_key": harvest.key.key}
    )
    htmx = {"HX-Request": "true"}

    response = client.post(TEST, {"api": api, **good}, headers=htmx)

    assert response.status_code == 200
    fragment = response.content.decode()
    assert "Connection works: Greenhouse accepted the credentials." in fragment
    assert 'id="ats-credentials"' in fragment and "<html" not in fragment
    secret = good.get("client_secret") or good["api_key"]
    assert secret not in fragment
    stored = AtsConnection.objects.get(organization=admin_user.organization)
    assert stored.last_tested_at is not None and stored.last_test_error == ""
    tested_at = stored.last_tested_at

    wrong = {"client_secret": "not-the-secret"} if api == "v3" else {"api_key": "f" * 32}
    response = client.post(TEST, {"api": api, **good, **wrong}, headers=htmx)

    fragment = response.content.decode()
    stored.refresh_from_db()
    assert "refused" in stored.last_test_error
    assert f"Test failed: {escape(stored.last_test_error)}" in fragment
    assert stored.last_tested_at > tested_at
    assert "not-the-secret" not in fragment

    # The page shows the last outcome too.
    page = client.get(SETTINGS).content.decode()
    assert f"Test failed: {escape(stored.last_test_error)}" in page


# Teammates in Greenhouse -------------------------------------------------------------------------


def test_find_by_email_maps_the_teammates_greenhouse_knows(
    client, harvest, org, admin_user, recruiter
):
    connect_greenhouse(org, harvest)
    nina = UserFactory(organization=org, email="nina@acme.example", full_name="Nina New")
    gone = UserFactory(organization=org, email="gone@acme.example", is_active=False)
    control.create_greenhouse_user(gone.email, "Gone Person")
    client.force_login(admin_user)

    response = client.post(FIND, follow=True)

    assert flashes(response) == [
        "2 teammates found in Greenhouse by email. "
        "Set the others by hand, with their Greenhouse user id."
    ]
    mappings = {m.user_id: (m.greenhouse_user_id, m.source) for m in UserMapping.objects.all()}
    assert mappings == {
        admin_user.pk: (harvest.admin.pk, "email"),
        recruiter.pk: (harvest.recruiter.pk, "email"),
        nina.pk: (None, "email"),
    }  # and the deactivated teammate was not looked up
    page = response.content.decode()
    rick = row_of(page, recruiter.email)
    # The Greenhouse user's name, as Greenhouse has it, beside its id.
    assert re.search(rf'Rick Recruiter\s*<span class="muted">#{harvest.recruiter.pk}</span>', rick)
    assert "Found by email" in rick
    assert "No Greenhouse user has this email" in row_of(page, nina.email)
    assert gone.email not in page


def test_past_greenhouses_rate_limit_each_click_carries_on_with_the_others(
    client, harvest, org, admin_user, recruiter
):
    connect_greenhouse(org, harvest)
    control.set_harvest_rate_limit(harvest.client.client_id, 2)
    nina = UserFactory(organization=org, email="nina@acme.example")
    control.create_greenhouse_user(nina.email, "Nina New")
    client.force_login(admin_user)
    with time_machine.travel(clock.now(), tick=False) as traveller:
        response = client.post(FIND, follow=True)
        [said] = flashes(response)
        assert "Find by email again carries on with the others." in said
        assert 1 <= UserMapping.objects.count() < 3
        for _ in range(3):
            traveller.shift(timedelta(seconds=11))  # the next window of Greenhouse's limit
            client.post(FIND)

    mappings = dict(UserMapping.objects.values_list("user__email", "greenhouse_user_id"))
    assert mappings == {
        admin_user.email: harvest.admin.pk,
        recruiter.email: harvest.recruiter.pk,
        nina.email: control.greenhouse_user(nina.email).pk,
    }


def test_an_admins_mapping_survives_find_by_email(client, harvest, org, admin_user, recruiter):
    connect_greenhouse(org, harvest)
    client.force_login(admin_user)

    response = client.post(map_url(recruiter), {"greenhouse_user_id": "4242"}, follow=True)
    assert flashes(response) == ["Rick Recruiter is Greenhouse user 4242."]
    client.post(map_url(admin_user), {"greenhouse_user_id": ""})  # Ada has none, says the admin

    response = client.post(FIND, follow=True)

    assert UserMapping.objects.get(user=recruiter).greenhouse_user_id == 4242
    assert UserMapping.objects.get(user=recruiter).source == "manual"
    ada = UserMapping.objects.get(user=admin_user)
    assert (ada.greenhouse_user_id, ada.source) == (None, "manual")
    rick = row_of(response.content.decode(), recruiter.email)
    assert "#4242" in rick and "Set by an admin" in rick

    # Handed back to the lookup, Rick is found by his email.
    client.post(map_url(recruiter), {"reset": "1"})
    assert not UserMapping.objects.filter(user=recruiter).exists()
    client.post(FIND)
    rick = UserMapping.objects.get(user=recruiter)
    assert (rick.greenhouse_user_id, rick.source) == (harvest.recruiter.pk, "email")


def test_a_bad_greenhouse_user_id_is_refused(admin_client, recruiter):
    response = admin_client.post(map_url(recruiter), {"greenhouse_user_id": "-3"}, follow=True)
    assert flashes(response) == ["Rick Recruiter: Ensure this value is greater than or equal to 1."]
    assert not UserMapping.objects.exists()


def test_a_user_of_another_team_is_a_404(admin_client, org, other_admin):
    assert admin_client.post(map_url(other_admin), {"greenhouse_user_id": "5"}).status_code == 404
    assert admin_client.post(map_url(other_admin), {"reset": "1"}).status_code == 404
    gone = UserFactory(organization=org, is_active=False)
    assert admin_client.post(map_url(gone), {"greenhouse_user_id": "5"}).status_code == 404
    assert not UserMapping.objects.exists()
    page = admin_client.get(SETTINGS).content.decode()
    assert other_admin.email not in page


def test_the_page_makes_the_same_queries_for_any_team_size(
    admin_client, org, django_assert_max_num_queries
):
    AtsConnection.objects.create(organization=org, api="v1", api_key=API_KEY, auto_sync=True)

    def add_teammates(count):
        for n in range(count):
            user = UserFactory(organization=org)
            if n % 3:
                UserMapping.objects.create(
                    organization=org,
                    user=user,
                    greenhouse_user_id=100 + user.pk if n % 3 == 1 else None,
                    source="email" if n % 2 else "manual",
                )

    add_teammates(3)
    with CaptureQueriesContext(db_connection) as few:
        assert admin_client.get(SETTINGS).status_code == 200
    # The session, the admin, their team, the connection, the teammates with their mappings,
    # and the navigation's two counts.
    assert len(few) <= 7
    add_teammates(15)
    with django_assert_max_num_queries(len(few)):
        page = admin_client.get(SETTINGS)
    assert page.content.decode().count("<tr data-user=") == 19  # 18 and the admin
