"""Benchmark of a CSV import of prospects (not part of CI).

    DATABASE_URL=postgres://... .venv/bin/python bench/import_csv.py --rows 100000

Creates a scratch database and one organization that already has a tenth of the file's
prospects, writes a CSV of `--rows` rows (six columns, one in a hundred rows with a problem),
then times the upload step (the file read and checked, and kept) and the import, through the
import's Celery task run eagerly as a worker would run it (a batch of rows per transaction, a
run after another until the file is done), and prints JSON: the file's size, both times, the
rows a second, and what the import did.
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "LOG_LEVEL": "WARNING",
            "CELERY_TASK_ALWAYS_EAGER": "1",
        }
    )
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()
    from django.test.utils import setup_databases, teardown_databases

    old = setup_databases(verbosity=0, interactive=False)
    try:
        print(json.dumps(run(args.rows)))
    finally:
        teardown_databases(old, verbosity=0)


def csv_of(rows: int) -> bytes:
    lines = ["Email,First name,Last name,Company,Title,GitHub"]
    for n in range(rows):
        email = f"person{n}@candidates.example" if n % 100 else f"not-an-email-{n}"
        lines.append(f"{email},First{n},Last{n},Company {n % 500},Engineer,gh{n}")
    return ("\n".join(lines) + "\n").encode()


def run(rows: int) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from outreach.models import Role
    from sequences import importing
    from sequences.models import ImportJob, Prospect
    from tests.factories import OrganizationFactory, UserFactory

    org = OrganizationFactory()
    recruiter = UserFactory(organization=org, role=Role.RECRUITER)
    Prospect.objects.bulk_create(
        (
            Prospect(organization=org, email=f"person{n}@candidates.example")
            for n in range(1, rows, 10)
        ),
        batch_size=5_000,
    )
    raw = csv_of(rows)

    started = time.perf_counter()
    step = importing.upload_file(recruiter, SimpleUploadedFile("people.csv", raw))
    uploaded = time.perf_counter() - started
    fields = {column: guess for _, column, _, guess in step.upload.columns()}

    started = time.perf_counter()
    importing.queue_import(recruiter, step, fields)  # its task runs now: no transaction is open
    imported = time.perf_counter() - started
    job = ImportJob.objects.get(pk=step.job.pk)
    assert job.status == ImportJob.Status.DONE, job.status
    return {
        "rows": rows,
        "file_mb": round(len(raw) / 1024 / 1024, 2),
        "upload_seconds": round(uploaded, 2),
        "import_seconds": round(imported, 2),
        "rows_per_second": round(rows / imported),
        "created": job.created,
        "updated": job.updated,
        "not_imported": job.skipped,
        "prospects": Prospect.objects.filter(organization=org).count(),
    }


if __name__ == "__main__":
    main()
