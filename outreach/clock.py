"""The one place the product reads the time, so that tests can freeze or move it."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
