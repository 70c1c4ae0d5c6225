"""The only module that knows Google's OAuth and Gmail API: it builds the flows and the client
(base URLs from settings), and turns Google's errors into senders.mail's. `Gmail` is the first
implementation of the mail-provider seam (senders.mail.MailProvider)."""

import base64
import functools
import html
import json
import os
import threading
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httplib2
import requests
from django.conf import settings
from google.auth import jwt
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from outreach import remote

from . import mail

# gmail.modify is the one scope that covers all we do: send, read replies in our threads,
# insert the sync notice into the sender's thread, list send-as aliases, and trash the
# tracking-pixel copy in Sent. Every restricted scope costs the same verification, so asking
# for gmail.readonly + gmail.send + gmail.insert instead would only add consent lines.
MODIFY = "https://www.googleapis.com/auth/gmail.modify"
MAILBOX_SCOPES = (MODIFY,)
IDENTITY_SCOPES = ("openid", "email")
# What a permission is called on the pages; the address Google gives it stays in a tooltip.
SCOPE_LABELS = {
    MODIFY: "Read, send and organize email in Gmail",
    "https://www.googleapis.com/auth/gmail.send": "Send email from Gmail",
    "https://www.googleapis.com/auth/gmail.readonly": "Read email in Gmail",
    "https://www.googleapis.com/auth/gmail.settings.basic": "Read Gmail settings",
    "openid": "Sign in with Google",
    "email": "See your email address",
    "https://www.googleapis.com/auth/userinfo.email": "See your email address",
    "profile": "See your name",
    "https://www.googleapis.com/auth/userinfo.profile": "See your name",
}


def scope_label(scope: str) -> str:
    """A permission in words; one we do not know by its address's last part."""
    return SCOPE_LABELS.get(scope) or scope.rsplit("/", 1)[-1]


SCOPE_PURPOSES = {
    MODIFY: "Send your sequence emails, notice replies in those threads, add the ATS sync "
    "notice to your own copy of the thread, read your send-as addresses, and remove the "
    "tracking copy from Sent.",
}
# (connect, read) seconds. A send still unanswered after the read timeout is given up on; how
# long it may still land after that is `send_window()`.
CONNECT_TIMEOUT = 5


def _timeout() -> tuple[float, float]:
    return (CONNECT_TIMEOUT, settings.GMAIL_TIMEOUT_SECONDS)


def send_window() -> remote.WriteWindow:
    """How long a `sending` email may still reach Gmail after it was recorded: the engine calls
    send within SEND_START_WITHIN_SECONDS of recording it or gives the attempt up."""
    return remote.WriteWindow(
        start_within=timedelta(seconds=settings.SEND_START_WITHIN_SECONDS),
        timeout=timedelta(seconds=settings.GMAIL_TIMEOUT_SECONDS),
        margin=timedelta(seconds=settings.WRITE_LANDING_MARGIN_SECONDS),
    )


# Google's errors become the provider-neutral ones (senders.mail); the old names stay, as the
# words this module's callers and tests know Gmail by.
GmailError = mail.MailError
GrantRevoked = mail.GrantRevoked
MissingScopes = mail.MissingScopes
RateLimited = mail.RateLimited
GmailUnavailable = mail.Unavailable
NotReached = mail.NotReached
NotFound = mail.NotFound
AuthorizationDenied = mail.AuthorizationDenied
Grant = mail.Grant
Profile = mail.Profile
Alias = mail.Alias
Sent = mail.Sent
MessageHeaders = mail.MessageHeaders


# OAuth ------------------------------------------------------------------------------------------


def _client_config() -> dict:
    return {
        "web": {
            "client_id": settings.GOOGLE_OAUTH_CLIENT_ID,
            "client_secret": settings.GOOGLE_OAUTH_CLIENT_SECRET,
            "auth_uri": settings.GOOGLE_AUTH_URI,
            "token_uri": settings.GOOGLE_TOKEN_URI,
        }
    }


