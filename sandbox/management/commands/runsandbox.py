from django.core.management.base import BaseCommand, CommandError

from sandbox.server import serve

DEFAULT_ADDRESS = "127.0.0.1:8001"


class Command(BaseCommand):
    help = (
        "Serves the sandbox (local Google OAuth and Gmail API, Greenhouse Harvest, and its UI at "
        "/sandbox/)."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default=DEFAULT_ADDRESS)

    def handle(self, *args, addrport, **options):
        host, _, port = addrport.rpartition(":")
        if not port.isdigit():
            raise CommandError(f"{addrport!r} is not host:port or a port number.")
        host = host or "127.0.0.1"
        self.stdout.write(
            f"Sandbox Google and Greenhouse at http://{host}:{port}/  (UI at /sandbox/)"
        )
        serve(host, int(port))
