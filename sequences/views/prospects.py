"""Prospects: the list (filtered, paginated, adding one), pasting and importing a CSV, the rows
not imported, a prospect's page, do not contact, and what one does to a selection or to all the
prospects matching the list's filter: enroll, tag, export."""

import csv
from collections.abc import Iterator

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from outreach.tenancy import get_for_user_or_404
from senders import selectors as sender_selectors

from .. import importing, selectors, services
from ..forms import CsvUploadForm, EnrollForm, PasteProspectsForm, ProspectForm
from ..models import ImportJob, Prospect
from .common import _errors, _form_errors
from .selection import chosen, filter_form

PAGE_SIZE = 50


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
    filters = filter_form(request, request.GET)
    filters.is_valid()  # a wrong value is its field's error; the others still filter
    chosen_filter = filters.prospect_filter()
    matching = selectors.matching_prospects(request.user, chosen_filter)
    page = Paginator(selectors.prospect_list_rows(matching), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "sequences/prospects.html",
        {
            "page": page,
            "filters": filters,
            "filtered": chosen_filter.active,
            "filter_query": chosen_filter.query_string(),
            "form": form,
            "paste_form": PasteProspectsForm(prefix="paste"),
            "csv_form": CsvUploadForm(),
            "import_limits": importing.LIMITS,
            "imports": selectors.imports_under_way(request.user),
            "enrolling": selectors.enrollments_under_way(request.user),
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
    prospect = get_for_user_or_404(
        selectors.with_flags(Prospect.objects.prefetch_related("tags")), request.user, pk=pk
    )
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


def _back_to_list(request) -> str:
    query = request.POST.get("filter", "")
    return reverse("sequences:prospects") + (f"?{query}" if query else "")


@require_POST
def prospects_enroll(request):
    """From a selection on the prospect list, or all its matches: choose the sequence, then the
    sender and start."""
    selection = chosen(request)
    if selection.error:
        messages.error(request, selection.error)
        return redirect(_back_to_list(request))
    sequence = get_for_user_or_404(
        selectors.visible_sequences(request.user),
        request.user,
        pk=request.POST.get("sequence") or 0,
    )
    shown = selectors.with_flags(selection.prospects)[:PAGE_SIZE]
    form = EnrollForm(
        initial={
            "prospects": [] if selection.all_matching else list(selection.prospects),
            "sender": str(sequence.sender_mailbox_id or ""),
        },
        mailboxes=sender_selectors.sendable_mailboxes(request.user).select_related("owner"),
        prospects=selection.prospects,
        all_matching=selection.all_matching,
    )
    return render(
        request,
        "sequences/enroll.html",
        {
            "sequence": sequence,
            "shown": shown,
            "count": selection.prospects.count(),
            "selection": selection,
            "form": form,
        },
    )


@require_POST
def prospects_tag(request):
    """Adds a tag to (or removes it from) the selection or all the list's matches."""
    selection = chosen(request)
    if selection.error:
        messages.error(request, selection.error)
        return redirect(_back_to_list(request))
    name = request.POST.get("tag", "")
    try:
        if request.POST.get("do") == "remove":
            change = services.remove_tag(by=request.user, prospects=selection.prospects, name=name)
            if change is None:
                messages.error(request, f"No tag is named “{name.strip()}”.")
            else:
                messages.success(request, f"“{change.tag}” removed from {change.changed}.")
        else:
            change = services.add_tag(by=request.user, prospects=selection.prospects, name=name)
            messages.success(request, f"“{change.tag}” added to {change.changed}.")
    except ValidationError as exc:
        _errors(request, exc)
    return redirect(_back_to_list(request))


EXPORT_COLUMNS = ("email", "first_name", "last_name", "company", "title", "tags", "owner")


class _Echo:
    """What csv.writer writes to: it hands each line back to the streaming response."""

    def write(self, value: str) -> str:
        return value


def _export_lines(prospects: QuerySet[Prospect]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([*EXPORT_COLUMNS, "do_not_contact", "bounced", "unsubscribed"])
    rows = selectors.prospect_list_rows(prospects).iterator(chunk_size=2000)
    for p in rows:
        yield writer.writerow(
            [
                *(getattr(p, name) for name in EXPORT_COLUMNS[:5]),
                "; ".join(tag.name for tag in p.tags.all()),
                p.created_by.email if p.created_by else "",
                "yes" if p.do_not_contact or p.prospect_listed else "",
                "yes" if p.bounced_at else "",
                "yes" if p.prospect_unsubscribed else "",
            ]
        )


@require_http_methods(["GET", "POST"])
def prospects_export(request):
    """A CSV of the selection (POST) or of every prospect the list's filter matches (GET with
    the list's query string), streamed so that 100,000 rows take no more memory than 2,000."""
    if request.method == "POST":
        selection = chosen(request)
        if selection.error:
            messages.error(request, selection.error)
            return redirect(_back_to_list(request))
        prospects = selection.prospects
    else:
        filters = filter_form(request, request.GET)
        if not filters.is_valid():
            _form_errors(request, filters)
            return redirect(reverse("sequences:prospects") + f"?{request.GET.urlencode()}")
        prospects = selectors.matching_prospects(request.user, filters.prospect_filter())
    response = StreamingHttpResponse(_export_lines(prospects), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="prospects.csv"'
    return response
