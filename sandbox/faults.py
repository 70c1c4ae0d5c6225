"""Fault switches: make the next calls of an endpoint fail, drop the connection of the next writes
after they are committed, or make every call slow, for one account or for all. Set from tests
through `sandbox.control` and from the sandbox UI."""

import time

from django.db.models import F, Q

from .greenhouse import endpoints as greenhouse
from .models import FaultRule, GoogleAccount

# Google's ids for the endpoints the sandbox serves.
TOKEN_ENDPOINT = "oauth2.token"  # noqa: S105 (an endpoint id, not a secret)
REVOKE_ENDPOINT = "oauth2.revoke"
GMAIL_METHODS = (
    "gmail.users.getProfile",
    "gmail.users.messages.send",
    "gmail.users.messages.get",
    "gmail.users.messages.list",
    "gmail.users.messages.insert",
    "gmail.users.messages.trash",
    "gmail.users.messages.delete",
    "gmail.users.threads.get",
    "gmail.users.history.list",
    "gmail.users.settings.sendAs.list",
)
ENDPOINTS = ("*", TOKEN_ENDPOINT, REVOKE_ENDPOINT, *GMAIL_METHODS, *greenhouse.ALL)
FAILURE_STATUSES = (500, 503, 429)


def _check(endpoint: str, status: int | None = None) -> None:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"Unknown endpoint {endpoint!r}; one of {', '.join(ENDPOINTS)}")
    if status is not None and status not in FAILURE_STATUSES:
        raise ValueError(f"A fault answers one of {FAILURE_STATUSES}, not {status}")


def fail_next(
    endpoint: str, count: int = 1, status: int = 503, account: GoogleAccount | None = None
) -> FaultRule:
    _check(endpoint, status)
    return FaultRule.objects.create(
        endpoint=endpoint, account=account, status=status, remaining=count
    )


def drop_next(endpoint: str, count: int = 1) -> FaultRule:
    """The next `count` calls of a Greenhouse write are carried out and committed, then their
    connection is closed without an answer: the client cannot tell whether the write landed."""
    if endpoint not in greenhouse.WRITES:
        raise ValueError(
            f"Only a write's connection can be dropped; one of {', '.join(greenhouse.WRITES)}"
        )
    return FaultRule.objects.create(endpoint=endpoint, drop_connection=True, remaining=count)


def add_latency(endpoint: str, ms: int, account: GoogleAccount | None = None) -> FaultRule:
    _check(endpoint)
    return FaultRule.objects.create(endpoint=endpoint, account=account, latency_ms=ms)


def clear() -> None:
    FaultRule.objects.all().delete()


def active():
    return FaultRule.objects.filter(Q(remaining__gt=0) | Q(latency_ms__gt=0)).select_related(
        "account"
    )


def apply(endpoint: str, account: GoogleAccount | None = None) -> int | None:
    """Waits out any latency set for this call, then spends one failure if one is armed and
    returns its status."""
    rules = FaultRule.objects.filter(
        Q(endpoint=endpoint) | Q(endpoint="*"),
        Q(account__isnull=True) | Q(account=account),
    )
    latency = max((rule.latency_ms for rule in rules.filter(latency_ms__gt=0)), default=0)
    if latency:
        time.sleep(latency / 1000)
    for rule in rules.filter(remaining__gt=0, drop_connection=False):
        if _spend(rule):
            return rule.status
    return None


def take_drop(endpoint: str) -> bool:
    """Spends one armed connection drop of this endpoint, if any (after its write committed)."""
    rules = FaultRule.objects.filter(endpoint=endpoint, drop_connection=True, remaining__gt=0)
    return any(_spend(rule) for rule in rules)


def _spend(rule: FaultRule) -> bool:
    # Conditional decrement: two concurrent calls never spend the same failure.
    return bool(
        FaultRule.objects.filter(pk=rule.pk, remaining__gt=0).update(remaining=F("remaining") - 1)
    )
