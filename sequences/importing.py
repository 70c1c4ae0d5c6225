"""Prospects in bulk: pasted lines or a CSV file with its columns mapped. Good rows are kept,
bad rows are reported (and downloadable) with the reason; one person is one prospect per
organization whatever the case of their email. Whatever a file holds, each problem is its row's
(a value too long for its column, a null character, a row the csv module cannot read), or the
whole file's when it is not a table of text; never an error of the database."""

import csv
import io
import itertools
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import CharField
from django.db.models.functions import Lower

from outreach import permissions
from outreach.models import User

from .models import Prospect
from .stats import safe_cell

MAX_BYTES = 5 * 1024 * 1024
# Every row of an import is read, checked and written in one request and one transaction.
MAX_ROWS = 10_000
# As the upload form states them, before a file is chosen.
LIMITS = f"At most {MAX_ROWS:,} prospects and {MAX_BYTES // (1024 * 1024)} MB a file."
# The mapping step posts one choice per column, and Django refuses a form of more than
# DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) fields.
MAX_COLUMNS = 200
# A column's name is the key of its custom field, copied into every prospect of the file.
MAX_COLUMN_NAME = 100
# Custom fields have no column of their own to bound them; this is a long paragraph.
MAX_CUSTOM_LENGTH = 1_000
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
LABELS = dict(FIELDS)
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
EMPTY = "The file is empty: there is nothing in it to import."
ONLY_COLUMN_NAMES = "The file is empty: it has column names but no prospects under them."
TOO_LONG_TO_READ = f"a value in it is longer than {csv.field_size_limit():,} characters"


