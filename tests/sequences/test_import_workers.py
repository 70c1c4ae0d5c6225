"""A CSV import through the pages and a real Celery worker: the mapping's commit queues the task
on the broker, the worker imports the file while the recruiter's pages answer, and the import's
page ends with what it did."""

import io

import pytest

from sequences.models import ImportJob, Prospect
from tests.conftest import wait_until
from tests.sequences.test_import_jobs import MAP, csv_of


@pytest.mark.worker
def test_a_file_is_imported_by_a_real_worker_while_the_app_stays_usable(
    celery_worker_process, recruiter_client
):
    file = io.BytesIO(csv_of(5_000, bad_every=1_000).encode())
    file.name = "people.csv"
    mapping = recruiter_client.post("/prospects/import/", {"file": file})

    queued = recruiter_client.post(
        "/prospects/import/", {"upload": mapping.context["token"], **MAP}
    )

    # The request answers at once; the rows are the worker's to import.
    job = ImportJob.objects.get()
    assert queued["Location"] == f"/prospects/imports/{job.pk}/"
    assert recruiter_client.get("/sequences/").status_code == 200

    def over():
        job.refresh_from_db()
        return job.finished

    assert wait_until(over, seconds=60), celery_worker_process.log_path.read_text()[-3000:]
    assert (job.status, job.rows_done, job.created, job.skipped) == ("done", 5_000, 4_995, 5)
    assert Prospect.objects.count() == 4_995
    page = recruiter_client.get(queued["Location"]).content.decode()
    assert "4995 added, 0 updated" in page
    assert "5 rows not imported" in page
    assert "sequences.tasks.import_prospects" in celery_worker_process.log_path.read_text()
