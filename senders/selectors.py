from django.db.models import Prefetch, Q, QuerySet

from outreach.models import User

from .models import Delegation, DelegationEvent, Mailbox


def own_mailboxes(user: User) -> QuerySet[Mailbox]:
    return Mailbox.objects.filter(owner=user).prefetch_related("aliases").order_by("email")


def delegations_held(user: User) -> QuerySet[Delegation]:
    """Inboxes `user` can send from or asked for; ended ones live on in the history."""
    return (
        Delegation.objects.filter(
            delegate=user, status__in=[*Delegation.OPEN, Delegation.Status.EXPIRED]
        )
        .select_related("grantor", "mailbox")
        .order_by("status", "-requested_at")
    )


def delegations_granted(user: User) -> QuerySet[Delegation]:
    """Who may send, or asks to send, from `user`'s inbox."""
    return (
        Delegation.objects.filter(grantor=user, status__in=Delegation.OPEN)
        .select_related("delegate", "mailbox")
        .order_by("status", "-requested_at")
    )


def recent_events(user: User, limit: int = 30) -> QuerySet[DelegationEvent]:
    """The audit trail of the delegations `user` is party to."""
    return (
        DelegationEvent.objects.filter(Q(delegation__grantor=user) | Q(delegation__delegate=user))
        .select_related("actor", "delegation__grantor", "delegation__delegate")
        .order_by("-at", "-pk")[:limit]
    )


def sendable_mailboxes(user: User) -> QuerySet[Mailbox]:
    """Mailboxes `user` may pick as a sender: their own and those they are authorized for."""
    if user.organization_id is None:
        return Mailbox.objects.none()  # the operator's superusers have none
    return (
        Mailbox.objects.filter(organization_id=user.organization_id)
        .filter(
            Q(owner=user)
            | Q(
                delegations__delegate=user,
                delegations__status=Delegation.Status.APPROVED,
                owner__is_active=True,
            )
        )
        .distinct()
        .prefetch_related(Prefetch("aliases"))
    )
