"""Unsubscribing (the List-Unsubscribe headers, the footer link, the confirmation page, RFC 8058
one-click) and the organization's do-not-contact list (enrollment, the engine, the admin)."""

import re
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from outreach.models import User
from sandbox import control
from sequences import donotcontact, services, unsubscribe
from sequences.models import DoNotContact, Enrollment, Message, Prospect
from tests.factories import ProspectFactory
from tests.sequences.test_sending import CANDIDATE, connect, enroll, inbox, make_sequence, run_due

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


@pytest.fixture
def rick_box(sandbox, recruiter):
    return connect(sandbox, recruiter)


def parsed(message):
    return message_from_bytes(bytes(message.raw), policy=policy.default)


def unsubscribe_path(message) -> str:
    header = parsed(message)["List-Unsubscribe"]
    [url] = re.findall(r"<(http://testserver/u/[^>]+)>", header)
    return urlsplit(url).path


@pytest.fixture
def sent(sandbox, recruiter, rick_box):
    """One email of a two-stage sequence sent to the candidate, who is also in another sequence."""
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    other = make_sequence(recruiter, rick_box, name="Staff engineers")
    services.enroll(sequence=other, prospects=[enrollment.prospect], by=recruiter, mailbox=rick_box)
    Enrollment.objects.filter(sequence=other).update(next_action_at=None)
    run_due()
    return enrollment


def assert_unsubscribed(enrollment, source: str):
    prospect = Prospect.objects.get(pk=enrollment.prospect_id)
    assert prospect.do_not_contact
    assert DoNotContact.objects.get(organization=prospect.organization).value == CANDIDATE
    for each in Enrollment.objects.filter(prospect=prospect):
        assert each.status == Enrollment.Status.UNSUBSCRIBED
        assert source in each.status_reason


# The email -------------------------------------------------------------------------------------


def test_every_email_carries_the_one_click_unsubscribe_headers(sent):
    [received] = inbox(CANDIDATE)
    headers = parsed(received)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    message = Message.objects.get(enrollment=sent)
    # (Folded onto its own line when long, as RFC 5322 allows.)
    assert headers["List-Unsubscribe"].strip() == f"<{unsubscribe.url_for(message.pk)}>"
    # No footer unless the sequence asks for one.
    assert "/u/" not in parsed(received).get_body(preferencelist=("html",)).get_content()


def test_the_footer_link_is_in_both_parts_and_is_never_a_tracked_link(sandbox, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    sequence = make_sequence(
        recruiter, rick_box, unsubscribe_footer=True, track_clicks=True, track_opens=True
    )
    enroll(sequence, recruiter, rick_box)
    run_due()

    [received] = inbox(CANDIDATE)
    path = unsubscribe_path(received)
    email = parsed(received)
    html = email.get_body(preferencelist=("html",)).get_content()
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert f'<a href="http://testserver{path}">here</a>' in html
    assert "/t/c/" not in html
    assert f"unsubscribe: http://testserver{path}" in text
    # The sender's clean copy keeps the footer.
    [copy] = [m for m in control.messages(recruiter.email, "SENT") if "TRASH" not in m.label_ids]
    assert path in parsed(copy).get_body(preferencelist=("html",)).get_content()


# The link ----------------------------------------------------------------------------------------


def test_opening_the_link_shows_a_confirmation_and_changes_nothing(sent):
    path = unsubscribe_path(inbox(CANDIDATE)[0])

    response = Client().get(path)

    assert response.status_code == 200
    assert b"Stop emails from Acme?" in response.content
    assert CANDIDATE.encode() in response.content
    assert b'<form method="post">' in response.content
    assert not Prospect.objects.get(pk=sent.prospect_id).do_not_contact
    assert not DoNotContact.objects.exists()
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"active"}


