from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from sandbox import control

TEAM = [
    ("admin@acme.example", "Ada Admin"),
    ("recruiter@acme.example", "Rick Recruiter"),
    ("hiring.manager@acme.example", "Hana Hiring-Manager"),
]
CANDIDATES = [
    ("jamie.rivera@candidates.example", "Jamie Rivera"),
    ("sam.okafor@devmail.example", "Sam Okafor"),
    ("lee.chen@talentmail.example", "Lee Chen"),
    # Answers every first message with an RFC 3834 auto-reply.
    ("priya.shah@candidates.example", "Priya Shah"),
]
OUT_OF_OFFICE = "priya.shah@candidates.example"
# No account owns this address and its domain bounces: mail to it comes back as a DSN.
BOUNCING_CANDIDATE = "alex.morgan@bounce.example"
RECRUITER_ALIAS = ("jobs@acme.example", "Acme Recruiting")
# Where the product asks Google to send people back after consent (its Google callback).
PRODUCT_CALLBACK_PATH = "/senders/google/callback/"
# Greenhouse: the team as users (the admin is a site admin, as Harvest v3 list calls need one),
# a candidate for every demo prospect, and one credential of each API version.
SITE_ADMIN = TEAM[0][0]
GREENHOUSE_CANDIDATES = [*CANDIDATES, (BOUNCING_CANDIDATE, "Alex Morgan")]
HARVEST_KEY = "5a4d3e0c9b8f7e6d5c4b3a2918070605"
HARVEST_CLIENT_ID = "outreach-sandbox"
HARVEST_CLIENT_SECRET = "outreach-sandbox-secret"  # noqa: S105 (a sandbox-only demo value)


class Command(BaseCommand):
    help = (
        "Creates (or brings back to its known state) the sandbox's Google accounts for the demo "
        "team and candidates, registers the product's OAuth client, and sets up Greenhouse: the "
        "team as users, the candidates, a Harvest v1 key and a v3 client. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            dest="redirect_uris",
            help="A redirect URI to register for the product's OAuth client (repeatable; "
            f"default SITE_URL + {PRODUCT_CALLBACK_PATH}).",
        )

    @transaction.atomic
    def handle(self, *args, redirect_uris, **options):
        for email, name in TEAM + CANDIDATES:
            control.create_account(email, name, out_of_office=False)
        control.set_out_of_office(OUT_OF_OFFICE, True)
        control.add_send_as(TEAM[1][0], *RECRUITER_ALIAS)
        control.mark_bouncing(BOUNCING_CANDIDATE.rpartition("@")[2])
        control.delete_account(BOUNCING_CANDIDATE)
        self.stdout.write("Sandbox Google accounts:")
        for email, name in TEAM + CANDIDATES:
            note = "  (out of office)" if email == OUT_OF_OFFICE else ""
            self.stdout.write(f"  {email:<34} {name}{note}")
        self.stdout.write(f"  {BOUNCING_CANDIDATE:<34} no account: its domain bounces")
        client_id = settings.GOOGLE_OAUTH_CLIENT_ID
        redirect_uris = redirect_uris or [settings.SITE_URL + PRODUCT_CALLBACK_PATH]
        if client_id:
            control.register_client(client_id, settings.GOOGLE_OAUTH_CLIENT_SECRET, redirect_uris)
            self.stdout.write(
                f"OAuth client {client_id} registered; redirect URIs: {redirect_uris}"
            )
        else:
            self.stdout.write("GOOGLE_OAUTH_CLIENT_ID is empty: no OAuth client registered.")
        self._greenhouse()

    def _greenhouse(self):
        self.stdout.write("Sandbox Greenhouse users:")
        for email, name in TEAM:
            user = control.create_greenhouse_user(email, name, site_admin=email == SITE_ADMIN)
            role = "  (site admin)" if user.site_admin else ""
            self.stdout.write(f"  {email:<34} {name:<22} id {user.pk}{role}")
        self.stdout.write("Sandbox Greenhouse candidates:")
        for email, name in GREENHOUSE_CANDIDATES:
            candidate = control.create_candidate(email, name)
            self.stdout.write(f"  {email:<34} {name:<22} id {candidate.pk}")
        key = control.create_harvest_key(HARVEST_KEY, name="outreach demo")
        client = control.create_harvest_client(
            HARVEST_CLIENT_ID, HARVEST_CLIENT_SECRET, name="outreach demo"
        )
        self.stdout.write(f"Harvest v1 API key: {key.key}")
        self.stdout.write(
            f"Harvest v3 client: id {client.client_id}  secret {client.client_secret}  "
            f"scopes {' '.join(client.scopes)}"
        )
