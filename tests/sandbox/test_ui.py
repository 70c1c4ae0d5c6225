"""The sandbox's pages, through Django's test client on the sandbox's URL configuration."""

import pytest
from django.core import mail as django_mail
from django.urls import reverse

from sandbox import control
from sandbox.models import INBOX, UNREAD, ApiCall, BouncingDomain, FaultRule, Grant, OAuthClient

RECRUITER, CANDIDATE = "recruiter@acme.example", "casey@candidates.example"


@pytest.fixture
def ui(client, settings, db):
    settings.ROOT_URLCONF = "sandbox.urls"
    control.create_account(RECRUITER, "Rick Recruiter")
    control.create_account(CANDIDATE, "Casey Candidate")
    return client


def test_home_lists_accounts_and_the_call_log(ui):
    ApiCall.objects.create(
        endpoint="gmail.users.messages.send", http_method="POST", path="/x", status=429
    )
    page = ui.get(reverse("sandbox:home"))
    assert page.status_code == 200
    content = page.content.decode()
    assert RECRUITER in content and CANDIDATE in content
    assert "gmail.users.messages.send" in content and ">429<" in content


def test_create_account_then_compose_and_reply_as_that_person(ui):
    answer = ui.post(
        reverse("sandbox:create_account"), {"email": "New@Example.com", "display_name": "Nia"}
    )
    assert answer.url == reverse("sandbox:mailbox", args=["new@example.com"])

    sent = control.send_as(RECRUITER, to=[CANDIDATE], subject="Staff role", body="Interested?")
    inbox = ui.get(reverse("sandbox:mailbox", args=[CANDIDATE]))
    assert b"Staff role" in inbox.content and b'class="unread"' in inbox.content
    received = control.messages(CANDIDATE, INBOX).get()

    thread_url = reverse("sandbox:thread", args=[CANDIDATE, received.thread.gmail_id])
    page = ui.get(thread_url)
    assert b"Interested?" in page.content and b"Reply as casey@candidates.example" in page.content
    received.refresh_from_db()
    assert UNREAD not in received.label_ids

    answer = ui.post(
        reverse("sandbox:reply", args=[CANDIDATE, received.thread.gmail_id]), {"body": "Yes!"}
    )
    assert answer.status_code == 302
    reply = control.messages(RECRUITER, INBOX).get()
    assert reply.thread_id == sent.thread_id and reply.subject == "Re: Staff role"

    answer = ui.post(
        reverse("sandbox:compose", args=[CANDIDATE]),
        {"to": RECRUITER, "subject": "Another thing", "body": "One more question"},
    )
    assert answer.status_code == 302
    assert control.messages(RECRUITER, INBOX).count() == 2


def test_settings_aliases_grants_and_history(ui):
    mailbox_url = reverse("sandbox:mailbox", args=[CANDIDATE])
    ui.post(
        reverse("sandbox:update_settings", args=[CANDIDATE]),
        {
            "display_name": "Casey C",
            "out_of_office": "on",
            "out_of_office_message": "Away",
            "quota_units_per_minute": 300,
            "daily_send_limit": 5,
        },
    )
    account = control.account(CANDIDATE)
    assert (account.out_of_office, account.quota_units_per_minute, account.daily_send_limit) == (
        True,
        300,
        5,
    )

    ui.post(
        reverse("sandbox:add_alias", args=[CANDIDATE]),
        {"email": "cc@candidates.example", "verified": "on"},
    )
    assert account.aliases.get().verified

    client = OAuthClient.objects.create(client_id="cid", client_secret="s", name="outreach")
    grant = Grant.objects.create(account=account, client=client, scopes=["x"])
    assert b"Revoke" in ui.get(mailbox_url).content
    ui.post(reverse("sandbox:revoke_grant", args=[CANDIDATE, grant.pk]))
    grant.refresh_from_db()
    assert grant.revoked_at is not None

    floor = account.history_floor
    ui.post(reverse("sandbox:expire_history", args=[CANDIDATE]))
    account.refresh_from_db()
    assert account.history_floor > floor


def test_fault_switches_domains_and_clients(ui):
    ui.post(
        reverse("sandbox:add_fault"),
        {
            "endpoint": "gmail.users.messages.send",
            "account": CANDIDATE,
            "kind": "fail",
            "status": 429,
            "count": 2,
            "latency_ms": 0,
        },
    )
    fault = FaultRule.objects.get()
    assert (fault.status, fault.remaining, fault.account.email) == (429, 2, CANDIDATE)
    assert b"next 2 calls answer 429" in ui.get(reverse("sandbox:home")).content
    ui.post(reverse("sandbox:clear_faults"))
    assert not FaultRule.objects.exists()

    ui.post(reverse("sandbox:set_domain"), {"domain": "Bounce.example", "bounces": "on"})
    assert BouncingDomain.objects.get().domain == "bounce.example"
    ui.post(reverse("sandbox:set_domain"), {"domain": "bounce.example"})
    assert not BouncingDomain.objects.exists()

    ui.post(
        reverse("sandbox:register_client"),
        {"client_id": "c1", "client_secret": "s", "redirect_uri": "http://127.0.0.1:8000/cb"},
    )
    assert OAuthClient.objects.get().redirect_uris == ["http://127.0.0.1:8000/cb"]


def test_product_emails_land_in_the_recipients_inbox_with_clickable_links(ui, settings):
    settings.EMAIL_BACKEND = "sandbox.mail_backend.SandboxInboxBackend"
    message = django_mail.EmailMultiAlternatives(
        "You're invited to Acme",
        "Accept: http://testserver/invitations/abc/",
        "outreach <no-reply@outreach.local>",
        ["New.Member@Acme.example"],
    )
    message.attach_alternative(
        "<p><a href='http://testserver/invitations/abc/'>Accept</a></p>", "text/html"
    )
    assert message.send() == 1
    received = control.messages("new.member@acme.example", INBOX).get()
    assert received.subject == "You're invited to Acme" and received.is_unread
    assert b"Return-Path: <no-reply@outreach.local>" in bytes(received.raw)
    page = ui.get(
        reverse("sandbox:thread", args=["new.member@acme.example", received.thread.gmail_id])
    )
    assert b'<a href="http://testserver/invitations/abc/"' in page.content
