from . import permissions


def notifications(request):
    """The unread count in the navigation: one cheap, indexed query, only when it is shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": lambda: user.notifications.filter(read_at__isnull=True).count()}


def access(request):
    """What the navigation offers: only the pages the user's role opens (outreach.permissions)."""
    user = getattr(request, "user", None)
    level = permissions.level_of(user)
    return {
        "may_recruit": level >= permissions.Access.RECRUITER,
        "may_admin": level >= permissions.Access.ADMIN,
    }
