"""Harvest v1 and v3 at the paths harvest.greenhouse.io serves them. Each call goes through what
Harvest does before an endpoint runs: the credential (v1 Basic key, v3 Bearer token), the rate
limit of that credential, the fault switches, the key's permissions or the token's scopes, and
for a v1 write the On-Behalf-Of user."""

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from .. import calls, faults, server
from . import auth, paging, records, throttle
from . import endpoints as ids
from .errors import HarvestError, bad_request, forbidden, invalid, not_found, server_fault
from .models import (
    ActivityEntry,
    ActivityKind,
    GreenhouseCandidate,
    GreenhouseUser,
    HarvestAccessToken,
    HarvestApiKey,
    Visibility,
)
from .resources import (
    V3_NOTE_TYPES,
    V3_VISIBILITIES,
    v1_activity_feed,
    v1_candidate,
    v1_email,
    v1_note,
    v1_user,
    v3_candidate,
    v3_note,
    v3_user,
)

EMAIL_TYPES = ("personal", "work", "other")
V3_KINDS = {value: kind for kind, value in V3_NOTE_TYPES.items()}
# Harvest v3 caps every `*_ids` filter at 50 ids.
MAX_IDS = 50


@dataclass
class Call:
    request: HttpRequest
    # v1: the On-Behalf-Of user of a write; v3: the user the token acts as.
    user: GreenhouseUser | None = None

    def json(self) -> dict:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError as error:
            raise bad_request("Invalid JSON") from error
        if not isinstance(data, dict):
            raise bad_request("Invalid JSON")
        return data


@dataclass
class Result:
    body: dict | list
    status: int = 200
    link: str = ""


@dataclass(frozen=True)
class Endpoint:
    id: str
    handler: Callable
    write: bool = False
    # v3 only: the OAuth scope the credential needs, and whether the user must be a site admin.
    scope: str = ""
    site_admin: bool = False


ENDPOINTS: dict[str, Endpoint] = {}


def endpoint(endpoint_id: str, **options):
    def register(handler):
        ENDPOINTS[endpoint_id] = Endpoint(endpoint_id, handler, **options)
        return handler

    return register


# Validation of request bodies ---------------------------------------------------------------


