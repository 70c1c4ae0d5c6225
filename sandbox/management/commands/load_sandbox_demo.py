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


class Command(BaseCommand):
    help = (
        "Creates (or brings back to its known state) the sandbox's Google accounts for the demo "
        "team and candidates, and registers the product's OAuth client. Safe to run again."
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
