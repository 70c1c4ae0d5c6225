"""The pages of one-off and bulk emails: compose (from a prospect or a selection), the live
preview, the progress page and its cancel buttons, the list, and who may see what."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from senders.models import Delegation
from sequences import services
from sequences.models import Enrollment, Message, Sequence
from tests.factories import MailboxFactory, ProspectFactory, SequenceFactory, UserFactory
from tests.sequences import test_one_off
from tests.sequences.test_one_off import BODY, draft, prospect
from tests.sequences.test_sending import CANDIDATE, connect, enroll, make_sequence, run_due

SUBJECT = "Platform role, {{first_name}}"

# The service tests' fixtures: Hana (tests/sequences/conftest.py), a hiring manager who
# authorized Rick to send from her connected inbox; no send jitter.
hana_box = test_one_off.hana_box
_no_jitter = test_one_off._no_jitter


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(mailbox, prospects, **fields):
    """The compose form as the browser posts it."""
    return {
        "prospects": [p.pk for p in prospects],
        "sender": str(mailbox.pk),
        "subject": SUBJECT,
        "body_html": BODY,
        "bcc": "",
        "send_at": "",
        "timezone": "Europe/Paris",
        **fields,
    }


def sender_options(page) -> dict[str, str]:
    """The From menu: option value -> label."""
    [menu] = re.findall(r'<select name="sender".*?</select>', page, re.S)
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', menu))


def row(page, email) -> str:
    """The progress page's row for one prospect."""
    [found] = re.findall(
        rf"<tr data-state=[^>]*>\s*<td><a [^>]*>{re.escape(email)}</a>.*?</tr>", page, re.S
    )
    return found


def scheduled(by, mailbox, prospects, subject=SUBJECT, days=2):
    """A one-off email queued for later: nothing goes out during the test."""
    return services.send_one_off(
        by=by,
        draft=draft(mailbox, subject=subject),
        prospects=prospects,
        send_at=timezone.now() + timedelta(days=days),
    )


# Compose ---------------------------------------------------------------------------------------


def test_the_prospect_page_opens_the_compose_page_with_the_senders_the_user_may_use(
    sandbox, org, recruiter, recruiter_client, hana, hana_box
):
    org.default_bcc = "maildrop@ats.example"
    org.save()
    own = connect(sandbox, recruiter)
    tess = UserFactory(organization=org, email="tess@acme.example", full_name="Tess Teammate")
    MailboxFactory(owner=tess)  # a teammate's inbox that no one delegated to Rick
    casey = prospect(org)

    page = recruiter_client.get(f"/prospects/{casey.pk}/").content.decode()
    assert f'href="/emails/new/?prospect={casey.pk}">Email</a>' in page

    page = recruiter_client.get(f"/emails/new/?prospect={casey.pk}").content.decode()
    assert sender_options(page) == {
        "": "Choose a sender",
        str(own.pk): "rick@acme.example (Rick Recruiter)",
        str(hana_box.pk): "hana@acme.example (Hana Hiring)",
    }
    assert f'<option value="{own.pk}" selected>' in page  # one's own inbox is the default
    assert "tess@acme.example" not in page
    assert re.search(r'<input type="text" name="bcc" value="maildrop@ats.example"', page)
    assert CANDIDATE in page
    assert f'<input type="hidden" name="prospects" value="{casey.pk}"' in page


def test_sending_now_from_the_compose_page_shows_it_sent_and_it_arrives(
    sandbox, org, recruiter, recruiter_client
):
    mailbox = connect(sandbox, recruiter)
    casey = prospect(org)

    response = recruiter_client.post("/emails/new/", form(mailbox, [casey]))

    email = Sequence.objects.get(kind=Sequence.Kind.ONE_OFF)
    assert response.status_code == 302 and response["Location"] == f"/emails/{email.pk}/"
    page = recruiter_client.get(response["Location"]).content.decode()
    assert "<strong>1</strong> sent · <strong>0</strong> queued" in page
    assert ">Sent</span>" in page
    [received] = sandbox.control.messages(CANDIDATE, "INBOX")
    assert received.subject == "Platform role, Casey"


