from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from outreach.models import Invitation, Role, User
from outreach.signals import user_deactivated
from tests.conftest import link_in
from tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "welcome-aboard-2026"


def invite(client, committed, email, role=Role.RECRUITER, **headers):
    with committed():
        return client.post("/team/", {"email": email, "role": role}, **headers)


def accept(client, link, name="Nina New"):
    return client.post(
        link, {"full_name": name, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )


def test_admin_invites_a_teammate_who_sets_a_password_and_joins(
    admin_client, client, committed, mailoutbox, org
):
    response = invite(admin_client, committed, "nina@acme.example")
    assert response.status_code == 302
    assert "nina@acme.example" in admin_client.get("/team/").content.decode()

    [email] = mailoutbox
    assert email.to == ["nina@acme.example"]
    assert "Ada Admin invited you to Acme" in email.subject
    link = link_in(email)

    from django.test import Client

    invitee = Client()
    page = invitee.get(link)
    assert b"Join Acme" in page.content
    assert not User.objects.filter(email="nina@acme.example").exists()

    response = accept(invitee, link)
    assert response["Location"] == "/dashboard/"
    nina = User.objects.get(email="nina@acme.example")
    assert (
        nina.organization == org
        and nina.role == Role.RECRUITER
        and nina.check_password(NEW_PASSWORD)
    )
    assert b"Hello, Nina" in invitee.get("/dashboard/").content

    # Single use.
    assert (
        Client()
        .post(link, {"full_name": "X", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        .status_code
        == 400
    )


def test_invitation_link_expires(admin_client, client, committed, mailoutbox):
    invite(admin_client, committed, "nina@acme.example")
    link = link_in(mailoutbox[0])
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = client.get(link)
    assert response.status_code == 400
    assert b"expired" in response.content


def test_withdrawn_invitation_no_longer_works(admin_client, client, committed, mailoutbox):
    invite(admin_client, committed, "nina@acme.example")
    invitation = Invitation.objects.get()
    admin_client.post(f"/team/invitations/{invitation.pk}/revoke/")
    response = accept(client, link_in(mailoutbox[0]))
    assert response.status_code == 400
    assert b"withdrawn" in response.content


def test_reinviting_sends_a_fresh_link_and_voids_the_old_one(
    admin_client, client, committed, mailoutbox
):
    invite(admin_client, committed, "nina@acme.example")
    invite(admin_client, committed, "nina@acme.example", role=Role.ADMIN)
    assert accept(client, link_in(mailoutbox[0])).status_code == 400
    assert accept(client, link_in(mailoutbox[1])).status_code == 302
    assert User.objects.get(email="nina@acme.example").role == Role.ADMIN


def test_teammates_must_be_on_the_team_domain(admin_client, committed, mailoutbox):
    response = invite(admin_client, committed, "nina@elsewhere.example")
    assert b"must have an address on acme.example" in response.content
    assert mailoutbox == []


def test_only_admins_invite(recruiter_client, committed, mailoutbox):
    assert invite(recruiter_client, committed, "nina@acme.example").status_code == 403
    assert mailoutbox == []
    assert b"Invite a teammate" not in recruiter_client.get("/team/").content


def test_invitations_cannot_exceed_the_seats(admin_client, committed, mailoutbox, org):
    org.seats = 3
    org.save()
    UserFactory(organization=org, role=Role.RECRUITER)
    # A sender-only teammate takes no seat.
    UserFactory(organization=org, role=Role.SENDER)
    assert invite(admin_client, committed, "one@acme.example").status_code == 302
    response = invite(admin_client, committed, "two@acme.example")
    assert b"All 3 seats of Acme are taken" in response.content
    assert len(mailoutbox) == 1


def test_deactivating_a_member_frees_the_seat_and_is_announced(admin_client, committed, org):
    org.seats = 2
    org.save()
    leaver = UserFactory(organization=org, role=Role.RECRUITER, email="leaver@acme.example")
    announced = []

    def receiver(sender, user, by, **kwargs):
        announced.append((user.email, by.email))

    user_deactivated.connect(receiver)
    try:
        assert b"All 2 seats" in invite(admin_client, committed, "next@acme.example").content
        admin_client.post(f"/team/members/{leaver.pk}/deactivate/")
    finally:
        user_deactivated.disconnect(receiver)

    assert announced == [("leaver@acme.example", "ada@acme.example")]
    leaver.refresh_from_db()
    assert not leaver.is_active and leaver.deactivated_at is not None
    assert invite(admin_client, committed, "next@acme.example").status_code == 302


def test_the_last_admin_cannot_be_removed(admin_client, admin_user, org):
    other = UserFactory(organization=org, role=Role.ADMIN)
    response = admin_client.post(f"/team/members/{other.pk}/deactivate/", follow=True)
    assert b"is deactivated" in response.content
    response = admin_client.post(f"/team/members/{admin_user.pk}/deactivate/", follow=True)
    assert b"cannot deactivate yourself" in response.content
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_team_actions_answer_htmx_with_the_refreshed_team(admin_client, org):
    leaver = UserFactory(organization=org, email="leaver@acme.example")
    response = admin_client.post(f"/team/members/{leaver.pk}/deactivate/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "Deactivated" in body and "leaver@acme.example" in body
    assert "their seat is free" in body


def test_team_page_runs_a_constant_number_of_queries(
    admin_client, org, django_assert_max_num_queries
):
    def load():
        with django_assert_max_num_queries(8):
            response = admin_client.get("/team/")
        assert response.status_code == 200
        return response

    load()
    UserFactory.create_batch(15, organization=org)
    InvitationFactory.create_batch(10, organization=org)
    body = load().content.decode()
    assert body.count("Withdraw") == 10
