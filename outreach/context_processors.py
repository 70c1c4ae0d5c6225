def notifications(request):
    """The unread count in the navigation: one cheap, indexed query, only when it is shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": lambda: user.notifications.filter(read_at__isnull=True).count()}
