from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from outreach.models import User
from outreach.tenancy import get_for_user_or_404, scope_to_user
from senders import selectors as sender_selectors
from senders.models import Mailbox

from . import importing, selectors, services, stats, templating, tracking
from . import unsubscribe as unsubscribing
from .forms import (
    CsvUploadForm,
    EmailForm,
    EnrollForm,
    HandOverForm,
    PasteProspectsForm,
    ProspectForm,
    SequenceSettingsForm,
    SharesForm,
    StageForm,
)
from .models import Enrollment, Prospect, Sentiment, Stage, Task


def _sequence(request, pk, *, edit=False):
    sequence = get_for_user_or_404(selectors.visible_sequences(request.user), request.user, pk=pk)
    if edit and not selectors.can_edit(request.user, sequence):
        raise PermissionDenied("Only the owner, editors and admins change this sequence.")
    return sequence


def _next(request, default: str) -> str:
    """Where to go back to after a POST: only ever a path of this site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _errors(request, exc: ValidationError):
    for message in exc.messages:
        messages.error(request, message)


# Sequences -------------------------------------------------------------------------------------


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


@require_GET
def sequence_detail(request, pk):
    sequence = _sequence(request, pk)
    editable = selectors.can_edit(request.user, sequence)
    stages = list(sequence.stages.order_by("position"))
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
            "status_filter": request.GET.get("status", ""),
            "enrollments": selectors.enrollment_rows(
                sequence, status=request.GET.get("status", "")
            )[:500],
            "statuses": Enrollment.Status.choices,
            "prospects": selectors.prospect_rows(request.user)[:200],
            "open_tasks_here": selectors.sequence_tasks(sequence),
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


# Stages ----------------------------------------------------------------------------------------


def _stage(request, pk, stage_pk):
    sequence = _sequence(request, pk, edit=True)
    return get_for_user_or_404(
        Stage.objects.select_related("sequence"), request.user, pk=stage_pk, sequence=sequence
    )


@require_POST
def stage_add(request, pk):
    sequence = _sequence(request, pk, edit=True)
    kind = request.POST.get("kind", Stage.Kind.EMAIL)
    stage = Stage(sequence=sequence, kind=kind, delay_days=3)
    if kind == Stage.Kind.MANUAL:
        stage.manual_kind = Stage.ManualKind.LINKEDIN_INMAIL
        stage.instructions = "Send a short InMail referring to the email."
    else:
        stage.body_html = (
            "<p>Hi {{first_name|there}},</p><p>Following up on my note.</p>"
            "<p>{{sender_first_name}}</p>"
        )
    try:
        services.save_stage(stage=stage, by=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect(f"{reverse('sequences:detail', args=[sequence.pk])}#stage-{stage.pk}")


@require_http_methods(["GET", "POST"])
def stage_edit(request, pk, stage_pk):
    stage = _stage(request, pk, stage_pk)
    form = StageForm(request.POST or None, instance=stage)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_stage(stage=form.save(commit=False), by=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"Stage {stage.position + 1} saved.")
            return redirect(f"{reverse('sequences:detail', args=[pk])}#stage-{stage.pk}")
    return render(
        request,
        "sequences/stage_edit.html",
        {
            "stage": stage,
            "sequence": stage.sequence,
            "form": form,
            "tokens": templating.TOKENS,
            "prospects": selectors.prospect_rows(request.user)[:200],
            "mailboxes": sender_selectors.sendable_mailboxes(request.user),
        },
    )


@require_POST
def stage_delete(request, pk, stage_pk):
    stage = _stage(request, pk, stage_pk)
    try:
        services.delete_stage(stage=stage, by=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("sequences:detail", pk)


@require_POST
def stage_move(request, pk, stage_pk):
    stage = _stage(request, pk, stage_pk)
    order = list(stage.sequence.stages.order_by("position").values_list("pk", flat=True))
    index = order.index(stage.pk)
    target = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
        try:
            services.reorder_stages(sequence=stage.sequence, by=request.user, stage_ids=order)
        except ValidationError as exc:
            _errors(request, exc)
    return redirect("sequences:detail", pk)


@require_GET
def stage_preview(request, pk, stage_pk):
    """The stage as one prospect would receive it from one sender (htmx fragment)."""
    stage = get_for_user_or_404(
        Stage.objects.select_related("sequence"),
        request.user,
        pk=stage_pk,
        sequence__in=selectors.visible_sequences(request.user),
        sequence_id=pk,
    )
    prospect = (
        scope_to_user(Prospect, request.user).filter(pk=request.GET.get("prospect") or 0).first()
    )
    mailbox = (
        sender_selectors.sendable_mailboxes(request.user)
        .filter(pk=request.GET.get("mailbox") or 0)
        .first()
        or stage.sequence.sender_mailbox
    )
    context = {"stage": stage, "prospect": prospect, "mailbox": mailbox}
    if stage.kind == Stage.Kind.EMAIL and prospect and mailbox:
        try:
            context["email"] = services.render_stage(stage, prospect, mailbox)
        except templating.TemplateError as exc:
            context["error"] = str(exc)
    return render(request, "sequences/_preview.html", context)


# Enrollments -------------------------------------------------------------------------------------


@require_POST
def enroll(request, pk):
    sequence = _sequence(request, pk)
    form = EnrollForm(
        request.POST,
        mailboxes=sender_selectors.sendable_mailboxes(request.user).select_related("owner"),
        prospects=scope_to_user(Prospect, request.user),
    )
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("sequences:detail", sequence.pk)
    mailbox, alias = form.fields["sender"].to_mailbox(form.cleaned_data["sender"])
    prospects = list(form.cleaned_data["prospects"])
    try:
        report = services.enroll(
            sequence=sequence,
            prospects=prospects,
            by=request.user,
            mailbox=mailbox,
            alias=alias,
            start_at=form.cleaned_data.get("start"),
        )
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("sequences:detail", sequence.pk)
    return render(request, "sequences/enroll_report.html", {"sequence": sequence, "report": report})


def _enrollment(request, pk) -> Enrollment:
    return get_for_user_or_404(
        selectors.visible_enrollments(request.user).select_related(
            "sequence", "enrolled_by", "mailbox"
        ),
        request.user,
        pk=pk,
    )


ENROLLMENT_ACTIONS = {
    "pause": lambda e, user: services.pause_enrollment(
        enrollment=e,
        cause=Enrollment.PauseCause.BY_USER,
        reason=f"Paused by {user.full_name}.",
        by=user,
    ),
    "resume": lambda e, user: services.resume_enrollment(enrollment=e, by=user),
    "responded": lambda e, user: services.mark_responded(enrollment=e, by=user),
    "remove": lambda e, user: services.remove_enrollment(enrollment=e, by=user),
    **{
        value: lambda e, user, value=value: services.mark_sentiment(
            enrollment=e, by=user, sentiment=value
        )
        for value in Sentiment.values
    },
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


# Prospects -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def prospect_list(request):
    form = ProspectForm(request.POST or None, prefix="one")
    if request.method == "POST" and form.is_valid():
        try:
            prospect, created = services.upsert_prospect(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{prospect.email} {'added' if created else 'updated'}.")
            return redirect("sequences:prospects")
    search = request.GET.get("q", "").strip()
    return render(
        request,
        "sequences/prospects.html",
        {
            "prospects": selectors.prospect_rows(request.user, search=search)[:500],
            "search": search,
            "form": form,
            "paste_form": PasteProspectsForm(prefix="paste"),
            "csv_form": CsvUploadForm(),
            "sequences": selectors.visible_sequences(request.user).filter(archived_at__isnull=True),
        },
    )


@require_POST
def prospect_paste(request):
    form = PasteProspectsForm(request.POST, prefix="paste")
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("sequences:prospects")
    try:
        pasted = importing.parse_pasted(form.cleaned_data["lines"])
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("sequences:prospects")
    result = importing.import_rows(request.user, pasted, importing.PASTE_MAPPING)
    # The page offers these rows as a CSV too.
    importing.keep_errors(request, result)
    return render(request, "sequences/import_result.html", {"result": result})


@require_http_methods(["GET", "POST"])
def prospect_import(request):
    """CSV upload in two steps: read the file and map its columns, then import."""
    if "file" in request.FILES:
        form = CsvUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                upload = importing.store_upload(request, form.cleaned_data["file"])
            except ValidationError as exc:
                _errors(request, exc)
                return redirect("sequences:prospects")
            return render(
                request,
                "sequences/import_mapping.html",
                {"upload": upload, "fields": importing.FIELDS},
            )
        # A file the form refuses (an empty one) is said so, not taken for an earlier upload.
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("sequences:prospects")
    upload = importing.load_upload(request)
    if upload is None:
        return redirect("sequences:prospects")
    mapping = {
        column: request.POST.get(f"map_{index}", "") for index, column in enumerate(upload.header)
    }
    try:
        result = importing.import_rows(
            request.user, upload, importing.Mapping(upload.header, mapping)
        )
    except ValidationError as exc:
        _errors(request, exc)
        return render(
            request, "sequences/import_mapping.html", {"upload": upload, "fields": importing.FIELDS}
        )
    importing.keep_errors(request, result)
    return render(request, "sequences/import_result.html", {"result": result})


@require_GET
def prospect_import_errors(request):
    response = HttpResponse(importing.errors_csv(request), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="prospects-not-imported.csv"'
    return response


@require_GET
def prospect_detail(request, pk):
    prospect = get_for_user_or_404(Prospect, request.user, pk=pk)
    return render(
        request,
        "sequences/prospect.html",
        {"prospect": prospect, **selectors.prospect_history(request.user, prospect)},
    )


@require_POST
def prospect_dnc(request, pk):
    prospect = get_for_user_or_404(Prospect, request.user, pk=pk)
    stopped = services.set_do_not_contact(
        prospect=prospect, by=request.user, on=request.POST.get("do_not_contact") == "1"
    )
    if stopped:
        messages.success(request, f"{stopped} sequence{'s' if stopped > 1 else ''} stopped.")
    return redirect("sequences:prospect", prospect.pk)


@require_POST
def prospects_enroll(request):
    """From a selection on the prospect list: choose the sequence, then the sender and start."""
    ids = request.POST.getlist("selected")
    sequence = get_for_user_or_404(
        selectors.visible_sequences(request.user),
        request.user,
        pk=request.POST.get("sequence") or 0,
    )
    prospects = scope_to_user(Prospect, request.user).filter(pk__in=[i for i in ids if i.isdigit()])
    form = EnrollForm(
        initial={"prospects": list(prospects), "sender": str(sequence.sender_mailbox_id or "")},
        mailboxes=sender_selectors.sendable_mailboxes(request.user).select_related("owner"),
        prospects=prospects,
    )
    return render(
        request,
        "sequences/enroll.html",
        {"sequence": sequence, "prospects": prospects, "form": form},
    )


# One-off emails ----------------------------------------------------------------------------------


def _email_form(request, data=None, **kwargs) -> EmailForm:
    return EmailForm(
        data,
        mailboxes=sender_selectors.sendable_mailboxes(request.user)
        .select_related("owner")
        .prefetch_related("aliases"),
        prospects=scope_to_user(Prospect, request.user),
        **kwargs,
    )


def _prospects(request, ids) -> list[Prospect]:
    return list(
        scope_to_user(Prospect, request.user)
        .filter(pk__in=[i for i in ids if str(i).isdigit()])
        .order_by("email")
    )


@require_http_methods(["GET", "POST"])
def email_compose(request):
    """Writes one email to a prospect (?prospect=<id>) or to a selection of the prospect list
    (which posts `selected`), then sends it now or later."""
    if request.method == "POST" and "subject" in request.POST:
        form = _email_form(request, request.POST)
        prospects = _prospects(request, request.POST.getlist("prospects"))
        if form.is_valid():
            try:
                email = services.send_one_off(
                    by=request.user,
                    draft=form.draft(),
                    prospects=list(form.cleaned_data["prospects"]),
                    send_at=form.cleaned_data["send_at"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("sequences:email", email.pk)
    else:
        ids = request.POST.getlist("selected") or request.GET.getlist("prospect")
        prospects = _prospects(request, ids)
        own = sender_selectors.sendable_mailboxes(request.user).filter(owner=request.user).first()
        form = _email_form(
            request,
            initial={
                "prospects": prospects,
                "sender": str(own.pk) if own else "",
                "bcc": request.user.organization.default_bcc,
            },
        )
    return render(
        request,
        "sequences/email_compose.html",
        {"form": form, "prospects": prospects, "tokens": templating.TOKENS},
    )


@require_POST
def email_preview(request):
    """The compose page's live preview (htmx): the email as one of its prospects would get it,
    who would not get it and why, and the guard rails' warnings."""
    form = _email_form(request, request.POST)
    form.is_valid()  # the fields written so far are previewed
    draft = form.draft()
    prospects = list(form.cleaned_data.get("prospects") or [])
    context = {"draft": draft, "prospects": prospects}
    if draft is not None and prospects:
        check = services.check_one_off(by=request.user, draft=draft, prospects=prospects)
        chosen = request.POST.get("preview_prospect")
        shown = next((p for p in prospects if str(p.pk) == chosen), prospects[0])
        context.update(
            check=check,
            shown=shown,
            warnings=[(o.prospect, w) for o in check.report.outcomes for w in o.warnings],
        )
        if not check.problems:
            try:
                context["email"] = services.render_stage(
                    check.stage, shown, draft.mailbox, draft.alias
                )
            except templating.TemplateError as exc:
                context["error"] = str(exc)
    return render(request, "sequences/_email_preview.html", context)


