"""Gmail API v1 at the paths google-api-python-client builds from its discovery document. Each
call goes through what Google does before a method runs: the Bearer token, the userId, the fault
switches, the scopes the method accepts, the per-user quota."""

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import calls, faults, mail, mailbox, oauth, quota, rfc822, scopes, search
from .errors import (
    ApiError,
    bad_request,
    insufficient_scopes,
    invalid_credentials,
    not_found,
    server_fault,
)
from .models import GoogleAccount, Message, Origin, Thread
from .resources import message_resource, thread_resource

LIST_PAGE_DEFAULT, LIST_PAGE_MAX = 100, 500
_READ = frozenset({scopes.MAIL, scopes.MODIFY, scopes.READONLY, scopes.METADATA})


@dataclass
class Call:
    request: HttpRequest
    account: GoogleAccount
    scopes: frozenset[str]

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.request.GET.get(name, default)

    def params(self, name: str) -> list[str]:
        return self.request.GET.getlist(name)

    def integer(self, name: str, default: int, maximum: int) -> int:
        value = self.param(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError as error:
            raise bad_request(f"Invalid value for {name}: {value}") from error
        return max(1, min(number, maximum))

    def boolean(self, name: str) -> bool:
        return (self.param(name) or "").lower() == "true"

    def body(self) -> dict:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError as error:
            raise bad_request("Invalid JSON payload received.") from error
        if not isinstance(body, dict):
            raise bad_request("Invalid JSON payload received.")
        return body

    def raw_message(self) -> tuple[bytes, dict]:
        body = self.body()
        raw = body.get("raw")
        if not raw:
            raise bad_request(
                "'raw' RFC822 payload message string or uploading message via /upload/* URL "
                "required"
            )
        try:
            return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), body
        except (binascii.Error, ValueError) as error:
            raise bad_request("Invalid value for ByteString: raw") from error

    def metadata_only(self) -> bool:
        # With gmail.metadata and nothing broader, Gmail serves headers but no bodies or search.
        return scopes.METADATA in self.scopes and not self.scopes & scopes.FULL_CONTENT

    def format(self, default: str = "full") -> str:
        fmt = self.param("format", default)
        if fmt in ("full", "raw") and self.metadata_only():
            raise ApiError(403, f"Metadata scope doesn't allow format {fmt.upper()}", "forbidden")
        return fmt


@dataclass(frozen=True)
class Method:
    id: str
    units: int
    scopes: frozenset[str]
    handler: Callable


METHODS: dict[str, Method] = {}


def method(method_id: str, units: int, accepted: set[str]):
    def register(handler):
        METHODS[method_id] = Method(method_id, units, frozenset(accepted), handler)
        return handler

    return register


def _valid_id(value: str) -> str:
    try:
        int(value, 16)
    except ValueError as error:
        raise bad_request("Invalid id value") from error
    return value


def _message(call: Call, message_id: str) -> Message:
    found = (
        Message.objects.filter(account=call.account, gmail_id=_valid_id(message_id))
        .select_related("thread")
        .first()
    )
    if found is None:
        raise not_found()
    return found


def _stub(message: Message) -> dict:
    return {
        "id": message.gmail_id,
        "threadId": message.thread.gmail_id,
        "labelIds": message.label_ids,
    }


@method("gmail.users.getProfile", 1, {*_READ, scopes.COMPOSE})
def get_profile(call: Call) -> dict:
    return {
        "emailAddress": call.account.email,
        "messagesTotal": call.account.messages.count(),
        "threadsTotal": call.account.threads.count(),
        "historyId": str(call.account.history_id),
    }


@method("gmail.users.messages.send", 100, {scopes.MAIL, scopes.MODIFY, scopes.COMPOSE, scopes.SEND})
def messages_send(call: Call) -> dict:
    raw, body = call.raw_message()
    return _stub(mail.send(call.account, raw, thread_id=body.get("threadId")))


@method("gmail.users.messages.get", 5, _READ)
def messages_get(call: Call, message_id: str) -> dict:
    fmt = call.format()
    return message_resource(_message(call, message_id), fmt, call.params("metadataHeaders"))


@method("gmail.users.messages.list", 5, _READ)
def messages_list(call: Call) -> dict:
    q = call.param("q", "")
    if q and call.metadata_only():
        raise ApiError(403, "Metadata scope does not support 'q' parameter", "forbidden")
    found = search.matching(
        call.account.messages.all(), q, include_spam_trash=call.boolean("includeSpamTrash")
    )
    for label in call.params("labelIds"):
        found = found.filter(label_ids__contains=[label])
    size = call.integer("maxResults", LIST_PAGE_DEFAULT, LIST_PAGE_MAX)
    token = call.param("pageToken")
    offset = int(token) if token and token.isdigit() else 0
    total = found.count()
    page = found.select_related("thread").order_by("-internal_date", "-pk")[offset : offset + size]
    result = {}
    if page:
        result["messages"] = [
            {"id": message.gmail_id, "threadId": message.thread.gmail_id} for message in page
        ]
    if offset + size < total:
        result["nextPageToken"] = str(offset + size)
    result["resultSizeEstimate"] = total
    return result


