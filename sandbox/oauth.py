"""Google's OAuth 2.0 server for web applications: the authorization request and its consent,
the token endpoint (authorization_code with PKCE, refresh_token) and revocation."""

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone

from . import id_tokens
from . import scopes as gmail_scopes
from .errors import OAuthError
from .models import AccessToken, AuthorizationCode, GoogleAccount, Grant, OAuthClient, RefreshToken

CODE_LIFETIME = timedelta(minutes=10)
ACCESS_TOKEN_SECONDS = 3599


class ConsentError(Exception):
    """A request Google refuses on its own error page instead of redirecting back: the redirect
    target cannot be trusted yet."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status


@dataclass(frozen=True)
class AuthRequest:
    client: OAuthClient
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    offline: bool
    prompt: frozenset[str]
    code_challenge: str
    code_challenge_method: str
    include_granted_scopes: bool
    login_hint: str
    nonce: str


def parse_auth_request(params) -> AuthRequest:
    """Validates the query of /o/oauth2/auth in the order Google reports problems."""

    def required(name: str) -> str:
        value = params.get(name, "")
        if not value:
            raise ConsentError("invalid_request", f"Missing required parameter: {name}")
        return value

    client = OAuthClient.objects.filter(client_id=required("client_id")).first()
    if client is None:
        raise ConsentError("invalid_client", "The OAuth client was not found.", 401)
    redirect_uri = required("redirect_uri")
    if redirect_uri not in client.redirect_uris:
        raise ConsentError(
            "redirect_uri_mismatch",
            f"The redirect URI in the request, {redirect_uri}, does not match the ones "
            "authorized for the OAuth client.",
        )
    response_type = required("response_type")
    if response_type != "code":
        raise ConsentError("unsupported_response_type", f"Invalid response_type: {response_type}")
    requested = tuple(dict.fromkeys(gmail_scopes.normalize(s) for s in required("scope").split()))
    invalid = [scope for scope in requested if scope not in gmail_scopes.KNOWN]
    if invalid:
        raise ConsentError(
            "invalid_scope", f"Some requested scopes were invalid. {{invalid={invalid}}}"
        )
    access_type = params.get("access_type", "online")
    if access_type not in ("online", "offline"):
        raise ConsentError("invalid_request", f"Invalid access_type: {access_type}")
    challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "plain") if challenge else ""
    if method not in ("", "plain", "S256"):
        raise ConsentError("invalid_request", f"Invalid code_challenge_method: {method}")
    return AuthRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=requested,
        state=params.get("state"),
        offline=access_type == "offline",
        prompt=frozenset(params.get("prompt", "").split()),
        code_challenge=challenge,
        code_challenge_method=method,
        include_granted_scopes=params.get("include_granted_scopes") == "true",
        login_hint=params.get("login_hint", "").strip().lower(),
        nonce=params.get("nonce", ""),
    )


def _redirect(uri: str, params: dict) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [
        (key, value) for key, value in params.items() if value is not None
    ]
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def approve(request: AuthRequest, account: GoogleAccount) -> str:
    """The user allowed the client: a one-time code, and the redirect back carrying it."""
    with transaction.atomic():
        grant = (
            Grant.objects.select_for_update()
            .filter(account=account, client=request.client, revoked_at__isnull=True)
            .first()
        )
        first_consent = grant is None
        if first_consent:
            grant = Grant.objects.create(account=account, client=request.client, scopes=[])
        previously = list(grant.scopes)
        grant.scopes = sorted({*previously, *request.scopes})
        grant.save(update_fields=["scopes"])
        code_scopes = sorted(
            {*request.scopes, *(previously if request.include_granted_scopes else ())}
        )
        code = AuthorizationCode.objects.create(
            code="4/0A" + secrets.token_urlsafe(40),
            grant=grant,
            scopes=code_scopes,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            # Google hands out a refresh token on the first offline consent only, unless the app
            # forces the consent screen again with prompt=consent.
            issue_refresh_token=request.offline and (first_consent or "consent" in request.prompt),
            expires_at=timezone.now() + CODE_LIFETIME,
            nonce=request.nonce,
        )
    return _redirect(
        request.redirect_uri,
        {
            "state": request.state,
            "code": code.code,
            "scope": " ".join(code_scopes),
            "authuser": "0",
            "prompt": "consent",
        },
    )


def deny(request: AuthRequest) -> str:
    return _redirect(request.redirect_uri, {"error": "access_denied", "state": request.state})


def authenticate_client(authorization: str, form) -> OAuthClient:
    """Client credentials from an HTTP Basic header (client_secret_basic) or from the form
    (client_secret_post): Google accepts either for every grant type."""
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as error:
            raise OAuthError("invalid_request", "Malformed Authorization header.") from error
        client_id, _, secret = (unquote(part) for part in decoded.partition(":"))
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if not client_id:
        raise OAuthError("invalid_request", "Could not determine client ID from request.")
    client = OAuthClient.objects.filter(client_id=client_id).first()
    if client is None:
        raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
    if not secrets.compare_digest(secret, client.client_secret):
        raise OAuthError("invalid_client", "Unauthorized", 401)
    return client


def _required(form, name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise OAuthError("invalid_request", f"Missing required parameter: {name}")
    return value


def _verify_pkce(code: AuthorizationCode, verifier: str) -> None:
    if not code.code_challenge:
        return
    if not verifier:
        raise OAuthError("invalid_grant", "Missing code verifier.")
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    else:
        computed = verifier
    if not secrets.compare_digest(computed, code.code_challenge):
        raise OAuthError("invalid_grant", "Invalid code verifier.")


def _issue_access_token(grant: Grant, token_scopes: list[str], nonce: str = "") -> dict:
    token = AccessToken.objects.create(
        token="ya29." + secrets.token_urlsafe(64),
        grant=grant,
        scopes=token_scopes,
        expires_at=timezone.now() + timedelta(seconds=ACCESS_TOKEN_SECONDS),
    )
    response = {
        "access_token": token.token,
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": " ".join(token_scopes),
        "token_type": "Bearer",
    }
    if gmail_scopes.OPENID in token_scopes:
        response["id_token"] = id_tokens.issue(
            account=grant.account,
            client=grant.client,
            granted=token_scopes,
            access_token=token.token,
            nonce=nonce,
        )
    return response


def exchange_code(client: OAuthClient, form) -> dict:
    with transaction.atomic():
        code = (
            AuthorizationCode.objects.select_for_update()
            .select_related("grant")
            .filter(code=_required(form, "code"))
            .first()
        )
        if code is None:
            raise OAuthError("invalid_grant", "Malformed auth code.")
        if (
            code.used_at is not None
            or code.expires_at <= timezone.now()
            or code.grant.client_id != client.pk
            or code.grant.revoked_at is not None
        ):
            raise OAuthError("invalid_grant", "Bad Request")
        if form.get("redirect_uri", "") != code.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "Bad Request")
        _verify_pkce(code, form.get("code_verifier", ""))
        code.used_at = timezone.now()
        code.save(update_fields=["used_at"])
        response = _issue_access_token(code.grant, code.scopes, code.nonce)
        if code.issue_refresh_token:
            refresh = RefreshToken.objects.create(
                token="1//0g" + secrets.token_urlsafe(48), grant=code.grant, scopes=code.scopes
            )
            response["refresh_token"] = refresh.token
    return response


def refresh(client: OAuthClient, form) -> dict:
    token = (
        RefreshToken.objects.select_related("grant")
        .filter(token=_required(form, "refresh_token"), grant__revoked_at__isnull=True)
        .first()
    )
    if token is None:
        raise OAuthError("invalid_grant", "Token has been expired or revoked.")
    if token.grant.client_id != client.pk:
        raise OAuthError("unauthorized_client", "Unauthorized")
    # The client may narrow the scopes of the new access token, never widen them.
    requested = [gmail_scopes.normalize(scope) for scope in form.get("scope", "").split()]
    beyond = sorted(set(requested) - set(token.scopes))
    if beyond:
        raise OAuthError(
            "invalid_scope", f"Some requested scopes were invalid. {{invalid={beyond}}}"
        )
    return _issue_access_token(token.grant, sorted(set(requested)) if requested else token.scopes)


def token_endpoint(authorization: str, form) -> dict:
    client = authenticate_client(authorization, form)
    grant_type = _required(form, "grant_type")
    if grant_type == "authorization_code":
        return exchange_code(client, form)
    if grant_type == "refresh_token":
        return refresh(client, form)
    raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")


def _live_grant_of(token: str) -> Grant | None:
    for model in (AccessToken, RefreshToken):
        found = model.objects.select_related("grant").filter(token=token).first()
        if found and found.grant.revoked_at is None:
            return found.grant
    return None


def revoke_token(token: str) -> None:
    """Revoking any token of a grant removes the app's access, as at Google."""
    grant = _live_grant_of(token) if token else None
    if grant is None:
        raise OAuthError("invalid_token", "Token expired or revoked")
    revoke_grants(Grant.objects.filter(pk=grant.pk))


def revoke_grants(grants) -> int:
    return grants.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def authenticate(access_token: str) -> AccessToken | None:
    """The live access token behind a Bearer header, with its grant and account."""
    return (
        AccessToken.objects.select_related("grant__account", "grant__client")
        .filter(token=access_token, expires_at__gt=timezone.now(), grant__revoked_at__isnull=True)
        .first()
    )
