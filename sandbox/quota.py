"""Gmail's per-user limits: quota units per minute (checked on every API call) and the daily
sending limit over a rolling 24 hours (checked on every send, from the API or the UI)."""

from datetime import UTC, timedelta

from django.db.models import F
from django.utils import timezone

from .errors import ApiError
from .models import GoogleAccount, Origin, QuotaUsage

SENDING_WINDOW = timedelta(hours=24)


def charge(account: GoogleAccount, units: int) -> None:
    """Spends `units` of this minute's quota, or refuses the call as Gmail does. The conditional
    UPDATE keeps concurrent callers from overspending."""
    window = timezone.now().replace(second=0, microsecond=0)
    usage, _ = QuotaUsage.objects.get_or_create(account=account, window_start=window)
    spent = QuotaUsage.objects.filter(
        pk=usage.pk, units__lte=account.quota_units_per_minute - units
    ).update(units=F("units") + units)
    QuotaUsage.objects.filter(
        account=account, window_start__lt=window - timedelta(minutes=5)
    ).delete()
    if not spent:
        raise ApiError(
            403, "User Rate Limit Exceeded", "userRateLimitExceeded", domain="usageLimits"
        )


def check_sending_limit(account: GoogleAccount) -> None:
    """Refuses a send once the account has sent its daily limit in the last 24 hours (call with
    the account locked, so that two sends cannot both take the last place)."""
    sent_times = list(
        account.messages.filter(
            origin=Origin.SENT, internal_date__gte=timezone.now() - SENDING_WINDOW
        )
        .order_by("internal_date")
        .values_list("internal_date", flat=True)
    )
    over = len(sent_times) - account.daily_send_limit
    if over < 0:
        return
    # A place frees up when the send that is `over` places from the oldest leaves the window.
    retry_at = (sent_times[over] + SENDING_WINDOW).astimezone(UTC)
    stamp = retry_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{retry_at.microsecond // 1000:03d}Z"
    raise ApiError(
        429,
        f"User-rate limit exceeded.  Retry after {stamp} (Mail sending)",
        "rateLimitExceeded",
        domain="usageLimits",
    )
