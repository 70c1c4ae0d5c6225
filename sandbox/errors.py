"""Errors in the shapes Google answers them: the JSON error of Google APIs, and the OAuth token
endpoint's RFC 6749 error."""

from django.http import JsonResponse

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """`{"error": {"code", "message", "errors": [{message, domain, reason}], "status"}}`."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        *,
        domain: str = "global",
        error_message: str | None = None,
        location: tuple[str, str] | None = None,
        details: list | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.code, self.message, self.reason, self.domain = code, message, reason, domain
        # Google often words the top-level message and the errors[] one differently.
        self.error_message = error_message or message
        self.location, self.details, self.headers = location, details, headers or {}

    def body(self) -> dict:
        item = {"message": self.error_message, "domain": self.domain, "reason": self.reason}
        if self.location:
            item["locationType"], item["location"] = self.location
        error = {
            "code": self.code,
            "message": self.message,
            "errors": [item],
            "status": STATUS_NAMES[self.code],
        }
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def response(self) -> JsonResponse:
        response = JsonResponse(self.body(), status=self.code)
        for name, value in self.headers.items():
            response[name] = value
        return response


def not_found() -> ApiError:
    return ApiError(404, "Requested entity was not found.", "notFound")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, "badRequest")


def invalid_credentials() -> ApiError:
    return ApiError(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "authError",
        error_message="Invalid Credentials",
        location=("header", "Authorization"),
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )


def insufficient_scopes(method_id: str, accepted: list[str]) -> ApiError:
    return ApiError(
        403,
        "Request had insufficient authentication scopes.",
        "insufficientPermissions",
        error_message="Insufficient Permission",
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "domain": "googleapis.com",
                "metadata": {"service": "gmail.googleapis.com", "method": method_id},
            }
        ],
        headers={
            "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
            f'error="insufficient_scope", scope="{" ".join(accepted)}"'
        },
    )


def server_fault(status: int) -> ApiError:
    """What a switched-on fault answers on a Gmail endpoint."""
    if status == 429:
        return ApiError(
            429,
            "Resource has been exhausted (e.g. check quota).",
            "rateLimitExceeded",
            domain="usageLimits",
        )
    if status == 503:
        return ApiError(503, "The service is currently unavailable.", "backendError")
    return ApiError(500, "Internal error encountered.", "backendError")


class OAuthError(Exception):
    """`{"error": ..., "error_description": ...}`, as oauth2.googleapis.com/token answers."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status

    def response(self) -> JsonResponse:
        return JsonResponse(
            {"error": self.error, "error_description": self.description}, status=self.status
        )


def oauth_server_fault(status: int) -> OAuthError:
    if status == 429:
        return OAuthError("rate_limit_exceeded", "Rate limit exceeded.", 429)
    if status == 503:
        return OAuthError("temporarily_unavailable", "Service unavailable.", 503)
    return OAuthError("internal_failure", "Backend Error", 500)
