"""An organization's do-not-contact list: email addresses, and domains that block every address
on them (exactly that domain: example.com does not cover mail.example.com). Entries are stored
lower-cased; matching ignores case."""

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator, validate_email
from django.db.models.functions import Lower

from .models import DoNotContact

MAX_IMPORT_LINES = 10_000
# A first line that names its column instead of giving a value.
HEADER_WORDS = {"email", "emails", "domain", "domains", "value", "address", "entry"}

_validate_domain = DomainNameValidator(accept_idna=False)


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def normalize(value: str) -> str:
    """The entry as stored: an email address or a domain ("@example.com" counts as the domain),
    lower-cased; raises ValidationError for anything else."""
    value = value.strip().lower().removeprefix("@")
    if "@" in value:
        try:
            validate_email(value)
        except ValidationError as exc:
            raise ValidationError(f"{value} is not an email address.") from exc
        return value
    try:
        _validate_domain(value)
    except ValidationError as exc:
        raise ValidationError(
            f"{value!r} is not an email address or a domain such as example.com."
        ) from exc
    return value


def listed(organization_id: int, emails) -> dict[str, str]:
    """Which of `emails` the organization's list blocks, and by which entry: one query."""
    emails = {email.lower() for email in emails}
    if not emails:
        return {}
    candidates = emails | {domain_of(email) for email in emails}
    entries = set(
        DoNotContact.objects.filter(organization_id=organization_id)
        .annotate(entry=Lower("value"))
        .filter(entry__in=candidates)
        .values_list("entry", flat=True)
    )
    found = {}
    for email in emails:
        if email in entries:
            found[email] = email
        elif domain_of(email) in entries:
            found[email] = domain_of(email)
    return found


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def parse(text: str) -> list[tuple[str, str]]:
    """(value, reason) per line of a CSV or a plain list: the first column is the entry, an
    optional second one the reason; blank lines and a header line are skipped."""
    rows: list[tuple[str, str]] = []
    for row in csv.reader(io.StringIO(text)):
        cells = [cell.strip() for cell in row]
        if not cells or not cells[0]:
            continue
        if not rows and cells[0].lower() in HEADER_WORDS:
            continue
        rows.append((cells[0], cells[1] if len(cells) > 1 else ""))
    if len(rows) > MAX_IMPORT_LINES:
        raise ValidationError(f"Import at most {MAX_IMPORT_LINES} entries at a time.")
    return rows


def add(organization_id: int, rows, *, default_reason: str = "") -> ImportResult:
    """Adds (value, reason) rows to the list; an entry already there stays as it is."""
    result = ImportResult()
    wanted: dict[str, str] = {}
    for value, reason in rows:
        try:
            entry = normalize(value)
        except ValidationError:
            result.invalid.append(value)
            continue
        wanted.setdefault(entry, (reason or default_reason)[:200])
    existing = set(
        DoNotContact.objects.filter(organization_id=organization_id)
        .annotate(entry=Lower("value"))
        .filter(entry__in=wanted)
        .values_list("entry", flat=True)
    )
    new = [
        DoNotContact(organization_id=organization_id, value=entry, reason=reason)
        for entry, reason in wanted.items()
        if entry not in existing
    ]
    # A concurrent import of the same entry is not an error: the database keeps one.
    DoNotContact.objects.bulk_create(new, ignore_conflicts=True)
    result.added = [entry.value for entry in new]
    result.already = sorted(existing)
    return result
