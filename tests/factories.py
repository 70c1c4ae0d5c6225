import factory
from django.utils import timezone

from outreach.models import EmailDomain, Invitation, Organization, Role, User

PASSWORD = "correct horse battery"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    seats = 5

    @factory.post_generation
    def domain(self, create, extracted, **kwargs):
        """Every team holds <slug>.example unless told otherwise (domain=False: none)."""
        if create and extracted is not False:
            EmailDomain.objects.create(
                organization=self, domain=extracted or f"{self.slug}.example"
            )


class EmailDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailDomain

    organization = factory.SubFactory(OrganizationFactory, domain=False)
    domain = factory.Sequence(lambda n: f"domain{n}.example")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    full_name = factory.Faker("name")
    email = factory.LazyAttributeSequence(
        lambda o, n: (
            f"user{n}@{o.organization.slug}.example" if o.organization else f"op{n}@ops.example"
        )
    )
    role = Role.RECRUITER
    email_confirmed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.LazyAttributeSequence(lambda o, n: f"invitee{n}@{o.organization.slug}.example")
    role = Role.RECRUITER
    invited_by = factory.SubFactory(
        UserFactory, organization=factory.SelfAttribute("..organization"), role=Role.ADMIN
    )


class MailboxFactory(factory.django.DjangoModelFactory):
    """A mailbox row as if connected; tests that talk to Gmail connect through the sandbox."""

    class Meta:
        model = "senders.Mailbox"

    owner = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("owner.organization")
    email = factory.SelfAttribute("owner.email")
    refresh_token = "1//sandbox-refresh-token"
    scopes = ["https://www.googleapis.com/auth/gmail.modify"]


class DelegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "senders.Delegation"

    grantor = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("grantor.organization")
    delegate = factory.SubFactory(UserFactory, organization=factory.SelfAttribute("..organization"))
