"""Google's OAuth endpoints: the consent page (accounts.google.com/o/oauth2/auth), the token
endpoint and revocation (oauth2.googleapis.com/token, /revoke)."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import calls, control, faults, id_tokens, oauth, scopes
from .errors import OAuthError, oauth_server_fault
from .models import GoogleAccount


def _error_page(request: HttpRequest, error: oauth.ConsentError) -> HttpResponse:
    return render(request, "sandbox/oauth_error.html", {"error": error}, status=error.status)


@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """GET shows the account chooser and the consent screen; POST is the user's answer. The
    original query travels in a hidden field so that it is validated again on the answer."""
    query = request.GET.urlencode() if request.method == "GET" else request.POST.get("request", "")
    try:
        auth = oauth.parse_auth_request(QueryDict(query))
    except oauth.ConsentError as error:
        return _error_page(request, error)
    problem = ""
    if request.method == "POST":
        if request.POST.get("decision") == "deny":
            return HttpResponseRedirect(oauth.deny(auth))
        email = (request.POST.get("new_email") or request.POST.get("account") or "").strip()
        try:
            validate_email(email)
        except ValidationError:
            problem = "Choose an account or enter a valid email address."
        else:
            account = GoogleAccount.objects.filter(email=email.lower()).first()
            if account is None:
                account = control.create_account(email, request.POST.get("new_name", "").strip())
            return HttpResponseRedirect(oauth.approve(auth, account))
    accounts = GoogleAccount.objects.all()
    return render(
        request,
        "sandbox/consent.html",
        {
            "auth": auth,
            "query": query,
            "problem": problem,
            "accounts": accounts,
            # A login_hint for an address the sandbox does not know fills "Use another account".
            "new_email": "" if accounts.filter(email=auth.login_hint).exists() else auth.login_hint,
            "requested": [(scope, scopes.DESCRIPTIONS[scope]) for scope in auth.scopes],
        },
    )


def _oauth_endpoint(endpoint: str, request: HttpRequest, action) -> HttpResponse:
    try:
        status = faults.apply(endpoint)
        if status:
            raise oauth_server_fault(status)
        response = JsonResponse(action())
    except OAuthError as error:
        response = error.response()
    # Token responses must never be cached (RFC 6749 section 5.1).
    response["Cache-Control"] = "no-cache, no-store, max-age=0, must-revalidate"
    response["Pragma"] = "no-cache"
    calls.record(
        request, endpoint, response.status_code, client_id=request.POST.get("client_id", "")
    )
    return response


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    return _oauth_endpoint(
        faults.TOKEN_ENDPOINT,
        request,
        lambda: oauth.token_endpoint(request.headers.get("Authorization", ""), request.POST),
    )


@csrf_exempt
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    def action() -> dict:
        oauth.revoke_token(request.POST.get("token") or request.GET.get("token", ""))
        return {}

    return _oauth_endpoint(faults.REVOKE_ENDPOINT, request, action)


def certs(request: HttpRequest) -> HttpResponse:
    """The public keys of ID tokens (www.googleapis.com/oauth2/v3/certs)."""
    return JsonResponse(id_tokens.jwks())
