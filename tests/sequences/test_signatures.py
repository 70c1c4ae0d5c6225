"""Signatures: each inbox owner sets one; it ends the sequence and one-off emails sent from that
inbox (a teammate sending from it sends the owner's), unless the stage or email leaves it out."""

from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from sandbox import control
from senders import services as sender_services
from sequences import services
from sequences.models import Stage
from tests.sequences.test_one_off import draft, prospect
from tests.sequences.test_sending import (
    CANDIDATE,
    connect,
    enroll,
    inbox,
    lend_inbox,
    make_sequence,
    run_due,
)

SIGNATURE = '<p><strong>Hana Hiring</strong><br>Head of Robotics</p><p style="x">Acme</p>'


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


@pytest.fixture
def hana_box(sandbox, hana, recruiter):
    return lend_inbox(sandbox, hana, recruiter)


def received_parts() -> dict[str, str]:
    [received] = inbox(CANDIDATE)
    message = message_from_bytes(bytes(received.raw), policy=default_policy)
    return {
        part.get_content_type(): part.get_content().replace("\r\n", "\n")
        for part in message.walk()
        if part.get_content_maintype() == "text"
    }


def test_a_sequence_email_ends_with_the_senders_signature(sandbox, recruiter):
    mailbox = connect(sandbox, recruiter)
    cleaned = sender_services.set_signature(
        mailbox=mailbox, by=recruiter, signature_html="<p><b>Rick</b> · Acme talent</p>"
    )
    assert cleaned.removed == []
    sequence = make_sequence(recruiter, mailbox, kinds=("email",))
    control.create_account(CANDIDATE, "Casey")
    enroll(sequence, recruiter, mailbox)
    assert run_due() == 1
    parts = received_parts()
    assert '<div class="signature"><p><b>Rick</b> · Acme talent</p></div>' in parts["text/html"]
    assert parts["text/plain"].startswith("Hi Casey, note 1.\n\n-- \nRick · Acme talent")


def test_a_stage_can_leave_the_signature_out(sandbox, recruiter):
    mailbox = connect(sandbox, recruiter)
    sender_services.set_signature(mailbox=mailbox, by=recruiter, signature_html="<p>Rick</p>")
    sequence = make_sequence(recruiter, mailbox, kinds=("email",))
    Stage.objects.filter(sequence=sequence).update(include_signature=False)
    control.create_account(CANDIDATE, "Casey")
    enroll(sequence, recruiter, mailbox)
    assert run_due() == 1
    parts = received_parts()
    assert "signature" not in parts["text/html"] and "-- " not in parts["text/plain"]


def test_a_one_off_email_from_a_teammates_inbox_carries_her_signature(
    sandbox, org, recruiter, hana, hana_box
):
    connect(sandbox, recruiter)
    sender_services.set_signature(mailbox=hana_box, by=hana, signature_html=SIGNATURE)
    hana_box.refresh_from_db()
    # Cleaned when saved: the style is gone.
    assert hana_box.signature_html == (
        "<p><strong>Hana Hiring</strong><br>Head of Robotics</p><p>Acme</p>"
    )
    casey = prospect(org)
    services.send_one_off(by=recruiter, draft=draft(hana_box), prospects=[casey])
    parts = received_parts()
    assert parts["text/html"].count('<div class="signature">') == 1
    assert "<strong>Hana Hiring</strong><br>Head of Robotics" in parts["text/html"]
    assert "\n\n-- \nHana Hiring\nHead of Robotics\n\nAcme" in parts["text/plain"]


def test_a_one_off_email_can_leave_the_signature_out(sandbox, org, recruiter):
    mailbox = connect(sandbox, recruiter)
    sender_services.set_signature(mailbox=mailbox, by=recruiter, signature_html="<p>Rick</p>")
    casey = prospect(org)
    without = services.EmailDraft(
        mailbox=mailbox,
        alias=None,
        subject="Hi {{first_name}}",
        body_html="<p>Hi {{first_name}}</p>",
        include_signature=False,
    )
    services.send_one_off(by=recruiter, draft=without, prospects=[casey])
    parts = received_parts()
    assert "-- " not in parts["text/plain"]
    assert "signature" not in parts["text/html"]


def test_only_the_owner_sets_a_signature_and_it_holds_no_tokens(sandbox, recruiter, hana, hana_box):
    with pytest.raises(PermissionDenied):
        sender_services.set_signature(mailbox=hana_box, by=recruiter, signature_html="<p>R</p>")
    with pytest.raises(ValidationError, match="can't hold tokens"):
        sender_services.set_signature(
            mailbox=hana_box, by=hana, signature_html="<p>{{sender_full_name}}</p>"
        )
    with pytest.raises(ValidationError, match="too long"):
        sender_services.set_signature(mailbox=hana_box, by=hana, signature_html="x" * 20_000)
    sender_services.set_signature(mailbox=hana_box, by=hana, signature_html="<p><br></p>")
    hana_box.refresh_from_db()
    assert hana_box.signature_html == ""


def save_signature(client, mailbox, signature_html: str, **kwargs):
    return client.post(
        f"/senders/mailboxes/{mailbox.pk}/signature/", {"signature_html": signature_html}, **kwargs
    )


def test_the_settings_page_saves_the_owners_signature_and_says_what_it_removed(
    client, sandbox, recruiter, hana, hana_box
):
    client.force_login(hana)
    page = client.get("/senders/").content.decode()
    assert f'id="signature-field-{hana_box.pk}"' in page and "data-rich-editor" in page
    logo = '<p>Hana</p><img src="https://x.example/logo.png">'
    page = save_signature(client, hana_box, logo, follow=True).content.decode()
    assert "Signature for hana@acme.example saved." in page
    assert "We removed what an email can&#x27;t carry: an image." in page
    hana_box.refresh_from_db()
    assert hana_box.signature_html == "<p>Hana</p>"

    # Refused, the signature as written comes back with the reason.
    page = save_signature(client, hana_box, "<p>Hi {{first_name}}</p>", follow=True)
    page = page.content.decode()
    assert "A signature can&#x27;t hold tokens" in page
    assert "&lt;p&gt;Hi {{first_name}}&lt;/p&gt;" in page

    # Someone else's inbox is not found.
    client.force_login(recruiter)
    assert save_signature(client, hana_box, "<p>Rick</p>").status_code == 404
    hana_box.refresh_from_db()
    assert hana_box.signature_html == "<p>Hana</p>"
