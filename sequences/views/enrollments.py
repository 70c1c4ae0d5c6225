"""Enrollments: enrolling prospects in a sequence, what one can do to an enrollment, its timeline,
the outbox, and moving enrollments to another sender."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from outreach.keyset import keyset_page
from outreach.models import User
from outreach.tenancy import get_for_user_or_404, scope_to_user
from senders import selectors as sender_selectors
from senders.models import Mailbox

from .. import bulk_enroll, selectors, services
from ..forms import EnrollForm, sender_field
from ..models import EnrollJob, Enrollment, Prospect, Sentiment
from .common import _errors, _form_errors, _next, _sequence
from .selection import chosen


@require_POST
def enroll(request, pk):
    """Enrolls the prospects checked (on the sequence's picker or the prospect list), or all
    those the prospect list's filter matches, reported by reason: in the background when they
    are more than a request has time for, followed on the job's page."""
    sequence = _sequence(request, pk)
    matching = chosen(request) if request.POST.get("all_matching") == "1" else None
    form = EnrollForm(
        request.POST,
        mailboxes=sender_selectors.sendable_mailboxes(request.user).select_related("owner"),
        prospects=scope_to_user(Prospect, request.user),
        all_matching=matching is not None,
    )
    if matching is not None and matching.error:
        messages.error(request, matching.error)
        return redirect("sequences:detail", sequence.pk)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("sequences:detail", sequence.pk)
    mailbox, alias = sender_field(form).chosen(form.cleaned_data["sender"])
    how = {
        "sequence": sequence,
        "by": request.user,
        "mailbox": mailbox,
        "alias": alias,
        "start_at": form.cleaned_data.get("start"),
    }
    try:
        if matching is not None and matching.prospects.count() > bulk_enroll.ENROLL_NOW_AT_MOST:
            job = bulk_enroll.queue_enrollment(filter_query=matching.filter_query, **how)
            return redirect("sequences:enroll_job", job.pk)
        if matching is not None:
            summary = services.enroll_matching(prospects=matching.prospects, **how)
            context = {"sequence": sequence, "summary": summary}
        else:
            report = services.enroll(prospects=list(form.cleaned_data["prospects"]), **how)
            context = {"sequence": sequence, "report": report}
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("sequences:detail", sequence.pk)
    return render(request, "sequences/enroll_report.html", context)


@require_GET
def enroll_job(request, pk):
    """An enrolment's progress, which its htmx fragment refreshes until it is over, then its
    report. Of a sequence the user may see: a confidential one's name is not shown to others."""
    job = get_for_user_or_404(
        EnrollJob.objects.filter(
            sequence__in=selectors.visible_sequences(request.user)
        ).select_related("sequence"),
        request.user,
        pk=pk,
    )
    context = {"job": job, "sequence": job.sequence, "summary": bulk_enroll.summary_of(job)}
    template = "sequences/_enroll_progress.html" if request.htmx else "sequences/enroll_job.html"
    return render(request, template, context)


PICKER_PAGE_SIZE = 50


def picker_context(request, sequence) -> dict[str, object]:
    """The enrol picker: a page of the prospects matching its search (`pq`)."""
    search = request.GET.get("pq", "").strip()[:200]
    page = Paginator(selectors.picker_rows(request.user, search), PICKER_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return {
        "sequence": sequence,
        "picker": page,
        "picker_ids": [str(p.pk) for p in page],
        "picker_search": search,
        "picker_query": urlencode({"pq": search}) if search else "",
    }


@require_GET
def enroll_picker(request, pk):
    """The picker's search results and pages (htmx), the prospects already checked kept."""
    sequence = _sequence(request, pk)
    context = picker_context(request, sequence)
    context["kept"] = [i for i in request.GET.getlist("prospects") if i.isdigit()]
    return render(request, "sequences/_prospect_picker.html", context)


def _enrollment(request, pk) -> Enrollment:
    return get_for_user_or_404(
        selectors.visible_enrollments(request.user).select_related(
            "sequence", "enrolled_by", "mailbox"
        ),
        request.user,
        pk=pk,
    )


# What one does to an enrollment; its answer (whether it changed anything) is not shown.
EnrollmentAction = Callable[[Enrollment, User], object]


def _mark_sentiment(value: str) -> EnrollmentAction:
    return lambda e, user: services.mark_sentiment(enrollment=e, by=user, sentiment=value)


ENROLLMENT_ACTIONS: dict[str, EnrollmentAction] = {
    "pause": lambda e, user: services.pause_enrollment(
        enrollment=e,
        cause=Enrollment.PauseCause.BY_USER,
        reason=f"Paused by {user.full_name}.",
        by=user,
    ),
    "resume": lambda e, user: services.resume_enrollment(enrollment=e, by=user),
    "responded": lambda e, user: services.mark_responded(enrollment=e, by=user),
    "remove": lambda e, user: services.remove_enrollment(enrollment=e, by=user),
    **{value: _mark_sentiment(value) for value in Sentiment.values},
}


@require_POST
def enrollment_action(request, pk, action):
    if action not in ENROLLMENT_ACTIONS:
        raise PermissionDenied
    enrollment = _enrollment(request, pk)
    try:
        ENROLLMENT_ACTIONS[action](enrollment, request.user)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect(_next(request, reverse("sequences:detail", args=[enrollment.sequence_id])))


@require_GET
def enrollment_timeline(request, pk):
    enrollment = _enrollment(request, pk)
    return render(
        request,
        "sequences/timeline.html",
        {
            "enrollment": enrollment,
            "events": selectors.timeline(enrollment),
            "sentiments": Sentiment.choices,
            "sender_causes": Enrollment.SENDER_CAUSES,
        },
    )


@require_GET
def outbox(request):
    """Each inbox's cap used, and what they send next, soonest first, a page at a time; of one
    inbox if chosen."""
    boxes = selectors.outbox_boxes(request.user)
    chosen = next(
        (b["mailbox"] for b in boxes if str(b["mailbox"].pk) == request.GET.get("inbox")), None
    )
    scheduled = selectors.outbox_scheduled(
        request.user, [chosen] if chosen else [b["mailbox"] for b in boxes]
    )
    page = keyset_page(
        scheduled,
        key="next_action_at",
        params=request.GET,
        newest_first=False,
        keep={"inbox": str(chosen.pk) if chosen else ""},
    )
    return render(
        request, "sequences/outbox.html", {"boxes": boxes, "chosen": chosen, "page": page}
    )


@require_http_methods(["GET", "POST"])
def reassign(request):
    """Moves enrollments that wait for a sender (a revoked delegation, an inbox gone, a teammate
    who left) to an inbox the recruiter may send as, or stops them. Admins see the team's."""
    waiting = selectors.waiting_for_a_sender(request.user)
    mailboxes = sender_selectors.sendable_mailboxes(request.user).filter(
        status=Mailbox.Status.CONNECTED
    )
    if request.method == "POST":
        chosen = list(waiting.filter(pk__in=_ids(request.POST.getlist("enrollments"))))
        if not chosen:
            messages.error(request, "Choose at least one enrollment.")
        elif request.POST.get("do") == "stop":
            stopped = sum(services.remove_enrollment(enrollment=e, by=request.user) for e in chosen)
            messages.success(request, f"Stopped {stopped} enrollment{pluralize(stopped)}.")
            return redirect("sequences:reassign")
        else:
            mailbox = mailboxes.filter(pk=request.POST.get("mailbox") or 0).first()
            if mailbox is None:
                messages.error(request, "Choose an inbox you may send as.")
            else:
                try:
                    done = services.reassign_sender(
                        enrollments=chosen, mailbox=mailbox, by=request.user
                    )
                except ValidationError as exc:
                    _errors(request, exc)
                else:
                    messages.success(
                        request,
                        f"Moved {done.moved} enrollment{pluralize(done.moved)} to "
                        f"{mailbox.email}: each goes on in a new thread from there.",
                    )
                    for enrollment, why in done.skipped:
                        messages.warning(request, f"{enrollment.prospect.email}: {why}")
                    return redirect("sequences:reassign")
    preselected = set(_ids(request.GET.getlist("enrollment")))
    return render(
        request,
        "sequences/reassign.html",
        {"waiting": waiting, "mailboxes": mailboxes, "preselected": preselected},
    )


def _ids(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit()]