@require_GET
def email_list(request):
    return render(
        request,
        "sequences/emails.html",
        {"emails": selectors.one_off_email_rows(request.user)[:200]},
    )


@require_GET
def email_detail(request, pk):
    """A one-off email and where it stands for each prospect; the htmx fragment refreshes
    itself while emails are on their way."""
    email = get_for_user_or_404(
        selectors.one_off_emails(request.user).select_related(
            "owner", "sender_mailbox__owner", "sender_alias"
        ),
        request.user,
        pk=pk,
    )
    recipients = selectors.one_off_recipients(email)
    context = {
        "email": email,
        "stage": email.stages.first(),
        "recipients": recipients,
        "progress": selectors.one_off_progress(recipients),
        "live": selectors.one_off_on_its_way(recipients),
    }
    template = "sequences/_email_progress.html" if request.htmx else "sequences/email.html"
    return render(request, template, context)


@require_POST
def email_cancel(request, pk):
    """Cancels the email to one prospect (`recipient`), or to every prospect still waiting."""
    email = get_for_user_or_404(selectors.one_off_emails(request.user), request.user, pk=pk)
    waiting = email.enrollments.filter(status__in=Enrollment.OPEN).select_related("sequence")
    recipient = request.POST.get("recipient", "")
    if recipient:
        waiting = waiting.filter(pk=int(recipient) if recipient.isdigit() else 0)
    cancelled = sum(services.cancel_one_off(enrollment=e, by=request.user) for e in waiting)
    if cancelled:
        messages.success(request, f"{cancelled} email{'s' if cancelled > 1 else ''} cancelled.")
    else:
        messages.error(request, "Nothing to cancel: the email has gone out or is going out now.")
    return redirect(_next(request, reverse("sequences:email", args=[email.pk])))


