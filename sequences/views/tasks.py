"""The manual stages' tasks: the list, and completing or skipping one."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from outreach.tenancy import get_for_user_or_404

from .. import selectors, services
from ..models import Task
from .common import _next


@require_GET
def task_list(request):
    return render(request, "sequences/tasks.html", {"tasks": selectors.open_tasks(request.user)})


@require_POST
def task_complete(request, pk):
    task = get_for_user_or_404(Task.objects.select_related("stage"), request.user, pk=pk)
    services.complete_task(task=task, by=request.user, skipped=request.POST.get("skip") == "1")
    return redirect(_next(request, reverse("sequences:tasks")))
