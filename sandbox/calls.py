"""The log of calls to the sandbox's Google and Greenhouse endpoints that its UI shows."""

from .models import ApiCall

KEEP = 1000


def record(
    request,
    endpoint: str,
    status: int,
    *,
    account_email: str = "",
    client_id: str = "",
    units=0,
    dropped: bool = False,
) -> None:
    call = ApiCall.objects.create(
        endpoint=endpoint,
        http_method=request.method,
        path=request.get_full_path(),
        status=status,
        account_email=account_email,
        client_id=client_id,
        units=units,
        dropped=dropped,
    )
    ApiCall.objects.filter(pk__lte=call.pk - KEEP).delete()


def recent(limit: int = 50):
    return ApiCall.objects.all()[:limit]
