"""Keyset pagination: a page of a long list (newest or soonest first) read off an index from
where the page before ended, so that the thousandth page costs what the first does. No offset
to skip over and no COUNT of the whole list: the pager says "Newer / Older", not "page 7 of
40,000". Links keep the list's filters."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.http import urlencode

PAGE_SIZE = 50
T = TypeVar("T", bound=Model)


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    rows: list[T]
    # Links to the pages on either side ("" where there is none), filters kept.
    earlier_url: str
    later_url: str

    def __iter__(self) -> Iterator[T]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)


def _cursor(row: Model, key: str) -> str:
    value = getattr(row, key)
    return f"{value.isoformat()}_{row.pk}"


def _parse(cursor: str) -> tuple[datetime, int] | None:
    value, _, pk = cursor.rpartition("_")
    try:
        return datetime.fromisoformat(value), int(pk)
    except ValueError:
        return None  # a link cut short, or typed: the first page


def _beyond(key: str, at: tuple[datetime, int], *, smaller: bool) -> Q:
    # The bound on `key` alone lets the index scan start at the cursor; the tie on it is broken
    # by the primary key, the list's second order.
    value, pk = at
    op = "lt" if smaller else "gt"
    return Q(**{f"{key}__{op}e": value}) & (Q(**{f"{key}__{op}": value}) | Q(**{f"pk__{op}": pk}))


def keyset_page(
    rows: QuerySet[T],
    *,
    key: str,
    params: Mapping[str, str],
    newest_first: bool = True,
    keep: Mapping[str, str] | None = None,
    size: int = PAGE_SIZE,
) -> KeysetPage[T]:
    """The page of `rows` (ordered by `key`, a non-null datetime, then pk) that `params` (the
    request's GET) names by `after` (the page after that row) or `before`; the first without.
    `keep` is the filters every link repeats. An index on (..., key, id) serves each page."""
    forward = [f"-{key}", "-pk"] if newest_first else [key, "pk"]
    backward = [key, "pk"] if newest_first else [f"-{key}", "-pk"]
    before = _parse(params.get("before", ""))
    after = None if before else _parse(params.get("after", ""))
    if before:
        fetched = list(
            rows.filter(_beyond(key, before, smaller=not newest_first)).order_by(*backward)[
                : size + 1
            ]
        )
        more_earlier, more_later = len(fetched) > size, True
        page = fetched[:size][::-1]
    else:
        if after:
            rows = rows.filter(_beyond(key, after, smaller=newest_first))
        fetched = list(rows.order_by(*forward)[: size + 1])
        more_earlier, more_later = after is not None, len(fetched) > size
        page = fetched[:size]
    kept = {name: value for name, value in (keep or {}).items() if value}

    def link(**cursor: str) -> str:
        return "?" + urlencode({**kept, **cursor})

    return KeysetPage(
        rows=page,
        earlier_url=link(before=_cursor(page[0], key)) if page and more_earlier else "",
        later_url=link(after=_cursor(page[-1], key)) if page and more_later else "",
    )
