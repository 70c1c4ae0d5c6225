"""Harvest's rate limit: a number of requests per 10 seconds per credential (a v1 key or a v3
client), shown on every answer in X-RateLimit-Limit / X-RateLimit-Remaining; past it, 429 with
Retry-After. The windows are aligned on the clock (:00, :10, :20...)."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .errors import too_many_requests
from .models import RateLimitWindow

WINDOW = timedelta(seconds=10)
# Windows older than this are of no use to anyone and are deleted as new ones open.
KEEP = timedelta(minutes=1)


@dataclass(frozen=True)
class Budget:
    limit: int
    remaining: int

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining)}


def _window_start(now: datetime) -> datetime:
    seconds = int(now.timestamp())
    return datetime.fromtimestamp(seconds - seconds % int(WINDOW.total_seconds()), tz=UTC)


def seconds_left() -> int:
    """Whole seconds until the current window closes (at least 1): what Retry-After says."""
    now = timezone.now()
    return max(1, math.ceil((_window_start(now) + WINDOW - now).total_seconds()))


def spend(credential: str, limit: int) -> Budget:
    """Counts one request of `credential`, or refuses it with 429 once `limit` requests were made
    in this window. The window's row is locked, so concurrent requests are counted exactly."""
    start = _window_start(timezone.now())
    with transaction.atomic():
        window, _ = RateLimitWindow.objects.select_for_update().get_or_create(
            credential=credential, window_start=start
        )
        if window.requests >= limit:
            raise too_many_requests(seconds_left())
        window.requests += 1
        window.save(update_fields=["requests"])
    RateLimitWindow.objects.filter(credential=credential, window_start__lt=start - KEEP).delete()
    return Budget(limit, limit - window.requests)
