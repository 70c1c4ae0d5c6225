"""Prospects: the list (adding one), pasting and importing a CSV, the rows not imported, a
prospect's page, do not contact, and enrolling a selection."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from outreach.tenancy import get_for_user_or_404, scope_to_user
from senders import selectors as sender_selectors

from .. import importing, selectors, services
from ..forms import CsvUploadForm, EnrollForm, PasteProspectsForm, ProspectForm
from ..models import ImportJob, Prospect
from .common import _errors, _form_errors


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
            "import_limits": importing.LIMITS,
            "imports": selectors.imports_under_way(request.user),
            "sequences": selectors.visible_sequences(request.user).filter(archived_at__isnull=True),
        },
    )


@require_POST
def prospect_paste(request):
    form = PasteProspectsForm(request.POST, prefix="paste")
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("sequences:prospects")
    try:
        job = importing.queue_paste(request.user, form.cleaned_data["lines"])
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("sequences:prospects")
    return redirect("sequences:prospect_import_job", job.pk)


@require_POST
def prospect_import(request):
    """CSV upload in two steps: read the file and map its columns, then import. The mapping
    step names its upload (a hidden token); anything else is the upload step, so a form posted
    without a file says so instead of finding an earlier upload."""
    if "upload" not in request.POST:
        form = CsvUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            _form_errors(request, form)
            return redirect("sequences:prospects")
        try:
            uploaded = importing.upload_file(request.user, form.cleaned_data["file"])
        except ValidationError as exc:
            _errors(request, exc)
            return redirect("sequences:prospects")
        return _mapping_page(request, uploaded)
    step = importing.awaiting_mapping(request.user, request.POST["upload"])
    job = None
    if step is not None:
        fields = {
            column: request.POST.get(f"map_{index}", "")
            for index, column in enumerate(step.upload.header)
        }
        try:
            job = importing.queue_import(request.user, step, fields)
        except ValidationError as exc:
            _errors(request, exc)
            return _mapping_page(request, step)
    if job is None:
        messages.error(
            request, "This upload was imported already or is over an hour old: upload it again."
        )
        return redirect("sequences:prospects")
    return redirect("sequences:prospect_import_job", job.pk)


def _mapping_page(request, step: importing.MappingStep) -> HttpResponse:
    return render(
        request,
        "sequences/import_mapping.html",
        {"token": step.job.token, "upload": step.upload, "fields": importing.FIELDS},
    )


@require_GET
def prospect_import_job(request, pk):
    """An import's progress, which its htmx fragment refreshes until the import is over, then
    what it did and the first rows not imported."""
    # Polled every second while it runs: without the file it keeps, up to MAX_BYTES.
    job = get_for_user_or_404(ImportJob.objects.defer("content"), request.user, pk=pk)
    context = {
        "job": job,
        "errors": selectors.import_errors_shown(job) if job.finished else [],
    }
    template = "sequences/_import_progress.html" if request.htmx else "sequences/import_job.html"
    return render(request, template, context)


@require_GET
def prospect_import_errors(request, pk):
    job = get_for_user_or_404(ImportJob.objects.defer("content"), request.user, pk=pk)
    response = StreamingHttpResponse(importing.errors_csv(job), content_type="text/csv")
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
