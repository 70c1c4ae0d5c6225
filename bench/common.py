"""What the benchmarks share: a scratch database, the sandbox served from its own process (so
that its CPU is not counted as ours), and the product pointed at it."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def scratch_with_sandbox(**environment):
    """Sets Django up on a fresh test database, serves the sandbox on a free port, and yields
    the settings, with the product's Google client registered with the sandbox."""
    port = free_port()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "SANDBOX": "1",
            "SANDBOX_URL": f"http://127.0.0.1:{port}",
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            # Per-task INFO lines would be measured as our CPU.
            "LOG_LEVEL": "WARNING",
            **environment,
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    db_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/outreach")
    db_url = db_url.rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    sandbox = subprocess.Popen(
        [sys.executable, "manage.py", "runsandbox", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": db_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        from sandbox import control
        from tests.sandbox_fixtures import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI

        settings.GOOGLE_OAUTH_CLIENT_ID = CLIENT_ID
        settings.GOOGLE_OAUTH_CLIENT_SECRET = CLIENT_SECRET
        control.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
        yield settings
    finally:
        sandbox.terminate()
        sandbox.wait(10)
        teardown_databases(old, verbosity=0)


def connected_mailbox(organization, user):
    """A sandbox account for `user`, connected through the real consent and code exchange, with
    limits high enough that only our code is measured."""
    from django.conf import settings

    from sandbox import control
    from senders import gmail
    from senders.models import Mailbox
    from tests.sandbox_fixtures import Sandbox

    control.create_account(user.email, user.full_name)
    control.set_limits(user.email, units_per_minute=10**8, daily_send_limit=10**6)
    creds = Sandbox(settings.SANDBOX_URL).connect(user.email, [gmail.MODIFY])
    return Mailbox.objects.create(
        organization=organization,
        owner=user,
        email=user.email,
        refresh_token=creds.refresh_token,
        scopes=[gmail.MODIFY],
        daily_send_cap=2000,
        send_spacing_seconds=0,
    )
