"""How the import tests post a mapping or a paste: the import's task runs as the commit would
start it (eagerly, as the tests' Celery does), then its page is read as the recruiter finds it."""

from dataclasses import dataclass

from django.test import Client, TestCase


def post_and_import(client: Client, path: str, data: dict):
    """The response to the post, or, when it leads to the import's page, that page once the
    import is over."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(path, data)
    if response.status_code == 302 and "/prospects/imports/" in response["Location"]:
        return client.get(response["Location"])
    return response


@dataclass
class Imported:
    created: int
    updated: int
    errors: list[tuple[int, list[str], str]]


def result_of(page) -> Imported:
    """What the import's page says it did, and the rows it lists as not imported."""
    job = page.context["job"]
    return Imported(
        job.created, job.updated, [(e.row, e.values, e.problem) for e in page.context["errors"]]
    )


def errors_download(client: Client, page) -> str:
    response = client.get(f"/prospects/imports/{page.context['job'].pk}/errors.csv")
    assert response["Content-Type"] == "text/csv"
    return b"".join(response.streaming_content).decode()
