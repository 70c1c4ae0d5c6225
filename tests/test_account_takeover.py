"""No account takeover: a member's email changes only by that member, confirmed at the new
address, on a domain the team holds; a team admin cannot change it (the operator can, and that
is recorded); any change ends the sessions opened under the old address."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail

from outreach import services
from outreach.models import EmailDomain, Role, User
from tests.conftest import link_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def teammate(org):
    EmailDomain.objects.get_or_create(organization=org, domain="acme.example")
    return UserFactory(
        organization=org, role=Role.RECRUITER, email="rick@acme.example", full_name="Rick"
    )


def signed_in(client_class, user):
    browser = client_class()
    browser.force_login(user)
    return browser


def test_a_team_admin_cannot_change_a_teammates_email_in_django_admin(
    admin_client, teammate, committed
):
    page = admin_client.get(f"/admin/outreach/user/{teammate.pk}/change/").content.decode()
    assert 'name="email"' not in page  # shown, not editable

    with committed():
        admin_client.post(
            f"/admin/outreach/user/{teammate.pk}/change/",
            {
                "email": "ada.owns.this@evil.example",
                "full_name": "Rick",
                "role": "recruiter",
                "is_active": "on",
            },
        )
    teammate.refresh_from_db()
    assert teammate.email == "rick@acme.example"
    # So a password reset asked for the attacker's address reaches nobody.
    admin_client.post("/password-reset/", {"email": "ada.owns.this@evil.example"})
    assert not [m for m in mail.outbox if "ada.owns.this@evil.example" in m.to]


def test_the_operator_may_change_it_and_the_change_is_recorded_and_ends_the_sessions(
    client, teammate, django_user_model, committed
):
    rick = signed_in(type(client), teammate)
    assert rick.get("/dashboard/").status_code == 200
    operator = django_user_model.objects.create_superuser(
        email="ops@outreach.example", password="x"
    )
    client.force_login(operator)

    with committed():
        client.post(
            f"/admin/outreach/user/{teammate.pk}/change/",
            {
                "email": "rick.new@acme.example",
                "full_name": "Rick",
                "organization": teammate.organization_id,
                "role": "recruiter",
                "is_active": "on",
            },
        )
    teammate.refresh_from_db()
    assert teammate.email == "rick.new@acme.example"
    assert LogEntry.objects.filter(
        object_id=str(teammate.pk),
        user=operator,
        change_message="Email changed from rick@acme.example to rick.new@acme.example by the "
        "operator.",
    ).exists()
    # The session opened under the old address is over.
    assert rick.get("/dashboard/").status_code == 302


def test_a_member_changes_their_own_email_through_a_link_sent_to_the_new_address(
    client, teammate, committed
):
    client.force_login(teammate)
    other_device = signed_in(type(client), teammate)
    with committed():
        answer = client.post("/account/", {"email": "Rick.Smith@ACME.example"})
    assert answer.status_code == 302
    teammate.refresh_from_db()
    assert teammate.email == "rick@acme.example"  # nothing changes before the link is used
    [sent] = [m for m in mail.outbox if m.to == ["rick.smith@acme.example"]]
    link = link_in(sent, "/account/email/")

    # Opening the link (as a mail scanner would) changes nothing.
    assert "rick.smith@acme.example" in client.get(link).content.decode()
    teammate.refresh_from_db()
    assert teammate.email == "rick@acme.example"

    with committed():
        assert client.post(link).status_code == 302
    teammate.refresh_from_db()
    assert teammate.email == "rick.smith@acme.example"
    assert other_device.get("/dashboard/").status_code == 302  # its session ended
    assert [m for m in mail.outbox if m.to == ["rick@acme.example"]], "the old address is told"
    # The link is spent.
    assert client.post(link).status_code == 400


def test_a_new_address_off_the_teams_domains_or_taken_is_refused(client, teammate, org):
    UserFactory(organization=org, email="hana@acme.example")
    client.force_login(teammate)
    for address, problem in (
        ("rick@gmail.com", "acme.example"),
        ("hana@acme.example", "already has an account"),
        ("rick@acme.example", "already your address"),
    ):
        page = client.post("/account/", {"email": address}).content.decode()
        assert problem in page
    assert not [m for m in mail.outbox if "/account/email/" in m.body]


def test_a_link_for_a_change_is_bound_to_the_address_it_replaces(teammate, committed):
    with committed():
        services.request_email_change(user=teammate, new_email="rick.a@acme.example")
        services.request_email_change(user=teammate, new_email="rick.b@acme.example")
    first, second = (
        re.search(r"/account/email/([^/]+)/", m.body).group(1)
        for m in mail.outbox
        if "/account/email/" in m.body
    )
    services.confirm_email_change(token=second)
    with pytest.raises(services.LinkError):
        services.confirm_email_change(token=first)  # the address it replaced is gone
    assert User.objects.get(pk=teammate.pk).email == "rick.b@acme.example"
