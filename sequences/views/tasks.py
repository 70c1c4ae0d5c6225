"""The manual stages' tasks: the list, and completing or skipping one."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from outreach.keyset import keyset_page
from outreach.tenancy import get_for_user_or_404

from .. import rendering, selectors, services
from ..models import Task
from .common import _next


@require_GET
def task_list(request):
    """The user's open tasks, soonest due first, a page at a time."""
    page = keyset_page(
        selectors.open_tasks(request.user), key="due_at", params=request.GET, newest_first=False
    )
    # Each with its instructions as the recruiter reads them: the prospect's name, not a token.
    tasks = [(task, rendering.task_instructions(task)) for task in page]
    return render(request, "sequences/tasks.html", {"tasks": tasks, "page": page})


@require_POST
def task_complete(request, pk):
    task = get_for_user_or_404(Task.objects.select_related("stage"), request.user, pk=pk)
    services.complete_task(task=task, by=request.user, skipped=request.POST.get("skip") == "1")
    return redirect(_next(request, reverse("sequences:tasks")))
