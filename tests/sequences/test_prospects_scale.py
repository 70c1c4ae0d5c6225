"""The prospect list at real size: one filter behind the list, "all N matching", the export and
the picker; tags; the flags; a constant number of queries."""

import csv
import io
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sequences.models import DoNotContact, Enrollment, Message, Prospect, Tag
from tests.factories import EnrollmentFactory, ProspectFactory, SequenceFactory

pytestmark = pytest.mark.django_db


def make(org, n, **fields):
    return [
        ProspectFactory(
            organization=org, email=f"{fields.get('company', 'p').lower()}{i}@x.example", **fields
        )
        for i in range(n)
    ]


def emails(page) -> list[str]:
    return [p.email for p in page.context["page"]]


def test_the_list_pages_by_fifty_with_its_count(recruiter_client, org):
    make(org, 120)
    first = recruiter_client.get("/prospects/")
    assert first.context["page"].paginator.count == 120
    assert len(emails(first)) == 50
    assert "120 prospects" in first.content.decode()
    assert "Select all 120 matching" in first.content.decode()
    last = recruiter_client.get("/prospects/?page=3")
    assert len(emails(last)) == 20
    assert "Page 3 of 3" in last.content.decode()


def test_filters_by_search_company_tag_status_bounced_and_do_not_contact(
    recruiter_client, org, recruiter, sequence
):
    ada = ProspectFactory(
        organization=org, email="ada@x.example", first_name="Ada", company="Hooli"
    )
    ben = ProspectFactory(organization=org, email="ben@x.example", company="Initech", title="CTO")
    cleo = ProspectFactory(organization=org, email="cleo@x.example", bounced_at=timezone.now())
    dev = ProspectFactory(organization=org, email="dev@blocked.example")
    DoNotContact.objects.create(organization=org, value="blocked.example")
    tag = Tag.objects.create(organization=org, name="Hot")
    ben.tags.add(tag)
    EnrollmentFactory(sequence=sequence, prospect=ada, status=Enrollment.Status.REPLIED)
    EnrollmentFactory(sequence=sequence, prospect=ben, status=Enrollment.Status.ACTIVE)

    def listed(**query) -> set[str]:
        return set(emails(recruiter_client.get(f"/prospects/?{urlencode(query)}")))

    assert listed(q="ADA") == {ada.email}
    assert listed(q=f"ada {ada.last_name}") == {ada.email}  # a full name finds them
    assert listed(q="%") == set()  # a wildcard is a character to find
    assert listed(company="hoo") == {ada.email}
    assert listed(title="cto") == {ben.email}
    assert listed(tag=tag.pk) == {ben.email}
    assert listed(status="replied") == {ada.email}
    assert listed(status="none") == {cleo.email, dev.email}
    assert listed(bounced="yes") == {cleo.email}
    assert listed(dnc="yes") == {dev.email}
    assert listed(dnc="no", bounced="no", status="none") == set()


def test_a_value_that_does_not_read_is_its_fields_error_and_the_others_still_filter(
    recruiter_client, org, other_org
):
    ProspectFactory(organization=org, email="ada@x.example", company="Hooli")
    ProspectFactory(organization=org, email="ben@x.example", company="Initech")
    foreign = Tag.objects.create(organization=other_org, name="Theirs")
    page = recruiter_client.get(
        f"/prospects/?company=hooli&contacted_days=soon&tag={foreign.pk}&contacted_after=31-31"
    )
    assert page.status_code == 200
    errors = page.context["filters"].errors
    assert set(errors) == {"contacted_days", "tag", "contacted_after"}
    assert emails(page) == ["ada@x.example"]


def test_last_contacted_and_replied(recruiter_client, org, sequence, recruiter_mailbox):
    old, recent, never = (
        ProspectFactory(organization=org, email=f"{n}@x.example")
        for n in ("old", "recent", "never")
    )
    for prospect, days in ((old, 40), (recent, 2)):
        enrollment = EnrollmentFactory(sequence=sequence, prospect=prospect)
        Message.objects.create(
            organization=org,
            prospect=prospect,
            enrollment=enrollment,
            mailbox=recruiter_mailbox,
            direction="outbound",
            status="sent",
            from_address="rick@acme.example",
            to_address=prospect.email,
            sent_at=timezone.now() - timezone.timedelta(days=days),
        )
    Message.objects.create(
        organization=org,
        prospect=recent,
        mailbox=recruiter_mailbox,
        direction="inbound",
        inbound_kind="reply",
        from_address=recent.email,
        to_address="rick@acme.example",
        sent_at=timezone.now(),
    )
    ten_days_ago = (timezone.now() - timezone.timedelta(days=10)).date().isoformat()

    def listed(**query) -> set[str]:
        return set(emails(recruiter_client.get(f"/prospects/?{urlencode(query)}")))

    assert listed(contacted_days=7) == {recent.email}
    assert listed(contacted_before=ten_days_ago) == {old.email}
    assert listed(contacted_after=ten_days_ago) == {recent.email}
    assert listed(replied="yes") == {recent.email}
    assert listed(replied="no") == {old.email, never.email}


