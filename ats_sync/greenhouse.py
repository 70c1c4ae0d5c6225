"""The only module that knows Greenhouse Harvest: its routes, shapes and errors, for v3 (OAuth 2
client credentials) and v1 (a legacy API key). Base URLs come from settings; every call goes over
HTTP with a timeout, under the rule that a write goes out once per call of ours (no resend by the
HTTP layer: outreach.remote), spends the credential's rate budget shared by all workers through
the cache, and turns Greenhouse's answers into the exceptions below, whose text a team admin
can act on.

Routes and shapes as `sandbox/greenhouse/__init__.py` documents them, with its sources."""

import hashlib
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

from outreach import remote

CONNECT_TIMEOUT = 5
# The pusher marks a row just before its write: the write starts within this of the mark.
WRITE_STARTS_WITHIN = timedelta(seconds=5)
# Greenhouse counts requests per credential in 10-second windows, "typically 50" per window.
WINDOW_SECONDS = 10
DEFAULT_RATE_LIMIT = 50
# Window counters are never read once their window is over; long enough to outlive any request.
WINDOW_KEEP_SECONDS = 120
LIMIT_KEEP_SECONDS = 24 * 3600
# v3 access tokens live an hour; one about to expire could die on its way to Greenhouse.
TOKEN_LIFETIME = timedelta(hours=1)
TOKEN_MARGIN = timedelta(minutes=2)
CREDENTIALS_PAGE = "Configure → Dev Center → API Credential Management"
# A connection refused, reset or closed before the whole answer came (timeouts included).
NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
# v3 note types we read back; ACTIVITY is Greenhouse's own record of events (stage moves...).
V3_KINDS = {"NOTE": "note", "EMAIL": "email"}


class GreenhouseError(Exception):
    """A Greenhouse call that failed; str() is fit to show a team admin."""

    # Whether a write that failed so may have been carried out all the same (its answer lost).
    may_have_landed = False


class AuthenticationFailed(GreenhouseError):
    """Greenhouse refused the API key, or the client id and secret."""


class PermissionDenied(GreenhouseError):
    """The credential lacks a permission or scope, or the acting user may not do this."""


class NotFound(GreenhouseError):
    pass


class Rejected(GreenhouseError):
    """Greenhouse refused the request itself (a validation error...): retrying will not help."""


class RateLimited(GreenhouseError):
    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(GreenhouseError):
    """Greenhouse failed, or its answer was lost (a timeout, a dropped connection): a write may
    or may not have landed (look at the candidate's activities before writing again)."""

    may_have_landed = True


class NotReached(Unavailable):
    """No connection to Greenhouse could be made: nothing was written."""

    may_have_landed = False


@dataclass(frozen=True)
class Credentials:
    api: str  # "v3" or "v1"
    # Names the credential's rate budget, shared by every worker.
    budget_key: str
    client_id: str = ""
    client_secret: str = ""
    api_key: str = ""


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    emails: tuple[str, ...]


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class Activity:
    id: str
    kind: str  # "note" or "email"
    user_id: int | None
    subject: str
    body: str


# The rate budget ----------------------------------------------------------------------------


