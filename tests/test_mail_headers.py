"""Line breaks in names and subjects never break the headers of the emails we build: sequence and
one-off emails (as the sandbox's Gmail receives them), the ATS thread notice, product emails."""

import re
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from django.conf import settings as django_settings

from ats_sync import services as ats
from ats_sync.models import ThreadNotice
from outreach import services as team
from outreach.mail_headers import address, header_text
from outreach.notifications import notify
from sandbox import control
from sequences import services
from sequences.models import Message
from tests.ats_sync.test_pipeline import connect_greenhouse
from tests.factories import ProspectFactory
from tests.sequences.test_sending import CANDIDATE, connect, enroll, inbox, make_sequence, run_due

INJECTED = "Hana\r\nBcc: evil@x.example"
EVIL = "evil@x.example"


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


def header_lines(raw: bytes) -> list[str]:
    """The header section of a raw message, one entry per header (folded lines joined)."""
    head = raw.decode().replace("\r\n", "\n").split("\n\n", 1)[0]
    return re.sub(r"\n[ \t]+", " ", head).split("\n")


def headers_named(raw: bytes, name: str) -> list[str]:
    return [line for line in header_lines(raw) if line.lower().startswith(f"{name.lower()}:")]


def parsed(raw: bytes):
    return message_from_bytes(raw, policy=default_policy)


# The functions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Hana\r\nBcc: evil@x.example",
        "Hana\nBcc: evil@x.example",
        "Hana\rBcc: evil@x.example",
        "Hana\u2028Bcc: evil@x.example",
        "Hana\x85Bcc: evil@x.example",
        "Hana\x0b\x0c\x1cBcc: evil@x.example",
        "  Hana \r\n\r\n\t Bcc: evil@x.example\r\n",
    ],
)
def test_header_text_puts_every_kind_of_line_break_on_one_line(value):
    assert header_text(value) == "Hana Bcc: evil@x.example"


def test_header_text_keeps_ordinary_text():
    assert header_text("Re: Platform role, Zoë (São Paulo)") == "Re: Platform role, Zoë (São Paulo)"


def test_address_quotes_or_encodes_the_name_and_drops_breaks_from_the_address():
    assert address(INJECTED, "hana@acme.example") == (
        '"Hana Bcc: evil@x.example" <hana@acme.example>'
    )
    assert address("Zoë Hiring", "zoe@acme.example") == (
        "=?utf-8?q?Zo=C3=AB_Hiring?= <zoe@acme.example>"
    )
    assert address("", "casey@candidates.example\r\nBcc: evil@x.example") == (
        "casey@candidates.exampleBcc:evil@x.example"
    )


# Sequence and one-off emails --------------------------------------------------------------------


def test_a_line_break_in_the_mailbox_display_name_stays_in_a_single_line_from(sandbox, recruiter):
    control.create_account(CANDIDATE, "Casey Candidate")
    control.create_account(EVIL, "Eve")
    mailbox = connect(sandbox, recruiter)
    mailbox.display_name = INJECTED
    mailbox.save()
    enroll(make_sequence(recruiter, mailbox, kinds=("email",)), recruiter, mailbox)

    assert run_due() == 1

    [received] = inbox(CANDIDATE)
    raw = bytes(received.raw)
    assert headers_named(raw, "From") == [f'From: "Hana Bcc: evil@x.example" <{recruiter.email}>']
    assert parsed(raw)["From"].addresses[0].display_name == "Hana Bcc: evil@x.example"
    [sent] = control.messages(recruiter.email, "SENT")
    assert headers_named(bytes(sent.raw), "Bcc") == []
    assert list(inbox(EVIL)) == []


