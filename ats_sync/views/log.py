"""The sync log (team admins) and the Greenhouse panel's Pause / Resume (anyone of the team who
sees the prospect)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from outreach.tenancy import get_for_user_or_404
from sequences.models import Prospect

from .. import selectors, services

PAGE_SIZE = 50


@require_GET
def sync_log(request):
    statuses = selectors.chosen_statuses(request.GET.getlist("status"))
    page = Paginator(selectors.log_rows(request.user, statuses=statuses), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    counts = selectors.team_status_counts(request.user)
    return render(
        request,
        "ats_sync/log.html",
        {
            "page": page,
            "statuses": statuses,
            "filter_query": urlencode([("status", s) for s in statuses]),
            "counts": [
                {"status": status.value, "label": status.label, "count": counts[status.value]}
                for status in selectors.COUNTED
            ],
            "needs_attention": statuses == [s.value for s in selectors.NEEDS_ATTENTION],
            "retryable": {s.value for s in selectors.NEEDS_ATTENTION},
        },
    )


@require_POST
def retry(request):
    """The selected rows, or the one whose own Retry button was pressed, go back in the queue.
    Only failed and skipped rows of the admin's own team move; any other id is ignored."""
    one = request.POST.get("one", "")
    ids = [one] if one else request.POST.getlist("selected")
    ids = [int(value) for value in ids if value.isdigit()]
    if not ids:
        messages.error(request, "Select the rows to retry.")
    else:
        count = services.retry(organization_id=request.user.organization_id, ids=ids)
        if count:
            messages.success(
                request, f"{count} message{'s' if count != 1 else ''} queued for Greenhouse again."
            )
        else:
            messages.error(request, "None of the selected rows can be retried.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("ats_sync:log")
    return redirect(target)


@require_POST
def prospect_sync(request, prospect_id):
    """Pause or resume writing this candidate's emails to Greenhouse."""
    prospect = get_for_user_or_404(Prospect, request.user, pk=prospect_id)
    action = request.POST.get("action")
    if action == "pause":
        services.pause_candidate(prospect_id=prospect.pk, organization_id=prospect.organization_id)
        messages.success(request, f"{prospect.email}'s emails are no longer written to Greenhouse.")
    elif action == "resume":
        services.resume_candidate(prospect_id=prospect.pk, organization_id=prospect.organization_id)
        messages.success(request, f"{prospect.email}'s emails are written to Greenhouse again.")
    else:
        return HttpResponseBadRequest("Unknown action.")
    return redirect("sequences:prospect", prospect.pk)
