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
        django_get_or_create = ("email",)  # one mailbox per address, as in the product

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


class SequenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sequences.Sequence"
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("owner.organization")
    name = factory.Sequence(lambda n: f"Backend engineers {n}")

    @factory.post_generation
    def stages(self, create, extracted, **kwargs):
        """Two email stages unless told otherwise (stages=0: none)."""
        if not create or extracted == 0:
            return
        for position in range(extracted or 2):
            StageFactory(sequence=self, position=position)


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sequences.Stage"

    sequence = factory.SubFactory(SequenceFactory, stages=0)
    position = 0
    kind = "email"
    delay_days = factory.LazyAttribute(lambda o: 0 if o.position == 0 else 3)
    subject = factory.LazyAttribute(
        lambda o: "Quick question, {{first_name}}" if o.position == 0 else ""
    )
    body_html = "<p>Hi {{first_name|there}},</p><p>Are you open to a chat about {{company}}?</p>"
    body_text = "Hi {{first_name|there}},\n\nAre you open to a chat about {{company}}?"


class ProspectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sequences.Prospect"

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"candidate{n}@candidates.example")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = "Initech"
    title = "Engineer"


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sequences.Enrollment"

    sequence = factory.SubFactory(SequenceFactory)
    organization = factory.SelfAttribute("sequence.organization")
    prospect = factory.SubFactory(
        ProspectFactory, organization=factory.SelfAttribute("..organization")
    )
    enrolled_by = factory.SelfAttribute("sequence.owner")
    mailbox = factory.SubFactory(MailboxFactory, owner=factory.SelfAttribute("..enrolled_by"))
    current_stage = factory.LazyAttribute(lambda o: o.sequence.stages.order_by("position").first())
    next_action_at = factory.LazyFunction(timezone.now)


class EmailTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sequences.EmailTemplate"

    owner = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("owner.organization")
    name = factory.Sequence(lambda n: f"Intro {n}")
    subject = "A role at Acme, {{first_name}}"
    body_html = "<p>Hi {{first_name|there}},</p><p>Would you have 20 minutes this week?</p>"


class SnippetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sequences.Snippet"

    owner = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("owner.organization")
    name = factory.Sequence(lambda n: f"Signature {n}")
    body_html = "<p>{{sender_full_name}}, Talent at Acme</p>"