@method("gmail.users.messages.insert", 25, {scopes.MAIL, scopes.MODIFY, scopes.INSERT})
def messages_insert(call: Call) -> dict:
    raw, body = call.raw_message()
    parsed = rfc822.parse(raw)
    with transaction.atomic():
        account = mailbox.lock(call.account)
        thread_id = body.get("threadId")
        thread = mailbox.thread_for_send(account, thread_id, parsed) if thread_id else None
        inserted = mailbox.store(
            account,
            parsed,
            labels=list(body.get("labelIds") or []),
            origin=Origin.INSERTED,
            thread=thread or mailbox.thread_for_incoming(account, parsed),
        )
    return _stub(inserted)


@method("gmail.users.messages.trash", 5, {scopes.MAIL, scopes.MODIFY})
def messages_trash(call: Call, message_id: str) -> dict:
    with transaction.atomic():
        account = mailbox.lock(call.account)
        return _stub(mailbox.trash(account, _message(call, message_id)))


@method("gmail.users.messages.delete", 10, {scopes.MAIL})
def messages_delete(call: Call, message_id: str) -> None:
    with transaction.atomic():
        account = mailbox.lock(call.account)
        mailbox.delete(account, _message(call, message_id))


@method("gmail.users.threads.get", 10, _READ)
def threads_get(call: Call, thread_id: str) -> dict:
    fmt = call.format()
    thread = Thread.objects.filter(account=call.account, gmail_id=_valid_id(thread_id)).first()
    if thread is None:
        raise not_found()
    return thread_resource(thread, fmt, call.params("metadataHeaders"))


@method("gmail.users.history.list", 2, _READ)
def history_list(call: Call) -> dict:
    start = call.param("startHistoryId")
    if not start:
        raise bad_request("Missing required parameter: startHistoryId")
    if not start.isdigit():
        raise bad_request(f"Invalid startHistoryId: {start}")
    token = call.param("pageToken")
    return mailbox.list_history(
        call.account,
        start=int(start),
        types=call.params("historyTypes"),
        label=call.param("labelId"),
        max_results=call.integer("maxResults", LIST_PAGE_DEFAULT, mailbox.HISTORY_PAGE_MAX),
        after=int(token) if token and token.isdigit() else None,
    )


@method(
    "gmail.users.settings.sendAs.list",
    1,
    {scopes.MAIL, scopes.MODIFY, scopes.READONLY, scopes.SETTINGS_BASIC},
)
def send_as_list(call: Call) -> dict:
    primary = {
        "sendAsEmail": call.account.email,
        "displayName": call.account.display_name,
        "replyToAddress": "",
        "signature": "",
        "isPrimary": True,
        "isDefault": True,
    }
    aliases = [
        {
            "sendAsEmail": alias.email,
            "displayName": alias.display_name,
            "replyToAddress": "",
            "signature": "",
            "isDefault": False,
            "treatAsAlias": True,
            "verificationStatus": "accepted" if alias.verified else "pending",
        }
        for alias in call.account.aliases.all()
    ]
    return {"sendAs": [primary, *aliases]}


def _serve(request: HttpRequest, spec: Method, user_id: str, kwargs: dict) -> HttpResponse:
    account_email = client_id = ""
    units = 0
    try:
        authorization = request.headers.get("Authorization", "")
        token = None
        if authorization.lower().startswith("bearer "):
            token = oauth.authenticate(authorization[7:].strip())
        if token is None:
            raise invalid_credentials()
        account = token.grant.account
        account_email, client_id = account.email, token.grant.client.client_id
        if user_id != "me" and user_id.lower() != account.email:
            raise ApiError(403, f"Delegation denied for {user_id}", "forbidden")
        status = faults.apply(spec.id, account)
        if status:
            raise server_fault(status)
        granted = frozenset(token.scopes)
        if not granted & spec.scopes:
            raise insufficient_scopes(spec.id, sorted(spec.scopes))
        quota.charge(account, spec.units)
        units = spec.units
        result = spec.handler(Call(request, account, granted), **kwargs)
        response = HttpResponse(status=204) if result is None else JsonResponse(result)
    except ApiError as error:
        response = error.response()
    calls.record(
        request,
        spec.id,
        response.status_code,
        account_email=account_email,
        client_id=client_id,
        units=units,
    )
    return response


def endpoint(**by_http_method: str):
    """The view for one Gmail path: the method id to run for each HTTP method."""

    @csrf_exempt
    def view(request: HttpRequest, user_id: str, **kwargs) -> HttpResponse:
        method_id = by_http_method.get(request.method)
        if method_id is None:
            return HttpResponseNotFound()
        return _serve(request, METHODS[method_id], user_id, kwargs)

    return view