def _integer(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _wait_message(seconds: float) -> str:
    return (
        "Greenhouse's rate limit for this account is used up for now; "
        f"it resets in {math.ceil(seconds)} s."
    )


class _Budget:
    """The requests one credential has left in the current window, counted in the cache so that
    two workers can never both spend the last one. It starts each window at the last limit
    Greenhouse announced and follows what Greenhouse says is left, never above it."""

    def __init__(self, key: str):
        self.key = key

    def _name(self, what: str) -> str:
        return f"greenhouse:{what}:{self.key}"

    def spend(self) -> int:
        """Takes one request, or raises RateLimited without calling; returns the window."""
        now = time.time()
        paused_until = cache.get(self._name("paused"))
        if paused_until and paused_until > now:
            raise RateLimited(_wait_message(paused_until - now), paused_until - now)
        window = int(now // WINDOW_SECONDS)
        left = self._name(f"left:{window}")
        limit = cache.get(self._name("limit"), DEFAULT_RATE_LIMIT)
        cache.add(left, limit, WINDOW_KEEP_SECONDS)
        if cache.decr(left) < 0:
            retry_after = (window + 1) * WINDOW_SECONDS - now
            raise RateLimited(_wait_message(retry_after), retry_after)
        return window

    def learn(self, window: int, response: requests.Response) -> None:
        limit = _integer(response.headers.get("X-RateLimit-Limit"))
        remaining = _integer(response.headers.get("X-RateLimit-Remaining"))
        if limit is not None:
            cache.set(self._name("limit"), limit, LIMIT_KEEP_SECONDS)
        if remaining is None:
            return
        left = self._name(f"left:{window}")
        ours = cache.get(left)
        if ours is not None and ours > remaining:
            # Two workers lowering it at once may overshoot: that wastes a little budget until
            # the window ends, whereas a counter above Greenhouse's would earn 429s.
            cache.decr(left, ours - remaining)

    def pause(self, seconds: float) -> None:
        cache.set(self._name("paused"), time.time() + seconds, math.ceil(seconds) + 1)


# v3 access tokens ---------------------------------------------------------------------------

# (token URL, client id, secret digest, sub) -> (access token, when to stop using it). The
# secret is part of the key so that a wrong secret is never vouched for by an older token.
_tokens: dict[tuple[str, str, str, int | None], tuple[str, datetime]] = {}
_tokens_lock = threading.Lock()


def _expiry(answer: dict) -> datetime:
    try:
        expires = datetime.fromisoformat(answer["expires_at"])
    except (KeyError, TypeError, ValueError):
        return datetime.now(UTC) + TOKEN_LIFETIME - TOKEN_MARGIN
    # Greenhouse's timestamps are UTC, with or without saying so.
    return (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) - TOKEN_MARGIN


def _timeout() -> tuple[float, float]:
    return (CONNECT_TIMEOUT, settings.GREENHOUSE_TIMEOUT_SECONDS)


def write_window() -> remote.WriteWindow:
    """How long after the pusher marked a row a write of it may still land in Greenhouse."""
    return remote.WriteWindow(
        start_within=WRITE_STARTS_WITHIN,
        timeout=timedelta(seconds=settings.GREENHOUSE_TIMEOUT_SECONDS),
        margin=timedelta(seconds=settings.WRITE_LANDING_MARGIN_SECONDS),
    )


def _failure(error: requests.RequestException, who: str, purpose: str) -> Unavailable:
    if remote.never_sent(error):
        return NotReached(f"{who} could not be reached while trying to {purpose}.")
    if isinstance(error, requests.Timeout):
        return Unavailable(f"{who} did not answer in time while trying to {purpose}.")
    return Unavailable(f"The connection to {who} failed while trying to {purpose}.")


# Answers ------------------------------------------------------------------------------------


def _said(response: requests.Response) -> str:
    """What Greenhouse said in an error answer: its message and each field's complaint."""
    try:
        body = response.json()
    except ValueError:
        return response.reason or f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return str(body)[:300]
    message = body.get("message") or body.get("error_description") or body.get("error") or ""
    fields = [
        f"{error.get('field')}: {error.get('message')}" if error.get("field") else error["message"]
        for error in body.get("errors") or []
        if isinstance(error, dict) and error.get("message")
    ]
    return "; ".join([str(message), *fields]) if fields else str(message)


def _retry_after(response: requests.Response) -> float:
    try:
        return max(float(response.headers["Retry-After"]), 0.0)
    except (KeyError, ValueError):
        # Greenhouse's text does not promise the header; a whole window is always enough.
        return float(WINDOW_SECONDS)


def _json(response: requests.Response, purpose: str):
    try:
        return response.json()
    except ValueError as error:
        raise Unavailable(
            f"Greenhouse's answer could not be read while trying to {purpose}."
        ) from error


def _full_name(person: dict) -> str:
    return f"{person.get('first_name') or ''} {person.get('last_name') or ''}".strip()


def _candidate(found: dict) -> Candidate:
    return Candidate(
        id=found["id"],
        name=_full_name(found),
        emails=tuple(address["value"] for address in found.get("email_addresses") or []),
    )


def _email_note(*, sender: str, to: str, subject: str, body: str) -> str:
    return f"From: {sender}\nTo: {to}\nSubject: {subject}\n\n{body}"


class Harvest:
    """Greenhouse Harvest as one team's credential sees it."""

    def __init__(self, credentials: Credentials):
        if credentials.api not in ("v3", "v1"):
            raise ValueError(f"Unknown Harvest API {credentials.api!r}; 'v3' or 'v1'")
        self.credentials = credentials
        self._budget = _Budget(credentials.budget_key)
        self._http = remote.session()

    @property
    def _v3(self) -> bool:
        return self.credentials.api == "v3"

    def _url(self, path: str) -> str:
        base = settings.GREENHOUSE_API_V3_URL if self._v3 else settings.GREENHOUSE_API_URL
        return base.rstrip("/") + path

    def check(self) -> None:
        """The "Test connection" button: a cheap read that needs a valid credential."""
        self._get(self._url("/users"), "list users", per_page=1)

    def find_user(self, email: str) -> User | None:
        """The active Greenhouse user with that address (v1 also finds secondary addresses; v3
        filters on the primary one only)."""
        purpose = f"look up the user {email}"
        if self._v3:
            found = self._get(
                self._url("/users"), purpose, primary_email=email, deactivated="false"
            )
            primary = "primary_email"
        else:
            found = [
                user
                for user in self._get(self._url("/users"), purpose, email=email)
                if not user.get("disabled")
            ]
            primary = "primary_email_address"
        if not found:
            return None
        user = found[0]
        return User(user["id"], user.get("name") or _full_name(user), user.get(primary) or email)

    def find_candidate(self, email: str) -> Candidate | None:
        """The candidate or prospect with that address (whatever its case); Greenhouse allows
        duplicates, and the first one it lists is taken."""
        found = self._get(self._url("/candidates"), f"look up the candidate {email}", email=email)
        return _candidate(found[0]) if found else None

    def create_prospect(
        self,
        *,
        acting_user_id: int,
        first_name: str,
        last_name: str,
        email: str,
        company: str = "",
        title: str = "",
    ) -> Candidate:
        """A prospect on no job, created as that Greenhouse user."""
        if self._v3:
            # v3 makes a prospect with POST /v3/candidates then POST /v3/applications, whose
            # bodies could not be confirmed; writing guessed ones to a customer's ATS is worse
            # than asking for a v1 key.
            raise Rejected(
                "Creating prospects in Greenhouse is not available with Harvest v3 credentials "
                "yet: use a Harvest v1 API key, or let messages to unknown candidates be skipped."
            )
        body = {
            "first_name": first_name,
            "last_name": last_name,
            "email_addresses": [{"value": email, "type": "other"}],
        }
        if company:
            body["company"] = company
        if title:
            body["title"] = title
        # Without an `application` object Greenhouse makes a jobless prospect.
        created = self._post(
            self._url("/prospects"), f"create the prospect {email}", acting_user_id, body
        )
        # Greenhouse may answer with little more than the id while it finishes the record.
        return Candidate(
            id=created["id"],
            name=_full_name(created) or f"{first_name} {last_name}".strip(),
            emails=_candidate(created).emails or (email,),
        )

    def write_email(
        self,
        candidate_id: int,
        *,
        acting_user_id: int,
        sender: str,
        to: str,
        subject: str,
        body: str,
        visibility: str,
    ) -> str:
        """Logs an email on the candidate's activity feed as that Greenhouse user, seen by
        `visibility` ("admin_only", "private" or "public"); returns Greenhouse's id for it."""
        purpose = f"write an email on candidate {candidate_id}'s activity feed"
        if self._v3:
            url = self._url("/notes")
            fields = {
                "candidate_id": candidate_id,
                "user_id": acting_user_id,
                "note_type": "EMAIL",
                "visibility": visibility,
                "subject": subject,
                "email_from": sender,
                "email_to": to,
                "body": body,
            }
        elif visibility == "public":
            url = self._url(f"/candidates/{candidate_id}/activity_feed/emails")
            fields = {
                "user_id": acting_user_id,
                "from": sender,
                "to": to,
                "subject": subject,
                "body": body,
            }
        else:
            # v1 emails are seen by everyone who sees the candidate: a restricted one goes in
            # as a note of that visibility which quotes it.
            url = self._url(f"/candidates/{candidate_id}/activity_feed/notes")
            fields = {
                "user_id": acting_user_id,
                "visibility": visibility,
                "body": _email_note(sender=sender, to=to, subject=subject, body=body),
            }
        return str(self._post(url, purpose, acting_user_id, fields)["id"])

    def activities(self, candidate_id: int) -> list[Activity]:
        """The notes and emails on the candidate's activity feed, in Greenhouse's order: how to
        tell whether a write whose answer was lost landed."""
        purpose = f"read candidate {candidate_id}'s activity feed"
        if self._v3:
            notes = self._pages(self._url("/notes"), purpose, candidate_ids=str(candidate_id))
            return [
                Activity(
                    id=str(note["id"]),
                    kind=V3_KINDS[note["type"]],
                    user_id=note.get("user_id"),
                    subject=note.get("subject") or "",
                    body=note.get("body") or "",
                )
                for note in notes
                if note.get("type") in V3_KINDS
            ]
        feed = self._get(self._url(f"/candidates/{candidate_id}/activity_feed"), purpose)
        return [
            Activity(
                id=str(entry["id"]),
                kind=kind,
                user_id=(entry.get("user") or {}).get("id"),
                subject=entry.get("subject") or "",
                body=entry.get("body") or "",
            )
            for kind, entries in (("note", feed.get("notes")), ("email", feed.get("emails")))
            for entry in entries or []
        ]

    # Calls --------------------------------------------------------------------------------

    def _send(self, method: str, url: str, purpose: str, **options) -> requests.Response:
        window = self._budget.spend()
        try:
            response = self._http.request(method, url, timeout=_timeout(), **options)
        except NETWORK_ERRORS as error:
            raise _failure(error, "Greenhouse", purpose) from error
        self._budget.learn(window, response)
        if response.status_code == 429:
            retry_after = _retry_after(response)
            # Every worker on this credential waits, not only the one that was refused.
            self._budget.pause(retry_after)
            raise RateLimited(
                "Greenhouse asked us to slow down (too many requests); "
                f"try again in {math.ceil(retry_after)} s.",
                retry_after,
            )
        return response

    def _request(
        self, method: str, url: str, purpose: str, acting_user_id: int | None, **options
    ) -> requests.Response:
        """One Harvest call, made as `acting_user_id` when given; raises on any failure."""
        if self._v3:
            token, cached = self._token(acting_user_id, purpose)
            response = self._send(method, url, purpose, headers=self._bearer(token), **options)
            if response.status_code == 401 and cached:
                # Revoked, or the credential was rotated: one more try with a new token.
                self._forget_token(acting_user_id)
                token, _ = self._token(acting_user_id, purpose)
                response = self._send(method, url, purpose, headers=self._bearer(token), **options)
        else:
            headers = {} if acting_user_id is None else {"On-Behalf-Of": str(acting_user_id)}
            auth = (self.credentials.api_key, "")
            response = self._send(method, url, purpose, auth=auth, headers=headers, **options)
        self._raise_for(response, purpose, acting_user_id)
        return response

    def _get(self, url: str, purpose: str, **params):
        return _json(self._request("GET", url, purpose, None, params=params), purpose)

    def _post(self, url: str, purpose: str, acting_user_id: int, body: dict) -> dict:
        response = self._request("POST", url, purpose, acting_user_id, json=body)
        return _json(response, purpose)

    def _pages(self, url: str, purpose: str, **params) -> list:
        """Every item of a v3 list: each next page's URL carries the filters in its cursor."""
        items: list[Any] = []
        next_url: str | None = url
        first: dict[str, Any] | None = params
        while next_url:
            response = self._request("GET", next_url, purpose, None, params=first)
            items += _json(response, purpose)
            next_url, first = response.links.get("next", {}).get("url"), None
        return items

    def _raise_for(
        self, response: requests.Response, purpose: str, acting_user_id: int | None
    ) -> None:
        status = response.status_code
        if status < 400:
            return
        said = _said(response)
        if status == 401:
            if self._v3:
                raise AuthenticationFailed(
                    "Greenhouse refused the access token it had just issued to client "
                    f"{self.credentials.client_id} while trying to {purpose} ({said})."
                )
            raise AuthenticationFailed(
                "Greenhouse refused the API key: check that it was copied whole and is still "
                f"active ({CREDENTIALS_PAGE})."
            )
        if status == 403:
            credential, grants = (
                ("API credential", "scopes") if self._v3 else ("API key", "endpoint permissions")
            )
            if acting_user_id is not None:
                raise PermissionDenied(
                    f"The Greenhouse user {acting_user_id} may not {purpose} (Greenhouse said: "
                    f"{said}). Check that this user exists, is active and has the permission, "
                    f"and the {credential}'s {grants} in {CREDENTIALS_PAGE}."
                )
            raise PermissionDenied(
                f"The Greenhouse {credential} may not {purpose} (Greenhouse said: {said}). "
                f"Check its {grants} in {CREDENTIALS_PAGE}."
            )
        if status == 404:
            raise NotFound(f"Greenhouse could not {purpose}: not found ({said}).")
        if status < 500:
            raise Rejected(f"Greenhouse refused to {purpose}: {said}.")
        raise Unavailable(
            f"Greenhouse failed (HTTP {status}) while trying to {purpose}; it may be down for a "
            "while."
        )

    # v3 tokens ----------------------------------------------------------------------------

    def _token_key(self, sub: int | None) -> tuple[str, str, str, int | None]:
        secret = hashlib.sha256(self.credentials.client_secret.encode()).hexdigest()
        return (settings.GREENHOUSE_TOKEN_URL, self.credentials.client_id, secret, sub)

    @staticmethod
    def _bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def _forget_token(self, sub: int | None) -> None:
        with _tokens_lock:
            _tokens.pop(self._token_key(sub), None)

    def _token(self, sub: int | None, purpose: str) -> tuple[str, bool]:
        """An access token acting as `sub` (the credential's service account without one), and
        whether it came from the cache."""
        key = self._token_key(sub)
        with _tokens_lock:
            cached = _tokens.get(key)
        if cached and cached[1] > datetime.now(UTC):
            return cached[0], True
        form = {"grant_type": "client_credentials"}
        if sub is not None:
            form["sub"] = str(sub)
        try:
            response = self._http.post(
                settings.GREENHOUSE_TOKEN_URL,
                auth=(self.credentials.client_id, self.credentials.client_secret),
                data=form,
                timeout=_timeout(),
            )
        except NETWORK_ERRORS as error:
            raise _failure(error, "Greenhouse's sign-in service", purpose) from error
        self._raise_for_token(response, sub, purpose)
        answer = _json(response, purpose)
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise Unavailable(f"Greenhouse issued no access token while trying to {purpose}.")
        with _tokens_lock:
            _tokens[key] = (answer["access_token"], _expiry(answer))
        return answer["access_token"], False

    def _raise_for_token(self, response: requests.Response, sub: int | None, purpose: str) -> None:
        status = response.status_code
        if status < 400:
            return
        said = _said(response)
        if status == 401:
            raise AuthenticationFailed(
                "Greenhouse refused the client ID or secret: check that both were copied whole "
                f"and that the credential is still active ({CREDENTIALS_PAGE})."
            )
        if status == 429:
            retry_after = _retry_after(response)
            raise RateLimited(
                "Greenhouse's sign-in service asked us to slow down; try again in "
                f"{math.ceil(retry_after)} s.",
                retry_after,
            )
        if status >= 500:
            raise Unavailable(
                f"Greenhouse's sign-in service failed (HTTP {status}) while trying to {purpose}."
            )
        if sub is not None and status in (400, 403):
            # The v3 counterpart of an On-Behalf-Of user Greenhouse does not accept.
            raise PermissionDenied(
                f"Greenhouse will not let the API credential act as user {sub} to {purpose} "
                f"(Greenhouse said: {said}). Check that this user exists and is active."
            )
        raise Rejected(f"Greenhouse refused to issue an access token: {said}.")
