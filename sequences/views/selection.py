"""Which prospects an action on the prospect list is for: the rows checked, or "all N matching",
which carries the list's filter (never the ids), so that it means the very query the list
showed, whatever its size."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from outreach.models import User
from outreach.tenancy import scope_to_user

from .. import bulk_enroll
from ..forms import ProspectFilterForm
from ..models import Prospect


def filter_form(request: HttpRequest, data: QueryDict | None) -> ProspectFilterForm:
    return bulk_enroll.filter_form(_user(request), data)


def _user(request: HttpRequest) -> User:
    """The signed-in member (the permission middleware lets no one else reach these views)."""
    assert isinstance(request.user, User)
    return request.user


@dataclass(frozen=True)
class Selection:
    prospects: QuerySet[Prospect]
    # The list's filter as a query string: what "all matching" carries on, "" for checked rows.
    filter_query: str = ""
    error: str = ""

    @property
    def all_matching(self) -> bool:
        return bool(self.filter_query)

    def hidden_fields(self) -> dict[str, str]:
        return {"all_matching": "1", "filter": self.filter_query} if self.filter_query else {}


def chosen(request: HttpRequest, ids_field: str = "selected") -> Selection:
    """The prospects a POST names: `all_matching` with the `filter` it was shown under, or the
    checked ids in `ids_field`. A filter that no longer reads (a tag deleted since) is an error,
    never a wider selection."""
    data = request.POST
    if data.get("all_matching") == "1":
        query = data.get("filter", "")
        matching = bulk_enroll.matching(_user(request), query)
        if matching is None:
            return Selection(Prospect.objects.none(), error=bulk_enroll.FILTER_GONE)
        # An empty filter is every prospect: a marker keeps "all of them" apart from "checked".
        return Selection(matching, filter_query=query or "all=1")
    ids = [value for value in data.getlist(ids_field) if value.isdigit()]
    prospects = scope_to_user(Prospect, request.user).filter(pk__in=ids).order_by("email")
    return Selection(prospects, error="" if ids else "Choose at least one prospect.")
