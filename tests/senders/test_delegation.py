"""Send on behalf of: request, approve or reject, revoke; and every refusal."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from outreach import services as org_services
from outreach.models import Notification, Role, User
from sandbox import control
from senders import services
from senders.models import Delegation, DelegationEvent, Mailbox
from tests.conftest import link_in
from tests.factories import (
    PASSWORD,
    DelegationFactory,
    MailboxFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.senders.conftest import consent_and_return

pytestmark = pytest.mark.django_db


@pytest.fixture
def hiring_manager(org):
    return UserFactory(organization=org, email="hana@acme.example", full_name="Hana Hiring")


@pytest.fixture
def hm_mailbox(hiring_manager):
    return MailboxFactory(owner=hiring_manager)


def request_access(client, email, committed):
    with committed():
        return client.post("/senders/delegations/request/", {"email": email}, follow=True)


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_request_emails_a_review_link_that_only_shows_on_get(
    recruiter_client, recruiter, hiring_manager, hm_mailbox, committed, mailoutbox
):
    response = request_access(recruiter_client, "Hana@acme.example", committed)
    assert "Request sent to hana@acme.example" in response.content.decode()
    delegation = Delegation.objects.get()
    assert delegation.status == Delegation.Status.PENDING and delegation.grantor == hiring_manager
    [email] = mailoutbox
    assert email.to == [hiring_manager.email]
    assert email.subject == "Rick Recruiter asks to send recruiting emails from your inbox"
    assert email.alternatives[0][1] == "text/html" and "Review request" in email.alternatives[0][0]

    link = link_in(email, "/review/")
    hm = logged_in(hiring_manager)
    for _ in range(3):  # a mail scanner, a preview, the person
        page = hm.get(link)
        assert page.status_code == 200
    assert "Rick Recruiter asks to send from your inbox" in page.content.decode()
    delegation.refresh_from_db()
    assert delegation.status == Delegation.Status.PENDING


def test_grantor_approves_through_the_link_and_the_requester_is_told(
    recruiter_client, recruiter, hiring_manager, hm_mailbox, committed, mailoutbox, announcements
):
    request_access(recruiter_client, hiring_manager.email, committed)
    link = link_in(mailoutbox[0], "/review/")
    with committed():
        response = logged_in(hiring_manager).post(link, {"decision": "approve"})
    assert response.status_code == 302
    delegation = Delegation.objects.get()
    assert delegation.status == Delegation.Status.APPROVED and delegation.mailbox == hm_mailbox
    assert delegation.decided_by == hiring_manager
    assert [(name, kw["delegation"]) for name, kw in announcements] == [
        ("delegation_approved", delegation)
    ]
    assert services.can_send_as(recruiter, hm_mailbox)
    assert Notification.objects.filter(user=recruiter, message__contains="authorized you").exists()
    assert mailoutbox[-1].to == [recruiter.email]
    page = recruiter_client.get("/senders/").content.decode()
    assert "Authorized" in page and "hana@acme.example" in page
    assert [e.kind for e in delegation.events.order_by("at", "pk")] == ["requested", "approved"]

    # The link is spent.
    again = logged_in(hiring_manager).post(link, {"decision": "reject"})
    assert again.status_code == 400
    assert "already authorized" in again.content.decode()


def test_grantor_rejects_from_their_settings_page(
    recruiter_client, recruiter, hiring_manager, hm_mailbox, committed
):
    request_access(recruiter_client, hiring_manager.email, committed)
    delegation = Delegation.objects.get()
    hm = logged_in(hiring_manager)
    assert "Authorize" in hm.get("/senders/").content.decode()
    hm.post(f"/senders/delegations/{delegation.pk}/reject/")
    delegation.refresh_from_db()
    assert delegation.status == Delegation.Status.REJECTED
    assert not services.can_send_as(recruiter, hm_mailbox)
    assert Notification.objects.filter(user=recruiter, message__contains="declined").exists()


@pytest.mark.parametrize(
    ("address", "complaint"),
    [
        ("someone@globex.example", "is not on your team&#x27;s domains"),
        ("stranger@acme.example", "is not a member of Acme"),
        ("rick@acme.example", "That is your own address"),
    ],
)
def test_requests_that_are_refused(recruiter_client, committed, mailoutbox, address, complaint):
    OrganizationFactory(name="Globex", slug="globex")
    response = request_access(recruiter_client, address, committed)
    assert complaint in response.content.decode()
    assert not Delegation.objects.exists()
    assert mailoutbox == []


def test_a_member_of_another_team_on_our_domain_cannot_be_asked(recruiter_client, committed):
    other = OrganizationFactory(name="Globex", slug="globex")
    UserFactory(organization=other, email="spy@acme.example")
    response = request_access(recruiter_client, "spy@acme.example", committed)
    assert "is not a member of Acme" in response.content.decode()


def test_asking_twice_is_refused_and_resend_replaces_the_link(
    recruiter_client, hiring_manager, committed, mailoutbox
):
    request_access(recruiter_client, hiring_manager.email, committed)
    response = request_access(recruiter_client, hiring_manager.email, committed)
    assert "You already asked hana@acme.example" in response.content.decode()

    delegation = Delegation.objects.get()
    with time_machine.travel(timezone.now() + timedelta(minutes=5)), committed():
        recruiter_client.post(f"/senders/delegations/{delegation.pk}/resend/")
    assert len(mailoutbox) == 2
    hm = logged_in(hiring_manager)
    assert hm.get(link_in(mailoutbox[0], "/review/")).status_code == 400
    assert hm.get(link_in(mailoutbox[1], "/review/")).status_code == 200
    assert delegation.events.filter(kind=DelegationEvent.Kind.RESENT).exists()


def test_review_link_expires_after_seven_days(
    recruiter_client, hiring_manager, committed, mailoutbox
):
    request_access(recruiter_client, hiring_manager.email, committed)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = logged_in(hiring_manager).post(
            link_in(mailoutbox[0], "/review/"), {"decision": "approve"}
        )
    assert response.status_code == 400
    assert "expired after 7 days" in response.content.decode()
    assert Delegation.objects.get().status == Delegation.Status.EXPIRED


def test_unanswered_requests_expire_on_the_hourly_tick(recruiter, hiring_manager):
    delegation = DelegationFactory(grantor=hiring_manager, delegate=recruiter)
    from senders.tasks import expire_delegation_requests

    assert expire_delegation_requests.delay().get() == 0
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert expire_delegation_requests.delay().get() == 1
    delegation.refresh_from_db()
    assert delegation.status == Delegation.Status.EXPIRED
    assert delegation.events.filter(kind="expired").exists()


def test_link_opened_by_another_logged_in_user_is_refused(
    recruiter_client, recruiter, hiring_manager, hm_mailbox, committed, mailoutbox, admin_user
):
    request_access(recruiter_client, hiring_manager.email, committed)
    link = link_in(mailoutbox[0], "/review/")
    for intruder in (logged_in(admin_user), recruiter_client):
        assert intruder.get(link).status_code == 403
        response = intruder.post(link, {"decision": "approve"})
        assert response.status_code == 403
        assert "This request is for hana@acme.example" in response.content.decode()
    assert Delegation.objects.get().status == Delegation.Status.PENDING


def test_anonymous_visitor_with_a_password_account_must_log_in_first(
    recruiter_client, hiring_manager, hm_mailbox, committed, mailoutbox
):
    request_access(recruiter_client, hiring_manager.email, committed)
    client = Client()
    link = link_in(mailoutbox[0], "/review/")
    assert "Log in as hana@acme.example to review" in client.get(link).content.decode()
    response = client.post(link, {"decision": "approve"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Delegation.objects.get().status == Delegation.Status.PENDING
    # Logging in brings them back to the request.
    login = client.post(
        response["Location"], {"username": hiring_manager.email, "password": PASSWORD}
    )
    assert login["Location"] == link


def test_revoked_or_rejected_requests_cannot_be_approved(recruiter, hiring_manager, hm_mailbox):
    for final in (Delegation.Status.REVOKED, Delegation.Status.REJECTED):
        Delegation.objects.all().delete()
        delegation = DelegationFactory(grantor=hiring_manager, delegate=recruiter, status=final)
        response = logged_in(hiring_manager).post(
            f"/senders/delegations/{delegation.pk}/approve/", follow=True
        )
        assert (
            f"This request is {delegation.get_status_display().lower()} already"
            in response.content.decode()
        )
        delegation.refresh_from_db()
        assert delegation.status == final
        assert not services.can_send_as(recruiter, hm_mailbox)


@pytest.mark.parametrize("revoker_is", ["grantor", "delegate"])
def test_either_side_revokes_and_sending_stops_at_once(
    recruiter, hiring_manager, hm_mailbox, announcements, revoker_is
):
    delegation = DelegationFactory(
        grantor=hiring_manager,
        delegate=recruiter,
        mailbox=hm_mailbox,
        status=Delegation.Status.APPROVED,
    )
    assert services.can_send_as(recruiter, hm_mailbox)
    revoker, other = (
        (hiring_manager, recruiter) if revoker_is == "grantor" else (recruiter, hiring_manager)
    )

    logged_in(revoker).post(f"/senders/delegations/{delegation.pk}/revoke/", {"confirm": "yes"})

    assert not services.can_send_as(recruiter, hm_mailbox)
    [(name, heard)] = announcements
    assert name == "delegation_revoked"
    assert heard["delegation"].pk == delegation.pk and heard["by"] == revoker
    assert Notification.objects.filter(user=other, message__contains="has ended").exists()
    assert delegation.events.filter(kind="revoked", actor=revoker).exists()
    assert "Authorized" not in logged_in(recruiter).get("/senders/").content.decode()


@pytest.mark.parametrize("revoker_is", ["grantor", "delegate"])
def test_revoking_asks_first_and_the_question_changes_nothing(
    recruiter, hiring_manager, hm_mailbox, announcements, revoker_is
):
    delegation = DelegationFactory(
        grantor=hiring_manager,
        delegate=recruiter,
        mailbox=hm_mailbox,
        status=Delegation.Status.APPROVED,
    )
    revoker = hiring_manager if revoker_is == "grantor" else recruiter
    client = logged_in(revoker)
    url = f"/senders/delegations/{delegation.pk}/revoke/"

    # The settings page's Revoke button only opens the question (a GET form, no token).
    settings_page = client.get("/senders/").content.decode()
    assert (
        f'<form method="get" action="{url}"><button type="submit" class="secondary">Revoke</button>'
        in settings_page
    )
    asked = client.get(url).content.decode()
    # A POST without the confirmation (an old form, a replayed request) only asks too.
    asked_again = client.post(url).content.decode()

    if revoker_is == "grantor":
        question = "Stop Rick Recruiter sending from hana@acme.example?"
        consequence = (
            "Their sequences and scheduled emails from it pause at once, and they are told."
        )
    else:
        question = "Stop sending from hana@acme.example?"
        consequence = (
            "Your sequences and scheduled emails from it pause at once, and Hana Hiring is told."
        )
    for page in (asked, asked_again):
        assert f"<h1>{question}</h1>" in page
        assert consequence in page
        assert '<input type="hidden" name="confirm" value="yes">' in page
        assert 'href="/senders/">Cancel, keep it</a>' in page
    delegation.refresh_from_db()
    assert delegation.status == Delegation.Status.APPROVED and announcements == []
    assert services.can_send_as(recruiter, hm_mailbox)

    response = client.post(url, {"confirm": "yes"}, follow=True)

    assert "Sending on behalf has ended." in response.content.decode()
    assert not services.can_send_as(recruiter, hm_mailbox)
    # Asked again once it has ended: nothing to confirm.
    again = client.get(url, follow=True).content.decode()
    assert "Sending on behalf has already ended." in again


def test_deactivating_a_user_revokes_every_delegation_to_or_from_them(
    org, admin_user, recruiter, hiring_manager, hm_mailbox
):
    given = DelegationFactory(
        grantor=hiring_manager, delegate=recruiter, mailbox=hm_mailbox, status="approved"
    )
    asked = DelegationFactory(grantor=recruiter, delegate=hiring_manager)
    org_services.update_member(user=hiring_manager, by=admin_user, is_active=False)
    given.refresh_from_db()
    asked.refresh_from_db()
    assert given.status == asked.status == Delegation.Status.REVOKED
    assert "was deactivated" in given.events.get(kind="revoked").note
    assert not services.can_send_as(recruiter, hm_mailbox)
    # Even a delegation row left approved would not let anyone send as a deactivated owner.
    Delegation.objects.filter(pk=given.pk).update(status="approved")
    assert not services.can_send_as(recruiter, hm_mailbox)


def test_a_deactivated_delegate_cannot_send(recruiter, hiring_manager, hm_mailbox):
    DelegationFactory(
        grantor=hiring_manager, delegate=recruiter, mailbox=hm_mailbox, status="approved"
    )
    User.objects.filter(pk=recruiter.pk).update(is_active=False)
    recruiter.refresh_from_db()
    assert not services.can_send_as(recruiter, hm_mailbox)


def test_owner_can_send_from_their_own_mailbox_and_nobody_else_can(
    recruiter, hiring_manager, hm_mailbox
):
    assert services.can_send_as(hiring_manager, hm_mailbox)
    assert not services.can_send_as(recruiter, hm_mailbox)


def test_the_audit_trail_is_visible_to_admins_in_django_admin(
    admin_client, recruiter, hiring_manager, hm_mailbox
):
    delegation = DelegationFactory(grantor=hiring_manager, delegate=recruiter, mailbox=hm_mailbox)
    services.approve_delegation(delegation=delegation, by=hiring_manager)
    services.revoke_delegation(delegation=delegation, by=recruiter)
    page = admin_client.get(f"/admin/senders/delegation/{delegation.pk}/change/").content.decode()
    assert "Authorized" in page and "Revoked" in page and "Rick Recruiter" in page
    assert (
        "Revoked by Rick Recruiter" in logged_in(hiring_manager).get("/senders/").content.decode()
    )


# Through Google ------------------------------------------------------------------------------


def test_approving_without_a_connected_inbox_connects_it_in_the_same_step(
    google, recruiter_client, recruiter, hiring_manager, mailoutbox
):
    recruiter_client.post("/senders/delegations/request/", {"email": hiring_manager.email})
    hm = logged_in(hiring_manager)
    start = hm.post(link_in(mailoutbox[0], "/review/"), {"decision": "approve"})
    response = consent_and_return(hm, google, start, account=hiring_manager.email)
    assert response.status_code == 302
    delegation = Delegation.objects.get()
    assert delegation.status == Delegation.Status.APPROVED
    assert delegation.mailbox.email == hiring_manager.email and delegation.mailbox.is_connected
    assert services.can_send_as(recruiter, delegation.mailbox)


def test_approving_as_the_wrong_google_account_is_refused(
    google, recruiter_client, hiring_manager, mailoutbox
):
    recruiter_client.post("/senders/delegations/request/", {"email": hiring_manager.email})
    hm = logged_in(hiring_manager)
    start = hm.post(link_in(mailoutbox[0], "/review/"), {"decision": "approve"})
    control.create_account("someone.else@acme.example")
    response = consent_and_return(hm, google, start, account="someone.else@acme.example")
    assert response.status_code == 400
    assert "but this connects hana@acme.example" in response.content.decode()
    assert Delegation.objects.get().status == Delegation.Status.PENDING
    assert not Mailbox.objects.exists()


def test_colleague_without_an_account_connects_their_inbox_with_google_only(
    google, recruiter_client, recruiter, mailoutbox
):
    client = Client()
    response = recruiter_client.post(
        "/senders/delegations/invite/",
        {"full_name": "Harriet Manager", "email": "harriet@acme.example"},
        follow=True,
    )
    assert "Invitation sent to harriet@acme.example" in response.content.decode()
    harriet = User.objects.get(email="harriet@acme.example")
    assert harriet.role == Role.SENDER and not harriet.has_usable_password()
    [email] = mailoutbox
    assert "lend your inbox" in email.subject and "no password" in email.body

    link = link_in(email, "/review/")
    page = client.get(link).content.decode()
    assert "Authorizing connects your Gmail with Google" in page
    start = client.post(link, {"decision": "approve"})
    done = consent_and_return(client, google, start, account="harriet@acme.example")
    assert "Connection successful: you can close this window" in done.content.decode()

    delegation = Delegation.objects.get()
    assert delegation.status == Delegation.Status.APPROVED
    assert delegation.mailbox.owner == harriet
    assert services.can_send_as(recruiter, delegation.mailbox)
    # No seat taken.
    assert "uses 1 of 5 seats" in recruiter_client.get("/team/").content.decode()
    # She reaches her minimal Sender settings, where she can revoke.
    settings_page = client.get("/senders/").content.decode()
    assert "Rick Recruiter" in settings_page and "Revoke" in settings_page
    assert "+ Add account" not in settings_page


def test_sender_only_user_signs_in_with_google(google, org, client):
    harriet = UserFactory(organization=org, role=Role.SENDER, email="harriet@acme.example")
    start = client.post("/senders/sign-in/", {"email": harriet.email})
    response = consent_and_return(client, google, start, account=harriet.email)
    assert response.status_code == 302 and response["Location"] == "/senders/"
    assert client.get("/senders/").status_code == 200


def test_google_sign_in_is_not_a_way_into_password_accounts(google, recruiter, client):
    start = client.post("/senders/sign-in/", {"email": recruiter.email})
    response = consent_and_return(client, google, start, account=recruiter.email)
    assert response.status_code == 403
    assert client.get("/senders/").status_code == 302


def resend(client, delegation, committed):
    with committed():
        return client.post(f"/senders/delegations/{delegation.pk}/resend/", follow=True)


def test_resending_to_one_teammate_is_throttled_with_when_to_try_again(
    recruiter_client, hiring_manager, committed, mailoutbox, settings
):
    settings.DELEGATION_REQUESTS_PER_TEAMMATE_PER_DAY = 3
    request_access(recruiter_client, hiring_manager.email, committed)
    delegation = Delegation.objects.get()
    for _ in range(2):
        assert "Request sent again" in resend(recruiter_client, delegation, committed).text

    page = resend(recruiter_client, delegation, committed).text
    assert "hana@acme.example has been sent 3 access requests in the last 24 hours." in page
    assert "You can send another in" in page
    assert len(mailoutbox) == 3
    assert delegation.events.filter(kind=DelegationEvent.Kind.RESENT).count() == 2

    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert "Request sent again" in resend(recruiter_client, delegation, committed).text
    assert len(mailoutbox) == 4


def test_a_teammate_asked_too_often_is_spared_whoever_asks(
    recruiter_client, recruiter, org, hiring_manager, committed, mailoutbox, settings
):
    settings.DELEGATION_REQUESTS_PER_TEAMMATE_PER_DAY = 2
    request_access(recruiter_client, hiring_manager.email, committed)
    resend(recruiter_client, Delegation.objects.get(), committed)

    colleague = logged_in(UserFactory(organization=org, email="rita@acme.example"))
    page = request_access(colleague, hiring_manager.email, committed).text
    assert "hana@acme.example has been sent 2 access requests in the last 24 hours." in page
    assert len(mailoutbox) == 2
    assert Delegation.objects.count() == 1


def test_one_requester_cannot_send_request_emails_without_end(
    recruiter_client, org, committed, mailoutbox, settings
):
    settings.DELEGATION_REQUESTS_PER_HOUR = 2
    for i in range(2):
        teammate = UserFactory(organization=org, email=f"teammate{i}@acme.example")
        request_access(recruiter_client, teammate.email, committed)

    def invite_nora():
        with committed():
            return recruiter_client.post(
                "/senders/delegations/invite/",
                {"full_name": "Nora New", "email": "nora@acme.example"},
                follow=True,
            ).text

    page = invite_nora()
    assert "You have sent 2 access requests in the last hour." in page
    assert "You can send another in" in page
    assert len(mailoutbox) == 2
    assert not User.objects.filter(email="nora@acme.example").exists()

    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert "Invitation sent to nora@acme.example" in invite_nora()
    assert len(mailoutbox) == 3
