"""Django admin for a team's admins: their organization's rows only, wherever rows appear."""

import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.sites import site
from django.contrib.contenttypes.models import ContentType
from django.test import RequestFactory

from outreach.models import Invitation, Role, User
from tests.factories import InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def both_teams(admin_user, other_admin, org, other_org):
    mine = UserFactory(organization=org, email="mine@acme.example", full_name="Mia Mine")
    theirs = UserFactory(
        organization=other_org, email="theirs@globex.example", full_name="Theo Theirs"
    )
    InvitationFactory(organization=org, invited_by=admin_user, email="new@acme.example")
    InvitationFactory(
        organization=other_org, invited_by=other_admin, email="secret-hire@globex.example"
    )
    for user, actor in ((mine, admin_user), (theirs, other_admin)):
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=[user],
            action_flag=CHANGE,
            change_message="Renamed",
            single_object=True,
        )
    return mine, theirs


@pytest.mark.parametrize(
    "url",
    [
        "/admin/outreach/user/",
        "/admin/outreach/organization/",
        "/admin/outreach/invitation/",
        "/admin/admin/logentry/",
    ],
)
def test_team_admin_lists_only_their_organization(admin_client, both_teams, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "globex" not in page.lower()
    assert "Theo Theirs" not in page and "Gus Globex" not in page


def test_team_admin_sees_their_own_rows(admin_client, both_teams):
    assert "mine@acme.example" in admin_client.get("/admin/outreach/user/").content.decode()
    assert "new@acme.example" in admin_client.get("/admin/outreach/invitation/").content.decode()
    assert "Mia Mine" in admin_client.get("/admin/admin/logentry/").content.decode()


def test_operator_sees_every_organization(client, both_teams):
    operator = User.objects.create_superuser(
        email="op@outreach.example", password="x", full_name="Op"
    )
    client.force_login(operator)
    page = client.get("/admin/outreach/user/").content.decode()
    assert "mine@acme.example" in page and "theirs@globex.example" in page


def test_autocomplete_offers_only_their_organization(admin_client, both_teams):
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "outreach",
            "model_name": "invitation",
            "field_name": "invited_by",
            "term": "",
        },
    )
    assert response.status_code == 200
    names = {r["text"] for r in json.loads(response.content)["results"]}
    assert any("Mia Mine" in n for n in names)
    assert not any("Theirs" in n or "Globex" in n for n in names)


def test_foreign_key_choices_are_scoped(admin_user, both_teams):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    field = site._registry[Invitation].formfield_for_foreignkey(
        Invitation._meta.get_field("invited_by"), request
    )
    assert {u.email for u in field.queryset} == set(
        User.objects.filter(organization=admin_user.organization).values_list("email", flat=True)
    )


def test_list_filters_name_only_their_people(admin_client, both_teams):
    page = admin_client.get("/admin/outreach/invitation/").content.decode()
    assert "Ada Admin" in page  # the "invited by" filter
    assert "Gus Globex" not in page


def change_user(client, user, **fields):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "is_active": "on",
        **fields,
    }
    return client.post(f"/admin/outreach/user/{user.pk}/change/", data)


def test_team_admin_cannot_move_a_user_or_grant_superuser(admin_client, both_teams, other_org):
    mine, _ = both_teams
    form = admin_client.get(f"/admin/outreach/user/{mine.pk}/change/").content.decode()
    assert 'name="organization"' not in form and 'name="is_superuser"' not in form

    response = change_user(
        admin_client, mine, full_name="Mia Renamed", organization=other_org.pk, is_superuser="on"
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.full_name == "Mia Renamed"
    assert mine.organization.slug == "acme" and not mine.is_superuser


def test_team_admin_cannot_set_a_teammates_password(admin_client, both_teams):
    mine, _ = both_teams
    assert admin_client.get(f"/admin/outreach/user/{mine.pk}/password/").status_code == 403


def test_role_changes_in_admin_obey_the_seat_limit(admin_client, admin_user, org):
    org.seats = 1
    org.save()
    lender = UserFactory(organization=org, role=Role.SENDER, email="hm@acme.example")
    response = change_user(admin_client, lender, role=Role.RECRUITER)
    assert response.status_code == 200
    assert "All 1 seats of Acme are taken" in response.content.decode()
    lender.refresh_from_db()
    assert lender.role == Role.SENDER


def test_deactivating_in_admin_goes_through_the_same_rules(admin_client, org):
    member = UserFactory(organization=org, email="leaver@acme.example")
    response = change_user(admin_client, member, is_active="")
    assert response.status_code == 302
    member.refresh_from_db()
    assert not member.is_active and member.deactivated_at is not None


def test_organization_settings_seats_and_domains_are_read_only_for_team_admins(admin_client, org):
    page = admin_client.get(f"/admin/outreach/organization/{org.pk}/change/").content.decode()
    assert 'name="name"' in page
    assert 'name="seats"' not in page and 'name="slug"' not in page
    assert "acme.example" in page
    assert 'name="domains-0-domain"' not in page


def test_recruiters_have_no_admin(recruiter_client):
    response = recruiter_client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_log_rows_of_other_teams_are_not_found(admin_client, both_teams):
    theirs_entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(User), object_repr__contains="Theo"
    )
    assert admin_client.get(f"/admin/admin/logentry/{theirs_entry.pk}/change/").status_code == 404
