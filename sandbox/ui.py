"""The sandbox's own pages at /sandbox/: Google accounts and their mailboxes, where a tester reads
mail and answers as the candidate, and the switches of the sandbox (OOO, bouncing domains, quota,
grants, faults) with a log of the API calls."""

from django.contrib import messages as flash
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import calls, control, faults, mailbox, rfc822
from .errors import ApiError
from .forms import (
    AccountForm,
    AccountSettingsForm,
    AliasForm,
    ClientForm,
    ComposeForm,
    DomainForm,
    FaultForm,
    ReplyForm,
)
from .models import INBOX, SENT, UNREAD, BouncingDomain, GoogleAccount, Grant, OAuthClient, Thread

FOLDERS = {"inbox": INBOX, "sent": SENT}


def _errors(request: HttpRequest, form) -> None:
    for field, errors in form.errors.items():
        flash.error(request, f"{field}: {' '.join(errors)}")


def home(request: HttpRequest) -> HttpResponse:
    accounts = GoogleAccount.objects.annotate(
        unread=Count(
            "messages",
            filter=Q(messages__label_ids__contains=[UNREAD])
            & Q(messages__label_ids__contains=[INBOX]),
        )
    )
    return render(
        request,
        "sandbox/home.html",
        {
            "accounts": accounts,
            "domains": BouncingDomain.objects.all(),
            "clients": OAuthClient.objects.all(),
            "faults": faults.active(),
            "calls": calls.recent(),
            "account_form": AccountForm(),
            "domain_form": DomainForm(),
            "client_form": ClientForm(),
            "fault_form": FaultForm(),
        },
    )


@require_POST
def create_account(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return redirect("sandbox:home")
    account = control.create_account(form.cleaned_data["email"], form.cleaned_data["display_name"])
    return redirect("sandbox:mailbox", email=account.email)


@require_POST
def set_domain(request: HttpRequest) -> HttpResponse:
    form = DomainForm(request.POST)
    if form.is_valid():
        control.mark_bouncing(form.cleaned_data["domain"], form.cleaned_data["bounces"])
    else:
        _errors(request, form)
    return redirect("sandbox:home")


@require_POST
def register_client(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        uris = [data["redirect_uri"]] if data["redirect_uri"] else []
        control.register_client(data["client_id"], data["client_secret"], uris)
    else:
        _errors(request, form)
    return redirect("sandbox:home")


@require_POST
def add_fault(request: HttpRequest) -> HttpResponse:
    form = FaultForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if data["kind"] == "fail":
            faults.fail_next(data["endpoint"], data["count"], data["status"], data["account"])
        elif data["kind"] == "drop":
            faults.drop_next(data["endpoint"], data["count"])
        else:
            faults.add_latency(data["endpoint"], data["latency_ms"], data["account"])
    else:
        _errors(request, form)
    return redirect(request.POST.get("next") or "sandbox:home")


@require_POST
def clear_faults(request: HttpRequest) -> HttpResponse:
    faults.clear()
    return redirect(request.POST.get("next") or "sandbox:home")


def mailbox_view(request: HttpRequest, email: str) -> HttpResponse:
    account = get_object_or_404(GoogleAccount, email=email.lower())
    folder = request.GET.get("folder", "inbox")
    label = FOLDERS.get(folder, INBOX)
    return render(
        request,
        "sandbox/mailbox.html",
        {
            "account": account,
            "folder": folder,
            "folder_messages": control.messages(account.email, label).exclude(
                label_ids__contains=["TRASH"]
            )[:200],
            "settings_form": AccountSettingsForm(instance=account),
            "alias_form": AliasForm(),
            "compose_form": ComposeForm(),
            "fault_form": FaultForm(initial={"account": account.email}),
            "grants": Grant.objects.filter(account=account).select_related("client"),
            "aliases": account.aliases.all(),
        },
    )


@require_POST
def update_settings(request: HttpRequest, email: str) -> HttpResponse:
    account = get_object_or_404(GoogleAccount, email=email.lower())
    was_away = account.out_of_office
    form = AccountSettingsForm(request.POST, instance=account)
    if form.is_valid():
        form.save()
        if form.cleaned_data["out_of_office"] and not was_away:
            control.set_out_of_office(account.email, True)
        flash.success(request, "Settings saved.")
    else:
        _errors(request, form)
    return redirect("sandbox:mailbox", email=account.email)


@require_POST
def add_alias(request: HttpRequest, email: str) -> HttpResponse:
    form = AliasForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        control.add_send_as(email, data["email"], data["display_name"], data["verified"])
    else:
        _errors(request, form)
    return redirect("sandbox:mailbox", email=email)


@require_POST
def revoke_grant(request: HttpRequest, email: str, pk: int) -> HttpResponse:
    grant = get_object_or_404(Grant, pk=pk, account__email=email.lower())
    control.revoke_grant(email, grant.client.client_id)
    flash.success(request, f"Access of {grant.client.name} revoked.")
    return redirect("sandbox:mailbox", email=email)


@require_POST
def expire_history(request: HttpRequest, email: str) -> HttpResponse:
    control.expire_history(email)
    flash.success(request, "History window expired: older history ids now answer 404.")
    return redirect("sandbox:mailbox", email=email)


@require_POST
def compose(request: HttpRequest, email: str) -> HttpResponse:
    form = ComposeForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return redirect("sandbox:mailbox", email=email)
    data = form.cleaned_data
    try:
        sent = control.send_as(email, to=data["to"], subject=data["subject"], body=data["body"])
    except ApiError as error:
        flash.error(request, error.message)
        return redirect("sandbox:mailbox", email=email)
    flash.success(request, "Message sent.")
    return redirect("sandbox:thread", email=email, thread_id=sent.thread.gmail_id)


def _thread(email: str, thread_id: str) -> Thread:
    return get_object_or_404(Thread, account__email=email.lower(), gmail_id=thread_id)


def thread_view(request: HttpRequest, email: str, thread_id: str) -> HttpResponse:
    thread = _thread(email, thread_id)
    account = thread.account
    items = list(thread.messages.order_by("internal_date", "pk"))
    # Opening a conversation reads it, as in Gmail (a labelRemoved UNREAD in the history).
    with transaction.atomic():
        locked = mailbox.lock(account)
        for message in items:
            if message.is_unread:
                mailbox.change_labels(locked, message, remove=[UNREAD])
    return render(
        request,
        "sandbox/thread.html",
        {
            "account": account,
            "thread": thread,
            "items": [
                (message, rfc822.text_body(rfc822.parse(bytes(message.raw)))) for message in items
            ],
            "reply_form": ReplyForm(),
        },
    )


@require_POST
def reply(request: HttpRequest, email: str, thread_id: str) -> HttpResponse:
    thread = _thread(email, thread_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return redirect("sandbox:thread", email=email, thread_id=thread_id)
    items = thread.messages.order_by("-internal_date", "-pk")
    # Answer the latest message someone else wrote; in a thread of one's own, the latest.
    target = items.filter(label_ids__contains=[INBOX]).first() or items.first()
    try:
        sent = control.reply(thread.account.email, target, form.cleaned_data["body"])
    except ApiError as error:
        flash.error(request, error.message)
        return redirect("sandbox:thread", email=email, thread_id=thread_id)
    flash.success(request, "Reply sent.")
    return redirect("sandbox:thread", email=email, thread_id=sent.thread.gmail_id)
