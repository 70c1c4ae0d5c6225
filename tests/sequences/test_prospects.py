import io

import pytest

from sequences.models import Prospect
from tests.factories import ProspectFactory
from tests.sequences.imports import errors_download, post_and_import

pytestmark = pytest.mark.django_db

CSV = (
    "Email,First Name,Last Name,Company,GitHub\n"
    "ada@candidates.example,Ada,Lovelace,Analytical,adal\n"
    "not-an-email,Bad,Row,Nowhere,x\n"
    "ADA@candidates.example,Ada,L.,Analytical Engines,adal\n"
    "grace@candidates.example,Grace,Hopper,Navy,ghopper\n"
)


def upload(client, text, name="prospects.csv"):
    file = io.BytesIO(text.encode())
    file.name = name
    return client.post("/prospects/import/", {"file": file})


def test_csv_import_maps_columns_keeps_good_rows_and_reports_bad_ones(recruiter_client, org):
    ProspectFactory(
        organization=org, email="grace@candidates.example", first_name="G", title="Admiral"
    )
    page = upload(recruiter_client, CSV)
    mapping = page.content.decode()
    assert "4 rows read" in mapping
    assert 'value="custom" selected' in mapping  # GitHub: a custom field
    done = post_and_import(
        recruiter_client,
        "/prospects/import/",
        {
            "upload": page.context["token"],
            "map_0": "email",
            "map_1": "first_name",
            "map_2": "last_name",
            "map_3": "company",
            "map_4": "custom",
        },
    )
    result = done.content.decode()
    assert "1 added, 1 updated" in result
    assert "not-an-email is not an email address." in result
    assert "Same email as row 2." in result

    ada = Prospect.objects.get(email="ada@candidates.example")
    assert (ada.last_name, ada.company, ada.custom_fields) == (
        "Lovelace",
        "Analytical",
        {"github": "adal"},
    )
    grace = Prospect.objects.get(email="grace@candidates.example")
    assert (grace.first_name, grace.title) == ("Grace", "Admiral")

    assert errors_download(recruiter_client, done).splitlines() == [
        "row,Email,First Name,Last Name,Company,GitHub,error",
        "3,not-an-email,Bad,Row,Nowhere,x,not-an-email is not an email address.",
        "4,ADA@candidates.example,Ada,L.,Analytical Engines,adal,Same email as row 2.",
    ]


def test_a_mapping_without_an_email_column_is_refused(recruiter_client):
    token = upload(recruiter_client, CSV).context["token"]
    page = recruiter_client.post(
        "/prospects/import/", {"upload": token, "map_0": "first_name"}
    ).content.decode()
    assert "Map exactly one column to Email." in page
    assert not Prospect.objects.exists()


def test_paste_many_and_dedupe_case_insensitively(recruiter_client, org):
    post_and_import(
        recruiter_client,
        "/prospects/paste/",
        {"paste-lines": "lin@candidates.example, Lin, Wu, Hooli, CTO\nLIN@candidates.example\nx@y"},
    )
    assert list(Prospect.objects.values_list("email", "first_name")) == [
        ("lin@candidates.example", "Lin")
    ]


def test_prospects_of_another_team_are_invisible(recruiter_client, other_org):
    theirs = ProspectFactory(organization=other_org, email="theirs@candidates.example")
    assert "theirs@candidates.example" not in recruiter_client.get("/prospects/").content.decode()
    assert recruiter_client.get(f"/prospects/{theirs.pk}/").status_code == 404
