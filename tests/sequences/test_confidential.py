"""A confidential sequence is never named to a teammate who may not see it: not in the enrol
check's warnings, not in the compose page's live preview, not in the reply alert to the inbox
owner who lent their inbox to it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from outreach.models import Notification
from senders.models import Delegation
from sequences import classifier, replies, services
from sequences.models import Message, SequenceShare, Visibility
from tests.factories import (
    DelegationFactory,
    EnrollmentFactory,
    MailboxFactory,
    ProspectFactory,
    SequenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "Replace the CTO"
SECRET_SUBJECT = "The CTO role, quietly"
HIDDEN = "Also active in a sequence you cannot see."


@pytest.fixture
def olive(org):
    return UserFactory(organization=org, email="olive@acme.example", full_name="Olive Owner")


@pytest.fixture
def vic(org):
    """A teammate the confidential sequence is shared with."""
    return UserFactory(organization=org, email="vic@acme.example", full_name="Vic Viewer")


@pytest.fixture
def otto(org):
    """A recruiter of the team the confidential sequence is not shared with."""
    return UserFactory(organization=org, email="otto@acme.example", full_name="Otto Outsider")


@pytest.fixture
def hana(org):
    """A hiring manager who lent Olive her inbox; the sequence is not shared with her."""
    return UserFactory(organization=org, email="hana@acme.example", full_name="Hana Hiring")


@pytest.fixture
def hana_box(hana, olive):
    mailbox = MailboxFactory(owner=hana)
    DelegationFactory(
        grantor=hana, delegate=olive, mailbox=mailbox, status=Delegation.Status.APPROVED
    )
    return mailbox


@pytest.fixture
def casey(org):
    return ProspectFactory(
        organization=org,
        email="casey@candidates.example",
        first_name="Casey",
        last_name="Candidate",
    )


@pytest.fixture
def secret(olive, vic):
    sequence = SequenceFactory(owner=olive, name=SECRET, visibility=Visibility.CONFIDENTIAL)
    SequenceShare.objects.create(sequence=sequence, user=vic)
    return sequence


@pytest.fixture
def in_secret(org, secret, olive, casey):
    """Casey is active in the confidential sequence, whose first email Olive sent 3 days ago."""
    enrollment = EnrollmentFactory(sequence=secret, prospect=casey)
    Message.objects.create(
        organization=org,
        prospect=casey,
        enrollment=enrollment,
        stage=enrollment.current_stage,
        mailbox=enrollment.mailbox,
        sent_by=olive,
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.SENT,
        sent_at=timezone.now() - timedelta(days=3),
        from_address=enrollment.mailbox.email,
        to_address=casey.email,
        subject=SECRET_SUBJECT,
    )
    return enrollment


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def open_roles(user):
    return SequenceFactory(owner=user, name="Open roles", visibility=Visibility.SHARED)


# The enrol check -------------------------------------------------------------------------------


def test_the_enrol_check_says_only_that_there_is_a_sequence_the_recruiter_cannot_see(
    otto, casey, in_secret
):
    mailbox = MailboxFactory(owner=otto)

    [outcome] = services.check_enrollment(
        sequence=open_roles(otto), prospects=[casey], by=otto, mailbox=mailbox
    ).outcomes

    assert outcome.refused == ""
    # Neither the sequence nor who runs it or wrote from it.
    assert outcome.warnings == [HIDDEN, "Emailed in the last 30 days by a teammate."]


def test_several_sequences_the_recruiter_cannot_see_are_one_warning(otto, olive, casey, in_secret):
    another = SequenceFactory(
        owner=olive, name="Quiet VP search", visibility=Visibility.CONFIDENTIAL
    )
    EnrollmentFactory(sequence=another, prospect=casey, mailbox=in_secret.mailbox)
    shared = SequenceFactory(owner=olive, name="Platform team", visibility=Visibility.SHARED)
    EnrollmentFactory(sequence=shared, prospect=casey, mailbox=in_secret.mailbox)

    [outcome] = services.check_enrollment(
        sequence=open_roles(otto), prospects=[casey], by=otto, mailbox=MailboxFactory(owner=otto)
    ).outcomes

    [active] = [w for w in outcome.warnings if w.startswith("Also active in")]
    assert sorted(active.removeprefix("Also active in ").removesuffix(".").split("; ")) == [
        "Platform team (Olive Owner)",
        "a sequence you cannot see",
    ]


@pytest.mark.parametrize("who", ["olive", "vic", "admin_user"])
def test_the_enrol_check_names_it_to_those_who_may_see_it(request, who, casey, in_secret):
    user = request.getfixturevalue(who)
    mailbox = MailboxFactory(owner=user)

    [outcome] = services.check_enrollment(
        sequence=open_roles(user), prospects=[casey], by=user, mailbox=mailbox
    ).outcomes

    assert outcome.warnings == [
        f"Also active in {SECRET} (Olive Owner).",
        # Olive is not warned of her own email.
        *(["Emailed in the last 30 days by Olive Owner."] if who != "olive" else []),
    ]


def test_the_enrolment_report_page_does_not_name_it(otto, casey, in_secret):
    mailbox = MailboxFactory(owner=otto)
    sequence = open_roles(otto)

    page = (
        client_for(otto)
        .post(f"/sequences/{sequence.pk}/enroll/", {"prospects": [casey.pk], "sender": mailbox.pk})
        .content.decode()
    )

    assert "1 enrolled in Open roles" in page
    assert HIDDEN in page
    assert SECRET not in page and "Olive Owner" not in page


# The compose page's live preview ---------------------------------------------------------------


def preview(user, mailbox, prospects):
    return (
        client_for(user)
        .post(
            "/emails/preview/",
            {
                "prospects": [p.pk for p in prospects],
                "sender": str(mailbox.pk),
                "subject": "Platform role, {{first_name}}",
                "body_html": "<p>Hi {{first_name}}, would you have 20 minutes?</p>",
                "bcc": "",
                "send_at": "",
                "timezone": "Europe/Paris",
            },
        )
        .content.decode()
    )


def test_the_compose_preview_over_a_selection_does_not_name_it(org, otto, casey, in_secret):
    dana = ProspectFactory(organization=org, email="dana@candidates.example", first_name="Dana")

    page = preview(otto, MailboxFactory(owner=otto), [casey, dana])

    assert "Before you send" in page
    assert f"{casey.email}: {HIDDEN}" in page
    assert f"{casey.email}: Emailed in the last 30 days by a teammate." in page
    assert SECRET not in page and "Olive Owner" not in page
    assert "Hi Casey, would you have 20 minutes?" in page  # a warning does not stop it


def test_the_compose_preview_names_it_to_a_teammate_it_is_shared_with(vic, casey, in_secret):
    page = preview(vic, MailboxFactory(owner=vic), [casey])

    assert f"{casey.email}: Also active in {SECRET} (Olive Owner)." in page


# The reply alert -------------------------------------------------------------------------------


def reply_to(enrollment, subject=f"Re: {SECRET_SUBJECT}"):
    return Message.objects.create(
        organization=enrollment.organization,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        mailbox=enrollment.mailbox,
        direction=Message.Direction.INBOUND,
        inbound_kind=Message.InboundKind.REPLY,
        gmail_message_id="reply-1",
        gmail_thread_id="thread-1",
        from_address=enrollment.prospect.email,
        to_address=enrollment.mailbox.email,
        subject=subject,
        sent_at=timezone.now(),
    )


def reply_arrives(enrollment, capture):
    with capture(execute=True):
        replies.apply(enrollment, reply_to(enrollment), classifier.Classification("reply", "test"))


def test_the_inbox_owner_who_may_not_see_it_hears_who_replied_but_not_in_what(
    secret, olive, hana, hana_box, casey, mailoutbox, django_capture_on_commit_callbacks
):
    enrollment = EnrollmentFactory(
        sequence=secret, prospect=casey, enrolled_by=olive, mailbox=hana_box
    )

    reply_arrives(enrollment, django_capture_on_commit_callbacks)

    told = Notification.objects.get(user=hana)
    assert told.message == "Casey Candidate replied to an email sent from hana@acme.example."
    assert told.url.startswith("/replies/#reply-")  # the timeline would be a 404 for her
    [email] = [m for m in mailoutbox if m.to == [hana.email]]
    for text in (told.message, email.subject, email.body, email.alternatives[0][0]):
        assert SECRET not in text and SECRET_SUBJECT not in text and "Olive" not in text
    assert email.subject == "Casey Candidate replied"

    # Olive, who enrolled Casey, hears all of it.
    full = Notification.objects.get(user=olive)
    assert SECRET in full.message and SECRET_SUBJECT in full.message
    assert "in Hana Hiring's inbox, hana@acme.example" in full.message
    assert full.url.startswith("/replies/#reply-")
    [email] = [m for m in mailoutbox if m.to == [olive.email]]
    assert SECRET_SUBJECT in email.subject


def test_an_inbox_owner_the_sequence_is_shared_with_hears_all_of_it(
    secret, olive, hana, hana_box, casey, django_capture_on_commit_callbacks
):
    SequenceShare.objects.create(sequence=secret, user=hana)
    enrollment = EnrollmentFactory(
        sequence=secret, prospect=casey, enrolled_by=olive, mailbox=hana_box
    )

    reply_arrives(enrollment, django_capture_on_commit_callbacks)

    assert SECRET in Notification.objects.get(user=hana).message


def test_a_sender_only_inbox_owner_hears_of_the_reply_with_a_link_to_it_in_her_gmail(
    secret, olive, hana, hana_box, casey, django_capture_on_commit_callbacks
):
    """She lends her inbox and sees no sequence, even a shared one; the prospect's page is not
    hers to open, the reply in her own Gmail is."""
    hana.role = "sender"
    hana.save()
    secret.visibility = "shared"
    secret.save()
    enrollment = EnrollmentFactory(
        sequence=secret, prospect=casey, enrolled_by=olive, mailbox=hana_box
    )

    reply_arrives(enrollment, django_capture_on_commit_callbacks)

    told = Notification.objects.get(user=hana)
    assert told.message == "Casey Candidate replied to an email sent from hana@acme.example."
    assert told.url.startswith("https://mail.google.com/mail/u/hana@acme.example/")
