"""Who sees and edits which sequence, and where confidential work stays hidden."""

import pytest

from sequences.models import Message, SequenceShare, Visibility
from tests.factories import (
    EnrollmentFactory,
    ProspectFactory,
    SequenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(org, admin_user):
    owner = UserFactory(organization=org, email="olive@acme.example", full_name="Olive Owner")
    viewer = UserFactory(organization=org, email="vic@acme.example", full_name="Vic Viewer")
    editor = UserFactory(organization=org, email="eddie@acme.example", full_name="Eddie Editor")
    outsider = UserFactory(organization=org, email="otto@acme.example", full_name="Otto Outsider")
    return {
        "owner": owner,
        "viewer": viewer,
        "editor": editor,
        "outsider": outsider,
        "admin": admin_user,
    }


def make(people, visibility):
    sequence = SequenceFactory(
        owner=people["owner"], name=f"{visibility} search", visibility=visibility
    )
    SequenceShare.objects.create(sequence=sequence, user=people["viewer"], can_edit=False)
    SequenceShare.objects.create(sequence=sequence, user=people["editor"], can_edit=True)
    return sequence


def client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("visibility", "who_sees"),
    [
        (Visibility.PRIVATE, {"owner", "viewer", "editor", "admin"}),
        (Visibility.SHARED, {"owner", "viewer", "editor", "outsider", "admin"}),
        (Visibility.CONFIDENTIAL, {"owner", "viewer", "editor", "admin"}),
    ],
)
def test_who_sees_a_sequence(people, visibility, who_sees):
    sequence = make(people, visibility)
    for name, user in people.items():
        client = client_for(user)
        listed = sequence.name in client.get("/sequences/").content.decode()
        status = client.get(f"/sequences/{sequence.pk}/").status_code
        assert listed == (name in who_sees), (name, "list")
        assert status == (200 if name in who_sees else 404), (name, "detail")


def test_private_sequences_are_hidden_from_admins_list_of_their_own_but_listed_under_all(people):
    sequence = make(people, Visibility.CONFIDENTIAL)
    page = client_for(people["admin"]).get("/sequences/").content.decode()
    assert "All sequences" in page and sequence.name in page
    assert "All sequences" not in client_for(people["outsider"]).get("/sequences/").content.decode()


@pytest.mark.parametrize("who", ["owner", "editor", "admin"])
def test_owner_editors_and_admins_edit(people, who):
    sequence = make(people, Visibility.SHARED)
    response = client_for(people[who]).post(f"/sequences/{sequence.pk}/archive/", {"archived": "1"})
    assert response.status_code == 302
    sequence.refresh_from_db()
    assert sequence.archived_at is not None


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_viewers_and_others_do_not_edit(people, who):
    sequence = make(people, Visibility.SHARED)
    response = client_for(people[who]).post(f"/sequences/{sequence.pk}/archive/", {"archived": "1"})
    assert response.status_code == 403
    sequence.refresh_from_db()
    assert sequence.archived_at is None


def test_confidential_enrollments_and_messages_are_absent_from_the_prospect_page(people, org):
    prospect = ProspectFactory(organization=org, email="secret.hire@candidates.example")
    confidential = make(people, Visibility.CONFIDENTIAL)
    confidential.name = "Replace the CTO"
    confidential.save()
    shared = SequenceFactory(owner=people["owner"], name="Open roles", visibility=Visibility.SHARED)
    hidden = EnrollmentFactory(sequence=confidential, prospect=prospect)
    EnrollmentFactory(sequence=shared, prospect=prospect, mailbox=hidden.mailbox)
    Message.objects.create(
        organization=org,
        prospect=prospect,
        enrollment=hidden,
        mailbox=hidden.mailbox,
        direction="outbound",
        status="sent",
        from_address=hidden.mailbox.email,
        to_address=prospect.email,
        subject="The CTO role, quietly",
    )

    outsider_page = (
        client_for(people["outsider"]).get(f"/prospects/{prospect.pk}/").content.decode()
    )
    assert "Open roles" in outsider_page
    assert "Replace the CTO" not in outsider_page
    assert "The CTO role, quietly" not in outsider_page

    for who in ("owner", "viewer", "admin"):
        page = client_for(people[who]).get(f"/prospects/{prospect.pk}/").content.decode()
        assert "Replace the CTO" in page and "The CTO role, quietly" in page


def test_search_never_surfaces_confidential_work(people, org):
    confidential = make(people, Visibility.CONFIDENTIAL)
    confidential.name = "Replace the CTO"
    confidential.save()
    outsider = client_for(people["outsider"])
    assert "Replace the CTO" not in outsider.get("/sequences/?q=CTO").content.decode()
    assert (
        "Replace the CTO" in client_for(people["owner"]).get("/sequences/?q=CTO").content.decode()
    )
