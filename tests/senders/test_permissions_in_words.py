"""The permissions a connected inbox gave us, in words wherever they are listed."""

import pytest

from senders import gmail
from tests.factories import MailboxFactory

pytestmark = pytest.mark.django_db

SEND = "https://www.googleapis.com/auth/gmail.send"


def test_the_sender_settings_list_the_permissions_in_words(recruiter_client, recruiter):
    MailboxFactory(owner=recruiter, scopes=[gmail.MODIFY, "openid"])

    page = recruiter_client.get("/senders/").content.decode()

    assert (
        f'<span title="{gmail.MODIFY}">Read, send and organize email in Gmail</span>; '
        '<span title="openid">Sign in with Google</span>'
    ) in page
    assert f"<code>{gmail.MODIFY}</code>" not in page


def test_a_missing_permission_is_named_in_words(recruiter_client, recruiter):
    MailboxFactory(owner=recruiter, scopes=[SEND])

    page = recruiter_client.get("/senders/").content.decode()

    assert f'<span title="{SEND}">Send email from Gmail</span>' in page
    assert (
        "Missing a permission we need (Read, send and organize email in Gmail): reconnect" in page
    )


def test_before_connecting_what_we_ask_for_is_said_in_words(recruiter_client):
    page = recruiter_client.get("/senders/").content.decode()

    assert (
        f'<li><strong title="{gmail.MODIFY}">Read, send and organize email in Gmail</strong>: '
        "Send your sequence emails" in page
    )


def test_the_admin_shows_a_mailboxs_permissions_in_words(admin_client, admin_user):
    mailbox = MailboxFactory(owner=admin_user, scopes=[gmail.MODIFY])

    page = admin_client.get(f"/admin/senders/mailbox/{mailbox.pk}/change/").content.decode()

    assert (
        f'Read, send and organize email in Gmail <span class="help">({gmail.MODIFY})</span>' in page
    )


def test_an_unknown_permission_reads_as_its_last_part():
    assert gmail.scope_label("https://www.googleapis.com/auth/calendar.readonly") == (
        "calendar.readonly"
    )
