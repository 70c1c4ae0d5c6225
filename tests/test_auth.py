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
