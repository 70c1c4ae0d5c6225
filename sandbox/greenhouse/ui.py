"""The sandbox's Greenhouse page: its candidates with their activity feeds (what the product wrote
there), its users and Harvest credentials, the fault switches and the Harvest calls."""

from django.contrib import messages as flash
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .. import faults
from ..forms import FaultForm
from ..models import ApiCall
from . import control, endpoints
from .forms import CandidateForm
from .models import (
    ActivityEntry,
    GreenhouseCandidate,
    GreenhouseUser,
    HarvestApiKey,
    HarvestOAuthClient,
)

RECENT_CALLS = 50


def overview(request: HttpRequest) -> HttpResponse:
    candidates = GreenhouseCandidate.objects.select_related("recruiter").prefetch_related(
        Prefetch(
            "activity",
            queryset=ActivityEntry.objects.select_related("user").order_by("-created_at", "-id"),
        )
    )
    return render(
        request,
        "sandbox/greenhouse.html",
        {
            "candidates": candidates,
            "users": GreenhouseUser.objects.all(),
            "keys": HarvestApiKey.objects.all(),
            "clients": HarvestOAuthClient.objects.select_related("service_account"),
            "faults": faults.active(),
            "calls": ApiCall.objects.filter(endpoint__startswith="greenhouse.")[:RECENT_CALLS],
            "candidate_form": CandidateForm(),
            "fault_form": FaultForm(initial={"endpoint": endpoints.V1_NOTES_CREATE}),
        },
    )


@require_POST
def add_candidate(request: HttpRequest) -> HttpResponse:
    form = CandidateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        control.create_candidate(data["email"], data["name"], is_prospect=data["is_prospect"])
        flash.success(request, f"Candidate {data['email']} saved.")
    else:
        for field, errors in form.errors.items():
            flash.error(request, f"{field}: {' '.join(errors)}")
    return redirect("sandbox:greenhouse")
