"""Prospects in bulk: pasted lines or a CSV file with its columns mapped. Good rows are kept,
bad rows are reported (and downloadable) with the reason; one person is one prospect per
organization whatever the case of their email."""

import csv
import io
import secrets
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from outreach.models import User

from .models import Prospect

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
KEEP_SECONDS = 60 * 60
FIELDS = [
    ("", "Ignore"),
    ("email", "Email"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("company", "Company"),
    ("title", "Title"),
    ("timezone", "Timezone"),
    ("custom", "Custom field"),
]
GUESSES = {
    "email": "email",
    "e-mail": "email",
    "email address": "email",
    "first name": "first_name",
    "first_name": "first_name",
    "firstname": "first_name",
    "last name": "last_name",
    "last_name": "last_name",
    "lastname": "last_name",
    "company": "company",
    "organization": "company",
    "title": "title",
    "job title": "title",
    "timezone": "timezone",
    "time zone": "timezone",
}


@dataclass
class Mapping:
    header: list[str]
    fields: dict[str, str]  # column -> one of FIELDS ("custom": the column's name is the key)

    def __post_init__(self):
        if list(self.fields.values()).count("email") != 1:
            raise ValidationError("Map exactly one column to Email.")


PASTE_MAPPING = Mapping(
    ["email", "first name", "last name", "company", "title"],
    {
        "email": "email",
        "first name": "first_name",
        "last name": "last_name",
        "company": "company",
        "title": "title",
    },
)


@dataclass
class Upload:
    header: list[str]
    rows: list[list[str]]

    def columns(self) -> list[tuple[int, str, str, str]]:
        """(index, name, first value, likely field) of each column, for the mapping step."""
        first = self.rows[0] if self.rows else []
        return [
            (
                i,
                name,
                first[i] if i < len(first) else "",
                GUESSES.get(name.strip().lower(), "custom"),
            )
            for i, name in enumerate(self.header)
        ]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, list[str], str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)


def parse_pasted(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.strip():
            delimiter = "\t" if "\t" in line else ","
            rows.append([cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))])
    return rows


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError("The file is not text (UTF-8 or Windows-1252).")


def read_csv(raw: bytes) -> Upload:
    if len(raw) > MAX_BYTES:
        raise ValidationError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    text = _decode(raw)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    if len(rows) < 2:
        raise ValidationError("The file needs a header row and at least one prospect.")
    if len(rows) - 1 > MAX_ROWS:
        raise ValidationError(f"At most {MAX_ROWS:,} prospects per file.")
    header = [cell.strip() or f"Column {i + 1}" for i, cell in enumerate(rows[0])]
    return Upload(header=header, rows=[[c.strip() for c in row] for row in rows[1:]])


def _key(request, name: str) -> str:
    token = request.session.setdefault("prospect_import", secrets.token_urlsafe(16))
    return f"prospect-import:{request.user.pk}:{token}:{name}"


def store_upload(request, file) -> Upload:
    upload = read_csv(file.read(MAX_BYTES + 1))
    cache.set(_key(request, "upload"), {"header": upload.header, "rows": upload.rows}, KEEP_SECONDS)
    return upload


def load_upload(request) -> Upload | None:
    stored = cache.get(_key(request, "upload"))
    return Upload(**stored) if stored else None


def _clean(row: list[str], mapping: Mapping) -> dict:
    values: dict = {"custom_fields": {}}
    for index, column in enumerate(mapping.header):
        target = mapping.fields.get(column, "")
        value = row[index].strip() if index < len(row) else ""
        if target == "custom" and value:
            values["custom_fields"][column.strip().lower().replace(" ", "_")] = value
        elif target:
            values[target] = value
    email = values.get("email", "").lower()
    if not email:
        raise ValidationError("No email.")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError(f"{email} is not an email address.") from exc
    values["email"] = email
    if values.get("timezone"):
        try:
            ZoneInfo(values["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"{values['timezone']} is not a timezone.") from exc
    return values


@transaction.atomic
def import_rows(user: User, rows: list[list[str]], mapping: Mapping) -> ImportResult:
    """Creates or completes prospects; a constant number of queries whatever the row count."""
    result = ImportResult(header=mapping.header)
    cleaned: dict[str, dict] = {}
    for number, row in enumerate(rows, start=2):
        try:
            values = _clean(row, mapping)
        except ValidationError as exc:
            result.errors.append((number, row, " ".join(exc.messages)))
            continue
        merged = cleaned.setdefault(values["email"], {"custom_fields": {}})
        merged["custom_fields"].update(values.pop("custom_fields"))
        merged.update({k: v for k, v in values.items() if v})
    existing = {
        p.email: p
        for p in Prospect.objects.filter(
            organization_id=user.organization_id, email__in=list(cleaned)
        )
    }
    new, changed = [], []
    for email, values in cleaned.items():
        prospect = existing.get(email)
        if prospect is None:
            prospect = Prospect(organization_id=user.organization_id, created_by=user)
            new.append(prospect)
        else:
            changed.append(prospect)
        custom = values.pop("custom_fields")
        for name, value in values.items():
            setattr(prospect, name, value)
        prospect.custom_fields = {**prospect.custom_fields, **custom}
    Prospect.objects.bulk_create(new)
    Prospect.objects.bulk_update(
        changed, ["first_name", "last_name", "company", "title", "timezone", "custom_fields"]
    )
    result.created, result.updated = len(new), len(changed)
    return result


def keep_errors(request, result: ImportResult) -> None:
    cache.set(
        _key(request, "errors"), {"header": result.header, "errors": result.errors}, KEEP_SECONDS
    )


def errors_csv(request) -> str:
    stored = cache.get(_key(request, "errors")) or {"header": [], "errors": []}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", *stored["header"], "error"])
    for number, row, error in stored["errors"]:
        writer.writerow([number, *row, error])
    return out.getvalue()
