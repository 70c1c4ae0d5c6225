"""Production settings, Compose file: what an operator deploying outreach relies on."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings

from outreach import local_services
from outreach.crypto import generate_key

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "outreach.settings.production",
    "SECRET_KEY": "k" * 20 + "a-real-production-secret-with-enough-entropy-5f2c9",
    "FIELD_ENCRYPTION_KEYS": generate_key(),
    "ALLOWED_HOSTS": "outreach.example.com",
    "SANDBOX": "0",
    "DEBUG": "0",
    # The browser tests' switch; no deployment has it.
    "DJANGO_ALLOW_ASYNC_UNSAFE": None,
}


def run_django(env_overrides, *args):
    """manage.py under production settings; an override of None unsets that variable."""
    env = {**os.environ, **PRODUCTION_ENV, **env_overrides}
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"SANDBOX": "1"}, "SANDBOX must be off in production"),
        ({"DEBUG": "1"}, "DEBUG must be off in production"),
        ({"SECRET_KEY": None}, "Set SECRET_KEY"),
        ({"SECRET_KEY": ""}, "Set SECRET_KEY"),
        ({"FIELD_ENCRYPTION_KEYS": None}, "Set FIELD_ENCRYPTION_KEYS"),
        ({"FIELD_ENCRYPTION_KEYS": ""}, "Set FIELD_ENCRYPTION_KEYS"),
    ],
)
def test_production_refuses_to_start_with_development_settings(overrides, complaint):
    result = run_django(overrides, "check")
    assert result.returncode != 0
    assert complaint in result.stderr


def test_production_settings_pass_the_deploy_checklist():
    result = run_django({}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_compose_file_describes_the_production_services():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert services["web"]["command"][0] == "gunicorn"
    assert "outreach.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "outreach", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "outreach", "beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    # Every queue has a worker service, and `make run` starts one for each too.
    consumed = {
        queue
        for service in services.values()
        if service.get("command", [])[:4] == ["celery", "-A", "outreach", "worker"]
        for queue in service["command"][service["command"].index("-Q") + 1].split(",")
    }
    assert consumed == set(django_settings.QUEUES)
    assert {q for qs in local_services.WORKERS.values() for q in qs.split(",")} == consumed
    for name in ("web", "worker", "worker-sends", "worker-sync", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "outreach.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")


def test_production_logs_are_one_json_object_per_line():
    result = run_django(
        {},
        "shell",
        "-c",
        "import logging; logging.getLogger('outreach.check').warning('mailbox %s paused', 42)",
    )
    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if "outreach.check" in line]
    record = json.loads(line)
    assert record["level"] == "WARNING"
    assert record["logger"] == "outreach.check"
    assert record["message"] == "mailbox 42 paused"
