"""The sandbox's Google OAuth, driven only through google-auth-oauthlib's Flow, google-auth's
Credentials.refresh and plain HTTP where a browser would be."""

import base64

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError

from sandbox import control, scopes
from sandbox.models import Grant, RefreshToken

RECRUITER = "recruiter@acme.example"


def test_consent_round_trip_with_pkce_gives_working_credentials(sandbox):
    control.create_account(RECRUITER, "Rick Recruiter")
    flow = sandbox.flow([scopes.SEND, scopes.READONLY])
    auth_url, state = flow.authorization_url(prompt="consent")
    query = sandbox.query_of(auth_url)
    assert query["code_challenge_method"] == "S256" and query["access_type"] == "offline"

    redirect = sandbox.consent(auth_url, email=RECRUITER)

    answer = sandbox.query_of(redirect)
    assert redirect.startswith(sandbox.redirect_uri + "?")
    assert answer["state"] == state
    assert answer["scope"].split() == sorted([scopes.SEND, scopes.READONLY])
    # The callback rebuilds the Flow with the same state and code_verifier, as the product does.
    callback = sandbox.flow([scopes.SEND, scopes.READONLY], state=state)
    callback.code_verifier = flow.code_verifier
    token = callback.fetch_token(authorization_response=redirect)
    assert token["expires_in"] > 3000 and token["token_type"] == "Bearer"
    credentials = callback.credentials
    assert credentials.refresh_token and credentials.expiry
    assert sorted(credentials.granted_scopes) == sorted([scopes.SEND, scopes.READONLY])
    profile = sandbox.gmail(credentials).users().getProfile(userId="me").execute()
    assert profile["emailAddress"] == RECRUITER
    assert int(profile["historyId"]) > 0


def test_state_is_echoed_exactly(sandbox):
    flow = sandbox.flow()
    odd_state = "a b/c?d=e&f+g%h"
    auth_url, _ = flow.authorization_url(state=odd_state)
    assert sandbox.query_of(sandbox.consent(auth_url, email=RECRUITER))["state"] == odd_state


def test_a_new_address_typed_on_the_consent_page_becomes_an_account(sandbox):
    credentials = sandbox.connect("New.Person@Example.com")
    assert control.account("new.person@example.com").grants.get().scopes == sorted(
        [scopes.SEND, scopes.READONLY]
    )
    assert credentials.token


def test_deny_redirects_with_access_denied_and_the_state(sandbox):
    flow = sandbox.flow()
    auth_url, state = flow.authorization_url()
    answer = sandbox.query_of(sandbox.consent(auth_url, email=RECRUITER, decision="deny"))
    assert answer == {"error": "access_denied", "state": state}
    assert not Grant.objects.exists()


def test_wrong_code_verifier_is_invalid_grant(sandbox):
    flow = sandbox.flow()
    auth_url, state = flow.authorization_url()
    redirect = sandbox.consent(auth_url, email=RECRUITER)
    callback = sandbox.flow(state=state)
    callback.code_verifier = "x" * 64
    with pytest.raises(InvalidGrantError, match="Invalid code verifier"):
        callback.fetch_token(authorization_response=redirect)


def test_a_code_works_once(sandbox):
    flow = sandbox.flow()
    auth_url, _ = flow.authorization_url()
    code = sandbox.query_of(sandbox.consent(auth_url, email=RECRUITER))["code"]
    flow.fetch_token(code=code)
    with pytest.raises(InvalidGrantError):
        flow.fetch_token(code=code)
    with pytest.raises(InvalidGrantError, match="Malformed auth code"):
        flow.fetch_token(code="4/0Aunknown")


def test_code_exchange_needs_the_client_secret(sandbox):
    flow = sandbox.flow()
    auth_url, _ = flow.authorization_url()
    code = sandbox.query_of(sandbox.consent(auth_url, email=RECRUITER))["code"]
    answer = requests.post(
        f"{sandbox.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": sandbox.redirect_uri,
        },
        headers={
            "Authorization": "Basic "
            + base64.b64encode(b"%s:wrong" % sandbox.client_id.encode()).decode()
        },
        timeout=10,
    )
    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid_client", "error_description": "Unauthorized"}


def test_refresh_gives_a_new_access_token_with_expiry_and_scopes(sandbox):
    credentials = sandbox.connect(RECRUITER)
    first = credentials.token
    credentials.refresh(Request())
    assert credentials.token != first
    assert credentials.expiry and not credentials.expired
    assert sorted(credentials.granted_scopes) == sorted([scopes.SEND, scopes.READONLY])
    sandbox.gmail(credentials).users().getProfile(userId="me").execute()


def test_revoked_grant_gives_invalid_grant_on_refresh_and_401_on_calls(sandbox):
    credentials = sandbox.connect(RECRUITER)
    answer = requests.post(
        f"{sandbox.url}/revoke", data={"token": credentials.refresh_token}, timeout=10
    )
    assert answer.status_code == 200
    with pytest.raises(RefreshError, match="invalid_grant"):
        credentials.refresh(Request())
    profile = requests.get(
        f"{sandbox.url}/gmail/v1/users/me/profile",
        headers={"Authorization": f"Bearer {credentials.token}"},
        timeout=10,
    )
    assert profile.status_code == 401
    assert profile.json()["error"]["errors"][0]["reason"] == "authError"
    with pytest.raises(RefreshError, match="invalid_grant"):
        # The client library refreshes once on a 401; the refresh fails for good.
        sandbox.gmail(credentials).users().getProfile(userId="me").execute()
    assert requests.post(f"{sandbox.url}/revoke", data={"token": "nope"}, timeout=10).json() == {
        "error": "invalid_token",
        "error_description": "Token expired or revoked",
    }


