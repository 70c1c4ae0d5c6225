"""What /healthz reports of the engine."""

from datetime import timedelta

from django.core.cache import cache

from outreach import clock

from ..models import Enrollment, Message, Stage
from .claims import LAST_TICK_KEY


def health() -> dict[str, object]:
    """What /healthz reports of the engine: the last dispatch, the oldest overdue send, and
    messages stuck in `sending` (a crash not yet reconciled)."""
    now = clock.now()
    overdue = (
        Enrollment.objects.filter(
            status=Enrollment.Status.ACTIVE,
            current_stage__kind=Stage.Kind.EMAIL,
            next_action_at__lt=now - timedelta(minutes=2),
        )
        .order_by("next_action_at")
        .values_list("next_action_at", flat=True)
        .first()
    )
    return {
        "dispatch_last_tick": cache.get(LAST_TICK_KEY),
        "oldest_overdue_send": overdue.isoformat() if overdue else None,
        "messages_stuck_sending": Message.objects.filter(
            status=Message.Status.SENDING, created_at__lt=now - timedelta(minutes=10)
        ).count(),
    }