def test_a_scheduled_email_is_due_at_the_users_wall_time_and_can_be_cancelled(
    sandbox, org, recruiter, recruiter_client
):
    mailbox = connect(sandbox, recruiter)
    casey, dana = prospect(org), prospect(org, email="dana@candidates.example", first_name="Dana")

    # 10:00 in Paris in January (UTC+1) is 09:00 UTC.
    response = recruiter_client.post(
        "/emails/new/",
        form(mailbox, [casey, dana], send_at="2031-01-15T10:00", timezone="Europe/Paris"),
    )

    email = Sequence.objects.get(kind=Sequence.Kind.ONE_OFF)
    assert response["Location"] == f"/emails/{email.pk}/"
    to_casey = Enrollment.objects.get(sequence=email, prospect=casey)
    due = {e.next_action_at for e in Enrollment.objects.filter(sequence=email)}
    assert due == {datetime(2031, 1, 15, 9, 0, tzinfo=UTC)}
    assert list(sandbox.control.messages(CANDIDATE, "INBOX")) == []
    page = recruiter_client.get(f"/emails/{email.pk}/").content.decode()
    assert "<strong>0</strong> sent · <strong>2</strong> queued" in page
    assert ">Queued</span>" in row(page, CANDIDATE)
    assert f'<input type="hidden" name="recipient" value="{to_casey.pk}">' in row(page, CANDIDATE)
    assert ">Cancel</button>" in row(page, CANDIDATE)
    # The prospect's page lists it among the emails waiting to go out.
    prospect_page = recruiter_client.get(f"/prospects/{casey.pk}/").content.decode()
    assert "Emails waiting to go out" in prospect_page
    assert f'href="/emails/{email.pk}/">{SUBJECT}</a>' in prospect_page

    response = recruiter_client.post(
        f"/emails/{email.pk}/cancel/", {"recipient": to_casey.pk}, follow=True
    )

    page = response.content.decode()
    assert response.redirect_chain == [(f"/emails/{email.pk}/", 302)]
    assert "1 email cancelled." in page
    assert ">Not sent</span> Cancelled by Rick Recruiter." in row(page, CANDIDATE)
    assert ">Cancel</button>" not in row(page, CANDIDATE)
    # Only Casey's: Dana's still goes.
    assert ">Queued</span>" in row(page, dana.email)
    assert ">Cancel</button>" in row(page, dana.email)
    assert "<strong>1</strong> queued" in page and "<strong>1</strong> cancelled" in page
    statuses = dict(Enrollment.objects.filter(sequence=email).values_list("prospect", "status"))
    assert statuses == {casey.pk: Enrollment.Status.STOPPED, dana.pk: Enrollment.Status.ACTIVE}


def test_a_time_to_send_that_has_passed_is_refused_on_the_field_and_nothing_is_queued(
    org, recruiter
):
    mailbox = MailboxFactory(owner=recruiter)
    casey = ProspectFactory(organization=org, email=CANDIDATE, first_name="Casey")

    # 10:30 in Paris; 10:00 there has passed.
    with time_machine.travel(datetime(2031, 1, 15, 9, 30, 20, tzinfo=UTC), tick=False):
        response = client_for(recruiter).post(
            "/emails/new/",
            form(mailbox, [casey], send_at="2031-01-15T10:00", timezone="Europe/Paris"),
        )

    page = response.content.decode()
    assert response.status_code == 200
    [field] = re.findall(r'<label for="id_send_at".*?<input [^>]*name="send_at"[^>]*>', page, re.S)
    assert (
        "This time has already passed. Choose a later time, or leave it empty to send now." in field
    )
    assert not Sequence.objects.filter(kind=Sequence.Kind.ONE_OFF).exists()