# Tasks -------------------------------------------------------------------------------------------


@require_GET
def task_list(request):
    return render(request, "sequences/tasks.html", {"tasks": selectors.open_tasks(request.user)})


@require_POST
def task_complete(request, pk):
    task = get_for_user_or_404(Task.objects.select_related("stage"), request.user, pk=pk)
    services.complete_task(task=task, by=request.user, skipped=request.POST.get("skip") == "1")
    return redirect(_next(request, reverse("sequences:tasks")))


# Offboarding ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def hand_over(request, user_pk):
    departed = get_for_user_or_404(User, request.user, pk=user_pk)
    members = scope_to_user(User, request.user).filter(is_active=True).exclude(pk=departed.pk)
    mailboxes = (
        scope_to_user(Mailbox, request.user)
        .filter(status=Mailbox.Status.CONNECTED)
        .select_related("owner")
        .prefetch_related("aliases")
    )
    form = HandOverForm(request.POST or None, members=members, mailboxes=mailboxes)
    if request.method == "POST" and form.is_valid():
        mailbox, _ = form.fields["sender"].to_mailbox(form.cleaned_data["sender"])
        try:
            done = services.hand_over(
                departed=departed, to=form.cleaned_data["to"], mailbox=mailbox, by=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"{done['sequences']} sequences and {done['enrollments']} enrollments handed over; "
                f"{done['resumed']} resumed.",
            )
            return redirect("team")
    waiting = Enrollment.objects.filter(status__in=Enrollment.OPEN, enrolled_by=departed).count()
    return render(
        request,
        "sequences/hand_over.html",
        {"departed": departed, "form": form, "waiting": waiting},
    )


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
        },
    )


