"""Crafted input on the paths recruiters feed: the CSV import, the pasted list, the one-prospect
form, sequence names and settings, and the alerts a reply raises. Each problem is a clear error
of its row, its field or its file, never a 500, and the good rows are kept."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError

from outreach.models import Notification
from outreach.notifications import notify
from senders.gmail import MessageHeaders
from sequences import classifier, replies, services
from sequences.models import Message, Prospect, Sequence
from tests.factories import EnrollmentFactory, ProspectFactory, SequenceFactory
from tests.sequences.imports import errors_download, post_and_import, result_of

pytestmark = pytest.mark.django_db

HEADER = "Email,First Name,Last Name,Company,Title,GitHub\n"
MAP_ALL = {
    "map_0": "email",
    "map_1": "first_name",
    "map_2": "last_name",
    "map_3": "company",
    "map_4": "title",
    "map_5": "custom",
}
ADA = "ada@candidates.example,Ada,Lovelace,Analytical,Countess,adal\n"
GRACE = "grace@candidates.example,Grace,Hopper,Navy,Admiral,ghopper\n"
# A valid address by its syntax (validate_email allows 320 characters), one over the column.
LONG_EMAIL = "x" * 64 + "@" + ".".join(["d" * 60] * 3) + ".example"
assert len(LONG_EMAIL) == 255


def upload(client, raw: bytes | str):
    file = io.BytesIO(raw.encode() if isinstance(raw, str) else raw)
    file.name = "prospects.csv"
    return client.post("/prospects/import/", {"file": file}, follow=True)


def import_csv(client, raw: bytes | str, mapping=MAP_ALL):
    """Uploads, maps and imports; returns the result."""
    page = upload(client, raw)
    assert page.templates[0].name == "sequences/import_mapping.html", page.content.decode()
    response = post_and_import(
        client, "/prospects/import/", {"upload": page.context["token"], **mapping}
    )
    assert response.status_code == 200
    return result_of(response)


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def emails() -> list[str]:
    return sorted(Prospect.objects.values_list("email", flat=True))


# The CSV file --------------------------------------------------------------------------------


def test_a_value_over_the_csv_field_limit_is_an_error_of_its_row(recruiter_client):
    result = import_csv(
        recruiter_client, HEADER + ADA + "bad@candidates.example,B," + "x" * 200_000 + "\n" + GRACE
    )

    assert emails() == ["ada@candidates.example", "grace@candidates.example"]
    assert result.errors == [
        (3, [], "This row could not be read: a value in it is longer than 131,072 characters.")
    ]


def test_a_null_character_is_an_error_of_its_row(recruiter_client):
    result = import_csv(
        recruiter_client,
        HEADER + ADA + "lin@candidates.example,L\x00in,Wu,Hooli,CTO,lwu\n" + GRACE,
    )

    assert emails() == ["ada@candidates.example", "grace@candidates.example"]
    assert [(n, e) for n, _, e in result.errors] == [
        (3, "First name contains a null character (invisible): delete it.")
    ]


@pytest.mark.parametrize(
    "row, problem",
    [
        ("lin@candidates.example," + "L" * 101, "First name is longer than 100 characters."),
        ("lin@candidates.example,Lin," + "W" * 101, "Last name is longer than 100 characters."),
        ("lin@candidates.example,Lin,Wu," + "H" * 201, "Company is longer than 200 characters."),
        (
            "lin@candidates.example,Lin,Wu,Hooli," + "C" * 201,
            "Title is longer than 200 characters.",
        ),
        (LONG_EMAIL + ",Lin", "Email is longer than 254 characters."),
        # A custom field has no column to bound it: a huge one would go into every email.
        (
            "lin@candidates.example,Lin,Wu,Hooli,CTO," + "g" * 1001,
            "GitHub is longer than 1,000 characters.",
        ),
    ],
)
def test_a_value_longer_than_its_column_is_an_error_of_its_row(recruiter_client, row, problem):
    result = import_csv(recruiter_client, HEADER + ADA + row + "\n" + GRACE)

    assert emails() == ["ada@candidates.example", "grace@candidates.example"]
    assert [(n, e) for n, _, e in result.errors] == [(3, problem)]


def test_every_problem_of_a_row_is_named_at_once(recruiter_client):
    result = import_csv(recruiter_client, HEADER + f"{LONG_EMAIL},{'L' * 101}\n" + GRACE)

    assert result.errors[0][2] == (
        "Email is longer than 254 characters. First name is longer than 100 characters."
    )


def test_more_values_than_columns_is_an_error_of_its_row_not_shifted_values(recruiter_client):
    result = import_csv(
        recruiter_client, HEADER + ADA + "lin@candidates.example,Lin,Wu,Hooli, Inc.,CTO,lwu\n"
    )

    assert emails() == ["ada@candidates.example"]
    assert [(n, e) for n, _, e in result.errors] == [
        (3, "7 values for 6 columns: a value with a comma needs quotes around it.")
    ]


def test_a_trailing_empty_value_is_not_an_extra_value(recruiter_client):
    result = import_csv(recruiter_client, HEADER + ADA.replace("\n", ",,\n"))

    assert (result.created, result.errors) == (1, [])


def test_an_existing_prospect_in_another_case_is_updated_not_a_500(recruiter_client, org):
    # As typed in Django admin, which keeps the case.
    ProspectFactory(organization=org, email="Grace@Candidates.example", title="Rear admiral")

    result = import_csv(recruiter_client, HEADER + GRACE)

    assert (result.created, result.updated) == (0, 1)
    assert Prospect.objects.get().title == "Admiral"


def test_duplicate_emails_in_one_file_are_one_prospect_the_first_kept(recruiter_client):
    result = import_csv(
        recruiter_client, HEADER + ADA + "ADA@candidates.example,,,Analytical Engines,,\n"
    )

    assert result.created == 1
    assert [(n, e) for n, _, e in result.errors] == [(3, "Same email as row 2.")]
    assert Prospect.objects.get().company == "Analytical"


def test_an_email_with_a_line_break_is_not_an_email(recruiter_client):
    result = import_csv(
        recruiter_client, HEADER + '"lin@candidates.example\nBcc: x@evil.example",Lin\n' + GRACE
    )

    assert emails() == ["grace@candidates.example"]
    assert result.errors[0][0] == 2 and "is not an email address" in result.errors[0][2]


def test_columns_of_the_same_name_stay_two_columns(recruiter_client):
    import_csv(
        recruiter_client,
        "Email,Note,Note\nada@candidates.example,first,second\n",
        {"map_0": "email", "map_1": "custom", "map_2": "custom"},
    )

    assert Prospect.objects.get().custom_fields == {"note": "first", "note_3": "second"}


def test_a_mapping_to_anything_but_a_prospect_field_is_refused(recruiter_client, other_org):
    page = upload(recruiter_client, f"Email,Team\nada@candidates.example,{other_org.pk}\n")
    assert page.status_code == 200

    response = recruiter_client.post(
        "/prospects/import/",
        {"upload": page.context["token"], "map_0": "email", "map_1": "organization_id"},
    )

    assert "Choose what each column holds from the list." in response.content.decode()
    assert not Prospect.objects.exists()


def test_old_mac_line_endings_are_read(recruiter_client):
    result = import_csv(recruiter_client, (HEADER + ADA + GRACE).replace("\n", "\r"))

    assert (result.created, result.errors) == (2, [])


def test_an_excel_unicode_text_file_is_read(recruiter_client):
    text = "Email\tFirst Name\nada@candidates.example\tAda\n"

    result = import_csv(recruiter_client, text.encode("utf-16"), {"map_0": "email", "map_1": ""})

    assert result.created == 1 and emails() == ["ada@candidates.example"]


@pytest.mark.parametrize(
    "raw",
    [
        # A PNG image, decodable as Windows-1252 but full of control characters.
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06"
        + b"\x00" * 200,
        # UTF-16 without its byte order mark.
        "Email,First Name\nada@candidates.example,Ada\n".encode("utf-16-le"),
    ],
    ids=["image", "utf-16-without-bom"],
)
def test_a_file_that_is_not_text_is_refused_as_a_whole(recruiter_client, raw):
    page = upload(recruiter_client, raw)

    assert page.templates[0].name == "sequences/prospects.html"
    assert page_messages(page) == [
        "The file is not a CSV: save it from your spreadsheet as CSV (UTF-8) and upload that."
    ]


def test_a_file_of_10000_columns_is_refused_before_its_mapping(recruiter_client):
    # The mapping step would post 10,000 fields, which Django refuses (a 400) over 1,000.
    columns = ["Email", *(f"c{i}" for i in range(9_999))]
    page = upload(recruiter_client, ",".join(columns) + "\nada@candidates.example\n")

    assert page.templates[0].name == "sequences/prospects.html"
    assert page_messages(page) == ["The file has 10,000 columns; at most 200."]


def test_a_first_row_too_long_to_be_column_names_is_refused(recruiter_client):
    page = upload(recruiter_client, "Email," + "n" * 5000 + "\nada@candidates.example,x\n")

    assert page_messages(page) == [
        "The name of column 2 is longer than 100 characters or holds a null character: is the "
        "first row the column names?"
    ]


def test_a_first_row_too_long_to_read_is_refused(recruiter_client):
    page = upload(recruiter_client, "n" * 200_000 + "\nada@candidates.example\n")

    assert page_messages(page) == [
        "The first row (the column names) could not be read: a value in it is longer than "
        "131,072 characters."
    ]


def test_a_header_alone_is_refused(recruiter_client):
    page = upload(recruiter_client, HEADER + "\n,,\n")

    assert page_messages(page) == [
        "The file is empty: it has column names but no prospects under them."
    ]


def test_an_empty_file_is_refused_not_taken_for_the_last_upload(recruiter_client):
    upload(recruiter_client, HEADER + ADA)

    page = upload(recruiter_client, b"")

    assert page.templates[0].name == "sequences/prospects.html"
    assert page_messages(page) == ["The file is empty: there is nothing in it to import."]
    assert not Prospect.objects.exists()


def test_the_rows_with_problems_download_without_formulas(recruiter_client):
    page = upload(
        recruiter_client, "Email,=Notes\n" + '=HYPERLINK("http://evil.example"),@SUM(A1)\n'
    )
    done = post_and_import(
        recruiter_client,
        "/prospects/import/",
        {"upload": page.context["token"], "map_0": "email", "map_1": "custom"},
    )

    rows = list(csv.reader(io.StringIO(errors_download(recruiter_client, done))))

    assert rows == [
        ["row", "Email", "'=Notes", "error"],
        [
            "2",
            '\'=HYPERLINK("http://evil.example")',
            "'@SUM(A1)",
            '\'=hyperlink("http://evil.example") is not an email address.',
        ],
    ]


# The pasted list -----------------------------------------------------------------------------


def paste(client, text: str):
    return post_and_import(client, "/prospects/paste/", {"paste-lines": text})


def test_pasted_lines_with_problems_are_reported_by_line_and_the_others_kept(recruiter_client):
    response = paste(
        recruiter_client,
        "ada@candidates.example, Ada\n"
        "lin@candidates.example, " + "L" * 200_000 + "\n"
        "\n"
        "bob@candidates.example, B\x00ob\n"
        "cy@candidates.example, " + "C" * 101 + "\n"
        "grace@candidates.example, Grace\n",
    )

    assert response.status_code == 200
    assert emails() == ["ada@candidates.example", "grace@candidates.example"]
    assert [(n, e) for n, _, e in result_of(response).errors] == [
        (2, "This row could not be read: a value in it is longer than 131,072 characters."),
        (4, "First name contains a null character (invisible): delete it."),
        (5, "First name is longer than 100 characters."),
    ]


def test_pasted_lines_with_problems_download(recruiter_client):
    page = paste(recruiter_client, "ada@candidates.example, Ada\nnot-an-email, Bad")

    errors = errors_download(recruiter_client, page)

    assert errors.splitlines() == [
        "row,email,first name,last name,company,title,error",
        "2,not-an-email,Bad,not-an-email is not an email address.",
    ]


def test_an_empty_paste_says_so(recruiter_client):
    response = paste(recruiter_client, "")

    assert page_messages(recruiter_client.get(response.url)) == ["This field is required."]


# One prospect --------------------------------------------------------------------------------


def test_one_prospect_with_an_email_longer_than_its_column_is_a_form_error(recruiter_client):
    response = recruiter_client.post("/prospects/", {"one-email": LONG_EMAIL})

    assert response.status_code == 200
    assert "at most 254 characters" in response.content.decode()
    assert not Prospect.objects.exists()


def test_upsert_prospect_refuses_a_value_longer_than_its_column(recruiter):
    with pytest.raises(ValidationError) as caught:
        services.upsert_prospect(by=recruiter, email="lin@candidates.example", first_name="L" * 101)

    assert list(caught.value.message_dict) == ["first_name"]
    assert not Prospect.objects.exists()


# Sequences -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, problem",
    [
        ("S" * 201, "A sequence name is at most 200 characters."),
        ("Backend\x00", "A sequence name cannot contain a null character."),
    ],
)
def test_a_new_sequence_with_a_bad_name_is_refused_with_the_reason(recruiter_client, name, problem):
    response = recruiter_client.post("/sequences/new/", {"name": name}, follow=True)

    assert response.templates[0].name == "sequences/list.html"
    assert page_messages(response) == [problem]
    assert not Sequence.objects.exists()


def test_renaming_a_sequence_beyond_its_column_is_refused(recruiter):
    sequence = SequenceFactory(owner=recruiter, name="Backend")

    with pytest.raises(ValidationError, match="at most 200 characters"):
        services.update_sequence(sequence=sequence, by=recruiter, name="S" * 201)

    sequence.refresh_from_db()
    assert sequence.name == "Backend"


def test_a_bcc_list_that_outgrows_its_column_once_written_out_is_refused(recruiter):
    sequence = SequenceFactory(owner=recruiter)
    typed = ",".join(f"a{i:02}@b.io" for i in range(55))  # 494 characters, 548 as "a, b"
    assert len(typed) <= 500

    with pytest.raises(ValidationError, match="more than 500 characters"):
        services.update_sequence(sequence=sequence, by=recruiter, bcc=typed)


# Alerts --------------------------------------------------------------------------------------


def test_an_alert_too_long_for_its_column_is_cut_short_not_lost(recruiter):
    notification = notify(recruiter, "Casey replied: " + "x" * 600 + "\x00", url="/x/" * 200)

    notification.refresh_from_db()
    assert len(notification.message) == 500 and notification.message.endswith("x…")
    # A link cut short would lead nowhere.
    assert notification.url == ""


HUMAN = classifier.Classification(classifier.REPLY, "a person answered")


def reply(enrollment, *, snippet="Yes! Let's talk on Friday.", **headers) -> MessageHeaders:
    """A reply from the prospect, as Gmail describes it."""
    return MessageHeaders(
        id="18f0c0ffee",
        thread_id="18f0c0ffee",
        internal_date_ms=1_770_000_000_000,
        label_ids=("INBOX",),
        headers={"from": enrollment.prospect.email, **headers},
        snippet=snippet,
    )


def record(enrollment, item) -> Message:
    """As the mailbox sync, or the last look before a send, stores it."""
    return replies.record(
        mailbox=enrollment.mailbox,
        enrollment=enrollment,
        prospect=enrollment.prospect,
        item=item,
        verdict=HUMAN,
    )


def test_a_reply_is_stored_whatever_its_headers_hold(recruiter):
    enrollment = EnrollmentFactory(sequence=SequenceFactory(owner=recruiter))
    item = reply(
        enrollment,
        snippet="Yes\x00!",
        subject="Re: \x00" + "s" * 600,
        to="rick@acme.example" + ", x@y.example" * 40,
        **{
            "from": "Casey \x00<casey@candidates.example>",
            "message-id": "<" + "m" * 400 + "@candidates.example>",
        },
    )

    message = record(enrollment, item)

    message.refresh_from_db()
    assert message.from_address == "Casey <casey@candidates.example>"
    assert message.subject == "Re: " + "s" * 496
    assert (len(message.to_address), len(message.rfc822_message_id)) == (300, 300)
    assert message.body_text == "Yes!"


def test_a_reply_with_a_subject_over_500_characters_still_tells_the_recruiter(
    recruiter, django_capture_on_commit_callbacks, mailoutbox
):
    enrollment = EnrollmentFactory(sequence=SequenceFactory(owner=recruiter))

    with django_capture_on_commit_callbacks(execute=True):
        message = record(enrollment, reply(enrollment, subject="Re: " + "Quick question " * 50))
        assert replies.apply(enrollment, message, HUMAN) == replies.STOPPED

    assert len(message.subject) == 500
    note = Notification.objects.get(user=recruiter)
    assert len(note.message) == 500
    assert "replied to" in note.message and note.message.endswith("…")
    assert [m.to for m in mailoutbox] == [[recruiter.email]]
