import pytest

from outreach.models import Role
from tests.factories import MailboxFactory, ProspectFactory, SequenceFactory, UserFactory


@pytest.fixture
def recruiter_mailbox(recruiter):
    return MailboxFactory(owner=recruiter)


@pytest.fixture
def sequence(recruiter, recruiter_mailbox):
    return SequenceFactory(
        owner=recruiter, name="Backend engineers", sender_mailbox=recruiter_mailbox
    )


@pytest.fixture
def prospects(org):
    return ProspectFactory.create_batch(3, organization=org)


@pytest.fixture
def teammate(org):
    return UserFactory(
        organization=org, role=Role.RECRUITER, email="tess@acme.example", full_name="Tess Teammate"
    )


@pytest.fixture
def hana(org):
    """A hiring manager, who lends her inbox to recruiters."""
    return UserFactory(organization=org, email="hana@acme.example", full_name="Hana Hiring")