def test_the_confirmation_button_unsubscribes_and_nothing_more_is_sent(sent):
    path = unsubscribe_path(inbox(CANDIDATE)[0])

    response = Client(enforce_csrf_checks=True).post(path)

    assert response.status_code == 200
    assert b"You are unsubscribed" in response.content
    assert_unsubscribed(sent, "unsubscribe page")
    assert run_due() == 0
    assert len(inbox(CANDIDATE)) == 1


def test_the_one_click_post_works_without_csrf_token_or_login(sent):
    path = unsubscribe_path(inbox(CANDIDATE)[0])

    # As a mail client sends it: no cookie, no CSRF token, no redirect expected.
    response = Client(enforce_csrf_checks=True).post(path, ONE_CLICK)

    assert response.status_code == 200
    assert_unsubscribed(sent, "one-click")
    # Twice is the same as once.
    assert Client(enforce_csrf_checks=True).post(path, ONE_CLICK).status_code == 200
    assert DoNotContact.objects.count() == 1


def test_the_engine_checks_before_each_send(sent):
    """Even if the enrollments were not stopped (say, marked on the prospect page), the next
    stage does not go out."""
    Prospect.objects.filter(pk=sent.prospect_id).update(do_not_contact=True)
    assert run_due() == 1
    sent.refresh_from_db()
    assert sent.status == Enrollment.Status.UNSUBSCRIBED
    assert len(inbox(CANDIDATE)) == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_bad_link_tells_nothing_and_changes_nothing(sent, method):
    path = unsubscribe_path(inbox(CANDIDATE)[0])
    value, _, signature = path.removeprefix("/u/").removesuffix("/").rpartition(":")
    for bad in (f"/u/{int(value) + 1}:{signature}/", "/u/garbage/"):
        response = getattr(Client(), method)(bad, ONE_CLICK if method == "post" else None)
        assert response.status_code == 404
        assert CANDIDATE.encode() not in response.content
    assert not Prospect.objects.filter(do_not_contact=True).exists()


# The do-not-contact list -------------------------------------------------------------------------


def test_a_domain_on_the_list_blocks_enrollment(recruiter, recruiter_mailbox, sequence, org):
    DoNotContact.objects.create(organization=org, value="initech.example")
    DoNotContact.objects.create(organization=org, value="pat@globex.example")
    blocked = ProspectFactory(organization=org, email="Sam@Initech.example")
    by_address = ProspectFactory(organization=org, email="pat@globex.example")
    subdomain = ProspectFactory(organization=org, email="lee@mail.initech.example")

    report = services.enroll(
        sequence=sequence,
        prospects=[blocked, by_address, subdomain],
        by=recruiter,
        mailbox=recruiter_mailbox,
    )

    refused = {o.prospect.email: o.refused for o in report.refused}
    assert refused == {
        "Sam@Initech.example": "Sam@Initech.example is on the team's do-not-contact list "
        "(initech.example).",
        "pat@globex.example": "pat@globex.example is on the team's do-not-contact list "
        "(pat@globex.example).",
    }
    assert [o.prospect for o in report.enrolled] == [subdomain]


def test_another_teams_list_does_not_apply(recruiter, recruiter_mailbox, sequence, other_org):
    DoNotContact.objects.create(organization=other_org, value="initech.example")
    prospect = ProspectFactory(organization=recruiter.organization, email="sam@initech.example")
    report = services.enroll(
        sequence=sequence, prospects=[prospect], by=recruiter, mailbox=recruiter_mailbox
    )
    assert not report.refused


def test_the_list_check_is_one_query_for_any_number_of_prospects(org, django_assert_num_queries):
    emails = [f"person{n}@domain{n % 7}.example" for n in range(500)]
    DoNotContact.objects.create(organization=org, value="domain3.example")
    with django_assert_num_queries(1):
        found = donotcontact.listed(org.pk, emails)
    assert set(found.values()) == {"domain3.example"}
    assert len(found) == len([e for e in emails if e.endswith("@domain3.example")])


