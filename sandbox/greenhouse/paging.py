"""Harvest's two ways of paging a list, both through an RFC 5988 Link header.

v1: `per_page` (1-500, default 100) and `page`; the header has `next`, `prev` and `last` links.
v3: `per_page` on the first request only; the header has a `next` link whose opaque `cursor`
carries the filters and the position, and a request with a cursor may have no other parameter."""

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from .errors import invalid

DEFAULT_PER_PAGE, MAX_PER_PAGE = 100, 500


@dataclass(frozen=True)
class Page:
    items: list
    link: str  # the Link header, "" when there is no other page


def _per_page(value: str | None) -> int:
    if value is None:
        return DEFAULT_PER_PAGE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PER_PAGE:
        raise invalid("per_page", f"Must be an integer between 1 and {MAX_PER_PAGE}")
    return int(value)


def _url(request: HttpRequest, params: dict) -> str:
    return request.build_absolute_uri(request.path) + "?" + urlencode(params)


def v1_page(request: HttpRequest, found: QuerySet) -> Page:
    per_page = _per_page(request.GET.get("per_page"))
    page_text = request.GET.get("page", "1")
    if not page_text.isdigit() or int(page_text) < 1:
        raise invalid("page", "Must be a positive integer")
    page = int(page_text)
    total = found.count()
    last = max(1, -(-total // per_page))
    items = list(found[(page - 1) * per_page : page * per_page])
    params = {key: value for key, value in request.GET.items() if key not in ("page", "per_page")}
    links = []
    if page < last:
        links.append((page + 1, "next"))
    if page > 1:
        links.append((min(page - 1, last), "prev"))
    if last > 1:
        links.append((last, "last"))
    link = ", ".join(
        f'<{_url(request, {**params, "page": number, "per_page": per_page})}>; rel="{rel}"'
        for number, rel in links
    )
    return Page(items, link)


def _encode(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _decode(cursor: str) -> dict:
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as error:
        raise invalid("cursor", "Invalid cursor") from error
    if not isinstance(state, dict) or not {"query", "per_page", "after"} <= state.keys():
        raise invalid("cursor", "Invalid cursor")
    return state


def v3_query(request: HttpRequest) -> tuple[QueryDict, int, int | None]:
    """The filters of a v3 list request, its page size and the id to continue after: from the
    query string on a first request, from the cursor on the next ones."""
    cursor = request.GET.get("cursor")
    if cursor is None:
        return request.GET, _per_page(request.GET.get("per_page")), None
    if len(request.GET) > 1:
        raise invalid("cursor", "cursor cannot be combined with other query parameters")
    state = _decode(cursor)
    return QueryDict(state["query"]), int(state["per_page"]), int(state["after"])


def v3_page(
    request: HttpRequest, found: QuerySet, query: QueryDict, per_page: int, after: int | None
) -> Page:
    """One page of `found` in id order, after the id `after`."""
    if after is not None:
        found = found.filter(pk__gt=after)
    items = list(found.order_by("pk")[: per_page + 1])
    if len(items) <= per_page:
        return Page(items, "")
    items = items[:per_page]
    filters = query.copy()
    filters.pop("per_page", None)
    cursor = _encode({"query": filters.urlencode(), "per_page": per_page, "after": items[-1].pk})
    return Page(items, f'<{_url(request, {"cursor": cursor})}>; rel="next"')
