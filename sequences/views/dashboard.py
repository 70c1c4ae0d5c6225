"""The dashboard: where a recruiter's day starts."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import dashboard as reads


@require_GET
def dashboard(request):
    if request.user.organization_id is None:
        # The operator's superusers belong to no team: they manage teams in Django admin.
        return render(request, "outreach/dashboard.html", {"operator": True})
    return render(request, "outreach/dashboard.html", {"board": reads.for_user(request.user)})