@dataclass
class Mapping:
    header: list[str]
    fields: dict[str, str]  # column -> one of FIELDS ("custom": the column's name is the key)

    def __post_init__(self):
        # The choices come from a form: anything else would be set on the prospect as is.
        if set(self.fields.values()) - set(LABELS):
            raise ValidationError("Choose what each column holds from the list.")
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
    """What a file or a paste holds: its rows, each with its number there (a file's header is
    row 1, as in a spreadsheet; a paste's first line is 1), and the rows that could not be read,
    with their number, no values and why."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    unreadable: list[tuple[int, list[str], str]] = field(default_factory=list)

    def columns(self) -> list[tuple[int, str, str, str]]:
        """(index, name, first value, likely field) of each column, for the mapping step."""
        first = self.rows[0][1] if self.rows else []
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


def _read(reader) -> list[str] | None:
    """The reader's next record, or None if it cannot be read; StopIteration at the end. With
    `strict` off, the only error the csv module still raises (it reads null characters since
    Python 3.11) is a value over its field size limit: that row is lost, not the others."""
    try:
        return next(reader)
    except csv.Error:
        return None


def _records(reader) -> Iterator[tuple[int, list[str] | None]]:
    for number in itertools.count(1):
        try:
            yield number, _read(reader)
        except StopIteration:
            return


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _collect(header: list[str], records: Iterable[tuple[int, list[str] | None]]) -> Upload:
    """The non-blank records as rows, stopping as soon as there are too many."""
    upload = Upload(header=header, rows=[])
    for number, cells in records:
        if cells is None:
            upload.unreadable.append(
                (number, [], f"This row could not be read: {TOO_LONG_TO_READ}.")
            )
        elif not _blank(cells):
            upload.rows.append((number, [cell.strip() for cell in cells]))
        else:
            continue
        if len(upload.rows) + len(upload.unreadable) > MAX_ROWS:
            raise ValidationError(
                f"More than {MAX_ROWS:,} prospects: at most {MAX_ROWS:,} at a time, so split "
                "them in parts and import each."
            )
    return upload


def parse_pasted(text: str) -> Upload:
    """One prospect a line, its values separated by commas, or by tabs as a spreadsheet copies
    them."""
    lines = (
        (number, _read(csv.reader([line], delimiter="\t" if "\t" in line else ",")))
        for number, line in enumerate(text.splitlines(), start=1)
    )
    return _collect(PASTE_MAPPING.header, lines)


def _not_text(text: str) -> bool:
    """Binary data (a spreadsheet's .xlsx, an image, UTF-16 without its mark) decodes into text
    full of control characters; a text file has at most a stray one."""
    sample = text[:4096]
    controls = sum(1 for char in sample if char < " " and char not in "\t\r\n")
    return controls * 100 > len(sample)


def _decode(raw: bytes) -> str:
    # Excel's "Unicode text" is UTF-16 with a byte order mark.
    encodings = ("utf-16",) if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _not_text(text):
            return text
    raise ValidationError(
        "The file is not a CSV: save it from your spreadsheet as CSV (UTF-8) and upload that."
    )


def _header(cells: list[str]) -> list[str]:
    if len(cells) > MAX_COLUMNS:
        raise ValidationError(f"The file has {len(cells):,} columns; at most {MAX_COLUMNS}.")
    header = []
    for index, cell in enumerate(cells):
        name = cell.strip() or f"Column {index + 1}"
        if len(name) > MAX_COLUMN_NAME or "\x00" in name:
            raise ValidationError(
                f"The name of column {index + 1} is longer than {MAX_COLUMN_NAME} characters "
                "or holds a null character: is the first row the column names?"
            )
        # Columns are mapped by name: two of the same name stay two columns.
        header.append(name if name not in header else f"{name} {index + 1}")
    return header


def read_csv(raw: bytes) -> Upload:
    if len(raw) > MAX_BYTES:
        raise ValidationError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    text = _decode(raw)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # newline="": a line break inside quotes is a value's, and old Mac files end lines in CR.
    records = _records(csv.reader(io.StringIO(text, newline=""), dialect))
    # The first row that is not blank names the columns; the records after it are the rows.
    names = next((cells for _, cells in records if cells is None or not _blank(cells)), [])
    if names is None:
        raise ValidationError(
            f"The first row (the column names) could not be read: {TOO_LONG_TO_READ}."
        )
    if not names:
        raise ValidationError(EMPTY)
    upload = _collect(_header(names), records)
    if not (upload.rows or upload.unreadable):
        raise ValidationError(ONLY_COLUMN_NAMES)
    return upload


def _key(request, name: str) -> str:
    token = request.session.setdefault("prospect_import", secrets.token_urlsafe(16))
    return f"prospect-import:{request.user.pk}:{token}:{name}"


def _upload_key(request, token: str) -> str:
    # The user's id in the key: a token copied into another account's form finds nothing.
    return f"prospect-import:{request.user.pk}:upload:{token}"


def store_upload(request, file) -> tuple[str, Upload]:
    """Reads the file and keeps it for its mapping step under a token of its own, which the
    mapping form posts back: each upload is found by its token, never as "the session's last
    upload", so a second tab's file or a form posted without a file imports nothing else."""
    upload = read_csv(file.read(MAX_BYTES + 1))
    token = secrets.token_urlsafe(16)
    cache.set(_upload_key(request, token), asdict(upload), KEEP_SECONDS)
    return token, upload


def load_upload(request, token: str) -> Upload | None:
    stored = cache.get(_upload_key(request, token)) if token else None
    return Upload(**stored) if stored else None


def forget_upload(request, token: str) -> None:
    """Once imported: the mapping posted again (a reload, the back button) imports nothing."""
    cache.delete(_upload_key(request, token))


def _limit(target: str) -> int:
    if target == "custom":
        return MAX_CUSTOM_LENGTH
    column = Prospect._meta.get_field(target)
    # Every mapped target is a text column of the prospect (FIELDS).
    assert isinstance(column, CharField) and column.max_length is not None, target
    return column.max_length


def _problems(row: list[str], mapping: Mapping) -> list[str]:
    """What keeps the row's values out of their columns, all at once."""
    problems = []
    columns = len(mapping.header)
    if any(row[columns:]):
        values = max(index for index, cell in enumerate(row) if cell) + 1
        problems.append(
            f"{values} values for {columns} columns: a value with a comma needs quotes around it."
        )
    for column, value in zip(mapping.header, row, strict=False):
        target = mapping.fields.get(column, "")
        if not target:
            continue
        name = column if target == "custom" else LABELS[target]
        if target == "email":
            value = value.lower()  # as stored, and some letters grow when lowercased
        if "\x00" in value:
            problems.append(f"{name} contains a null character (invisible): delete it.")
        elif len(value) > _limit(target):
            problems.append(f"{name} is longer than {_limit(target):,} characters.")
    return problems


def _clean(row: list[str], mapping: Mapping) -> dict:
    problems = _problems(row, mapping)
    if problems:
        raise ValidationError(problems)
    values: dict = {"custom_fields": {}}
    for index, column in enumerate(mapping.header):
        target = mapping.fields.get(column, "")
        value = row[index] if index < len(row) else ""
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
def import_rows(user: User, upload: Upload, mapping: Mapping) -> ImportResult:
    """Creates or completes prospects; a constant number of queries whatever the row count."""
    permissions.require(user, permissions.Access.RECRUITER)
    result = ImportResult(header=mapping.header, errors=list(upload.unreadable))
    cleaned: dict[str, dict] = {}
    first_row: dict[str, int] = {}
    for number, row in upload.rows:
        try:
            values = _clean(row, mapping)
        except ValidationError as exc:
            result.errors.append((number, row, " ".join(exc.messages)))
            continue
        # A second row of the same person is likely a copy with other values: which to keep is
        # the recruiter's call, so the first is kept and the other is shown to them.
        if values["email"] in first_row:
            result.errors.append((number, row, f"Same email as row {first_row[values['email']]}."))
            continue
        first_row[values["email"]] = number
        custom = values.pop("custom_fields")
        # An empty cell leaves what an existing prospect has.
        cleaned[values["email"]] = {
            "custom_fields": custom,
            **{k: v for k, v in values.items() if v},
        }
    result.errors.sort(key=lambda error: error[0])
    # Any case: a prospect added elsewhere may keep the case it was typed in.
    existing = {
        p.email.lower(): p
        for p in Prospect.objects.annotate(lower_email=Lower("email")).filter(
            organization_id=user.team_id, lower_email__in=list(cleaned)
        )
    }
    new: list[Prospect] = []
    changed: list[Prospect] = []
    for email, values in cleaned.items():
        found = existing.get(email)
        if found is None:
            prospect = Prospect(organization_id=user.team_id, created_by=user)
            new.append(prospect)
        else:
            prospect = found
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
    writer.writerow([safe_cell(cell) for cell in ["row", *stored["header"], "error"]])
    for number, row, error in stored["errors"]:
        writer.writerow([safe_cell(cell) for cell in [number, *row, error]])
    return out.getvalue()