def test_revoking_from_the_python_api_kills_the_refresh_token(sandbox):
    credentials = sandbox.connect(RECRUITER)
    assert control.revoke_grant(RECRUITER) == 1
    with pytest.raises(RefreshError, match="invalid_grant: Token has been expired or revoked"):
        credentials.refresh(Request())


def test_a_second_consent_without_prompt_consent_gives_no_refresh_token(sandbox):
    sandbox.connect(RECRUITER)
    flow = sandbox.flow()
    auth_url, _ = flow.authorization_url()
    token = flow.fetch_token(authorization_response=sandbox.consent(auth_url, email=RECRUITER))
    assert "refresh_token" not in token
    assert RefreshToken.objects.count() == 1


def test_incremental_consent_merges_granted_scopes(sandbox):
    sandbox.connect(RECRUITER, [scopes.SEND])
    flow = sandbox.flow([scopes.READONLY])
    auth_url, _ = flow.authorization_url(include_granted_scopes="true", prompt="consent")
    answer = sandbox.query_of(sandbox.consent(auth_url, email=RECRUITER))
    assert answer["scope"].split() == sorted([scopes.SEND, scopes.READONLY])
    assert Grant.objects.get().scopes == sorted([scopes.SEND, scopes.READONLY])


def test_refresh_cannot_widen_scopes(sandbox):
    credentials = sandbox.connect(RECRUITER, [scopes.SEND])
    answer = requests.post(
        f"{sandbox.url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": credentials.refresh_token,
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "scope": scopes.MAIL,
        },
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"redirect_uri": "http://evil.example/callback"}, "redirect_uri_mismatch"),
        ({"client_id": "unknown"}, "invalid_client"),
        ({"scope": "https://www.googleapis.com/auth/drive"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_bad_authorization_requests_stop_on_googles_error_page(sandbox, change, error):
    flow = sandbox.flow()
    auth_url, _ = flow.authorization_url()
    query = {**sandbox.query_of(auth_url), **change}
    page = requests.get(f"{sandbox.url}/o/oauth2/auth", params=query, timeout=10)
    assert page.status_code in (400, 401)
    assert error in page.text


def test_token_endpoint_fault_is_retried_by_google_auth(sandbox):
    credentials = sandbox.connect(RECRUITER)
    control.fail_next("oauth2.token", count=1, status=503)
    credentials.refresh(Request())
    assert credentials.valid


def test_unknown_grant_type_and_missing_code(sandbox):
    data = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    answer = requests.post(
        f"{sandbox.url}/token", data={**data, "grant_type": "password"}, timeout=10
    )
    assert answer.json()["error"] == "unsupported_grant_type"
    answer = requests.post(
        f"{sandbox.url}/token", data={**data, "grant_type": "authorization_code"}, timeout=10
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_request",
        "error_description": "Missing required parameter: code",
    }


def _public_pems(jwks: dict) -> dict[str, bytes]:
    def number(value: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")

    return {
        key["kid"]: rsa.RSAPublicNumbers(number(key["e"]), number(key["n"]))
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        for key in jwks["keys"]
    }


def test_sign_in_with_openid_email_gives_a_signed_id_token(sandbox, monkeypatch):
    control.create_account(RECRUITER, "Rick Recruiter")
    flow = sandbox.flow(["openid", "email"])
    auth_url, _ = flow.authorization_url(
        access_type="online", prompt="select_account", nonce="n-0S6_WzA2Mj"
    )
    redirect = sandbox.consent(auth_url, email=RECRUITER)
    # Google answers with the long name of "email": oauthlib calls that a scope change (unless
    # told to relax, as the product does for its whole process).
    monkeypatch.delenv("OAUTHLIB_RELAX_TOKEN_SCOPE", raising=False)
    assert set(sandbox.query_of(redirect)["scope"].split()) == {"openid", scopes.USERINFO_EMAIL}
    with pytest.raises(Warning, match="Scope has changed"):
        flow.fetch_token(authorization_response=redirect)

    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    flow = sandbox.flow(["openid", "email"])
    auth_url, _ = flow.authorization_url(access_type="online", nonce="n-0S6_WzA2Mj")
    token = flow.fetch_token(authorization_response=sandbox.consent(auth_url, email=RECRUITER))
    assert "refresh_token" not in token
    certs = requests.get(f"{sandbox.url}/oauth2/v3/certs", timeout=10).json()
    claims = jwt.decode(token["id_token"], certs=_public_pems(certs), audience=sandbox.client_id)
    assert claims["iss"] == "https://accounts.google.com"
    assert (claims["email"], claims["email_verified"], claims["nonce"]) == (
        RECRUITER,
        True,
        "n-0S6_WzA2Mj",
    )
    assert len(claims["sub"]) == 21