def _flow(redirect_uri: str, scopes, **kwargs) -> Flow:
    if settings.SANDBOX:
        # The sandbox speaks plain http on localhost; oauthlib refuses that unless told.
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    # Google may grant fewer scopes than asked (the person can untick one): we read what was
    # granted instead of letting oauthlib raise.
    os.environ["OAUTHLIB_RELAX_TOKEN_SCOPE"] = "1"  # noqa: S105 - a switch, not a secret
    return Flow.from_client_config(
        _client_config(), scopes=list(scopes), redirect_uri=redirect_uri, **kwargs
    )


def authorization_url(redirect_uri: str, *, login_hint: str = "") -> tuple[str, str, str]:
    """Where to send the person to grant us their mailbox: (url, state, code_verifier). The
    state and verifier must be kept (in the session) for `exchange_code`."""
    return _authorization(
        redirect_uri, MAILBOX_SCOPES, login_hint, access_type="offline", prompt="consent"
    )


def sign_in_url(redirect_uri: str, *, login_hint: str = "") -> tuple[str, str, str]:
    """Google sign-in (identity only) for people who have no password with us."""
    return _authorization(
        redirect_uri, IDENTITY_SCOPES, login_hint, access_type="online", prompt="select_account"
    )


def _authorization(redirect_uri, scopes, login_hint, **params) -> tuple[str, str, str]:
    flow = _flow(redirect_uri, scopes)
    if login_hint:
        params["login_hint"] = login_hint
    url, state = flow.authorization_url(**params)
    return url, state, flow.code_verifier


def _fetch_token(redirect_uri, scopes, *, state, code_verifier, callback_url) -> dict:
    query = parse_qs(urlsplit(callback_url).query)
    if "error" in query:
        raise AuthorizationDenied(
            "Access was not granted." if query["error"] == ["access_denied"] else query["error"][0]
        )
    if query.get("state") != [state]:
        raise AuthorizationDenied("This sign-in attempt expired or came from elsewhere. Try again.")
    flow = _flow(redirect_uri, scopes, state=state, code_verifier=code_verifier)
    try:
        return flow.fetch_token(authorization_response=callback_url)
    except Exception as exc:  # oauthlib raises its own class for each RFC 6749 error code
        raise AuthorizationDenied(f"Google refused the sign-in: {exc}") from exc


def exchange_code(redirect_uri: str, *, state: str, code_verifier: str, callback_url: str) -> Grant:
    """Trades the code in Google's redirect for a refresh token and the granted scopes."""
    token = _fetch_token(
        redirect_uri,
        MAILBOX_SCOPES,
        state=state,
        code_verifier=code_verifier,
        callback_url=callback_url,
    )
    if not token.get("refresh_token"):
        raise AuthorizationDenied("Google did not grant offline access. Try connecting again.")
    scope = token.get("scope") or []
    scopes = tuple(scope.split() if isinstance(scope, str) else scope)
    return Grant(refresh_token=token["refresh_token"], scopes=scopes)


def identify(redirect_uri: str, *, state: str, code_verifier: str, callback_url: str) -> str:
    """The verified address of the Google account that signed in."""
    token = _fetch_token(
        redirect_uri,
        IDENTITY_SCOPES,
        state=state,
        code_verifier=code_verifier,
        callback_url=callback_url,
    )
    # Received straight from Google's token endpoint over TLS, the ID token needs no signature
    # check (Google's OpenID Connect guide); its audience still does.
    claims = jwt.decode(token.get("id_token", ""), verify=False)
    if claims.get("aud") != settings.GOOGLE_OAUTH_CLIENT_ID:
        raise AuthorizationDenied("Google's answer was meant for another application.")
    if not claims.get("email") or not claims.get("email_verified"):
        raise AuthorizationDenied("Google did not confirm the account's email address.")
    return claims["email"].lower()


def revoke(refresh_token: str) -> None:
    """Revokes the grant at Google. A grant that is already gone counts as revoked."""
    try:
        response = remote.session().post(
            settings.GOOGLE_REVOKE_URI, data={"token": refresh_token}, timeout=_timeout()
        )
    except requests.RequestException as exc:
        raise GmailUnavailable("Google could not be reached to revoke access.") from exc
    if response.status_code >= 500:
        raise GmailUnavailable("Google could not revoke access right now.")


