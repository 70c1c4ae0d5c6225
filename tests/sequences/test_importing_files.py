"""A CSV import never loses work and never imports what was not meant: an empty file says it is
empty, each upload is imported from its own mapping page and once, files as spreadsheets save
them are read, a second row of the same person is shown, not merged, and the limits are stated."""

import io

import pytest
from django.test import Client

from sequences import importing
from sequences.models import Prospect
from tests.sequences.imports import post_and_import, result_of

pytestmark = pytest.mark.django_db

HEADER = "Email,First Name,Company\n"
ADA = "ada@candidates.example,Ada,Analytical\n"
GRACE = "grace@candidates.example,Grace,Navy\n"
MAP = {"map_0": "email", "map_1": "first_name", "map_2": "company"}


def upload(client: Client, raw: bytes | str):
    file = io.BytesIO(raw.encode() if isinstance(raw, str) else raw)
    file.name = "prospects.csv"
    return client.post("/prospects/import/", {"file": file}, follow=True)


def map_columns(client: Client, page, mapping=MAP):
    return post_and_import(
        client, "/prospects/import/", {"upload": page.context["token"], **mapping}
    )


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def emails() -> list[str]:
    return sorted(Prospect.objects.values_list("email", flat=True))


# Empty files ---------------------------------------------------------------------------------

EMPTY = "The file is empty: there is nothing in it to import."


@pytest.mark.parametrize(
    "raw",
    [b"", b"  \r\n\t\n  \n", b",,\n,,\n", "\n".encode("utf-16"), b"\xef\xbb\xbf"],
    ids=["zero-bytes", "whitespace", "empty-cells", "utf-16-mark-only", "utf-8-mark-only"],
)
def test_an_empty_file_says_it_is_empty(recruiter_client, raw):
    page = upload(recruiter_client, raw)

    assert page.templates[0].name == "sequences/prospects.html"
    assert page_messages(page) == [EMPTY]


def test_a_file_of_column_names_alone_says_it_is_empty(recruiter_client):
    page = upload(recruiter_client, HEADER + "\n \n")

    assert page_messages(page) == [
        "The file is empty: it has column names but no prospects under them."
    ]


def test_an_empty_file_after_an_upload_imports_nothing(recruiter_client):
    upload(recruiter_client, HEADER + ADA)

    page = upload(recruiter_client, b"")

    assert page_messages(page) == [EMPTY]
    assert "Map the columns" not in page.content.decode()
    assert not Prospect.objects.exists()


def test_the_upload_form_sent_without_a_file_imports_nothing(recruiter_client):
    """As a browser sends it when no file was chosen: a part of no name, which Django drops."""
    mapped = upload(recruiter_client, HEADER + ADA)
    boundary = "----form"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
        f"--{boundary}--\r\n"
    )

    page = recruiter_client.post(
        "/prospects/import/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        follow=True,
    )

    assert page.templates[0].name == "sequences/prospects.html"
    assert page_messages(page) == ["This field is required."]
    assert not Prospect.objects.exists()
    # The earlier upload is still there for its own mapping page.
    assert result_of(map_columns(recruiter_client, mapped)).created == 1


# Each upload is its own ----------------------------------------------------------------------


def test_two_uploads_at_once_each_import_their_own_file(recruiter_client):
    first = upload(recruiter_client, HEADER + ADA)
    second = upload(recruiter_client, HEADER + GRACE)

    map_columns(recruiter_client, first)
    assert emails() == ["ada@candidates.example"]

    map_columns(recruiter_client, second)
    assert emails() == ["ada@candidates.example", "grace@candidates.example"]


def test_a_mapping_posted_again_imports_nothing_more(recruiter_client):
    page = upload(recruiter_client, HEADER + ADA)
    map_columns(recruiter_client, page)
    Prospect.objects.update(first_name="Augusta")

    again = map_columns(recruiter_client, page)

    assert again.status_code == 302
    assert page_messages(recruiter_client.get(again["Location"])) == [
        "This upload was imported already or is over an hour old: upload it again."
    ]
    assert Prospect.objects.get().first_name == "Augusta"


