"""One-off emails: composing one with its live preview, the list, an email's page, cancelling."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from outreach import rich_text
from outreach.keyset import keyset_page
from outreach.tenancy import get_for_user_or_404, scope_to_user
from senders import selectors as sender_selectors

from .. import selectors, services, templating
from ..forms import EmailForm, sender_field
from ..models import Enrollment, Prospect
from .common import _next
from .selection import chosen


def _email_form(request, data=None, **kwargs) -> EmailForm:
    return EmailForm(
        data,
        mailboxes=sender_selectors.sendable_mailboxes(request.user)
        .select_related("owner")
        .prefetch_related("aliases"),
        prospects=scope_to_user(Prospect, request.user),
        templates=selectors.visible_templates(request.user),
        **kwargs,
    )


# A bulk email to "all matching" names each prospect on its page; Google Workspace sends at
# most 2,000 emails a day from one inbox, so a larger one would only wait for days.
BULK_EMAIL_LIMIT = 2000


def _prospects(request, ids) -> list[Prospect]:
    return list(
        selectors.with_flags(
            scope_to_user(Prospect, request.user)
            .filter(pk__in=[i for i in ids if str(i).isdigit()])
            .order_by("email")
        )
    )


def _chosen_on_the_list(request) -> list[Prospect] | None:
    """The prospects the list's selection or "all matching" names (None: refused, said why)."""
    if request.POST.get("all_matching") != "1":
        return _prospects(request, request.POST.getlist("selected"))
    selection = chosen(request)
    count = selection.prospects.count()
    if selection.error or count > BULK_EMAIL_LIMIT:
        messages.error(
            request,
            selection.error
            or f"{count} prospects match: a bulk email goes to at most {BULK_EMAIL_LIMIT}. "
            "Narrow the filter, or enroll them in a sequence.",
        )
        return None
    return list(selectors.with_flags(selection.prospects))


@require_http_methods(["GET", "POST"])
def email_compose(request):
    """Writes one email to a prospect (?prospect=<id>) or to a selection of the prospect list
    (which posts `selected`), then sends it now or later."""
    if request.method == "POST" and "subject" in request.POST:
        form = _email_form(request, request.POST)
        prospects = _prospects(request, request.POST.getlist("prospects"))
        draft = form.draft() if form.is_valid() else None
        # A valid form has its sender, one of its choices, so a draft.
        if draft is not None:
            try:
                email = services.send_one_off(
                    by=request.user,
                    draft=draft,
                    prospects=list(form.cleaned_data["prospects"]),
                    send_at=form.cleaned_data["send_at"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                removed = rich_text.clean(draft.body_html).summary
                if removed:
                    messages.warning(request, removed)
                return redirect("sequences:email", email.pk)
    else:
        if request.method == "POST":
            chosen_prospects = _chosen_on_the_list(request)
            if chosen_prospects is None:
                query = request.POST.get("filter", "")
                return redirect(reverse("sequences:prospects") + (f"?{query}" if query else ""))
            prospects = chosen_prospects
        else:
            prospects = _prospects(request, request.GET.getlist("prospect"))
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
        {
            "form": form,
            "prospects": prospects,
            "tokens": templating.TOKENS,
            "sending": _sending(request, form, prospects),
            "library": selectors.library_picker(request.user),
        },
    )


def _sending(request, form: EmailForm, prospects: list[Prospect]) -> int:
    """How many of `prospects` the email would go to, as far as the form tells (the preview
    counts again once the email is written): the send button's count."""
    sender = form.data.get("sender") if form.is_bound else form.initial.get("sender")
    mailbox, alias = sender_field(form).to_mailbox(sender)
    if mailbox is None or not prospects:
        return len(prospects)
    draft = services.EmailDraft(
        mailbox=mailbox,
        alias=alias,
        subject=form.data.get("subject", ""),
        body_html=form.data.get("body_html", ""),
    )
    check = services.check_one_off(by=request.user, draft=draft, prospects=prospects)
    return len(check.report.enrolled)


@require_POST
def email_preview(request):
    """The compose page's live preview (htmx): the email as one of its prospects would get it,
    who would not get it and why, and the guard rails' warnings."""
    form = _email_form(request, request.POST)
    form.is_valid()  # the fields written so far are previewed
    draft = form.draft()
    prospects = list(form.cleaned_data.get("prospects") or [])
    context: dict[str, object] = {"draft": draft, "prospects": prospects}
    if draft is not None and not templating.too_long(draft.body_html):
        context["removed"] = rich_text.clean(draft.body_html).summary
    if draft is not None and prospects:
        check = services.check_one_off(by=request.user, draft=draft, prospects=prospects)
        chosen = request.POST.get("preview_prospect")
        shown = next((p for p in prospects if str(p.pk) == chosen), prospects[0])
        context.update(
            check=check,
            sending=len(check.report.enrolled),
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
        {
            "emails": keyset_page(
                selectors.one_off_email_rows(request.user), key="created_at", params=request.GET
            )
        },
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
    stage = email.stages.first()
    context = {
        "email": email,
        "stage": stage,
        # A body from before the editor, as the paragraphs it was sent as.
        "body": rich_text.paragraphs(stage.body_html) if stage else "",
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