def test_a_time_to_send_in_the_minute_under_way_means_now(org, recruiter):
    mailbox = MailboxFactory(owner=recruiter)
    casey = ProspectFactory(organization=org, email=CANDIDATE, first_name="Casey")

    with time_machine.travel(datetime(2031, 1, 15, 9, 30, 50, tzinfo=UTC), tick=False):
        response = client_for(recruiter).post(
            "/emails/new/",
            form(mailbox, [casey], send_at="2031-01-15T10:30", timezone="Europe/Paris"),
        )

    email = Sequence.objects.get(kind=Sequence.Kind.ONE_OFF)
    assert response["Location"] == f"/emails/{email.pk}/"


def test_emailing_a_selection_of_the_prospect_list_opens_the_compose_page_for_all_of_them(
    org, recruiter, recruiter_client
):
    MailboxFactory(owner=recruiter)
    people = [ProspectFactory(organization=org, email=f"p{n}@candidates.example") for n in range(3)]

    page = recruiter_client.get("/prospects/").content.decode()
    assert 'formaction="/emails/new/" data-selection-count="Email the selected">' in page

    # What the prospect list's form posts with that button: the selection, no email yet.
    response = recruiter_client.post(
        "/emails/new/", {"selected": [p.pk for p in people], "sequence": ""}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Email 3 prospects</h1>" in page
    assert "3 prospects, each gets an email of their own" in page
    for person in people:
        assert f"<li>{escape(str(person))}</li>" in page
        assert f'<input type="hidden" name="prospects" value="{person.pk}"' in page
    assert "Send 3 emails" in page
    assert not Sequence.objects.exists()


# Live preview ----------------------------------------------------------------------------------


def test_the_preview_shows_the_email_for_the_chosen_prospect_and_who_will_not_get_it(
    org, recruiter, recruiter_client
):
    mailbox = MailboxFactory(owner=recruiter, display_name="Rick Recruiter")
    casey = ProspectFactory(organization=org, email=CANDIDATE, first_name="Casey")
    dana = ProspectFactory(organization=org, email="dana@candidates.example", first_name="Dana")
    nameless = ProspectFactory(organization=org, email="anon@candidates.example", first_name="")

    page = recruiter_client.post(
        "/emails/preview/",
        {**form(mailbox, [casey, dana, nameless]), "preview_prospect": dana.pk},
    ).content.decode()

    assert "<strong>Platform role, Dana</strong>" in page
    assert "Hi Dana, would you have 20 minutes this week?" in page
    assert "Casey" not in page
    assert "Will not be sent to" in page
    assert "anon@candidates.example: No value for {{first_name}}." in page
    assert "Sent from" not in page  # one's own inbox: no note


def test_the_preview_shows_the_signature_and_what_cleaning_removes(
    org, recruiter, recruiter_client
):
    mailbox = MailboxFactory(owner=recruiter, signature_html="<p><b>Rick</b>, Acme</p>")
    casey = ProspectFactory(organization=org, email=CANDIDATE, first_name="Casey")
    page = recruiter_client.get(f"/emails/new/?prospect={casey.pk}").content.decode()
    assert re.search(r'<input type="checkbox" name="include_signature"[^>]* checked', page)
    assert re.search(r"<textarea [^>]*data-rich-editor", page)

    pasted = {
        "body_html": "<p>Hi {{first_name}}</p><script>x()</script>",
        "include_signature": "on",
    }
    page = recruiter_client.post("/emails/preview/", form(mailbox, [casey], **pasted)).content
    page = page.decode()
    assert '<div class="signature"><p><b>Rick</b>, Acme</p></div>' in page
    assert "We removed what an email can&#x27;t carry: a script." in page
    page = recruiter_client.post(
        "/emails/preview/", form(mailbox, [casey], body_html=pasted["body_html"])
    ).content.decode()
    assert "signature" not in page


def test_the_preview_names_an_unknown_token(org, recruiter, recruiter_client):
    mailbox = MailboxFactory(owner=recruiter)
    casey = ProspectFactory(organization=org, email=CANDIDATE, first_name="Casey")

    page = recruiter_client.post(
        "/emails/preview/", form(mailbox, [casey], subject="About {{favourite_color}}")
    ).content.decode()

    assert "Unknown token {{favourite_color}}" in page
    assert 'class="preview-body"' not in page  # nothing is rendered from a broken template


def test_the_preview_warns_of_a_teammates_sequence_and_email_and_of_sending_from_her_inbox(
    sandbox, org, recruiter, recruiter_client, hana, hana_box
):
    sandbox.control.create_account(CANDIDATE, "Casey")
    enrollment = enroll(make_sequence(hana, hana_box), hana, hana_box)
    run_due()  # Hana's sequence wrote to Casey just now, and goes on
    casey = enrollment.prospect

    page = recruiter_client.post("/emails/preview/", form(hana_box, [casey])).content.decode()

    assert "Sent from Hana Hiring\u2019s inbox (hana@acme.example)" in page
    assert "Before you send" in page
    assert re.search(
        rf"{CANDIDATE}: Also active in {enrollment.sequence.name} \(Hana Hiring\)\.", page
    )
    assert f"{CANDIDATE}: Emailed in the last 30 days by Hana Hiring." in page
    assert "<strong>Platform role, Casey</strong>" in page  # a warning does not stop it


def _message(prospect, mailbox, *, inbound=False, by=None, days_ago=2):
    """An email to the prospect (sent by `by`), or their reply, `days_ago` days ago."""
    return Message.objects.create(
        organization=prospect.organization,
        prospect=prospect,
        mailbox=mailbox,
        sent_by=None if inbound else by,
        direction="inbound" if inbound else "outbound",
        status="" if inbound else "sent",
        inbound_kind="reply" if inbound else "",
        from_address=prospect.email if inbound else mailbox.email,
        to_address=mailbox.email if inbound else prospect.email,
        subject="A role",
        sent_at=timezone.now() - timedelta(days=days_ago),
    )


def test_the_bulk_preview_warns_of_replies_and_bounces_not_of_my_own_emails_and_counts_the_send(
    org, recruiter, recruiter_client, teammate
):
    mailbox = MailboxFactory(owner=recruiter, display_name="Rick Recruiter")
    tess_box = MailboxFactory(owner=teammate)
    mine, tessed, replied, bounced, listed = (
        ProspectFactory(organization=org, email=f"{name}@candidates.example", first_name=name)
        for name in ("ana", "ben", "cleo", "dan", "eve")
    )
    _message(mine, mailbox, by=recruiter)
    _message(tessed, tess_box, by=teammate)
    _message(replied, mailbox, by=recruiter, days_ago=5)
    _message(replied, mailbox, inbound=True, days_ago=4)
    _message(replied, tess_box, inbound=True, days_ago=40)  # outside the 30 days
    bounced.bounced_at = timezone.now() - timedelta(days=60)
    bounced.save()
    listed.do_not_contact = True
    listed.save()
    everyone = [mine, tessed, replied, bounced, listed]

    page = recruiter_client.post("/emails/preview/", form(mailbox, everyone)).content.decode()

    warnings = re.findall(r"<li>([^<]*)</li>", page.split("Before you send")[1])
    assert warnings == [
        "ben@candidates.example: Emailed in the last 30 days by Tess Teammate.",
        "cleo@candidates.example: Replied in the last 30 days to you.",
        "dan@candidates.example: An earlier email to this address bounced: "
        "this one may not be delivered.",
    ]
    assert "eve@candidates.example: eve@candidates.example is marked do not contact." in page
    # The button, refreshed with the preview, counts the four who will get the email.
    assert (
        '<button type="submit" id="send-button" hx-swap-oob="true">Send 4 emails</button>' in page
    )

    # The compose page counts them the same way before anything is written.
    compose = recruiter_client.post(
        "/emails/new/", {"selected": [p.pk for p in everyone]}
    ).content.decode()
    assert "Email 5 prospects" in compose
    assert '<button type="submit" id="send-button">Send 4 emails</button>' in compose


def test_the_send_button_is_off_when_no_one_would_get_the_email(org, recruiter, recruiter_client):
    mailbox = MailboxFactory(owner=recruiter)
    casey = ProspectFactory(organization=org, email=CANDIDATE, do_not_contact=True)

    page = recruiter_client.post("/emails/preview/", form(mailbox, [casey])).content.decode()

    assert 'id="send-button" hx-swap-oob="true" disabled>No one to send to</button>' in page


# Invalid emails --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"subject": "About {{favourite_color}}"}, "Unknown token {{favourite_color}}"),
        ({"body_html": ""}, "This field is required."),
    ],
    ids=["unknown token in the subject", "empty body"],
)
def test_an_invalid_email_is_shown_again_with_the_error_and_nothing_is_created(
    org, recruiter, recruiter_client, fields, error
):
    mailbox = MailboxFactory(owner=recruiter)
    casey = ProspectFactory(organization=org, email=CANDIDATE, first_name="Casey")

    response = recruiter_client.post("/emails/new/", form(mailbox, [casey], **fields))

    page = response.content.decode()
    assert response.status_code == 200
    assert error in page
    assert f"<h1>Email {casey.full_name}</h1>" in page
    assert f'<input type="hidden" name="prospects" value="{casey.pk}"' in page
    assert Sequence.objects.count() == 0
    assert Enrollment.objects.count() == 0


