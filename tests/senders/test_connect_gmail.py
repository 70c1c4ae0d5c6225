"""Connecting a Gmail inbox, through the sandbox's Google and the real client libraries."""

import pytest
from django.db import connection

from outreach.models import Notification, Role
from sandbox import control
from senders import gmail, services
from senders.models import Delegation, Mailbox
from tests.factories import DelegationFactory, UserFactory
from tests.senders.conftest import connect_gmail


def test_recruiter_connects_their_gmail(google, recruiter_client, recruiter):
    control.create_account(recruiter.email, "Rick Recruiter")
    control.add_send_as(recruiter.email, "jobs@acme.example", "Acme Jobs", verified=True)
    control.add_send_as(recruiter.email, "unverified@acme.example", verified=False)

    response = connect_gmail(recruiter_client, google, recruiter.email)

    assert response.status_code == 302 and response["Location"] == "/senders/"
    mailbox = Mailbox.objects.get(owner=recruiter)
    assert mailbox.email == recruiter.email
    assert mailbox.status == Mailbox.Status.CONNECTED
    assert mailbox.scopes == [gmail.MODIFY]
    assert mailbox.history_id
    aliases = {a.email: a.verified for a in mailbox.aliases.all()}
    assert aliases == {
        recruiter.email: True,
        "jobs@acme.example": True,
        "unverified@acme.example": False,
    }
    page = recruiter_client.get("/senders/").content.decode()
    assert "Connected" in page and "Acme Jobs &lt;jobs@acme.example&gt;" in page


def test_refresh_token_is_never_stored_in_clear(google, recruiter_client, recruiter):
    connect_gmail(recruiter_client, google, recruiter.email)
    mailbox = Mailbox.objects.get(owner=recruiter)
    token = mailbox.refresh_token
    assert token
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM senders_mailbox WHERE id = %s", [mailbox.pk])
        raw_row = " ".join(str(value) for value in cursor.fetchone())
    assert token not in raw_row
    assert token not in recruiter_client.get("/senders/").content.decode()


def test_the_consent_page_asks_for_one_scope_and_the_settings_page_says_why(recruiter_client):
    page = recruiter_client.get("/senders/").content.decode()
    assert gmail.MODIFY in page
    assert "notice replies in those threads" in page


def test_connecting_another_google_account_is_refused(google, recruiter_client, recruiter):
    control.create_account("rick.personal@acme.example")
    response = connect_gmail(
        recruiter_client, google, recruiter.email, account="rick.personal@acme.example"
    )
    assert response.status_code == 400
    assert (
        "You chose the Google account rick.personal@acme.example, "
        f"but this connects {recruiter.email}" in response.content.decode()
    )
    assert not Mailbox.objects.exists()
    # And the grant we were given by mistake is handed back.
    assert (
        not control.account("rick.personal@acme.example")
        .grants.filter(revoked_at__isnull=True)
        .exists()
    )


def test_pressing_deny_on_google_connects_nothing(google, recruiter_client, recruiter):
    response = connect_gmail(recruiter_client, google, recruiter.email, decision="deny")
    assert response.status_code == 400
    assert "Access was not granted" in response.content.decode()
    assert not Mailbox.objects.exists()


def test_only_team_addresses_can_be_connected(recruiter_client):
    response = recruiter_client.post("/senders/connect/", {"email": "rick@gmail.com"}, follow=True)
    assert (
        "rick@gmail.com is not on your team&#x27;s domains (acme.example)"
        in response.content.decode()
    )


def test_a_callback_that_was_not_started_here_is_refused(google, recruiter_client):
    response = recruiter_client.get("/senders/google/callback/?code=stolen&state=forged")
    assert response.status_code == 400
    assert not Mailbox.objects.exists()


def test_refresh_and_check_record_the_last_successful_call(google, recruiter_client, recruiter):
    connect_gmail(recruiter_client, google, recruiter.email)
    mailbox = Mailbox.objects.get()
    Mailbox.objects.filter(pk=mailbox.pk).update(last_success_at=None)
    recruiter_client.post(f"/senders/mailboxes/{mailbox.pk}/check/")
    mailbox.refresh_from_db()
    assert mailbox.last_success_at is not None
    assert mailbox.status == Mailbox.Status.CONNECTED


def test_revoked_grant_needs_reconnect_is_announced_and_told_to_owner_and_delegates(
    google, recruiter_client, recruiter, org, announcements, mailoutbox
):
    connect_gmail(recruiter_client, google, recruiter.email)
    mailbox = Mailbox.objects.get()
    delegate = UserFactory(organization=org, email="dee@acme.example", full_name="Dee Delegate")
    DelegationFactory(
        grantor=recruiter, delegate=delegate, mailbox=mailbox, status=Delegation.Status.APPROVED
    )
    control.revoke_grant(recruiter.email)

    recruiter_client.post(f"/senders/mailboxes/{mailbox.pk}/check/")

    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.NEEDS_RECONNECT
    assert "revoked" in mailbox.last_error
    assert [name for name, _ in announcements] == ["mailbox_needs_reconnect"]
    assert announcements[0][1]["mailbox"] == mailbox
    assert Notification.objects.filter(
        user=recruiter, message__contains="needs reconnecting"
    ).exists()
    assert Notification.objects.filter(user=delegate, message__contains="paused").exists()
    assert {m.to[0] for m in mailoutbox} == {recruiter.email, delegate.email}
    page = recruiter_client.get("/senders/").content.decode()
    assert "Needs reconnect" in page and "Reconnect" in page
    assert delegate.delegations_held.get().events.filter(kind="reconnect_needed").exists()

    # A second failure does not notify again.
    services.check_mailbox(mailbox)
    assert len(mailoutbox) == 2

    # Reconnecting restores it, and says so.
    connect_gmail(recruiter_client, google, recruiter.email)
    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.CONNECTED and mailbox.last_error == ""
    assert announcements[-1][0] == "mailbox_reconnected"
    assert services.check_mailbox(mailbox)


def test_disconnect_revokes_the_grant_at_google_and_is_announced(
    google, recruiter_client, recruiter, announcements
):
    connect_gmail(recruiter_client, google, recruiter.email)
    mailbox = Mailbox.objects.get()
    old_token = mailbox.refresh_token

    recruiter_client.post(f"/senders/mailboxes/{mailbox.pk}/disconnect/")

    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.DISCONNECTED and mailbox.refresh_token == ""
    assert announcements[0][0] == "mailbox_disconnected"
    with pytest.raises(gmail.GrantRevoked):
        gmail.refresh(gmail.credentials(old_token, [gmail.MODIFY]))


def test_a_grant_missing_the_needed_scope_is_shown_with_reconnect(recruiter_client, recruiter):
    from tests.factories import MailboxFactory

    MailboxFactory(owner=recruiter, scopes=["https://www.googleapis.com/auth/gmail.send"])
    page = recruiter_client.get("/senders/").content.decode()
    assert "Missing a permission we need" in page
    assert "Reconnect" in page


def test_sender_only_users_take_no_seat(org, admin_client):
    UserFactory(organization=org, role=Role.SENDER)
    page = admin_client.get("/team/").content.decode()
    assert "uses 1 of 5 seats" in page
