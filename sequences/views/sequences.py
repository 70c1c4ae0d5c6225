"""Sequences: the list, creating one, its page, settings, sharing, cloning, archiving, pausing."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from outreach.keyset import keyset_page
from outreach.models import User
from outreach.tenancy import scope_to_user
from senders import selectors as sender_selectors

from .. import selectors, services, templating
from ..forms import SequenceSettingsForm, SharesForm
from ..models import Enrollment
from .common import _errors, _sequence
from .enrollments import picker_context


@require_GET
def sequence_list(request):
    archived = request.GET.get("archived") == "1"
    search = request.GET.get("q", "").strip()
    return render(
        request,
        "sequences/list.html",
        {
            "lists": selectors.sequence_lists(request.user, archived=archived, search=search),
            "archived": archived,
            "search": search,
            "limit": selectors.SEQUENCE_LIST_LIMIT,
        },
    )


@require_POST
def sequence_create(request):
    name = request.POST.get("name", "").strip() or "Untitled sequence"
    try:
        sequence = services.create_sequence(by=request.user, name=name)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("sequences:list")
    return redirect("sequences:detail", sequence.pk)


def _settings_form(request, sequence, data=None):
    return SequenceSettingsForm(
        data,
        initial=SequenceSettingsForm.initial_for(sequence),
        mailboxes=sender_selectors.sendable_mailboxes(request.user).select_related("owner"),
    )


# The open tasks a sequence page lists; all of them are on the tasks page.
TASKS_SHOWN = 20


@require_GET
def sequence_detail(request, pk):
    sequence = _sequence(request, pk)
    editable = selectors.can_edit(request.user, sequence)
    stages = list(sequence.stages.order_by("position"))
    status = request.GET.get("status", "")
    status = status if status in Enrollment.Status.values else ""
    stage = next((s.pk for s in stages if str(s.pk) == request.GET.get("stage")), None)
    counts = selectors.enrollment_counts(sequence)
    by_status, by_stage = counts.by_status(), counts.by_stage()
    members = scope_to_user(User, request.user).filter(is_active=True).exclude(pk=sequence.owner_id)
    return render(
        request,
        "sequences/detail.html",
        {
            "sequence": sequence,
            "editable": editable,
            "stages": stages,
            "settings_form": _settings_form(request, sequence),
            "shares_form": SharesForm(members=members, shares=sequence.shares.all()),
            "tokens": templating.TOKENS,
            "status_filter": status,
            "stage_filter": stage,
            "enrollments": keyset_page(
                selectors.enrollment_rows(sequence, status=status, stage=stage),
                key="created_at",
                params=request.GET,
                keep={"status": status, "stage": str(stage or "")},
            ),
            "enrolled": counts.total,
            "matching": counts.matching(status=status, stage=stage),
            "statuses": [
                (value, label, by_status.get(value, 0))
                for value, label in Enrollment.Status.choices
            ],
            "stage_counts": [(s, by_stage.get(s.pk, 0)) for s in stages],
            "open_tasks_here": selectors.sequence_tasks(sequence)[: TASKS_SHOWN + 1],
            "tasks_shown": TASKS_SHOWN,
            **picker_context(request, sequence),
        },
    )


@require_POST
def sequence_settings(request, pk):
    sequence = _sequence(request, pk, edit=True)
    form = _settings_form(request, sequence, request.POST)
    if form.is_valid():
        try:
            services.update_sequence(sequence=sequence, by=request.user, **form.changes())
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, "Settings saved.")
    else:
        for field, errors in form.errors.items():
            messages.error(
                request,
                f"{form.fields[field].label or field}: {' '.join(errors)}"
                if field in form.fields
                else " ".join(errors),
            )
    return redirect("sequences:detail", sequence.pk)


@require_POST
def sequence_shares(request, pk):
    sequence = _sequence(request, pk, edit=True)
    members = scope_to_user(User, request.user).filter(is_active=True).exclude(pk=sequence.owner_id)
    form = SharesForm(request.POST, members=members, shares=sequence.shares.all())
    if form.is_valid():
        services.set_shares(sequence=sequence, by=request.user, shares=form.shares())
        messages.success(request, "Sharing saved.")
    return redirect("sequences:detail", sequence.pk)


@require_POST
def sequence_clone(request, pk):
    copy = services.clone_sequence(sequence=_sequence(request, pk), by=request.user)
    messages.success(request, f"Created {copy.name}.")
    return redirect("sequences:detail", copy.pk)


@require_POST
def sequence_archive(request, pk):
    sequence = _sequence(request, pk, edit=True)
    archived = request.POST.get("archived") == "1"
    services.set_archived(sequence=sequence, by=request.user, archived=archived)
    messages.success(request, f"{sequence.name} {'archived' if archived else 'restored'}.")
    return redirect("sequences:detail", sequence.pk)


@require_POST
def sequence_pause(request, pk):
    sequence = _sequence(request, pk, edit=True)
    if request.POST.get("resume") == "1":
        count = services.resume_sequence(sequence=sequence, by=request.user)
        messages.success(request, f"{count} enrollments resumed.")
    else:
        count = services.pause_sequence(sequence=sequence, by=request.user)
        messages.success(request, f"{count} enrollments paused.")
    return redirect("sequences:detail", sequence.pk)
