"""Who is calling Harvest: a v1 API key in a Basic header (the key as username, an empty
password), or a v3 Bearer token from the client credentials grant of auth.greenhouse.io/token."""

import base64
import binascii
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from .. import id_tokens
from ..errors import OAuthError
from . import errors
from .models import GreenhouseUser, HarvestAccessToken, HarvestApiKey, HarvestOAuthClient

TOKEN_LIFETIME = timedelta(hours=1)
ISSUER = "https://auth.greenhouse.io"


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """(username, password) of a Basic Authorization header, or None if it is not one."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, _, password = decoded.partition(":")
    return username, password


def api_key(authorization: str) -> HarvestApiKey:
    credentials = basic_credentials(authorization)
    key = credentials and HarvestApiKey.objects.filter(key=credentials[0]).first()
    if not key:
        raise errors.unauthorized()
    return key


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as Harvest renders its timestamps."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _client(authorization: str) -> HarvestOAuthClient:
    credentials = basic_credentials(authorization)
    if credentials is None:
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    client = (
        HarvestOAuthClient.objects.filter(client_id=credentials[0])
        .select_related("service_account")
        .first()
    )
    if client is None or not secrets.compare_digest(credentials[1], client.client_secret):
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    return client


def _subject(client: HarvestOAuthClient, sub: str) -> GreenhouseUser:
    """The user the token acts as: `sub`, or the credential's service account without one."""
    if not sub:
        return client.service_account
    user = (
        GreenhouseUser.objects.filter(pk=int(sub), disabled=False, service_account=False).first()
        if sub.isdigit()
        else None
    )
    if user is None:
        raise OAuthError("invalid_request", f"sub {sub} is not an active user of this account.")
    return user


def issue_token(authorization: str, form) -> dict:
    """POST auth.greenhouse.io/token: Basic client_id:client_secret, a form with
    grant_type=client_credentials and optionally sub=<user id>. The token is a JWT valid 1 hour."""
    client = _client(authorization)
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise OAuthError("invalid_request", "Missing required parameter: grant_type")
    if grant_type != "client_credentials":
        raise OAuthError("unsupported_grant_type", f"Unsupported grant_type: {grant_type}")
    user = _subject(client, form.get("sub", "").strip())
    issued = timezone.now()
    expires = issued + TOKEN_LIFETIME
    token = id_tokens.sign(
        {
            "iss": ISSUER,
            "sub": str(user.pk),
            "client_id": client.client_id,
            "scope": " ".join(client.scopes),
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
    )
    HarvestAccessToken.objects.create(
        token_hash=_hash(token), client=client, user=user, created_at=issued, expires_at=expires
    )
    return {"access_token": token, "token_type": "Bearer", "expires_at": timestamp(expires)}


def bearer_token(authorization: str) -> HarvestAccessToken:
    scheme, _, token = authorization.partition(" ")
    found = (
        HarvestAccessToken.objects.select_related("client", "user")
        .filter(token_hash=_hash(token.strip()), expires_at__gt=timezone.now())
        .first()
        if scheme.lower() == "bearer" and token.strip()
        else None
    )
    if found is None:
        raise errors.unauthorized()
    return found