# Who sees what ---------------------------------------------------------------------------------


def test_only_the_author_and_the_admins_of_the_team_see_an_email_and_cancel_it(
    org, recruiter, admin_user, other_admin
):
    casey = ProspectFactory(organization=org, email=CANDIDATE)
    email = scheduled(recruiter, MailboxFactory(owner=recruiter), [casey])
    other_recruiter = UserFactory(organization=org)

    outsider = client_for(other_admin)
    assert outsider.get(f"/emails/{email.pk}/").status_code == 404
    assert outsider.post(f"/emails/{email.pk}/cancel/").status_code == 404
    assert client_for(other_recruiter).get(f"/emails/{email.pk}/").status_code == 404
    assert client_for(other_recruiter).post(f"/emails/{email.pk}/cancel/").status_code == 404
    assert Enrollment.objects.get(sequence=email).status == Enrollment.Status.ACTIVE

    response = client_for(admin_user).get(f"/emails/{email.pk}/")
    assert response.status_code == 200
    assert CANDIDATE in response.content.decode()
    assert "written by Rick Recruiter" in response.content.decode()


def test_prospects_of_another_team_are_left_out_of_the_compose_page(
    org, recruiter, recruiter_client, other_org
):
    MailboxFactory(owner=recruiter)
    ours = ProspectFactory(organization=org, email=CANDIDATE)
    theirs = ProspectFactory(organization=other_org, email="secret@globex-candidates.example")

    page = recruiter_client.get(
        f"/emails/new/?prospect={ours.pk}&prospect={theirs.pk}"
    ).content.decode()

    assert CANDIDATE in page
    assert "secret@globex-candidates.example" not in page
    assert f'value="{theirs.pk}"' not in page
    assert f"<h1>Email {ours.full_name}</h1>" in page  # one prospect, not two