@require_GET
def outbox(request):
    return render(request, "sequences/outbox.html", {"boxes": selectors.outbox(request.user)})


# Public links in the emails ----------------------------------------------------------------------
# No login: the prospect follows them. They answer the same to a bad token as to a good one where
# they can (the pixel), else a plain 404, so that they tell nothing about what exists.


@require_http_methods(["GET", "HEAD"])
def track_open(request, token):
    """The pixel: always the same transparent GIF, never cached, whatever the token."""
    if request.method == "GET":
        tracking.record_open(
            token, user_agent=request.headers.get("User-Agent", ""), viewer=request.user
        )
    response = HttpResponse(tracking.PIXEL, content_type="image/gif")
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "HEAD"])
def track_click(request, token):
    """A tracked link: recorded (on GET), then on to the URL the email pointed to."""
    clicked = tracking.destination(token)
    if clicked is None:
        raise Http404
    message_id, url = clicked
    if request.method == "GET":
        tracking.record_click(
            message_id, url, user_agent=request.headers.get("User-Agent", ""), viewer=request.user
        )
    response = HttpResponseRedirect(url)
    add_never_cache_headers(response)
    # The destination learns nothing of the tracked URL it came through.
    response["Referrer-Policy"] = "no-referrer"
    return response


# Mail clients POST the RFC 8058 one-click request with no cookie and no token of ours, so this
# view cannot ask for a CSRF token; the signed token in the URL is what authorizes the POST, and a
# page that forged one would need that token too.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET: what unsubscribing will do, with a button. POST: done, from that button or from the
    one-click POST of a mail client (List-Unsubscribe=One-Click)."""
    message = unsubscribing.message_for(token)
    if message is None:
        return render(request, "sequences/unsubscribe_invalid.html", status=404)
    context = {"email": message.prospect.email, "organization": message.organization}
    if request.method == "GET":
        return render(request, "sequences/unsubscribe.html", context)
    one_click = request.POST.get("List-Unsubscribe") == unsubscribing.ONE_CLICK
    unsubscribing.unsubscribe(
        prospect=message.prospect,
        source="one-click from the mail client" if one_click else "unsubscribe page",
    )
    return render(request, "sequences/unsubscribed.html", context)


# Stats -----------------------------------------------------------------------------------------


def _stats_report(request):
    filters = stats.StatsFilter(request.GET)
    return filters, stats.report(request.user, **filters.period())


@require_GET
def stats_page(request):
    filters, report = _stats_report(request)
    return render(
        request,
        "sequences/stats.html",
        {
            "filters": filters,
            "report": report,
            "groupings": stats.GROUPINGS.values(),
            "metrics": stats.METRICS,
        },
    )


@require_GET
def stats_export(request):
    _, report = _stats_report(request)
    response = HttpResponse(stats.to_csv(report), content_type="text/csv; charset=utf-8")
    name = f"outreach-stats-by-{report.grouping.name}-{report.start}-to-{report.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
