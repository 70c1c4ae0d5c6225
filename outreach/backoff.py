"""How long to wait before trying a failing remote call again."""

import random
from datetime import timedelta

from django.conf import settings


def backoff(attempts: int, *, cap: timedelta, retry_after: float | None = None) -> timedelta:
    """Exponential from RETRY_BASE_SECONDS (30 s), capped, plus up to a quarter more at random so
    that the rows failed by one outage do not all come back at once; never sooner than the
    server asked."""
    delay = min(timedelta(seconds=settings.RETRY_BASE_SECONDS) * 2**attempts, cap)
    delay += timedelta(seconds=random.uniform(0, delay.total_seconds() / 4))  # noqa: S311
    if retry_after:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay
