"""Prospects in bulk: pasted lines or a CSV file with its columns mapped. Good rows are kept,
bad rows are reported (and downloadable) with the reason; one person is one prospect per
organization whatever the case of their email. Whatever a file holds, each problem is its row's
(a value too long for its column, a null character, a row the csv module cannot read), or the
whole file's when it is not a table of text; never an error of the database.

A file is read and checked when it is uploaded (a refused file is refused at once), kept in an
ImportJob, and imported by a worker in batches once its columns are mapped (a paste is queued
at once): the recruiter follows its progress on its page and uses the app meanwhile."""

import csv
import io
import itertools
import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import CharField
from django.db.models.functions import Lower

from outreach import clock, permissions
from outreach.models import User

from . import jobs, locks, signals
from .models import ImportJob, ImportRowError, Prospect
from .stats import safe_cell

MAX_BYTES = 20 * 1024 * 1024
# A file is read and checked when it is uploaded, and imported in the background by a worker, a
# batch of rows per transaction; 100,000 rows of a dozen columns fit in MAX_BYTES.
MAX_ROWS = 100_000
BATCH_ROWS = 1_000
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


@dataclass
class MappingStep:
    """An upload waiting for its columns: the job that keeps the file, and what the file holds."""

    job: ImportJob
    upload: Upload


def _read_kept(job: ImportJob) -> Upload:
    """What the kept file or paste holds, read as it was when it was uploaded."""
    content = bytes(job.content)
    if job.source == ImportJob.Source.PASTE:
        return parse_pasted(content.decode())
    return read_csv(content)


def upload_file(user: User, file) -> MappingStep:
    """Reads the file and keeps it for its mapping step under a token of its own, which the
    mapping form posts back: each upload is found by its token, never as "the user's last
    upload", so a second tab's file or a form posted without a file imports nothing else."""
    permissions.require(user, permissions.Access.RECRUITER)
    raw = file.read(MAX_BYTES + 1)
    upload = read_csv(raw)
    # Files never mapped are kept an hour, then go with the user's next upload.
    ImportJob.objects.filter(
        created_by=user,
        status=ImportJob.Status.MAPPING,
        created_at__lt=clock.now() - timedelta(seconds=KEEP_SECONDS),
    ).delete()
    job = ImportJob.objects.create(
        organization_id=user.team_id,
        created_by=user,
        token=secrets.token_urlsafe(16),
        file_name=(getattr(file, "name", "") or "")[:255],
        content=raw,
        header=upload.header,
        rows_total=len(upload.rows) + len(upload.unreadable),
    )
    return MappingStep(job, upload)


def awaiting_mapping(user: User, token: str) -> MappingStep | None:
    """The user's upload of that token if it still waits for its columns (not imported yet,
    under an hour old); a token copied into another account's form finds nothing."""
    job = (
        ImportJob.objects.filter(
            created_by=user,
            token=token,
            status=ImportJob.Status.MAPPING,
            created_at__gte=clock.now() - timedelta(seconds=KEEP_SECONDS),
        ).first()
        if token
        else None
    )
    return MappingStep(job, _read_kept(job)) if job else None


def queue_import(user: User, step: MappingStep, fields: dict[str, str]) -> ImportJob | None:
    """Queues the upload with its columns mapped; None if it was queued already (the mapping
    posted twice at once: the one import is the first's)."""
    permissions.require(user, permissions.Access.RECRUITER)
    mapping = Mapping(step.upload.header, fields)
    with transaction.atomic():
        queued = ImportJob.objects.filter(pk=step.job.pk, status=ImportJob.Status.MAPPING).update(
            mapping=mapping.fields, status=ImportJob.Status.QUEUED, updated_at=clock.now()
        )
        if not queued:
            return None
        signals.import_queued.send(sender=ImportJob, job=step.job)
    return step.job


def queue_paste(user: User, text: str) -> ImportJob:
    """Queues pasted lines, one prospect a line, as a file of known columns."""
    permissions.require(user, permissions.Access.RECRUITER)
    pasted = parse_pasted(text)
    with transaction.atomic():
        job = ImportJob.objects.create(
            organization_id=user.team_id,
            created_by=user,
            token=secrets.token_urlsafe(16),
            source=ImportJob.Source.PASTE,
            content=text.encode(),
            header=PASTE_MAPPING.header,
            mapping=PASTE_MAPPING.fields,
            status=ImportJob.Status.QUEUED,
            rows_total=len(pasted.rows) + len(pasted.unreadable),
        )
        signals.import_queued.send(sender=ImportJob, job=job)
    return job


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


@dataclass
class _Row:
    """A row of the file as the import will take it: its values for the prospect, or why not."""

    number: int
    cells: list[str]
    problem: str = ""
    values: dict = field(default_factory=dict)


def _rows(upload: Upload, mapping: Mapping) -> list[_Row]:
    """Every row in the file's order, each checked; the same on every run of the import, so a
    run that goes on after another takes each row as the first would have."""
    rows = [_Row(number, cells, problem) for number, cells, problem in upload.unreadable]
    first_row: dict[str, int] = {}
    for number, cells in upload.rows:
        try:
            values = _clean(cells, mapping)
        except ValidationError as exc:
            rows.append(_Row(number, cells, " ".join(exc.messages)))
            continue
        # A second row of the same person is likely a copy with other values: which to keep is
        # the recruiter's call, so the first is kept and the other is shown to them.
        if values["email"] in first_row:
            rows.append(_Row(number, cells, f"Same email as row {first_row[values['email']]}."))
            continue
        first_row[values["email"]] = number
        rows.append(_Row(number, cells, values=values))
    rows.sort(key=lambda row: row.number)
    return rows


@dataclass
class _Written:
    created: int
    updated: int
    skipped: int


def _write(job: ImportJob, batch: list[_Row]) -> _Written:
    """Creates or completes the batch's prospects and keeps its rows' errors; a constant number
    of queries whatever the batch's size."""
    cleaned = {row.values["email"]: row.values for row in batch if not row.problem}
    # Any case: a prospect added elsewhere may keep the case it was typed in.
    existing = {
        p.email.lower(): p
        for p in Prospect.objects.annotate(lower_email=Lower("email")).filter(
            organization_id=job.organization_id, lower_email__in=list(cleaned)
        )
    }
    new: list[Prospect] = []
    changed: list[Prospect] = []
    for email, values in cleaned.items():
        found = existing.get(email)
        if found is None:
            prospect = Prospect(
                organization_id=job.organization_id, created_by_id=job.created_by_id
            )
            new.append(prospect)
        else:
            prospect = found
            changed.append(prospect)
        # An empty cell leaves what an existing prospect has.
        for name, value in values.items():
            if value and name != "custom_fields":
                setattr(prospect, name, value)
        prospect.custom_fields = {**prospect.custom_fields, **values["custom_fields"]}
    Prospect.objects.bulk_create(new)
    _update_all(changed)
    errors = [
        # PostgreSQL stores no null character in text: the row keeps a visible mark in its place.
        ImportRowError(
            job=job,
            row=row.number,
            values=[cell.replace("\x00", "\ufffd") for cell in row.cells],
            problem=row.problem,
        )
        for row in batch
        if row.problem
    ]
    ImportRowError.objects.bulk_create(errors)
    return _Written(created=len(new), updated=len(changed), skipped=len(errors))


_UPDATED = ("first_name", "last_name", "company", "title", "timezone")


def _update_all(prospects: list[Prospect]) -> None:
    """Writes the prospects' fields in one UPDATE ... FROM VALUES: bulk_update's CASE of a
    branch per row and column was most of a large import's time."""
    if not prospects:
        return
    table = connection.ops.quote_name(Prospect._meta.db_table)
    rows = ", ".join([f"(%s, {', '.join(['%s'] * len(_UPDATED))}, %s::jsonb)"] * len(prospects))
    params = [
        value
        for prospect in prospects
        for value in (
            prospect.pk,
            *(getattr(prospect, name) for name in _UPDATED),
            json.dumps(prospect.custom_fields),
        )
    ]
    # Only column names of this module and placeholders go into the text; values are params.
    sql = (
        f"UPDATE {table} AS p SET {', '.join(f'{name} = v.{name}' for name in _UPDATED)}, "  # noqa: S608
        f"custom_fields = v.custom_fields FROM (VALUES {rows}) "
        f"AS v(id, {', '.join(_UPDATED)}, custom_fields) WHERE p.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@dataclass
class ImportRun:
    rows_done: int
    # This run's time is up with rows left: the import goes on in another run.
    more: bool


def run_import(job_id: int, *, seconds: float | None = None) -> ImportRun:
    """Imports the job's rows a batch at a time (jobs.run_batches): the next run goes on from
    the rows done, so no prospect is written twice."""
    job = ImportJob.objects.get(pk=job_id)
    if not job.under_way:
        return ImportRun(job.rows_done, more=False)
    try:
        rows = _rows(_read_kept(job), Mapping(job.header, job.mapping))
    except ValidationError as exc:
        # The file was read at its upload; only a limit lowered since then refuses it here.
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            failure=" ".join(exc.messages)[:500],
            content=b"",
            updated_at=clock.now(),
        )
        return ImportRun(job.rows_done, more=False)

    def batch(job: ImportJob) -> None:
        rows_batch = rows[job.rows_done : job.rows_done + BATCH_ROWS]
        written = _write(job, rows_batch)
        job.rows_done += len(rows_batch)
        job.created += written.created
        job.updated += written.updated
        job.skipped += written.skipped
        job.status = (
            ImportJob.Status.DONE if job.rows_done >= len(rows) else ImportJob.Status.RUNNING
        )
        job.updated_at = clock.now()
        saved = ["rows_done", "created", "updated", "skipped", "status", "updated_at"]
        if job.status == ImportJob.Status.DONE:
            # The file is kept no longer than its import needs it.
            job.content = b""
            saved.append("content")
        job.save(update_fields=saved)

    run = jobs.run_batches(lambda: locks.import_job(job_id), batch, seconds=seconds)
    return ImportRun(run.job.rows_done, more=run.more)


def errors_csv(job: ImportJob) -> Iterator[str]:
    """The rows not imported, as a CSV to fix and upload again, a line at a time."""
    out = io.StringIO()
    writer = csv.writer(out)

    def line(cells: list) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow([safe_cell(cell) for cell in cells])
        return out.getvalue()

    yield line(["row", *job.header, "error"])
    for error in job.row_errors.order_by("row").iterator(chunk_size=2_000):
        yield line([error.row, *error.values, error.problem])
