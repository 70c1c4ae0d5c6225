"""Which prospects a list shows: one typed filter, read from the query string by
`forms.ProspectFilterForm` and turned into a query by `selectors.matching_prospects`, so that the
list, "all N matching" and the export mean the same prospects."""

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

# "Status in any sequence": the statuses one filters by, and prospects in none.
STATUSES = (
    ("active", "Active"),
    ("paused", "Paused"),
    ("replied", "Replied"),
    ("finished", "Finished"),
    ("none", "In no sequence"),
)


@dataclass(frozen=True)
class ProspectFilter:
    search: str = ""
    status: str = ""
    owner_id: int | None = None
    tag_ids: tuple[int, ...] = field(default_factory=tuple)
    company: str = ""
    title: str = ""
    contacted_after: date | None = None
    contacted_before: date | None = None
    contacted_within_days: int | None = None
    replied: bool | None = None
    bounced: bool | None = None
    do_not_contact: bool | None = None

    def query_string(self) -> str:
        """The filter as the list's form writes it in a URL (what a link or a posted "all
        matching" carries)."""
        pairs: list[tuple[str, object]] = [
            ("q", self.search),
            ("status", self.status),
            ("owner", self.owner_id or ""),
            *(("tag", tag) for tag in self.tag_ids),
            ("company", self.company),
            ("title", self.title),
            ("contacted_after", self.contacted_after or ""),
            ("contacted_before", self.contacted_before or ""),
            ("contacted_days", self.contacted_within_days or ""),
            ("replied", _yes_no(self.replied)),
            ("bounced", _yes_no(self.bounced)),
            ("dnc", _yes_no(self.do_not_contact)),
        ]
        return urlencode([(k, v) for k, v in pairs if v not in ("", None)])

    @property
    def active(self) -> bool:
        return self != ProspectFilter()


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"
