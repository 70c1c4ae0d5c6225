"""Walks every URL pattern of the product, Django admin included, with GET and with POST, as a
visitor, a sender-only teammate, a recruiter and an admin of the same team, and checks each
answer against the rule stated below. A URL added without a rule here fails the walk; one whose
rule is not stated in its app's urls (outreach.permissions) is refused to everyone and fails it
too. The sibling of tests/test_cross_tenant.py, which walks the same URLs as another team."""

import re

import pytest
from django.urls import reverse

from outreach.models import Role
from outreach.permissions import Access
from tests.factories import UserFactory
from tests.test_cross_tenant import admin_urls, product_urls, routes

pytestmark = pytest.mark.django_db

PUBLIC, MEMBER, RECRUITER, ADMIN = Access.PUBLIC, Access.MEMBER, Access.RECRUITER, Access.ADMIN

# What each route needs, for reading (GET) and for writing (POST): stated here, independently
# of the rules the apps give the permission layer.
RULES: dict[str, Access | tuple[Access, Access]] = {
    "": PUBLIC,
    "healthz": PUBLIC,
    "signup/": PUBLIC,
    "signup/sent/": PUBLIC,
    "signup/confirm/<str:token>/": PUBLIC,
    "login/": PUBLIC,
    "logout/": PUBLIC,
    "password-reset/": PUBLIC,
    "password-reset/sent/": PUBLIC,
    "password-reset/<uidb64>/<token>/": PUBLIC,
    "password-reset/done/": PUBLIC,
    "invitations/<str:token>/": PUBLIC,
    "dashboard/": RECRUITER,
    "team/": (RECRUITER, ADMIN),
    "team/invitations/<int:pk>/revoke/": ADMIN,
    "team/members/<int:pk>/deactivate/": ADMIN,
    "team/members/<int:pk>/reactivate/": ADMIN,
    "notifications/": MEMBER,
    "account/": MEMBER,
    "account/email/<str:token>/": PUBLIC,
    # Sender settings: lending one's inbox is anyone's; sending from a teammate's, a recruiter's.
    "senders/": MEMBER,
    "senders/connect/": MEMBER,
    "senders/google/callback/": PUBLIC,
    "senders/sign-in/": PUBLIC,
    "senders/mailboxes/<int:pk>/disconnect/": MEMBER,
    "senders/mailboxes/<int:pk>/check/": MEMBER,
    "senders/mailboxes/<int:pk>/signature/": MEMBER,
    "senders/delegations/request/": RECRUITER,
    "senders/delegations/invite/": RECRUITER,
    "senders/delegations/<int:pk>/resend/": RECRUITER,
    "senders/delegations/<int:pk>/approve/": MEMBER,
    "senders/delegations/<int:pk>/reject/": MEMBER,
    "senders/delegations/<int:pk>/revoke/": MEMBER,
    "senders/review/<str:token>/": PUBLIC,
    # Signed links in the emails a prospect gets.
    "t/o/<str:token>.gif": PUBLIC,
    "t/c/<str:token>/": PUBLIC,
    "u/<str:token>/": PUBLIC,
    "ats/pause/<str:token>/": PUBLIC,
    # Offboarding a teammate and the ATS connection are an admin's.
    "team/members/<int:user_pk>/hand-over/": ADMIN,
    "ats/": ADMIN,
    "ats/test/": ADMIN,
    "ats/users/find/": ADMIN,
    "ats/users/<int:user_id>/": ADMIN,
    "ats/log/": ADMIN,
    "ats/log/retry/": ADMIN,
    "ats/prospects/<int:prospect_id>/sync/": RECRUITER,
}
# Every other route of the sequences app is the team's work: a recruiter's.
SEQUENCE_ROUTE = re.compile(
    r"^(sequences|enrollments|outbox|stats|prospects|emails|tasks|replies|templates|snippets)\b"
)

ROLES = {"visitor": PUBLIC, "sender": MEMBER, "recruiter": RECRUITER, "admin": ADMIN}


def needed(route: str, method: str) -> Access:
    if route in ("admin/login/", "admin/logout/"):
        return PUBLIC
    if route.startswith("admin/"):
        return ADMIN  # Django admin: staff only
    stated = RULES.get(route)
    if stated is None and SEQUENCE_ROUTE.match(route):
        stated = RECRUITER
    assert stated is not None, f"State the role rule of {route} in the role walk"
    if isinstance(stated, tuple):
        return stated[0] if method == "get" else stated[1]
    return stated


def concrete(route: str, urls: dict[str, tuple[str, str]]) -> str:
    """A URL for the route: the cross-tenant walk's object for it, a token that means nothing
    for a signed link (the view refuses it, the permission layer does not), or the route."""
    if route in urls:
        return urls[route][1]
    url = "/" + route
    for pattern, value in (
        (r"\^\(\?P<app_label>[^)]*\)/\$", "outreach/"),
        (r"\(\?P<url>\.\*\)\$", "nowhere/"),
        (r"<(str:)?token>", "not-a-token"),
        (r"<uidb64>", "MQ"),
    ):
        url = re.sub(pattern, value, url)
    assert "<" not in url, f"Give the role walk an object for {route}"
    return url


def denied(response) -> bool:
    """Refused for the role: sent to log in and come back (the product's page or Django
    admin's), or told so."""
    if response.status_code in (301, 302):
        location = response.headers["Location"]
        return location.startswith((reverse("login"), reverse("admin:login"))) and (
            "next=" in location
        )
    return response.status_code == 403 and "outreach/not_for_your_role.html" in [
        t.name for t in response.templates
    ]


def test_every_url_answers_each_role_as_its_rule_says(client, org, admin_user, settings):
    settings.SANDBOX_URL = "http://127.0.0.1:9"  # nothing answers: no call leaves the test
    people = {
        "sender": UserFactory(organization=org, role=Role.SENDER, email="hana@acme.example"),
        "recruiter": UserFactory(organization=org, role=Role.RECRUITER, email="rick@acme.example"),
        "admin": admin_user,
    }
    urls = {**product_urls(org, admin_user), **admin_urls(org, admin_user)}
    client.raise_request_exception = False
    walk = [(route, concrete(route, urls)) for route, _ in sorted(routes())]
    wrong = []
    for role, level in ROLES.items():
        client.logout()
        for route, url in walk:
            for method in ("get", "post"):
                # Signed in once per role, and again only after a page signed us out.
                if role != "visitor" and "_auth_user_id" not in client.session:
                    client.force_login(people[role])
                response = getattr(client, method)(url)
                need = needed(route, method)
                if denied(response) == (level >= need):
                    wrong.append(
                        f"{method.upper()} {url} as {role}: {response.status_code}, "
                        f"expected {'refused' if level < need else 'open'}"
                    )
    assert not wrong, "\n".join(wrong)