# Progress and list pages -----------------------------------------------------------------------


@pytest.mark.parametrize("recipients", [2, 15])
def test_the_progress_page_runs_the_same_queries_whatever_the_number_of_recipients(
    org, recruiter, recruiter_client, django_assert_max_num_queries, recipients
):
    people = ProspectFactory.create_batch(recipients, organization=org)
    email = scheduled(recruiter, MailboxFactory(owner=recruiter), people)

    with django_assert_max_num_queries(8):
        page = recruiter_client.get(f"/emails/{email.pk}/").content.decode()

    assert page.count('<tr data-state="queued">') == recipients
    assert f"<strong>{recipients}</strong> queued" in page


@pytest.mark.parametrize("emails", [2, 15])
def test_the_email_list_runs_the_same_queries_whatever_the_number_of_emails(
    org, recruiter, admin_user, django_assert_max_num_queries, emails
):
    teammate = UserFactory(organization=org, full_name="Tess Teammate")
    boxes = {recruiter: MailboxFactory(owner=recruiter), teammate: MailboxFactory(owner=teammate)}
    for n in range(emails):
        author = recruiter if n % 2 else teammate
        people = ProspectFactory.create_batch(2, organization=org)
        scheduled(author, boxes[author], people, subject=f"Role number {n}")
    admin = client_for(admin_user)

    with django_assert_max_num_queries(6):
        page = admin.get("/emails/").content.decode()

    assert all(f">Role number {n}</a>" in page for n in range(emails))
    assert "by Tess Teammate" in page and "by Rick Recruiter" in page