def test_an_entry_added_after_enrollment_stops_the_next_send(sandbox, recruiter, rick_box, org):
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    DoNotContact.objects.create(organization=org, value="CANDIDATES.example")

    assert run_due() == 1

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.STOPPED
    assert "do-not-contact list" in enrollment.status_reason
    assert len(inbox(CANDIDATE)) == 1


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (" Pat@Globex.Example ", "pat@globex.example"),
        ("@Initech.example", "initech.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_entries_are_normalized(value, stored):
    assert donotcontact.normalize(value) == stored


@pytest.mark.parametrize("value", ["", "localhost", "not an address", "a@", "http://x.example"])
def test_entries_that_are_neither_address_nor_domain_are_refused(value):
    with pytest.raises(ValidationError):
        donotcontact.normalize(value)


# Admin -------------------------------------------------------------------------------------------

IMPORT = "/admin/sequences/donotcontact/import/"


def test_an_admin_imports_a_csv_into_their_teams_list(admin_client, org, other_org):
    DoNotContact.objects.create(organization=org, value="already.example")
    DoNotContact.objects.create(organization=other_org, value="theirs.example")
    upload = SimpleUploadedFile(
        "dnc.csv",
        b"\xef\xbb\xbfemail,reason\n"
        b"Pat@Globex.example,asked us\n"
        b"@initech.example\n"
        b"already.example\n"
        b"theirs.example\n"
        b"not an address\n"
        b"\n",
        content_type="text/csv",
    )

    response = admin_client.post(
        IMPORT, {"file": upload, "entries": "lee@hooli.example", "reason": "Old list"}, follow=True
    )

    assert response.status_code == 200
    entries = dict(DoNotContact.objects.filter(organization=org).values_list("value", "reason"))
    assert entries == {
        "already.example": "",
        "pat@globex.example": "asked us",
        "initech.example": "Old list",
        "theirs.example": "Old list",
        "lee@hooli.example": "Old list",
    }
    assert DoNotContact.objects.filter(organization=other_org).count() == 1
    text = response.content.decode()
    assert "4 added, 1 already on the list." in text
    assert "not an address" in text


def test_the_import_page_and_list_are_for_admins_only(admin_client, recruiter):
    assert admin_client.get(IMPORT).status_code == 200
    listing = admin_client.get("/admin/sequences/donotcontact/")
    assert IMPORT.encode() in listing.content
    recruiter_client = Client()
    recruiter_client.force_login(recruiter)
    assert recruiter_client.get(IMPORT).status_code in (302, 403)
    response = recruiter_client.post(IMPORT, {"entries": "x.example"})
    assert response.status_code in (302, 403)
    assert not DoNotContact.objects.exists()


def test_an_admin_adds_an_entry_normalized_and_not_twice(admin_client, org, other_org):
    DoNotContact.objects.create(organization=other_org, value="initech.example")
    add = "/admin/sequences/donotcontact/add/"

    response = admin_client.post(add, {"value": "@Initech.Example", "reason": "Client"})
    assert response.status_code == 302
    entry = DoNotContact.objects.get(organization=org)
    assert entry.value == "initech.example"

    again = admin_client.post(add, {"value": "INITECH.example", "reason": ""})
    assert again.status_code == 200
    assert b"initech.example is already on the list." in again.content
    bad = admin_client.post(add, {"value": "not a domain", "reason": ""})
    assert bad.status_code == 200
    assert DoNotContact.objects.filter(organization=org).count() == 1


def test_the_operator_imports_into_the_team_they_choose(client, org, other_org):
    client.force_login(
        User.objects.create_superuser(email="op@outreach.example", password="x", full_name="Op")
    )
    assert client.post(IMPORT, {"entries": "x.example"}).status_code == 200  # no team chosen
    response = client.post(IMPORT, {"organization": other_org.pk, "entries": "x.example"})
    assert response.status_code == 302
    assert list(DoNotContact.objects.values_list("organization", "value")) == [
        (other_org.pk, "x.example")
    ]
    assert DoNotContact.objects.get().reason == f"Imported by Op on {timezone.now():%Y-%m-%d}"
