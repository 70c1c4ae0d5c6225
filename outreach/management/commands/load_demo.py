from django.core.management.base import BaseCommand
from django.db import transaction

from outreach import clock
from outreach.models import EmailDomain, Organization, Role, User

DEMO_PASSWORD = "outreach-demo"  # noqa: S105 - printed for the tester; demo data only
DEMO_DOMAIN = "acme.example"
DEMO_USERS = [
    ("admin@acme.example", "Ada Admin", Role.ADMIN),
    ("recruiter@acme.example", "Rick Recruiter", Role.RECRUITER),
    # The hiring manager lends an inbox; a password log-in keeps the demo usable before Google
    # sign-in exists for sender-only users.
    ("hiring.manager@acme.example", "Hana Hiring-Manager", Role.RECRUITER),
]


class Command(BaseCommand):
    help = "Creates (or brings back to its known state) the Acme demo team. Safe to run again."

    @transaction.atomic
    def handle(self, *args, **options):
        acme, _ = Organization.objects.update_or_create(
            slug="acme", defaults={"name": "Acme", "seats": 10}
        )
        EmailDomain.objects.get_or_create(domain=DEMO_DOMAIN, defaults={"organization": acme})
        for email, full_name, role in DEMO_USERS:
            user, _ = User.objects.get_or_create(
                email=email,
                defaults={
                    "organization": acme,
                    "full_name": full_name,
                    "role": role,
                    "email_confirmed_at": clock.now(),
                },
            )
            user.organization, user.full_name, user.role, user.is_active = (
                acme,
                full_name,
                role,
                True,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
        self.stdout.write("Demo team Acme is ready. Log in with any of these:")
        for email, full_name, role in DEMO_USERS:
            self.stdout.write(
                f"  {email:<30} password {DEMO_PASSWORD:<15} {full_name} ({role.label})"
            )
