"""Whether a row's address is on its organization's do-not-contact list, as SQL: below the
selectors and the list's own module, so that both (and the send path) ask it the same way."""

from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Lower, StrIndex, Substr

from .models import DoNotContact


def listed_expression(organization: str = "organization_id", email: str = "prospect__email"):
    """Whether the outer row's address is on its organization's list, as a subquery that rides
    along in the query that loads the row (the send path adds no query for it)."""
    address = Lower(OuterRef(email))
    domain = Substr(address, StrIndex(address, Value("@")) + 1)
    return Exists(
        DoNotContact.objects.filter(organization_id=OuterRef(organization))
        .annotate(entry=Lower("value"))
        .filter(Q(entry=address) | Q(entry=domain))
    )