def test_a_refused_mapping_keeps_its_upload(recruiter_client):
    page = upload(recruiter_client, HEADER + ADA)

    refused = map_columns(recruiter_client, page, {"map_0": "first_name"})
    assert "Map exactly one column to Email." in refused.content.decode()

    assert result_of(map_columns(recruiter_client, refused)).created == 1


def test_another_users_upload_is_not_found(recruiter_client, teammate):
    page = upload(recruiter_client, HEADER + ADA)
    other = Client()
    other.force_login(teammate)

    response = map_columns(other, page)

    assert response.status_code == 302
    assert not Prospect.objects.exists()


# Files as spreadsheets save them ---------------------------------------------------------------

# Excel's "Unicode text": UTF-16 with its byte order mark, tab separated, with commas in values.
UNICODE_TEXT = (
    "Email\tFirst Name\tCompany\n"
    "ada@candidates.example\tAda\tAnalytical, Ltd.\n"
    "grace@candidates.example\tGrace\tNavy, US\n"
)


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe" + UNICODE_TEXT.encode("utf-16-le"),
        b"\xfe\xff" + UNICODE_TEXT.encode("utf-16-be"),
    ],
    ids=["utf-16-le", "utf-16-be"],
)
def test_an_excel_unicode_text_file_is_read_by_its_tabs(recruiter_client, raw):
    page = upload(recruiter_client, raw)
    assert "2 rows read" in page.content.decode()
    # The columns were told apart, so each name is guessed.
    assert [guess for _, _, _, guess in page.context["upload"].columns()] == [
        "email",
        "first_name",
        "company",
    ]

    result = result_of(map_columns(recruiter_client, page))

    assert (result.created, result.errors) == (2, [])
    assert Prospect.objects.get(email="ada@candidates.example").company == "Analytical, Ltd."


def test_a_utf8_file_with_its_byte_order_mark_is_read(recruiter_client):
    page = upload(recruiter_client, "\ufeff" + HEADER + "zoe@candidates.example,Zoë,Café\n")
    # The mark is not part of the first column's name: "Email" is still recognised.
    assert page.context["upload"].header[0] == "Email"

    result = result_of(map_columns(recruiter_client, page))

    assert result.created == 1
    assert Prospect.objects.get().first_name == "Zoë"


# Rows the recruiter is shown -----------------------------------------------------------------


def test_a_second_row_of_the_same_email_is_shown_and_the_first_kept(recruiter_client):
    page = upload(
        recruiter_client,
        HEADER + ADA + GRACE + "ADA@Candidates.example,Augusta,Engines\n" + ADA,
    )

    result = map_columns(recruiter_client, page)

    text = result.content.decode()
    assert "2 added, 0 updated" in text
    assert "2 rows not imported" in text
    assert [(n, e) for n, _, e in result_of(result).errors] == [
        (4, "Same email as row 2."),
        (5, "Same email as row 2."),
    ]
    ada = Prospect.objects.get(email="ada@candidates.example")
    assert (ada.first_name, ada.company) == ("Ada", "Analytical")


def test_a_value_too_long_for_its_column_is_shown_as_its_rows_error(recruiter_client):
    page = upload(recruiter_client, HEADER + ADA + f"lin@candidates.example,Lin,{'C' * 201}\n")

    text = map_columns(recruiter_client, page).content.decode()

    assert "1 added, 0 updated" in text
    assert "Company is longer than 200 characters." in text
    assert emails() == ["ada@candidates.example"]


# The limit -----------------------------------------------------------------------------------


def test_the_upload_form_states_the_limits(recruiter_client):
    page = recruiter_client.get("/prospects/").content.decode()

    assert "At most 100,000 prospects and 20 MB a file." in page


def test_a_file_over_the_row_limit_is_refused_with_the_limit(recruiter_client, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 2)

    page = upload(recruiter_client, HEADER + ADA + GRACE + "lin@candidates.example,Lin,Hooli\n")

    assert page_messages(page) == [
        "More than 2 prospects: at most 2 at a time, so split them in parts and import each."
    ]
    assert not Prospect.objects.exists()