def _text(data: dict, name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise invalid(name, "Missing required field")
        return ""
    if not isinstance(value, str):
        raise invalid(name, "Must be a string")
    return value


def _integer(data: dict, name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    # Harvest's own examples send ids both as numbers and as strings of digits.
    if isinstance(value, bool) or not str(value).isdigit():
        raise invalid(name, "Must be an integer")
    return int(value)


def _user(data: dict, name: str) -> GreenhouseUser:
    user_id = _integer(data, name)
    if user_id is None:
        raise invalid(name, "Missing required field")
    user = GreenhouseUser.objects.filter(pk=user_id, disabled=False).first()
    if user is None:
        raise invalid(name, f"User {user_id} does not exist or is disabled")
    return user


def _choice(data: dict, name: str, choices) -> str:
    value = _text(data, name)
    if value not in choices:
        raise invalid(name, f"Must be one of: {', '.join(choices)}")
    return value


def _strings(data: dict, name: str) -> list[str]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(name, "Must be an array of strings")
    return value


def _email_addresses(data: dict) -> list[dict]:
    addresses = data.get("email_addresses") or []
    if not isinstance(addresses, list):
        raise invalid("email_addresses", "Must be an array")
    cleaned = []
    for address in addresses:
        if not isinstance(address, dict) or not isinstance(address.get("value"), str):
            raise invalid("email_addresses", "Each email address needs a value")
        kind = address.get("type", "personal")
        if kind not in EMAIL_TYPES:
            raise invalid("email_addresses.type", f"Must be one of: {', '.join(EMAIL_TYPES)}")
        cleaned.append({"value": address["value"].strip(), "type": kind})
    return cleaned


def _ids(value: str | None, name: str) -> list[int] | None:
    if not value:
        return None
    parts = [part.strip() for part in value.split(",")]
    if not all(part.isdigit() for part in parts) or len(parts) > MAX_IDS:
        raise invalid(name, f"Must be at most {MAX_IDS} comma-separated integers")
    return [int(part) for part in parts]


def _candidate(candidate_id: int) -> GreenhouseCandidate:
    found = GreenhouseCandidate.objects.filter(pk=candidate_id).first()
    if found is None:
        raise not_found()
    return found


# v1 -----------------------------------------------------------------------------------------


@endpoint(ids.V1_CANDIDATES_LIST)
def v1_candidates(call: Call) -> Result:
    found = GreenhouseCandidate.objects.select_related("recruiter").order_by("pk")
    email = call.request.GET.get("email")
    if email:
        found = found.filter(pk__in=records.candidates_with_email(email))
    page = paging.v1_page(call.request, found)
    return Result([v1_candidate(candidate) for candidate in page.items], link=page.link)


@endpoint(ids.V1_CANDIDATES_GET)
def v1_candidate_get(call: Call, candidate_id: int) -> Result:
    return Result(v1_candidate(_candidate(candidate_id)))


@endpoint(ids.V1_USERS_LIST)
def v1_users(call: Call) -> Result:
    found = GreenhouseUser.objects.filter(service_account=False).order_by("pk")
    email = call.request.GET.get("email")
    if email:
        found = found.filter(pk__in=records.users_with_email(email))
    page = paging.v1_page(call.request, found)
    return Result([v1_user(user) for user in page.items], link=page.link)


@endpoint(ids.V1_ACTIVITY_FEED)
def v1_activity_feed_get(call: Call, candidate_id: int) -> Result:
    return Result(v1_activity_feed(records.feed(_candidate(candidate_id))))


@endpoint(ids.V1_NOTES_CREATE, write=True)
def v1_note_create(call: Call, candidate_id: int) -> Result:
    candidate = _candidate(candidate_id)
    data = call.json()
    user = _user(data, "user_id")
    body = _text(data, "body")
    visibility = _choice(data, "visibility", Visibility.values)
    return Result(v1_note(records.add_note(candidate, user, body, visibility)), status=201)


@endpoint(ids.V1_EMAILS_CREATE, write=True)
def v1_email_create(call: Call, candidate_id: int) -> Result:
    candidate = _candidate(candidate_id)
    data = call.json()
    entry = records.add_email(
        candidate,
        _user(data, "user_id"),
        to=_text(data, "to"),
        from_=_text(data, "from"),
        cc=_strings(data, "cc"),
        subject=_text(data, "subject"),
        body=_text(data, "body"),
    )
    return Result(v1_email(entry), status=201)


def _recruiter(data: dict) -> GreenhouseUser | None:
    wanted = data.get("recruiter")
    if not wanted:
        return None
    if not isinstance(wanted, dict):
        raise invalid("recruiter", "Must be an object with an id or an email")
    if wanted.get("id") is not None:
        found = GreenhouseUser.objects.filter(pk=_integer(wanted, "id"), disabled=False).first()
    else:
        found = records.users_with_email(str(wanted.get("email", ""))).first()
    if found is None:
        raise invalid("recruiter", "Must name an existing user by id or email")
    return found


@endpoint(ids.V1_PROSPECTS_CREATE, write=True)
def v1_prospect_create(call: Call) -> Result:
    data = call.json()
    application = data.get("application") or {}
    if not isinstance(application, dict):
        raise invalid("application", "Must be an object")
    job_ids = application.get("job_ids") or []
    if job_ids:
        # The sandbox has no jobs: a prospect can only be created jobless.
        raise invalid("application.job_ids", f"Job {job_ids[0]} does not exist")
    candidate = records.create_candidate(
        first_name=_text(data, "first_name"),
        last_name=_text(data, "last_name"),
        emails=_email_addresses(data),
        is_prospect=True,
        company=_text(data, "company", required=False),
        title=_text(data, "title", required=False),
        tags=_strings(data, "tags"),
        recruiter=_recruiter(data),
    )
    return Result(v1_candidate(candidate), status=201)


# v3 -----------------------------------------------------------------------------------------


@endpoint(ids.V3_CANDIDATES_LIST, scope="harvest:candidates:list", site_admin=True)
def v3_candidates(call: Call) -> Result:
    query, per_page, after = paging.v3_query(call.request)
    found = GreenhouseCandidate.objects.all()
    if query.get("email"):
        found = found.filter(pk__in=records.candidates_with_email(query["email"]))
    wanted = _ids(query.get("ids"), "ids")
    if wanted is not None:
        found = found.filter(pk__in=wanted)
    page = paging.v3_page(call.request, found, query, per_page, after)
    return Result([v3_candidate(candidate) for candidate in page.items], link=page.link)


@endpoint(ids.V3_USERS_LIST, scope="harvest:users:list", site_admin=True)
def v3_users(call: Call) -> Result:
    query, per_page, after = paging.v3_query(call.request)
    found = GreenhouseUser.objects.all()
    # Greenhouse hides the service accounts of API credentials unless asked.
    if query.get("show_service_accounts") != "true":
        found = found.filter(service_account=False)
    if query.get("primary_email"):
        found = found.filter(primary_email__iexact=query["primary_email"].strip())
    if query.get("deactivated") in ("true", "false"):
        found = found.filter(disabled=query["deactivated"] == "true")
    wanted = _ids(query.get("ids"), "ids")
    if wanted is not None:
        found = found.filter(pk__in=wanted)
    page = paging.v3_page(call.request, found, query, per_page, after)
    return Result([v3_user(user) for user in page.items], link=page.link)


@endpoint(ids.V3_NOTES_LIST, scope="harvest:notes:list", site_admin=True)
def v3_notes(call: Call) -> Result:
    query, per_page, after = paging.v3_query(call.request)
    found = ActivityEntry.objects.all()
    for name, column in (("candidate_ids", "candidate"), ("user_ids", "user"), ("ids", "pk")):
        wanted = _ids(query.get(name), name)
        if wanted is not None:
            found = found.filter(**{f"{column}__in": wanted})
    if query.get("type"):
        found = found.filter(kind=V3_KINDS.get(query["type"], "unknown"))
    if query.get("visibility"):
        visibilities = {value: key for key, value in V3_VISIBILITIES.items()}
        found = found.filter(visibility=visibilities.get(query["visibility"], "unknown"))
    page = paging.v3_page(call.request, found, query, per_page, after)
    return Result([v3_note(entry) for entry in page.items], link=page.link)


@endpoint(ids.V3_NOTES_CREATE, write=True, scope="harvest:notes:create")
def v3_note_create(call: Call) -> Result:
    data = call.json()
    candidate_id = _integer(data, "candidate_id")
    if candidate_id is None:
        raise invalid("candidate_id", "Missing required field")
    candidate = GreenhouseCandidate.objects.filter(pk=candidate_id).first()
    if candidate is None:
        raise invalid("candidate_id", f"Candidate {candidate_id} does not exist")
    application_id = _integer(data, "application_id")
    if application_id is not None and application_id != candidate.application_id:
        raise invalid("application_id", "Must be an application of the candidate")
    # Written as the token's user unless the body names another one.
    user = _user(data, "user_id") if data.get("user_id") is not None else call.user
    note_type = data.get("note_type") or "NOTE"
    if note_type not in V3_KINDS:
        raise invalid("note_type", f"Must be one of: {', '.join(V3_KINDS)}")
    visibility = _choice(data, "visibility", Visibility.values)
    body = _text(data, "body")
    if V3_KINDS[note_type] == ActivityKind.EMAIL:
        entry = records.add_email(
            candidate,
            user,
            to=_text(data, "email_to"),
            from_=_text(data, "email_from"),
            cc=_strings(data, "email_cc"),
            subject=_text(data, "subject"),
            body=body,
            visibility=visibility,
            application_id=application_id,
        )
    else:
        entry = records.add_note(
            candidate,
            user,
            body,
            visibility,
            kind=V3_KINDS[note_type],
            subject=_text(data, "subject", required=False),
            application_id=application_id,
        )
    return Result(v3_note(entry), status=201)


# Serving ------------------------------------------------------------------------------------


@dataclass
class Caller:
    """Who is calling, once authenticated: the credential and what the log shows of it."""

    credential: str
    rate_limit: int
    label: str
    key: HarvestApiKey | None = None
    token: HarvestAccessToken | None = None
    user: GreenhouseUser | None = None


def _authenticate(request: HttpRequest, spec: Endpoint) -> Caller:
    authorization = request.headers.get("Authorization", "")
    if spec.id in ids.V1:
        key = auth.api_key(authorization)
        return Caller(
            f"key:{key.pk}", key.rate_limit, f"v1 key {key.name} …{key.key[-4:]}", key=key
        )
    token = auth.bearer_token(authorization)
    client = token.client
    return Caller(
        f"client:{client.pk}", client.rate_limit, client.client_id, token=token, user=token.user
    )


def _on_behalf_of(request: HttpRequest) -> GreenhouseUser:
    value = request.headers.get("On-Behalf-Of", "").strip()
    user = (
        GreenhouseUser.objects.filter(pk=int(value), disabled=False, service_account=False).first()
        if value.isdigit()
        else None
    )
    if user is None:
        raise forbidden("Missing or invalid On-Behalf-Of header")
    return user


def _authorize(request: HttpRequest, spec: Endpoint, caller: Caller) -> None:
    if caller.key is not None:
        if spec.id not in caller.key.permissions:
            raise forbidden("This API key does not have permission to access this endpoint")
        if spec.write:
            caller.user = _on_behalf_of(request)
        return
    if spec.scope not in caller.token.client.scopes:
        raise forbidden(f"The access token is missing the scope {spec.scope}")
    if spec.site_admin and not caller.user.site_admin:
        raise forbidden("This endpoint requires a Site Admin user")


def serve(request: HttpRequest, spec: Endpoint, kwargs: dict) -> HttpResponse:
    caller = budget = None
    dropped = False
    try:
        caller = _authenticate(request, spec)
        budget = throttle.spend(caller.credential, caller.rate_limit)
        status = faults.apply(spec.id)
        if status:
            raise server_fault(status, throttle.seconds_left())
        _authorize(request, spec, caller)
        call = Call(request, caller.user)
        if spec.write:
            # Committed here, before any fault can drop the answer.
            with transaction.atomic():
                result = spec.handler(call, **kwargs)
            dropped = faults.take_drop(spec.id)
        else:
            result = spec.handler(call, **kwargs)
        response = JsonResponse(result.body, status=result.status, safe=False)
        if result.link:
            response["Link"] = result.link
    except HarvestError as error:
        response = error.response()
    if budget is not None and response.status_code != 429:
        for name, value in budget.headers().items():
            response[name] = value
    calls.record(
        request,
        spec.id,
        response.status_code,
        account_email=caller.user.primary_email if caller and caller.user else "",
        client_id=caller.label if caller else "",
        dropped=dropped,
    )
    if dropped:
        server.drop_connection(request.environ)
    return response
