"""Roles with teeth beyond the pages (the role walk covers those): a sender-only teammate lands
on their Sender settings, is offered only their pages, sees no sequence anywhere, and every
write service refuses them whoever calls it."""

import pytest
from django.core.exceptions import PermissionDenied

from outreach.models import Role
from sequences import importing, selectors, services
from tests.factories import (
    EnrollmentFactory,
    MailboxFactory,
    ProspectFactory,
    SequenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hana(org):
    return UserFactory(
        organization=org, role=Role.SENDER, email="hana@acme.example", full_name="Hana Hiring"
    )


def test_a_sender_only_teammate_lands_on_sender_settings_and_is_offered_only_their_pages(
    client, hana
):
    client.force_login(hana)
    assert client.get("/").headers["Location"] == "/senders/"
    page = client.get("/senders/").content.decode()
    for offered in ("/senders/", "/notifications/", "/account/"):
        assert f'href="{offered}"' in page
    for hidden in ("/sequences/", "/prospects/", "/emails/", "/stats/", "/team/", "/dashboard/"):
        assert f'href="{hidden}"' not in page
    refused = client.get("/prospects/")
    assert refused.status_code == 403
    assert "Sender settings" in refused.content.decode()


def test_a_recruiter_lands_on_the_dashboard(recruiter_client):
    assert recruiter_client.get("/").headers["Location"] == "/dashboard/"


def test_every_write_service_refuses_a_sender_only_teammate(hana, recruiter, org):
    sequence = SequenceFactory(owner=recruiter, visibility="shared", stages=1)
    prospect = ProspectFactory(organization=org)
    enrollment = EnrollmentFactory(sequence=sequence, prospect=prospect)
    mailbox = MailboxFactory(owner=hana)
    writes = {
        "create a sequence": lambda: services.create_sequence(by=hana, name="Mine"),
        "rename one": lambda: services.update_sequence(sequence=sequence, by=hana, name="X"),
        "clone one": lambda: services.clone_sequence(sequence=sequence, by=hana),
        "add a prospect": lambda: services.upsert_prospect(by=hana, email="x@candidates.example"),
        "enroll": lambda: services.enroll(
            sequence=sequence, prospects=[prospect], by=hana, mailbox=mailbox
        ),
        "pause an enrollment": lambda: services.pause_enrollment(
            enrollment=enrollment, cause="by_user", reason="x", by=hana
        ),
        "mark do not contact": lambda: services.set_do_not_contact(
            prospect=prospect, by=hana, on=True
        ),
        "import a file": lambda: importing.upload_file(hana, None),
        "paste prospects": lambda: importing.queue_paste(hana, "x@candidates.example"),
    }
    refused = []
    for what, write in writes.items():
        try:
            write()
        except PermissionDenied:
            refused.append(what)
    assert refused == list(writes)
    assert not selectors.visible_sequences(hana).exists()
    assert selectors.hidden_sequence_ids(hana).filter(pk=sequence.pk).exists()
