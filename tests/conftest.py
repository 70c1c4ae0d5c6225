import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import cache

from outreach import browser
from outreach.models import Role
from tests.factories import PASSWORD, OrganizationFactory, UserFactory

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["tests.sandbox_fixtures"]

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = pytest.StashKey[str]()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the cache; each test starts with none.
    cache.clear()
    yield


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme", slug="acme")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Globex", slug="globex")


@pytest.fixture
def admin_user(org):
    return UserFactory(
        organization=org, role=Role.ADMIN, email="ada@acme.example", full_name="Ada Admin"
    )


@pytest.fixture
def recruiter(org):
    return UserFactory(
        organization=org, role=Role.RECRUITER, email="rick@acme.example", full_name="Rick Recruiter"
    )


@pytest.fixture
def other_admin(other_org):
    return UserFactory(
        organization=other_org, role=Role.ADMIN, email="gus@globex.example", full_name="Gus Globex"
    )


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def recruiter_client(client, recruiter):
    client.force_login(recruiter)
    return client


@pytest.fixture
def password():
    return PASSWORD


# Real browser ---------------------------------------------------------------------------------


def pytest_collection_finish(session):
    """Finds the Chromium the browser tests drive (outreach/browser.py), once and before the
    first test, when a selected test drives one: `pytest tests/test_auth.py` or `make chaos` need
    none. Under `make test` (PROVISION_BROWSER=1) a missing one is downloaded or installed here,
    out of any test's timeout. With none, the run stops on the one line saying what to install."""
    if session.config.option.collectonly:
        return
    if not any("browser_type_launch_args" in item.fixturenames for item in session.items):
        return
    try:
        path = browser.find(provision=os.environ.get("PROVISION_BROWSER") == "1")
    except browser.NoBrowser as error:
        pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)
    session.config.stash[CHROMIUM] = path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, pytestconfig):
    return {
        **browser_type_launch_args,
        "executable_path": pytestconfig.stash[CHROMIUM],
        "args": browser.LAUNCH_ARGS,
    }


def wait_until(condition, seconds: float = 60, every: float = 0.05) -> bool:
    """Polls `condition` until it holds (True) or `seconds` pass (False): for work another
    process does."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


# Real Celery worker ---------------------------------------------------------------------------


def database_url(settings_dict) -> str:
    host = settings_dict.get("HOST") or settings_dict.get("OPTIONS", {}).get("host", "")
    port = settings_dict.get("PORT") or ""
    auth = settings_dict["USER"] + (
        f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    )
    if host.startswith("/"):
        return f"postgres://{auth}@/{settings_dict['NAME']}?host={host}"
    return f"postgres://{auth}@{host}{':' + str(port) if port else ''}/{settings_dict['NAME']}"


@pytest.fixture
def celery_workers(transactional_db, tmp_path, settings):
    """Starts real `celery worker` processes on the test database and the test broker: tasks
    published during the test go through Redis to them (nothing runs inline).

        worker = celery_workers()            # one worker, on every queue
        celery_workers(SANDBOX_URL=...)       # another, with extra environment
        celery_workers(queues="sync")        # one that consumes only that queue
    """
    from django.db import connection

    from outreach.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.control.purge()
    started = []

    def start(queues: str | None = None, **extra_env):
        n = len(started)
        mail_dir = tmp_path / f"mail-{n}"
        mail_dir.mkdir()
        log_path = tmp_path / f"worker-{n}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url(connection.settings_dict),
            "WORKER_EMAIL_DIR": str(mail_dir),
            **extra_env,
        }
        log = log_path.open("w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "outreach",
                "worker",
                "--pool=solo",
                f"--hostname=test{n}@%h",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                *(["-Q", queues] if queues else []),
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while "ready." not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("worker did not start:\n" + log_path.read_text())
            time.sleep(0.2)
        process.mail_dir, process.log_path, process.log = mail_dir, log_path, log
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        process.log.close()
    app.control.purge()
    app.conf.task_always_eager = True


@pytest.fixture
def celery_worker_process(celery_workers):
    return celery_workers()


# Emails ---------------------------------------------------------------------------------------


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what the code deferred to commit (emails, tasks) at the end
    of the block, as a real commit would; the test itself stays in its rolled-back transaction."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def link_in(email, containing: str = "") -> str:
    """The path of the one product link in an email (its text and HTML parts both carry it),
    or of the one link whose path contains `containing`."""
    import re

    paths = {
        path
        for path in re.findall(r"http://testserver(/[^\s\"<]+)", email.body)
        if containing in path
    }
    assert len(paths) == 1, email.body
    return paths.pop()
