"""OpenID Connect ID tokens as Google issues them: RS256 JWTs signed with a key whose public half
is published at /oauth2/v3/certs (Google's JWKS)."""

import base64
import hashlib
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone
from google.auth import crypt, jwt

from . import scopes
from .models import GoogleAccount, OAuthClient, SigningKey

ISSUER = "https://accounts.google.com"
LIFETIME_SECONDS = 3600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _key() -> SigningKey:
    key = SigningKey.objects.order_by("pk").first()
    if key is None:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        key = SigningKey.objects.create(kid=secrets.token_hex(20), private_pem=pem)
    return key


def subject(account: GoogleAccount) -> str:
    """Google's `sub`: a stable 21-digit number per account."""
    return str(10**20 + account.pk)


def issue(
    *, account: GoogleAccount, client: OAuthClient, granted: list[str], access_token: str, nonce=""
) -> str:
    now = int(timezone.now().timestamp())
    # at_hash: the left half of the access token's SHA-256 (OpenID Connect Core 3.1.3.6).
    digest = hashlib.sha256(access_token.encode()).digest()
    claims = {
        "iss": ISSUER,
        "azp": client.client_id,
        "aud": client.client_id,
        "sub": subject(account),
        "at_hash": _b64url(digest[: len(digest) // 2]),
        "iat": now,
        "exp": now + LIFETIME_SECONDS,
    }
    if scopes.USERINFO_EMAIL in granted:
        claims.update(email=account.email, email_verified=True)
    if scopes.USERINFO_PROFILE in granted and account.display_name:
        claims["name"] = account.display_name
    if nonce:
        claims["nonce"] = nonce
    return sign(claims)


def sign(claims: dict) -> str:
    """An RS256 JWT of `claims`, signed with the sandbox's key (also for Greenhouse's tokens)."""
    key = _key()
    signer = crypt.RSASigner.from_string(key.private_pem, key_id=key.kid)
    return jwt.encode(signer, claims).decode()


def jwks() -> dict:
    keys = []
    for key in SigningKey.objects.order_by("pk"):
        public = serialization.load_pem_private_key(key.private_pem.encode(), None).public_key()
        numbers = public.public_numbers()
        keys.append(
            {
                "kty": "RSA",
                "alg": "RS256",
                "use": "sig",
                "kid": key.kid,
                "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                "e": _b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
            }
        )
    return {"keys": keys}
