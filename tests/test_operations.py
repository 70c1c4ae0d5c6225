import json

import pytest
from django.core.management import call_command

from outreach.celery import app as celery_app
from outreach.models import Organization, User


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    assert set(body["sending"]) == {
        "dispatch_last_tick",
        "oldest_overdue_send",
        "messages_stuck_sending",
    }


@pytest.mark.django_db
def test_healthz_fails_when_the_broker_is_unreachable(client, monkeypatch):
    # A port nothing listens on: the load balancer must take this instance out.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")


@pytest.mark.django_db
def test_demo_data_loads_idempotently_and_every_demo_user_logs_in(client):
    call_command("load_demo")
    call_command("load_demo")
    acme = Organization.objects.get(slug="acme")
    assert acme.members.count() == 3
    assert list(acme.domains.values_list("domain", flat=True)) == ["acme.example"]
    for user in User.objects.filter(organization=acme):
        response = client.post("/login/", {"username": user.email, "password": "outreach-demo"})
        assert response.status_code == 302, user.email
        client.post("/logout/")
