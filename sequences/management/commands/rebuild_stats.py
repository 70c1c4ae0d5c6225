from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from outreach.models import Organization
from sequences import rollups


class Command(BaseCommand):
    help = (
        "Rebuilds the stats rollups from the raw emails, replies and tracking events: every "
        "organization's, or one's (--organization, its id or slug). Safe while the app runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organization", help="the organization's id or slug")

    def handle(self, *args, organization=None, **options):
        organizations = Organization.objects.order_by("pk")
        if organization:
            by_id = Q(pk=int(organization)) if organization.isdigit() else Q()
            organizations = organizations.filter(by_id | Q(slug=organization))
            if not organizations:
                raise CommandError(f"No organization {organization!r}.")
        for org in organizations:
            rows = rollups.rebuild(org)
            self.stdout.write(f"{org.slug}: {rows} rollup rows")