def test_the_progress_fragment_refreshes_itself_only_while_an_email_is_due(
    sandbox, org, recruiter, recruiter_client
):
    mailbox = connect(sandbox, recruiter)
    casey = prospect(org)
    due = timezone.now() + timedelta(seconds=30)
    email = services.send_one_off(
        by=recruiter, draft=draft(mailbox), prospects=[casey], send_at=due
    )

    fragment = recruiter_client.get(f"/emails/{email.pk}/", HTTP_HX_REQUEST="true")
    page = fragment.content.decode()
    assert "<html" not in page and page.lstrip().startswith('<section class="card" id="progress"')
    assert 'hx-trigger="every 2s"' in page
    assert "<strong>1</strong> queued" in page

    with time_machine.travel(due + timedelta(seconds=1)):
        assert run_due() == 1

    page = recruiter_client.get(f"/emails/{email.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in page
    assert "hx-trigger" not in page
    assert "<strong>1</strong> sent · <strong>0</strong> queued" in page


def test_an_email_on_hold_does_not_keep_the_progress_page_refreshing(
    sandbox, org, recruiter, recruiter_client, hana, hana_box
):
    casey = prospect(org)
    due = timezone.now() + timedelta(seconds=30)
    email = services.send_one_off(
        by=recruiter, draft=draft(hana_box), prospects=[casey], send_at=due
    )
    # Hana withdraws her permission before it goes: the email waits for someone to act.
    Delegation.objects.update(status=Delegation.Status.REVOKED)
    with time_machine.travel(due + timedelta(seconds=1)):
        assert run_due() == 1

    page = recruiter_client.get(f"/emails/{email.pk}/", HTTP_HX_REQUEST="true").content.decode()

    assert ">On hold</span> Rick Recruiter may no longer send as hana@acme.example." in page
    assert "hx-trigger" not in page  # nothing goes out until someone acts
    assert "due <time" not in page  # the time shown is when it was held, not a due time
    assert f'<input type="hidden" name="recipient" value="{email.enrollments.get().pk}">' in page


def test_a_one_off_email_is_listed_under_emails_not_sequences(
    org, recruiter, recruiter_client, admin_user
):
    mailbox = MailboxFactory(owner=recruiter)
    SequenceFactory(owner=recruiter, name="Backend engineers", sender_mailbox=mailbox)
    casey = ProspectFactory(organization=org, email=CANDIDATE)
    email = scheduled(recruiter, mailbox, [casey], subject="Coffee next week?")

    for client in (recruiter_client, client_for(admin_user)):
        page = client.get("/sequences/").content.decode()
        assert "Backend engineers" in page
        assert "Coffee next week?" not in page
    assert recruiter_client.get(f"/sequences/{email.pk}/").status_code == 404

    page = recruiter_client.get("/emails/").content.decode()
    assert f'<a href="/emails/{email.pk}/">Coffee next week?</a>' in page