# Gmail API --------------------------------------------------------------------------------------


def _reason(error: HttpError) -> str:
    """The legacy `errors[0].reason` ("insufficientPermissions", "userRateLimitExceeded"):
    the client's `error_details` prefers the newer `details` list, whose reasons differ."""
    try:
        return json.loads(error.content)["error"]["errors"][0]["reason"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def _translate_errors(function):
    """Google's exceptions, whatever the call, become ours."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except RefreshError as exc:
            if "invalid_grant" in str(exc):
                raise GrantRevoked(
                    "Google no longer accepts this connection (access was revoked or expired)."
                ) from exc
            raise GmailUnavailable(f"Google refused to refresh access: {exc}") from exc
        except TransportError as exc:
            # Only the token refresh, made before the call itself, raises this.
            raise NotReached("Google could not be reached.") from exc
        except HttpError as exc:
            status, reason = exc.resp.status, _reason(exc)
            if status == 403 and reason == "insufficientPermissions":
                raise MissingScopes("The connection lacks a permission this needs.") from exc
            if status == 429 or reason in ("rateLimitExceeded", "userRateLimitExceeded"):
                retry_after = exc.resp.get("retry-after")
                raise RateLimited(
                    "Gmail asks us to slow down.", float(retry_after) if retry_after else None
                ) from exc
            if status == 401:
                raise GrantRevoked("Google no longer accepts this connection.") from exc
            if status == 404:
                raise NotFound("Gmail does not know that item.") from exc
            if status >= 500:
                raise GmailUnavailable(f"Gmail is unavailable ({status}).") from exc
            raise GmailError(f"Gmail refused the request ({status} {reason}).") from exc
        except requests.RequestException as exc:
            if remote.never_sent(exc):
                raise NotReached("Gmail could not be reached.") from exc
            raise GmailUnavailable("Gmail did not answer in time.") from exc

    return wrapper


def credentials(refresh_token: str, scopes) -> Credentials:
    return Credentials(
        token=None,
        refresh_token=refresh_token,
        token_uri=settings.GOOGLE_TOKEN_URI,
        client_id=settings.GOOGLE_OAUTH_CLIENT_ID,
        client_secret=settings.GOOGLE_OAUTH_CLIENT_SECRET,
        scopes=list(scopes),
    )


def _token_request() -> Request:
    return Request(remote.session())


@_translate_errors
def refresh(creds: Credentials) -> None:
    creds.refresh(_token_request())


class _AuthorizedSession(remote.EnvironmentReadOnce, AuthorizedSession):
    """google-auth's session (the access token on each request), reading the environment once."""


class _Http:
    """What google-api-python-client asks of the `http` it is given (httplib2.Http's `request`),
    carried by requests under our rule: a write goes out once per call (outreach.remote). It
    rides on google-auth's AuthorizedSession, which adds the access token, refreshes it when it
    expires and, after a 401 (refused, so carried out by no one), tries once more."""

    def __init__(self, creds: Credentials):
        self._session = remote.mount(_AuthorizedSession(creds, auth_request=_token_request()))

    def request(self, uri, method="GET", body=None, headers=None, redirections=5, **_):
        answer = self._session.request(
            method, uri, data=body, headers=headers, timeout=_timeout(), allow_redirects=False
        )
        # requests has already decoded the body: its encoding and length no longer apply.
        info = {
            name: value
            for name, value in answer.headers.items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        }
        response = httplib2.Response({**info, "status": str(answer.status_code)})
        response.reason = answer.reason
        return response, answer.content


class _NoHttp:
    """The http the shared resources are built with: every call is given its mailbox's."""

    def request(self, *args, **kwargs):
        raise RuntimeError("a Gmail request must be executed with its mailbox's http")


class _Resources:
    """The Gmail API's resources, built from the discovery document once per process and shared
    by every mailbox's client: building them costs ~4 ms of CPU (a method object per API
    method), which a worker would otherwise pay for each mailbox it meets, and they hold no
    state of a call (each request is executed with its mailbox's http)."""

    def __init__(self):
        users = build(
            "gmail",
            "v1",
            http=_NoHttp(),
            client_options={"api_endpoint": settings.GMAIL_API_ENDPOINT},
            cache_discovery=False,
            static_discovery=True,
        ).users()
        self.users = users
        self.messages = users.messages()
        self.threads = users.threads()
        self.history = users.history()
        self.send_as = users.settings().sendAs()


_resources_lock = threading.Lock()
_resources: dict[str, _Resources] = {}


def _shared_resources() -> _Resources:
    """The process's resources for the configured endpoint (tests point it at the sandbox)."""
    endpoint = settings.GMAIL_API_ENDPOINT
    with _resources_lock:
        if endpoint not in _resources:
            _resources[endpoint] = _Resources()
        return _resources[endpoint]


# Per-process clients ------------------------------------------------------------------------------

_clients = threading.local()


class Gmail:
    """One mailbox's Gmail API, kept per worker thread: the discovery document is parsed and
    the access token refreshed once, not for every send."""

    # Gmail shows the sender's Sent copy through Google's image proxy, as it does the prospect's.
    capabilities = mail.Capabilities(
        replaces_tracked_sent_copy=True, inserts_messages=True, lists_send_as_aliases=True
    )

    def __init__(self, creds: Credentials):
        self.credentials = creds
        self._http = _Http(creds)
        api = _shared_resources()
        self._users_resource = api.users
        self._messages = api.messages
        self._threads = api.threads
        self._history = api.history
        self._send_as = api.send_as

    @classmethod
    def for_mailbox(cls, key, version, load_grant) -> "Gmail":
        """The cached client for `key` while its grant `version` is unchanged; `load_grant()`
        gives (refresh token, scopes) when a client must be built."""
        cache = getattr(_clients, "by_mailbox", None)
        if cache is None:
            cache = _clients.by_mailbox = {}
        cached = cache.get(key)
        if cached is None or cached[0] != version:
            cached = cache[key] = (version, cls(credentials(*load_grant())))
        return cached[1]

    @staticmethod
    def forget(key) -> None:
        getattr(_clients, "by_mailbox", {}).pop(key, None)

    def send_window(self) -> remote.WriteWindow:
        return send_window()

    @_translate_errors
    def profile(self) -> Profile:
        data = self._users_resource.getProfile(userId="me").execute(http=self._http)
        return Profile(email=data["emailAddress"].lower(), cursor=str(data["historyId"]))

    @_translate_errors
    def send_as_aliases(self) -> list[Alias]:
        response = self._send_as.list(userId="me").execute(http=self._http)
        return [
            Alias(
                email=entry["sendAsEmail"].lower(),
                display_name=entry.get("displayName", ""),
                is_primary=bool(entry.get("isPrimary")),
                is_default=bool(entry.get("isDefault")),
                # The primary address needs no verification and carries no verificationStatus.
                verified=bool(entry.get("isPrimary"))
                or entry.get("verificationStatus") == "accepted",
            )
            for entry in response.get("sendAs", [])
        ]

    @_translate_errors
    def send(self, raw: bytes, thread_id: str = "") -> Sent:
        body = {"raw": base64.urlsafe_b64encode(raw).decode()}
        if thread_id:
            body["threadId"] = thread_id
        data = self._messages.send(userId="me", body=body).execute(http=self._http)
        return Sent(id=data["id"], thread_id=data["threadId"])

    @_translate_errors
    def insert(self, raw: bytes, thread_id: str = "", label_ids=("SENT",)) -> Sent:
        """Files a message in this mailbox only (nothing is sent), dated by its Date header so
        that it sorts where the message it stands for does. It joins `thread_id` on Gmail's
        usual terms: it references an earlier message of the thread and its subject matches."""
        body = {"raw": base64.urlsafe_b64encode(raw).decode(), "labelIds": list(label_ids)}
        if thread_id:
            body["threadId"] = thread_id
        data = self._messages.insert(
            userId="me", body=body, internalDateSource="dateHeader"
        ).execute(http=self._http)
        return Sent(id=data["id"], thread_id=data["threadId"])

    @_translate_errors
    def trash(self, message_id: str) -> None:
        self._messages.trash(userId="me", id=message_id).execute(http=self._http)

    @_translate_errors
    def headers(self, message_id: str, names) -> MessageHeaders:
        data = self._messages.get(
            userId="me", id=message_id, format="metadata", metadataHeaders=list(names)
        ).execute(http=self._http)
        return _message_headers(data)

    @_translate_errors
    def raw(self, message_id: str) -> bytes:
        data = self._messages.get(userId="me", id=message_id, format="raw").execute(http=self._http)
        return base64.urlsafe_b64decode(data["raw"] + "=" * (-len(data["raw"]) % 4))

    @_translate_errors
    def thread(self, thread_id: str, names) -> list[MessageHeaders]:
        data = self._threads.get(
            userId="me", id=thread_id, format="metadata", metadataHeaders=list(names)
        ).execute(http=self._http)
        return [_message_headers(message) for message in data.get("messages", [])]

    @_translate_errors
    def search(self, query: str, limit: int = 100) -> list[tuple[str, str]]:
        """(message id, thread id) of messages matching a Gmail search."""
        found: list[tuple[str, str]] = []
        token = None
        while len(found) < limit:
            request = self._messages.list(
                userId="me", q=query, maxResults=min(100, limit), pageToken=token
            )
            data = request.execute(http=self._http)
            found.extend((m["id"], m["threadId"]) for m in data.get("messages", []))
            token = data.get("nextPageToken")
            if not token:
                break
        return found[:limit]

    def messages_from(self, sender: str, since: datetime, limit: int) -> list[tuple[str, str]]:
        return self.search(f"from:{sender} after:{int(since.timestamp())}", limit=limit)

    @_translate_errors
    def added_since(self, history_id: str, label: str | None = None) -> tuple[list[str], str]:
        """Ids of messages added since `history_id` (oldest first), and the latest history id.
        Raises NotFound when Gmail no longer keeps that history."""
        ids: list[str] = []
        token, latest = None, history_id
        while True:
            params = {
                "userId": "me",
                "startHistoryId": history_id,
                "historyTypes": ["messageAdded"],
                "maxResults": 500,
            }
            if label:
                params["labelId"] = label
            if token:
                params["pageToken"] = token
            data = self._history.list(**params).execute(http=self._http)
            for record in data.get("history", []):
                ids.extend(added["message"]["id"] for added in record.get("messagesAdded", []))
            latest = str(data.get("historyId", latest))
            token = data.get("nextPageToken")
            if not token:
                return list(dict.fromkeys(ids)), latest

    def find_sent(self, rfc822_message_id: str, history_id: str) -> MessageHeaders | None:
        """Our email with that Message-ID, if it is in Sent. Looked for in the history since
        `history_id`, read just before it was sent: history is written as a message is stored,
        whereas search can lag by minutes. History too old for Gmail falls back to search,
        which by then is long up to date."""
        try:
            candidates, _ = self.added_since(history_id, label="SENT")
        except NotFound:
            candidates = [mid for mid, _ in self.search(f"rfc822msgid:{rfc822_message_id}")]
        for message_id in candidates:
            item = self.headers(message_id, ["Message-ID"])
            if item.headers.get("message-id") == rfc822_message_id:
                return item
        return None


def _message_headers(data: dict) -> MessageHeaders:
    headers = {h["name"].lower(): h["value"] for h in data.get("payload", {}).get("headers", [])}
    return MessageHeaders(
        id=data["id"],
        thread_id=data["threadId"],
        internal_date_ms=int(data.get("internalDate", 0)),
        label_ids=tuple(data.get("labelIds", [])),
        headers=headers,
        snippet=html.unescape(data.get("snippet", "")),
    )
