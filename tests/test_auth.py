import pytest

from outreach.models import Role
from tests.conftest import link_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def log_in(client, email, password):
    return client.post("/login/", {"username": email, "password": password})


@pytest.mark.parametrize("role", [Role.ADMIN, Role.RECRUITER])
def test_members_log_in_with_email_and_password_and_land_on_the_dashboard(
    client, org, password, role
):
    UserFactory(organization=org, role=role, email="pat@acme.example", full_name="Pat Smith")
    response = log_in(client, "PAT@acme.example", password)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    page = client.get("/dashboard/").content.decode()
    assert "Hello, Pat" in page
    assert "Acme" in page


def test_sender_only_users_cannot_log_in_with_a_password(client, org):
    sender = UserFactory(organization=org, role=Role.SENDER, email="hm@acme.example")
    sender.set_unusable_password()
    sender.save()
    response = log_in(client, "hm@acme.example", "")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_deactivated_users_cannot_log_in(client, org, password):
    UserFactory(organization=org, email="gone@acme.example", is_active=False)
    response = log_in(client, "gone@acme.example", password)
    assert b"do not match an active account" in response.content


def test_repeated_wrong_passwords_lock_the_account_out_even_for_the_right_one(
    client, recruiter, password, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, recruiter.email, "wrong-guess").status_code == 200
    assert log_in(client, recruiter.email, "wrong-guess").status_code == 429
    response = log_in(client, recruiter.email, password)
    assert response.status_code == 429
    assert b"Too many failed log-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_needs_a_post_and_ends_the_session(recruiter_client):
    assert recruiter_client.get("/logout/").status_code == 405
    response = recruiter_client.post("/logout/")
    assert response.status_code == 302
    assert recruiter_client.get("/dashboard/")["Location"].startswith("/login/")


def test_password_reset_by_email(client, recruiter, committed, mailoutbox):
    with committed():
        response = client.post("/password-reset/", {"email": "RICK@acme.example"})
    assert response.status_code == 302
    [email] = mailoutbox
    assert email.to == [recruiter.email]
    link = link_in(email)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    new = "a-brand-new-passphrase"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert log_in(client, recruiter.email, new).status_code == 302


def test_password_reset_for_an_unknown_address_reveals_nothing(client, committed, mailoutbox):
    with committed():
        response = client.post("/password-reset/", {"email": "nobody@acme.example"})
    assert response.status_code == 302
    assert mailoutbox == []


def test_password_reset_requests_are_throttled_per_target_address(
    client, recruiter, committed, mailoutbox, settings
):
    settings.PASSWORD_RESET_RATE = "2/h"
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        with committed():
            response = client.post(
                "/password-reset/", {"email": recruiter.email}, REMOTE_ADDR=address
            )
    assert response.status_code == 429
    assert len(mailoutbox) == 2


def test_pages_carry_a_content_security_policy_that_forbids_inline_scripts(client):
    response = client.get("/login/")
    policy = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'"
    # No inline script or handler anywhere on the page.
    assert "<script>" not in response.content.decode()
    assert " onclick=" not in response.content.decode()


def test_forms_are_protected_against_cross_site_requests(recruiter, password):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert (
        strict.post("/login/", {"username": recruiter.email, "password": password}).status_code
        == 403
    )


def test_failures_in_any_capitalisation_count_towards_one_lock_out(
    client, recruiter, password, settings
):
    spellings = [
        "rick@acme.example",
        "Rick@acme.example",
        "RICK@ACME.EXAMPLE",
        " rick@Acme.example ",
    ]
    for i in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, spellings[i % len(spellings)], "wrong-guess")
    response = log_in(client, "Rick@Acme.Example", password)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


PROXY = "10.0.0.2"


def through_proxy(client, path, data, client_address, forged=""):
    # What our one proxy passes on: whatever the client sent, then the address it came from.
    forwarded = f"{forged}, {client_address}" if forged else client_address
    return client.post(path, data, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def test_behind_one_proxy_lock_outs_follow_the_clients_address(
    client, recruiter, password, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    guesser = "198.51.100.7"
    for i in range(settings.AXES_FAILURE_LIMIT):
        # A header of its own, different each time, changes nothing.
        through_proxy(
            client,
            "/login/",
            {"username": recruiter.email, "password": "wrong-guess"},
            guesser,
            forged=f"203.0.113.{i}",
        )
    credentials = {"username": recruiter.email, "password": password}
    assert through_proxy(client, "/login/", credentials, guesser).status_code == 429
    # The colleague behind the same proxy, from another address, is not locked out.
    assert through_proxy(client, "/login/", credentials, "198.51.100.8").status_code == 302


def test_without_a_proxy_a_forged_forwarded_for_does_not_reset_the_lock_out(
    client, recruiter, password, settings
):
    settings.TRUSTED_PROXY_COUNT = 0
    for i in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/login/",
            {"username": recruiter.email, "password": "wrong-guess"},
            REMOTE_ADDR="192.0.2.10",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        )
    response = client.post(
        "/login/",
        {"username": recruiter.email, "password": password},
        REMOTE_ADDR="192.0.2.10",
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert response.status_code == 429


def test_behind_one_proxy_rate_limits_follow_the_clients_address(client, committed, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PASSWORD_RESET_RATE = "2/h"
    statuses = []
    for i in range(3):
        with committed():
            response = through_proxy(
                client,
                "/password-reset/",
                {"email": f"someone{i}@acme.example"},
                "198.51.100.7",
                forged=f"203.0.113.{i}",
            )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 429]
    with committed():
        response = through_proxy(
            client, "/password-reset/", {"email": "other@acme.example"}, "198.51.100.8"
        )
    assert response.status_code == 302


def test_without_a_proxy_a_forged_forwarded_for_does_not_reset_a_rate_limit(
    client, committed, settings
):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.PASSWORD_RESET_RATE = "2/h"
    statuses = []
    for i in range(3):
        with committed():
            response = client.post(
                "/password-reset/",
                {"email": f"someone{i}@acme.example"},
                REMOTE_ADDR="192.0.2.10",
                HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
            )
        statuses.append(response.status_code)
    assert statuses == [302, 302, 429]
