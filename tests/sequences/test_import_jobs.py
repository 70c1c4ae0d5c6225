"""A CSV import runs in the background: its page shows a progress bar until it is over, then what
it did; it goes in batches that each commit with their progress, so a run that crashes half-way
or runs twice goes on from the rows done without a duplicate; and a file of thousands of rows
takes seconds (bench/import_csv.py times 100,000)."""

import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sequences import importing, jobs
from sequences.models import ImportJob, ImportRowError, Prospect
from tests.factories import ProspectFactory, UserFactory
from tests.sequences.imports import errors_download, post_and_import, result_of

pytestmark = pytest.mark.django_db

MAP = {"map_0": "email", "map_1": "first_name", "map_2": "company"}


def csv_of(rows: int, *, bad_every: int = 0) -> str:
    """A file of `rows` people; every `bad_every`-th row has no email address."""
    lines = ["Email,First Name,Company"]
    for n in range(1, rows + 1):
        email = "not-an-email" if bad_every and n % bad_every == 0 else f"p{n}@candidates.example"
        lines.append(f"{email},P{n},Company {n}")
    return "\n".join(lines) + "\n"


def upload(client, text: str):
    file = io.BytesIO(text.encode())
    file.name = "people.csv"
    page = client.post("/prospects/import/", {"file": file})
    assert page.templates[0].name == "sequences/import_mapping.html", page.content.decode()
    return page


def queued_job(recruiter, text: str) -> ImportJob:
    """An upload mapped and queued, its task not run yet (as before a worker picks it up)."""
    step = importing.upload_file(recruiter, SimpleUploadedFile("people.csv", text.encode()))
    importing.queue_import(
        recruiter, step, {"Email": "email", "First Name": "first_name", "Company": "company"}
    )
    return ImportJob.objects.get(pk=step.job.pk)


# The page ------------------------------------------------------------------------------------


def test_the_import_page_shows_a_progress_bar_until_the_import_is_over(recruiter_client, recruiter):
    job = queued_job(recruiter, csv_of(3))

    page = recruiter_client.get(f"/prospects/imports/{job.pk}/").content.decode()
    assert "Waiting for a worker" in page
    assert '<label for="import-bar">0 of 3 rows imported</label>' in page
    assert '<progress id="import-bar" max="3" value="0">' in page
    assert 'hx-trigger="every 1s"' in page
    # The prospects page links to the import while it is under way.
    prospects = recruiter_client.get("/prospects/").content.decode()
    assert f'href="/prospects/imports/{job.pk}/"' in prospects

    importing.run_import(job.pk)

    # What htmx fetches: the fragment alone, which polls no more.
    fragment = recruiter_client.get(
        f"/prospects/imports/{job.pk}/", headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.startswith('<div id="import-progress">')
    assert "3 added, 0 updated" in fragment
    assert "<progress" not in fragment and "hx-trigger" not in fragment
    assert (
        f'href="/prospects/imports/{job.pk}/"'
        not in recruiter_client.get("/prospects/").content.decode()
    )


def test_the_progress_is_saved_after_each_batch(recruiter, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_ROWS", 2)
    job = queued_job(recruiter, csv_of(5))

    # A run whose time is up after its first batch: the task goes on in another run.
    run = importing.run_import(job.pk, seconds=0)

    job.refresh_from_db()
    assert (run.more, run.rows_done) == (True, 2)
    assert (job.status, job.rows_done, job.rows_total, job.created) == ("running", 2, 5, 2)
    assert Prospect.objects.count() == 2


def test_a_file_over_many_runs_of_its_task_is_imported_whole(recruiter_client, monkeypatch):
    """Each run of the task stops after a batch and queues the next, as on a long file."""
    monkeypatch.setattr(importing, "BATCH_ROWS", 2)
    monkeypatch.setattr(jobs, "RUN_SECONDS", 0)
    page = upload(recruiter_client, csv_of(7))

    done = post_and_import(
        recruiter_client, "/prospects/import/", {"upload": page.context["token"], **MAP}
    )

    assert result_of(done).created == 7
    assert Prospect.objects.count() == 7
    assert ImportJob.objects.get().content == b""  # the file is not kept once imported


def test_the_first_hundred_rows_not_imported_are_listed_and_all_download(recruiter_client):
    page = upload(recruiter_client, csv_of(300, bad_every=2))

    done = post_and_import(
        recruiter_client, "/prospects/import/", {"upload": page.context["token"], **MAP}
    )

    text = done.content.decode()
    assert "150 added, 0 updated" in text
    assert "150 rows not imported" in text
    assert "Download all 150 of them as CSV" in text
    assert "The first 100 are listed here." in text
    assert len(result_of(done).errors) == 100
    download = errors_download(recruiter_client, done).splitlines()
    assert download[0] == "row,Email,First Name,Company,error"
    assert len(download) == 151
    assert download[-1] == "301,not-an-email,P300,Company 300,not-an-email is not an email address."


def test_the_import_page_makes_as_many_queries_whatever_the_rows_not_imported(
    recruiter_client, recruiter, django_assert_max_num_queries
):
    small = queued_job(recruiter, csv_of(4, bad_every=2))
    importing.run_import(small.pk)
    large = queued_job(recruiter, csv_of(400, bad_every=2))
    importing.run_import(large.pk)
    with django_assert_max_num_queries(20) as few:
        recruiter_client.get(f"/prospects/imports/{small.pk}/")

    with django_assert_max_num_queries(len(few.captured_queries)):
        recruiter_client.get(f"/prospects/imports/{large.pk}/")


def test_the_polled_page_does_not_read_the_file_it_keeps(
    recruiter_client, recruiter, django_assert_max_num_queries
):
    job = queued_job(recruiter, csv_of(3))

    with django_assert_max_num_queries(20) as polled:
        recruiter_client.get(f"/prospects/imports/{job.pk}/", headers={"HX-Request": "true"})

    assert not [q for q in polled.captured_queries if '"content"' in q["sql"]]


def test_another_teams_import_is_a_404(client, recruiter, other_org):
    job = queued_job(recruiter, csv_of(2))
    importing.run_import(job.pk)
    stranger = UserFactory(organization=other_org)
    client.force_login(stranger)

    assert client.get(f"/prospects/imports/{job.pk}/").status_code == 404
    assert client.get(f"/prospects/imports/{job.pk}/errors.csv").status_code == 404


# Crashes and second runs ---------------------------------------------------------------------


def test_an_import_that_crashes_half_way_goes_on_from_its_last_batch_without_a_duplicate(
    recruiter, org, monkeypatch
):
    monkeypatch.setattr(importing, "BATCH_ROWS", 1_000)
    # Row 1,502 (the 1,501st prospect) is in the file twice, either side of where it crashes.
    text = csv_of(2_500, bad_every=500) + "p1501@candidates.example,Again,Twice\n"
    ProspectFactory(organization=org, email="p10@candidates.example", first_name="Old")
    job = queued_job(recruiter, text)
    real_write = importing._write
    batches = []

    def crash_in_the_second_batch(job, batch):
        written = real_write(job, batch)  # its rows are written, then the worker dies
        batches.append(len(batch))
        if len(batches) == 2:
            raise SystemExit("worker killed")
        return written

    monkeypatch.setattr(importing, "_write", crash_in_the_second_batch)
    with pytest.raises(SystemExit):
        importing.run_import(job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created, job.updated) == ("running", 1_000, 997, 1)
    assert Prospect.objects.count() == 998  # the second batch rolled back whole

    monkeypatch.setattr(importing, "_write", real_write)
    importing.run_import(job.pk)
    importing.run_import(job.pk)  # a redelivered task: nothing left to do

    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_total) == ("done", 2_501, 2_501)
    assert (job.created, job.updated, job.skipped) == (2_494, 1, 6)
    assert Prospect.objects.count() == 2_495
    assert Prospect.objects.get(email="p10@candidates.example").first_name == "P10"
    assert Prospect.objects.get(email="p1501@candidates.example").first_name == "P1501"
    assert list(ImportRowError.objects.values_list("row", "problem")) == [
        (501, "not-an-email is not an email address."),
        (1001, "not-an-email is not an email address."),
        (1501, "not-an-email is not an email address."),
        (2001, "not-an-email is not an email address."),
        (2501, "not-an-email is not an email address."),
        (2502, "Same email as row 1502."),
    ]


def test_an_import_done_is_not_imported_again(recruiter):
    job = queued_job(recruiter, csv_of(3))
    importing.run_import(job.pk)
    Prospect.objects.update(first_name="Changed since")

    again = importing.run_import(job.pk)

    assert (again.rows_done, again.more) == (3, False)
    assert set(Prospect.objects.values_list("first_name", flat=True)) == {"Changed since"}
    assert ImportJob.objects.get().created == 3


def test_five_thousand_rows_are_imported_in_seconds(recruiter):
    """A constant number of queries a batch: 5,000 rows in a few seconds (100,000 rows took
    15 s in bench/import_csv.py)."""
    job = queued_job(recruiter, csv_of(5_000))
    started = time.perf_counter()

    importing.run_import(job.pk)

    assert time.perf_counter() - started < 10
    assert Prospect.objects.count() == 5_000
