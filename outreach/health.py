"""What /healthz answers. Anyone (the load balancer) learns up or down; the details, each check
and the engine's timings, are for the operator only: a signed-in superuser, or a monitor sending
`Authorization: Bearer <HEALTHZ_TOKEN>`. Apps above `outreach` register their own reports here
(from their AppConfig.ready), so that outreach never imports them."""

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from .celery import app as celery_app

_reports: dict[str, Callable[[], dict]] = {}


def register(name: str, report: Callable[[], dict]) -> None:
    _reports[name] = report


def reports() -> dict[str, dict]:
    return {name: report() for name, report in _reports.items()}


def checks() -> dict[str, str]:
    """What must answer for this instance to serve: "ok", or the kind of error."""
    found = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        found["database"] = "ok"
    except Exception as exc:
        found["database"] = f"error: {exc.__class__.__name__}"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        found["broker"] = "ok"
    except Exception as exc:
        found["broker"] = f"error: {exc.__class__.__name__}"
    return found


def for_operator(request: HttpRequest) -> bool:
    """Whether the request may see the details: they name our infrastructure's failures and the
    engine's backlog, which are nobody else's business."""
    user = request.user
    if user.is_authenticated and user.is_active and user.is_superuser:
        return True
    token = settings.HEALTHZ_TOKEN
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and constant_time_compare(offered, token)
