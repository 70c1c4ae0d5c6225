from . import selectors


def tasks(request):
    """The open-task count in the navigation, computed only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"open_tasks": lambda: selectors.open_task_count(user)}