def test_tag_all_matching_takes_the_filter_not_the_page(recruiter_client, org, other_org):
    hooli = make(org, 60, company="Hooli")
    make(org, 5, company="Initech")
    ProspectFactory(organization=other_org, email="hooli@globex.example", company="Hooli")
    response = recruiter_client.post(
        "/prospects/tag/",
        {"all_matching": "1", "filter": "company=hooli", "tag": " Hot  lead ", "do": "add"},
        follow=True,
    )
    assert "“Hot lead” added to 60." in response.content.decode()
    tag = Tag.objects.get(organization=org)
    assert set(tag.prospects.all()) == set(hooli)
    # Again: nobody is tagged twice; a second tag name in another case is the same tag.
    recruiter_client.post(
        "/prospects/tag/", {"all_matching": "1", "filter": "company=hooli", "tag": "hot LEAD"}
    )
    assert Tag.objects.count() == 1 and tag.prospects.count() == 60
    page = recruiter_client.get(f"/prospects/?tag={tag.pk}").content.decode()
    assert "60 prospects match" in page and ">Hot lead</span>" in page

    removed = recruiter_client.post(
        "/prospects/tag/",
        {"selected": [hooli[0].pk, hooli[1].pk], "tag": "Hot lead", "do": "remove"},
        follow=True,
    )
    assert "“Hot lead” removed from 2." in removed.content.decode()
    assert tag.prospects.count() == 58


def test_an_empty_selection_or_a_stale_filter_is_refused(recruiter_client, org):
    make(org, 3)
    nothing = recruiter_client.post("/prospects/tag/", {"tag": "Hot"}, follow=True)
    assert "Choose at least one prospect." in nothing.content.decode()
    stale = recruiter_client.post(
        "/prospects/tag/", {"all_matching": "1", "filter": "tag=999999", "tag": "Hot"}, follow=True
    )
    assert "The list&#x27;s filter is not valid any more." in stale.content.decode()
    assert not Tag.objects.exists()


def test_enroll_all_matching_across_pages_checks_each_and_says_why(
    recruiter_client, org, sequence, recruiter_mailbox
):
    hooli = make(org, 70, company="Hooli")
    make(org, 4, company="Initech")
    Prospect.objects.filter(pk=hooli[0].pk).update(do_not_contact=True)
    carried = {"all_matching": "1", "filter": "company=hooli"}
    picked = recruiter_client.post(
        "/prospects/enroll/", {**carried, "sequence": sequence.pk}
    ).content.decode()
    assert "Enroll 70 prospects in Backend engineers" in picked
    report = recruiter_client.post(
        f"/sequences/{sequence.pk}/enroll/", {**carried, "sender": recruiter_mailbox.pk}
    )
    assert report.context["summary"].enrolled == 69
    page = report.content.decode()
    assert "69 enrolled in Backend engineers" in page
    assert "Not enrolled (1)" in page and hooli[0].email in page
    assert sequence.enrollments.filter(status=Enrollment.Status.ACTIVE).count() == 69
    assert not sequence.enrollments.filter(prospect__company="Initech").exists()


def test_email_all_matching_opens_compose_for_them_and_refuses_too_many(
    recruiter_client, org, recruiter_mailbox, monkeypatch
):
    make(org, 3, company="Hooli")
    make(org, 2, company="Initech")
    page = recruiter_client.post("/emails/new/", {"all_matching": "1", "filter": "company=hooli"})
    assert [p.company for p in page.context["prospects"]] == ["Hooli"] * 3
    from sequences.views import emails

    monkeypatch.setattr(emails, "BULK_EMAIL_LIMIT", 2)
    refused = recruiter_client.post(
        "/emails/new/", {"all_matching": "1", "filter": "company=hooli"}, follow=True
    )
    assert "3 prospects match: a bulk email goes to at most 2." in refused.content.decode()


def test_export_streams_the_filters_matches_with_tags_and_flags(recruiter_client, org, other_org):
    ada = ProspectFactory(organization=org, email="ada@x.example", company="Hooli")
    ProspectFactory(organization=org, email="ben@x.example", company="Initech")
    ProspectFactory(organization=other_org, email="gus@x.example", company="Hooli")
    ada.tags.add(Tag.objects.create(organization=org, name="Hot"))
    Prospect.objects.filter(pk=ada.pk).update(bounced_at=timezone.now())
    response = recruiter_client.get("/prospects/export.csv?company=hooli")
    assert response.streaming and response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["email"], r["tags"], r["bounced"]) for r in rows] == [
        ("ada@x.example", "Hot", "yes")
    ]
    selected = recruiter_client.post("/prospects/export.csv", {"selected": [ada.pk]})
    assert b"ada@x.example" in b"".join(selected.streaming_content)


def test_flags_show_on_the_list_the_picker_and_the_sequence(recruiter_client, org, sequence):
    ProspectFactory(organization=org, email="bounced@x.example", bounced_at=timezone.now())
    ProspectFactory(organization=org, email="dnc@blocked.example")
    DoNotContact.objects.create(organization=org, value="blocked.example")
    gone = ProspectFactory(organization=org, email="gone@x.example", do_not_contact=True)
    left = EnrollmentFactory(
        sequence=sequence, prospect=gone, status=Enrollment.Status.UNSUBSCRIBED
    )
    Message.objects.create(
        organization=org,
        prospect=gone,
        enrollment=left,
        mailbox=left.mailbox,
        direction="inbound",
        inbound_kind="reply",
        from_address=gone.email,
        to_address=left.mailbox.email,
        sent_at=timezone.now(),
    )
    replies = recruiter_client.get("/replies/").content.decode()
    assert "gone@x.example" in replies and ">Unsubscribed</span>" in replies
    for url in ("/prospects/", f"/sequences/{sequence.pk}/", f"/sequences/{sequence.pk}/picker/"):
        page = recruiter_client.get(url).content.decode()
        assert ">Bounced</span>" in page, url
        assert ">Do not contact</span>" in page, url
        assert ">Unsubscribed</span>" in page, url
    assert ">Unsubscribed</span>" in recruiter_client.get(f"/prospects/{gone.pk}/").content.decode()


def test_the_picker_searches_and_pages_keeping_what_was_checked(recruiter_client, org, sequence):
    make(org, 60, company="Hooli")
    ProspectFactory(organization=org, email="zed@x.example", first_name="Zed")
    found = recruiter_client.get(f"/sequences/{sequence.pk}/picker/?pq=zED").content.decode()
    assert "zed@x.example" in found and "hooli0@x.example" not in found
    second = recruiter_client.get(
        f"/sequences/{sequence.pk}/picker/?page=2&prospects=123456"
    ).content.decode()
    assert "Page 2 of 2" in second
    assert '<input type="hidden" name="prospects" value="123456">' in second


@pytest.mark.parametrize(
    "url",
    [
        "/prospects/",
        "/prospects/?q=x&status=active&company=x&bounced=no&dnc=no&replied=no&contacted_days=9",
        "picker",
    ],
)
def test_pages_run_the_same_queries_for_5_or_60_prospects(
    recruiter_client, org, sequence, django_assert_max_num_queries, url
):
    tag = Tag.objects.create(organization=org, name="Hot")
    if url == "picker":
        url = f"/sequences/{sequence.pk}/picker/?pq=x"

    def seed(n):
        Prospect.objects.all().delete()
        for p in make(org, n, company="x"):
            p.tags.add(tag)
            EnrollmentFactory(sequence=sequence, prospect=p)

    seed(5)
    with CaptureQueriesContext(connection) as at_five:
        assert recruiter_client.get(url).status_code == 200
    seed(60)
    with django_assert_max_num_queries(len(at_five)):
        page = recruiter_client.get(url)
    assert page.content.decode().count('value="') >= 50  # the rows are there


def test_another_teams_prospects_never_match(recruiter_client, org, other_org):
    SequenceFactory(owner__organization=other_org)
    ProspectFactory(organization=other_org, email="theirs@x.example")
    ProspectFactory(organization=org, email="ours@x.example")
    assert emails(recruiter_client.get("/prospects/?q=x.example")) == ["ours@x.example"]
    response = recruiter_client.post(
        "/prospects/tag/", {"all_matching": "1", "filter": "", "tag": "Hot"}, follow=True
    )
    assert "“Hot” added to 1." in response.content.decode()
