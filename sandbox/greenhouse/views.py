"""The views of Greenhouse's hosts: auth.greenhouse.io/token and harvest.greenhouse.io's routes."""

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .. import calls, faults
from ..errors import OAuthError, oauth_server_fault
from . import api, auth
from . import endpoints as ids


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    authorization = request.headers.get("Authorization", "")
    try:
        status = faults.apply(ids.TOKEN)
        if status:
            raise oauth_server_fault(status)
        response = JsonResponse(auth.issue_token(authorization, request.POST))
    except OAuthError as error:
        response = error.response()
    # Token responses must never be cached (RFC 6749 section 5.1).
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    credentials = auth.basic_credentials(authorization)
    calls.record(
        request, ids.TOKEN, response.status_code, client_id=credentials[0] if credentials else ""
    )
    return response


def endpoint(**by_http_method: str):
    """The view of one Harvest path: the endpoint id to run for each HTTP method."""

    @csrf_exempt
    def view(request: HttpRequest, **kwargs) -> HttpResponse:
        endpoint_id = by_http_method.get(request.method)
        if endpoint_id is None:
            return HttpResponseNotAllowed(list(by_http_method))
        return api.serve(request, api.ENDPOINTS[endpoint_id], kwargs)

    return view