def test_a_line_break_in_an_alias_display_name_or_the_subject_of_a_one_off_email(
    sandbox, org, recruiter
):
    control.create_account(CANDIDATE, "Casey Candidate")
    control.create_account(EVIL, "Eve")
    mailbox = connect(sandbox, recruiter)
    control.add_send_as(recruiter.email, "talent@acme.example", INJECTED)
    alias = mailbox.aliases.create(
        email="talent@acme.example", display_name=INJECTED, verified=True
    )
    casey = ProspectFactory(organization=org, email=CANDIDATE, first_name="Casey")

    services.send_one_off(
        by=recruiter,
        draft=services.EmailDraft(
            mailbox=mailbox,
            alias=alias,
            subject="Hello {{first_name}}\r\nBcc: evil@x.example",
            body_html="<p>Hi {{first_name}}</p>",
        ),
        prospects=[casey],
    )

    [received] = inbox(CANDIDATE)
    raw = bytes(received.raw)
    assert headers_named(raw, "From") == ['From: "Hana Bcc: evil@x.example" <talent@acme.example>']
    assert headers_named(raw, "Subject") == ["Subject: Hello Casey Bcc: evil@x.example"]
    [sent] = control.messages(recruiter.email, "SENT")
    assert headers_named(bytes(sent.raw), "Bcc") == []
    assert list(inbox(EVIL)) == []


# The ATS thread notice ----------------------------------------------------------------------------


def test_the_ats_notice_keeps_a_broken_name_and_subject_on_one_line(sandbox, harvest, recruiter):
    connect_greenhouse(recruiter.organization, harvest)
    control.create_account(CANDIDATE, "Casey Candidate")
    mailbox = connect(sandbox, recruiter)
    mailbox.display_name = INJECTED
    mailbox.save()
    enroll(make_sequence(recruiter, mailbox, kinds=("email",)), recruiter, mailbox)
    run_due()
    notice = ThreadNotice.objects.get()
    assert notice.placed_at is not None
    # The thread's first message may be the prospect's, subject and all: placed again over one
    # whose subject has a line break.
    sent = Message.objects.get(direction="outbound")
    Message.objects.filter(pk=sent.pk).update(subject="Our chat\r\nBcc: evil@x.example")
    ThreadNotice.objects.filter(pk=notice.pk).update(placed_at=None)

    assert ats.place_notice(notice.pk)

    # Gmail threads by subject too: with the subject changed, the second notice sits apart.
    notices = [
        bytes(m.raw)
        for m in control.messages(recruiter.email).order_by("pk")
        if b"X-Outreach-Notice" in bytes(m.raw)
    ]
    assert len(notices) == 2
    for raw in notices:
        assert headers_named(raw, "From") == [
            f'From: "Hana Bcc: evil@x.example" <{recruiter.email}>'
        ]
        assert headers_named(raw, "Bcc") == []
    assert headers_named(notices[-1], "Subject") == ["Subject: Re: Our chat Bcc: evil@x.example"]


# Product emails ---------------------------------------------------------------------------------


def assert_one_line_headers(email, subject: str) -> None:
    assert email.subject == subject
    raw = email.message().as_bytes()
    assert headers_named(raw, "Subject") == [f"Subject: {subject}"]
    assert headers_named(raw, "From") == [f"From: {django_settings.DEFAULT_FROM_EMAIL}"]
    assert headers_named(raw, "Bcc") == []
    assert email.bcc == []


def test_an_invitation_from_an_admin_whose_name_has_a_line_break_is_delivered(
    admin_user, committed, mailoutbox
):
    admin_user.full_name = "Ada\r\nBcc: evil@x.example"
    admin_user.save()

    with committed():
        team.invite_teammate(by=admin_user, email="nina@acme.example")

    [email] = mailoutbox
    assert email.to == ["nina@acme.example"]
    assert_one_line_headers(email, "Ada Bcc: evil@x.example invited you to Acme on outreach")


def test_a_reply_alert_whose_subject_has_a_line_break_is_delivered(
    recruiter, committed, mailoutbox
):
    with committed():
        notify(recruiter, "Casey replied", email_subject="Re: Our chat\r\nBcc: evil@x.example")

    [email] = mailoutbox
    assert_one_line_headers(email, "Re: Our chat Bcc: evil@x.example")
