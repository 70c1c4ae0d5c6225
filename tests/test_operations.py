import json

import pytest
from django.core.management import call_command

from outreach.celery import app as celery_app
from outreach.models import Organization, User


@pytest.fixture
def operator(db):
    return User.objects.create_superuser(email="ops@outreach.example", password="ops-secret")


@pytest.fixture
def broker_down(monkeypatch):
    # A port nothing listens on: the load balancer must take this instance out.
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")


@pytest.mark.django_db
def test_healthz_tells_anyone_up_and_nothing_more(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_tells_anyone_down_without_saying_what_failed(client, broker_down):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "unhealthy"}


@pytest.mark.django_db
def test_a_team_admin_sees_no_details_either(admin_client):
    response = admin_client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}


def test_the_operator_sees_each_check_and_the_engines_timings(client, operator):
    client.force_login(operator)
    body = json.loads(client.get("/healthz").content)
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    assert set(body["sending"]) == {
        "dispatch_last_tick",
        "oldest_overdue_send",
        "messages_stuck_sending",
    }


def test_the_operator_sees_which_check_failed(client, operator, broker_down):
    client.force_login(operator)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")


@pytest.mark.django_db
def test_a_monitor_with_the_bearer_token_sees_the_details(client, settings):
    settings.HEALTHZ_TOKEN = "monitoring-token"
    with_token = client.get("/healthz", headers={"Authorization": "Bearer monitoring-token"})
    assert json.loads(with_token.content)["checks"] == {"database": "ok", "broker": "ok"}
    for wrong in ("Bearer another-token", "Bearer ", "monitoring-token", "Basic monitoring-token"):
        answer = client.get("/healthz", headers={"Authorization": wrong})
        assert json.loads(answer.content) == {"status": "ok"}, wrong


@pytest.mark.django_db
def test_no_token_opens_the_details_while_none_is_configured(client, settings):
    settings.HEALTHZ_TOKEN = ""
    answer = client.get("/healthz", headers={"Authorization": "Bearer "})
    assert json.loads(answer.content) == {"status": "ok"}


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
