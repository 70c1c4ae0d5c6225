"""Harvest's error answers: a JSON object with a `message`, and for a validation error (422) the
list of fields that failed, as Harvest documents them (see the package docstring for which
wordings are Greenhouse's and which are the sandbox's)."""

from django.http import JsonResponse


class HarvestError(Exception):
    """`{"message": ..., "errors": [{"message", "field"}]}`."""

    def __init__(
        self, status: int, message: str, errors: list | None = None, headers: dict | None = None
    ):
        super().__init__(message)
        self.status, self.message = status, message
        self.errors, self.headers = errors or [], headers or {}

    def response(self) -> JsonResponse:
        body = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        response = JsonResponse(body, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def unauthorized() -> HarvestError:
    return HarvestError(401, "Unauthorized")


def forbidden(message: str = "Forbidden") -> HarvestError:
    return HarvestError(403, message)


def not_found() -> HarvestError:
    return HarvestError(404, "Resource not found")


def bad_request(message: str) -> HarvestError:
    return HarvestError(400, message)


def invalid(field: str, message: str) -> HarvestError:
    return HarvestError(422, "Validation error", [{"message": message, "field": field}])


def too_many_requests(retry_after: int) -> HarvestError:
    # Harvest leaves X-RateLimit-Limit and X-RateLimit-Remaining off its 429s.
    return HarvestError(429, "Too Many Requests", headers={"Retry-After": str(retry_after)})


def server_fault(status: int, retry_after: int) -> HarvestError:
    """What a switched-on fault answers on a Harvest endpoint."""
    if status == 429:
        return too_many_requests(retry_after)
    if status == 503:
        return HarvestError(503, "Service Unavailable")
    return HarvestError(500, "Internal Server Error")
