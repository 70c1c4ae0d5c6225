"""Who may do what: the one place the roles are given teeth.

- A **sender-only** teammate (often a hiring manager) lends an inbox: Sender settings (their
  inbox, who may send from it, approving, rejecting, revoking) and their notifications, nothing
  of the team's prospects, sequences, emails, stats or exports.
- A **recruiter** does the team's work: prospects, sequences, emails, tasks, outbox, stats.
- An **admin** also runs the team: invitations, seats, the ATS connection.

Every page goes through `RoleMiddleware`, which looks its URL up in the rules each app states
next to its URLs (`state_rules`); a URL with no stated rule is refused to everyone, so a new one
cannot open by omission (and the role walk in the tests fails until its rule is stated). Every
service that writes on a person's behalf asks `require` the same question, so a write refused
here is refused whoever calls it. Django admin keeps its own layer (staff only, scoped per team
by `outreach.admin.TenantAdmin`).
"""

import enum
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .models import Role


class Access(enum.IntEnum):
    """What a page or a write needs; each level includes those below it."""

    PUBLIC = 0  # anyone, signed in or not: log-in, sign-up, signed links in emails, health
    MEMBER = 1  # any signed-in teammate, sender-only included
    RECRUITER = 2
    ADMIN = 3


_BY_ROLE = {Role.SENDER: Access.MEMBER, Role.RECRUITER: Access.RECRUITER, Role.ADMIN: Access.ADMIN}

WHO = {
    Access.MEMBER: "signed-in teammates",
    Access.RECRUITER: "recruiters and admins",
    Access.ADMIN: "the team's admins",
}


def level_of(user) -> Access:
    if user is None or not user.is_authenticated or not user.is_active:
        return Access.PUBLIC
    if user.is_superuser:
        return Access.ADMIN  # the operator
    if user.organization_id is None:
        return Access.PUBLIC
    return _BY_ROLE.get(user.role, Access.PUBLIC)


def allows(user, needed: Access) -> bool:
    return level_of(user) >= needed


def require(user, needed: Access) -> None:
    """For services: refuses (PermissionDenied) a write `user` may not make. A write the system
    makes on its own (the engine, the sync) passes no user and is not asked."""
    if user is not None and not allows(user, needed):
        raise PermissionDenied(f"Only {WHO[needed]} can do this.")


# Pages ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """What a URL needs to be read (GET, HEAD) and to be written to (POST and the rest)."""

    read: Access
    write: Access

    def needed(self, method: str) -> Access:
        return self.read if method in ("GET", "HEAD", "OPTIONS") else self.write


def rule(read: Access, write: Access | None = None) -> Rule:
    return Rule(read, read if write is None else write)


# The URLs the rules are stated for (the sandbox serves its own from the same code).
PRODUCT_URLCONF = "outreach.urls"

# URL name ("sequences:list", "dashboard") -> its rule, as each app states it.
_RULES: dict[str, Rule] = {}


def state_rules(namespace: str, rules: dict[str, Access | Rule]) -> None:
    """Called by each app's urls module for its URL names (`namespace` "" for none)."""
    for name, stated in rules.items():
        key = f"{namespace}:{name}" if namespace else name
        _RULES[key] = stated if isinstance(stated, Rule) else rule(stated)


def rule_for(view_name: str) -> Rule | None:
    if view_name.startswith("admin:"):
        return rule(Access.PUBLIC)  # Django admin's own login and staff checks apply
    return _RULES.get(view_name)


class RoleMiddleware:
    """Asks, before any view runs, whether the user's role may open this URL with this method:
    a visitor not signed in is sent to log in; a teammate whose role may not is told so (403),
    with the way to the pages that are theirs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (getattr(request, "urlconf", None) or settings.ROOT_URLCONF) != PRODUCT_URLCONF:
            return None  # another host's URLs (the sandbox's, in development and tests)
        match = request.resolver_match
        stated = rule_for(match.view_name) if match else None
        needed = stated.needed(request.method) if stated else None
        if needed is not None and allows(request.user, needed):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        nobody = "nobody: this page has no stated rule"
        return render(
            request,
            "outreach/not_for_your_role.html",
            {"needed": WHO.get(needed, nobody) if needed is not None else nobody},
            status=403,
        )
