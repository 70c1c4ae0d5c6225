from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from outreach.models import EmailDomain, Organization, Role, User
from tests.conftest import link_in
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "team_name": "Initech",
    "full_name": "Peter Gibbons",
    "email": "Peter@Initech.example",
    "password1": "tps-reports-cover-sheet",
    "password2": "tps-reports-cover-sheet",
}


def sign_up(client, committed, **changes):
    with committed():
        return client.post("/signup/", {**SIGNUP, **changes})


def test_founder_confirms_by_email_and_becomes_admin_of_the_new_team(client, committed, mailoutbox):
    response = sign_up(client, committed)
    assert response.status_code == 302
    assert client.get(response["Location"]).content.decode().count("peter@initech.example") == 1

    # Nothing is claimed before the address is confirmed.
    assert not EmailDomain.objects.filter(domain="initech.example").exists()
    assert not User.objects.get(email="peter@initech.example").is_active
    [email] = mailoutbox
    assert email.to == ["peter@initech.example"]
    assert "Initech" in email.subject
    link = link_in(email)

    # Opening the link (as a mail scanner would) changes nothing.
    page = client.get(link)
    assert page.status_code == 200
    assert b"Confirm and continue" in page.content
    assert not User.objects.get(email="peter@initech.example").is_active

    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    founder = User.objects.get(email="peter@initech.example")
    assert founder.is_active and founder.role == Role.ADMIN and founder.is_staff
    assert founder.organization.name == "Initech"
    assert list(founder.organization.domains.values_list("domain", flat=True)) == [
        "initech.example"
    ]
    assert b"Initech" in client.get("/dashboard/").content

    # The link is spent.
    again = client.post(link)
    assert again.status_code == 400
    assert b"already confirmed" in again.content


@pytest.mark.parametrize("address", ["someone@gmail.com", "someone@outlook.com", "x@yahoo.com"])
def test_free_mail_addresses_cannot_found_a_team(client, committed, mailoutbox, address):
    response = sign_up(client, committed, email=address)
    assert response.status_code == 200
    assert b"personal email provider" in response.content
    assert not Organization.objects.exists()
    assert mailoutbox == []


def test_a_domain_held_by_another_team_cannot_be_taken(client, committed, mailoutbox):
    OrganizationFactory(name="Initech Corp", slug="initech-corp", domain="initech.example")
    response = sign_up(client, committed)
    assert b"already belongs to a team" in response.content
    assert mailoutbox == []


def test_first_team_to_confirm_wins_the_domain(client, committed, mailoutbox):
    sign_up(client, committed)
    link = link_in(mailoutbox[0])
    # Meanwhile another team confirmed the same domain.
    OrganizationFactory(name="Other", slug="other", domain="initech.example")

    response = client.post(link)
    assert response.status_code == 400
    assert b"claimed by another team" in response.content
    assert not User.objects.filter(email="peter@initech.example").exists()
    assert EmailDomain.objects.get(domain="initech.example").organization.name == "Other"


def test_confirmation_link_expires(client, committed, mailoutbox):
    sign_up(client, committed)
    link = link_in(mailoutbox[0])
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        response = client.post(link)
    assert response.status_code == 400
    assert b"expired" in response.content
    assert not User.objects.get(email="peter@initech.example").is_active


def test_tampered_link_is_refused(client, committed, mailoutbox):
    sign_up(client, committed)
    link = link_in(mailoutbox[0])
    response = client.post(link[:-3] + "abc/")
    assert response.status_code == 400
    assert b"not valid" in response.content


def test_signing_up_again_before_confirming_starts_over(client, committed, mailoutbox):
    sign_up(client, committed)
    sign_up(client, committed, team_name="Initech Two")
    assert Organization.objects.get().name == "Initech Two"
    # The first link no longer works; the second does.
    assert client.post(link_in(mailoutbox[0])).status_code == 400
    assert client.post(link_in(mailoutbox[1])).status_code == 302


def test_weak_password_is_refused_with_the_reason(client, committed):
    response = sign_up(client, committed, password1="initech", password2="initech")
    assert b"too short" in response.content
    assert not Organization.objects.exists()


def test_sign_up_attempts_are_throttled(client, committed, settings):
    settings.SIGNUP_RATE = "3/h"
    for _ in range(3):
        sign_up(client, committed, email="x@gmail.com")
    response = sign_up(client, committed)
    assert response.status_code == 429
    assert not Organization.objects.exists()


def test_sign_ups_for_one_email_are_throttled_whatever_address_they_come_from(
    client, committed, settings, mailoutbox
):
    settings.SIGNUP_RATE = "3/h"
    spellings = ["Peter@Initech.example", "peter@initech.example", "PETER@INITECH.EXAMPLE"]
    for i, spelling in enumerate(spellings):
        with committed():
            response = client.post(
                "/signup/", {**SIGNUP, "email": spelling}, REMOTE_ADDR=f"192.0.2.{i + 1}"
            )
        assert response.status_code == 302
    with committed():
        response = client.post("/signup/", SIGNUP, REMOTE_ADDR="192.0.2.99")
    assert response.status_code == 429
    assert len(mailoutbox) == 3
