"""The inbound classifier against a corpus of real-world formats (tests/sequences/inbound/, one
raw RFC 822 message per file, named by what it is) and against the rules one by one.

The costliest error is a person's reply taken for an auto-reply: the sequence would send a
follow-up after the prospect answered. Several tests below exist only to guard that."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from email import message_from_bytes
from pathlib import Path

import pytest

from sequences.classifier import (
    AUTO_REPLY,
    BOUNCE,
    DELIVERY_DELAY,
    HEADERS_USED,
    REPLY,
    classify,
    classify_headers,
)

INBOUND = Path(__file__).parent / "inbound"


@dataclass(frozen=True)
class Expected:
    kind: str
    via: str  # a piece of the reason: which rule decided
    failed: tuple[str, ...] = ()
    permanent: bool = False
    return_date: date | None = None


def bounce(via: str, *failed: str, permanent: bool = True) -> Expected:
    return Expected(BOUNCE, via, failed, permanent)


def delay(via: str, *recipients: str) -> Expected:
    return Expected(DELIVERY_DELAY, via, recipients)


def auto(via: str, return_date: date | None = None) -> Expected:
    return Expected(AUTO_REPLY, via, return_date=return_date)


HUMAN = Expected(REPLY, "no automatic-reply or delivery-report cue")

EXPECTED = {
    # Delivery failures, with and without an RFC 3464 report.
    "bounce_gmail_address_not_found.eml": bounce(
        "DSN Action: failed (5.1.1)", "j.doe@northwind.example"
    ),
    "bounce_gmail_empty_dsn_part.eml": bounce(
        "X-Failed-Recipients; enhanced status 5xx", "sam.okafor@lumen-analytics.example"
    ),
    "bounce_microsoft365_ndr.eml": bounce("DSN Action: failed (5.1.10)", "marco.ruiz@contoso.com"),
    "bounce_exchange_ndr_german.eml": bounce(
        "DSN Action: failed (5.1.1)", "lukas.weber@fabrikam.de"
    ),
    "bounce_exchange_2003_no_dsn.eml": bounce(
        "subject 'Undeliverable", "kim.lee@wingtip-toys.example"
    ),
    # The report names the address we wrote to (Original-Recipient), not the alias's target.
    "bounce_postfix_dsn.eml": bounce("DSN Action: failed (5.1.1)", "careers-ana@riverbend.example"),
    "bounce_postfix_plain_no_dsn.eml": bounce(
        "subject 'Undelivered Mail Returned to Sender'", "tom.becker@oldhost.example"
    ),
    "bounce_exim_no_dsn.eml": bounce("X-Failed-Recipients", "olivia.grant@birchwood.example"),
    # Exim calls it permanent, but it only gave up retrying a 4xx: the address may live.
    "bounce_exim_retry_timeout.eml": bounce(
        "4xx only", "hugo.brandt@cedar-systems.example", permanent=False
    ),
    # flufl.bounce's qmail parser names the failed addresses and not the helpdesk the text cites.
    "bounce_qmail.eml": bounce(
        "subject 'failure notice'", "dmitri.volkov@quarry.example", "dmitri@quarry-mail.example"
    ),
    "bounce_sendmail_dsn.eml": bounce("DSN Action: failed (5.1.1)", "grace.hopper@granite.example"),
    "bounce_amazon_ses.eml": bounce("DSN Action: failed (5.1.1)", "ines.duarte@sunfield.example"),
    "bounce_yahoo.eml": bounce("SMTP reply code 5xx", "mei.tanaka@yahoo.com"),
    "bounce_dsn_one_failed_one_delayed.eml": bounce(
        "DSN Action: failed (5.2.1)", "paul.nguyen@riverbend.example"
    ),
    "bounce_outlookcom_mailbox_full_transient.eml": bounce(
        "DSN Action: failed (4.2.2)", "omar.haddad@hotmail.example", permanent=False
    ),
    # Delays: recorded, never a bounce, never a stop.
    "delay_gmail_dsn.eml": delay("DSN Action: delayed (4.4.1)", "priya@kestrel-bio.example"),
    "delay_exchange_online.eml": delay(
        "DSN Action: delayed (4.4.7)", "noah.fischer@tailspin.example"
    ),
    "delay_postfix_warning.eml": delay("DSN Action: delayed (4.2.2)", "lea.martin@harbor.example"),
    "delay_exim_warning.eml": delay(
        "delivery delay warning", "felix.moreau@birchwood-labs.example"
    ),
    # Other automatic reports.
    "dsn_relayed_success.eml": auto("DSN Action: delivered"),
    "read_receipt_outlook_mdn.eml": auto("read receipt"),
    # Out of office, left the company, ticket systems: headers, subject, null sender, words.
    "ooo_gmail_vacation_responder.eml": auto("Auto-Submitted: auto-replied", date(2026, 3, 12)),
    "ooo_exchange_online_oof.eml": auto("Auto-Submitted: auto-generated", date(2026, 3, 13)),
    "ooo_outlook_no_auto_submitted.eml": auto("subject: 'Automatic reply'", date(2026, 3, 16)),
    "ooo_outlook_german_exchange_headers.eml": auto(
        "X-Auto-Response-Suppress: All with X-MS-Exchange-Inbox-Rules-Loop", date(2026, 4, 3)
    ),
    "ooo_outlook_french.eml": auto("Auto-Submitted: auto-generated", date(2026, 3, 20)),
    "ooo_spanish_no_headers.eml": auto("body: 'Estoy fuera de la oficina'", date(2026, 3, 10)),
    "ooo_icloud_apple_mail.eml": auto("Auto-Submitted: auto-replied", date(2026, 4, 14)),
    # 12/03/2026 read as 12 March: the nearest reading ahead of 2 March, not 3 December.
    "ooo_zimbra_vacation_ambiguous_date.eml": auto(
        "Auto-Submitted: auto-replied (zimbra; vacation)", date(2026, 3, 12)
    ),
    "ooo_lotus_notes_subject.eml": auto("is out of the office", date(2026, 3, 16)),
    "ooo_left_company_no_headers.eml": auto("body: 'no longer with'"),
    "ooo_left_company_x_autorespond.eml": auto("x-autorespond: Ben Carter"),
    "ooo_noreply_mailbox_not_monitored.eml": auto("no-reply sender"),
    "ooo_dutch_null_return_path.eml": auto("Return-Path: <>", date(2026, 3, 12)),
    "ooo_italian_html_only.eml": auto("subject: 'Risposta automatica'", date(2026, 3, 9)),
    # "back on Monday", received on Wednesday 4 March.
    "ooo_back_on_weekday.eml": auto("Auto-Submitted: auto-replied", date(2026, 3, 9)),
    "ooo_body_only_english.eml": auto(
        "body: 'I am currently out of the office'", date(2026, 3, 23)
    ),
    "ooo_german_body_only.eml": auto("subject: 'Abwesenheitsnotiz'", date(2026, 3, 6)),
    "ticket_ack_zendesk.eml": auto("Auto-Submitted: auto-generated"),
    "ticket_ack_no_headers.eml": auto("body: 'This is an automated response'"),
    # People.
    "reply_interested_one_word.eml": HUMAN,
    "reply_quoting_our_message.eml": HUMAN,
    "reply_outlook_from_sent_block.eml": HUMAN,
    "reply_mentions_out_of_office.eml": HUMAN,
    "reply_on_vacation_but_interested.eml": HUMAN,
    "reply_out_of_office_until_monday_with_time.eml": HUMAN,
    "reply_html_only_gmail_quote.eml": HUMAN,
    "reply_german.eml": HUMAN,
    "reply_french.eml": HUMAN,
    "reply_japanese_base64.eml": HUMAN,
    "reply_from_iphone.eml": HUMAN,
    "reply_not_interested_remove_me.eml": HUMAN,
    "reply_auto_submitted_no.eml": HUMAN,
    "reply_via_google_group_precedence_list.eml": HUMAN,
    "reply_signature_mentions_upcoming_leave.eml": HUMAN,
    "reply_forwarding_a_bounce.eml": HUMAN,
    "reply_short_thanks_next_week.eml": HUMAN,
}
HUMAN_REPLIES = sorted(name for name, expected in EXPECTED.items() if expected.kind == REPLY)


def _raw(name: str) -> bytes:
    return (INBOUND / name).read_bytes()


def test_every_corpus_message_has_an_expected_outcome():
    assert sorted(path.name for path in INBOUND.glob("*.eml")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name):
    expected = EXPECTED[name]
    verdict = classify(_raw(name))
    assert verdict.kind == expected.kind, verdict.reason
    assert expected.via in verdict.reason
    assert verdict.failed_recipients == expected.failed
    assert verdict.permanent is expected.permanent
    assert verdict.return_date == expected.return_date


def test_every_human_reply_in_the_corpus_is_a_reply():
    """The costly error, checked as a whole and from every input the callers may hold."""
    assert len(HUMAN_REPLIES) >= 15
    for name in HUMAN_REPLIES:
        raw = _raw(name)
        for given in (raw, raw.decode("utf-8"), message_from_bytes(raw)):
            assert classify(given).kind == REPLY, name
        assert classify_headers(message_from_bytes(raw)) is None, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_headers_only_verdict_never_contradicts_the_full_one(name):
    message = message_from_bytes(_raw(name))
    early = classify_headers(message)
    if early is not None:
        assert early.kind == EXPECTED[name].kind


def test_headers_only_settles_the_plainly_marked_ones_and_defers_every_bounce():
    settled = {
        name
        for name in EXPECTED
        if classify_headers(list(message_from_bytes(_raw(name)).items())) is not None
    }
    assert {
        "ooo_gmail_vacation_responder.eml",
        "ooo_outlook_no_auto_submitted.eml",
        "ooo_outlook_french.eml",
        "ooo_noreply_mailbox_not_monitored.eml",
        "ticket_ack_zendesk.eml",
        "read_receipt_outlook_mdn.eml",
    } <= settled
    assert not {name for name in settled if name.startswith(("bounce_", "delay_"))}


# classify_headers, rule by rule ------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"auto-submitted": "Auto-Generated"},
        {"AUTO-SUBMITTED": "auto-replied (zimbra; vacation)"},
        {"Auto-Submitted": 'auto-replied; owner-email="jane@northwind.example"'},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Jane Doe"},
        {"X-Autogenerated": "Reply"},
        {"Precedence": "auto_reply"},
        {"X-Auto-Response-Suppress": "All", "X-MS-Exchange-Inbox-Rules-Loop": "jane@contoso.com"},
        {"From": "Northwind <no-reply@northwind.example>"},
        {"From": "donotreply@northwind.example"},
        {"Subject": "Automatic reply: Senior Backend Engineer at Acme"},
        {"Subject": "Out of Office: Senior Backend Engineer at Acme"},
        {"Subject": "AutoReply: Senior Backend Engineer at Acme"},
        {"Subject": "Abwesenheitsnotiz: Senior Backend Engineer at Acme"},
        {"Subject": "=?UTF-8?B?UsOpcG9uc2UgYXV0b21hdGlxdWUgOiBTZW5pb3IgQmFja2VuZA==?="},
        {"Subject": "=?utf-8?Q?Respuesta_autom=C3=A1tica:_Senior?="},
        {"Subject": "Jane Doe is out of the office."},
    ],
)
def test_automatic_headers_settle_an_auto_reply(headers):
    verdict = classify_headers({"From": "Jane Doe <jane@northwind.example>", **headers})
    assert verdict is not None
    assert verdict.kind == AUTO_REPLY
    assert verdict.return_date is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Auto-Submitted": "no"},
        {"X-Autoreply": "no"},
        # Google Groups and list servers mark human posts this way.
        {"Precedence": "bulk"},
        {"Precedence": "list", "List-Id": "<jobs.northwind.example>"},
        # Either Exchange header alone: a rule forward, a list's suppression request.
        {"X-Auto-Response-Suppress": "All"},
        {"X-MS-Exchange-Inbox-Rules-Loop": "jane@contoso.com"},
        {"X-Auto-Response-Suppress": "OOF, DR, RN, NRN"},
        # Our own subject words after "Re:" are not the responder's prefix.
        {"Subject": "Re: Automatic reply: Senior Backend Engineer at Acme"},
        {"Subject": "Re: Out of office? Let's find a time when you're back"},
        {"Subject": "RE: Automation Engineer role"},
    ],
)
def test_headers_that_say_nothing_defer_to_the_body(headers):
    assert (
        classify_headers(
            {
                "From": "Jane Doe <jane@northwind.example>",
                "Subject": "Re: Senior Backend Engineer at Acme",
                **headers,
            }
        )
        is None
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"From": "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"},
        {"From": "postmaster@contoso.onmicrosoft.com"},
        {"From": "Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.com>"},
        {"From": "MAILER-DAEMON@mail.riverbend.example (Mail Delivery System)"},
        {"Content-Type": 'multipart/report; report-type="delivery-status"; boundary="b"'},
        {"X-Failed-Recipients": "jane@northwind.example"},
        {"Subject": "Undeliverable: Senior Backend Engineer at Acme"},
        {"Subject": "Delivery Status Notification (Delay)"},
        {"Return-Path": "<>"},
    ],
)
def test_a_possible_delivery_report_defers_to_the_body_even_when_marked_automatic(headers):
    """Gmail and Exim bounces carry Auto-Submitted: auto-replied; which recipient failed, and
    whether it is a failure or a delay, is only in the body."""
    assert classify_headers({"Auto-Submitted": "auto-replied", **headers}) is None


def test_a_read_receipt_is_settled_by_its_content_type():
    verdict = classify_headers(
        {"Content-Type": "multipart/report; report-type=disposition-notification; boundary=x"}
    )
    assert verdict is not None and verdict.kind == AUTO_REPLY


@pytest.mark.parametrize(
    "shape",
    [
        lambda pairs: dict(pairs),
        lambda pairs: list(pairs),
        lambda pairs: [{"name": name, "value": value} for name, value in pairs],
        lambda pairs: message_from_bytes(
            "".join(f"{name}: {value}\n" for name, value in pairs).encode() + b"\nbody\n"
        ),
    ],
    ids=["mapping", "pairs", "gmail-metadata", "message"],
)
def test_headers_come_in_any_shape_with_any_case(shape):
    pairs = [("from", "Jane <jane@northwind.example>"), ("AUTO-SUBMITTED", "auto-replied")]
    verdict = classify_headers(shape(pairs))
    assert verdict is not None and verdict.reason == "Auto-Submitted: auto-replied"


def test_the_headers_it_reads_are_listed_for_gmail_metadata_requests():
    assert {"Auto-Submitted", "Return-Path", "Content-Type", "X-Failed-Recipients"} <= set(
        HEADERS_USED
    )


# The words of a message with no automatic header -----------------------------------------


def _plain(body: str, *, subject: str = "Re: Senior Backend Engineer at Acme", **headers) -> str:
    extra = "".join(f"{name.replace('_', '-')}: {value}\n" for name, value in headers.items())
    return (
        "From: Jane Doe <jane@northwind.example>\n"
        "To: Rita Chen <rita@acme.example>\n"
        f"Subject: {subject}\n"
        "Date: Mon, 2 Mar 2026 17:00:00 +0000\n"
        f"{extra}"
        "Content-Type: text/plain; charset=utf-8\n\n"
        f"{body}\n"
    )


@pytest.mark.parametrize(
    "body",
    [
        "I'm out of the office until Monday. Can we move this to after I'm back?",
        "I'm on vacation until the 20th, but happy to chat after that.",
        "I am out of the office until Monday. Yes, I'm interested in the role.",
        "Currently on leave, back on the 3rd. Please send the job description and I'll review.",
        "I'm away until Friday. Call me on Monday: 555-1234.",
        "I'm travelling this week.\nLet's do next Tuesday.",
        "I am out of office this week. Tuesday at 3pm works.",
        "I'm on parental leave until June, please reach out again then.",
        "I'm out of the office today, will reply properly tomorrow.",
        "I have left Northwind and I'm now at Contoso as Head of Platform.",
        "Hi Rita, I'm no longer at Northwind, I moved to Contoso last month. Happy to talk though.",
        "I'm away from my desk but wanted to say I'll look at this later today.",
        "I'll be out of the office next week, so this week would be better for a quick call.",
        "I'm OOO till Wednesday. Ping me then.",
        "Thank you for your email. I am currently out of the office. What is the salary range?",
        "I'm out of office right now, but I forwarded this to my colleague, a better fit.",
        "I am on holiday until 14 April. My colleague Jan might be interested: jan@x.example.",
        "I am currently on leave but this sounds interesting. Send me details.",
        "Je suis en congés jusqu'au 10 mars, mais je suis intéressée !",
        "Ich bin bis Freitag im Urlaub. Danach gerne.",
        "Estoy de vacaciones hasta el lunes, pero me interesa. ¿Hablamos?",
        "Please stop emailing me.",
        "Not now, thanks.",
        "ok",
        "",
    ],
)
def test_a_person_who_mentions_an_absence_is_still_a_reply(body):
    assert classify(_plain(body)).kind == REPLY


@pytest.mark.parametrize(
    ("body", "return_date"),
    [
        (
            "Thank you for your email. I am out of the office until 12 March with limited access"
            " to email. For urgent matters, please contact dana@northwind.example.\n\n"
            "Best regards,\nJane",
            date(2026, 3, 12),
        ),
        (
            "Hello,\n\nI'm currently on annual leave and will return on Monday 16 March 2026."
            " I will respond to your message upon my return.\n\nKind regards\nJane Doe\n"
            "Head of Data\nNorthwind",
            date(2026, 3, 16),
        ),
        ("This is an automatic reply. I am away until March 9.", date(2026, 3, 9)),
        (
            "I'm out of the office from 2 March until 6 March. Your message will not be forwarded.",
            date(2026, 3, 6),
        ),
        (
            "Jane Doe is no longer employed by Northwind. Please write to info@x.example.",
            None,
        ),
        (
            "This email address is no longer monitored. Please contact support@northwind.example.",
            None,
        ),
        (
            "Thank you for contacting us! Your request has been received and a member of our team"
            " will respond within 24 hours.\nTicket ID: 88123",
            None,
        ),
        (
            "Vielen Dank für Ihre E-Mail. Ich bin bis einschließlich 13.03.2026 nicht im Büro."
            " Ihre Nachricht wird nicht weitergeleitet.",
            date(2026, 3, 13),
        ),
        ("Bonjour, je suis absent jusqu'au 1er avril. Merci.", date(2026, 4, 1)),
        ("Ik ben afwezig tot en met 12 maart.", date(2026, 3, 12)),
        ("Sono fuori ufficio fino al 9 marzo. Grazie.", date(2026, 3, 9)),
    ],
)
def test_an_auto_reply_without_headers_is_known_by_its_words(body, return_date):
    verdict = classify(_plain(body))
    assert verdict.kind == AUTO_REPLY
    assert verdict.reason.startswith("body: ")
    assert verdict.return_date == return_date


def test_quoted_text_never_triggers_anything():
    quoted = (
        "> This message was created automatically by mail delivery software.\n"
        "> Automatic reply: I am currently out of the office with limited access to email.\n"
    )
    verdict = classify(_plain(f"Sounds good\n\nOn Mon, Mar 2, 2026 Rita wrote:\n{quoted}"))
    assert verdict.kind == REPLY
    outlook = (
        "Fine by me\n\nFrom: Rita Chen <rita@acme.example>\nSent: Monday, March 2, 2026\n"
        "Subject: Out of office\n\nI am out of the office until 12 March.\n"
    )
    assert classify(_plain(outlook)).kind == REPLY


def test_mta_wording_written_by_a_person_is_not_a_bounce():
    body = "Your message couldn't be delivered to my work inbox, so I'm answering from here: yes!"
    assert classify(_plain(body)).kind == REPLY


def test_a_hand_written_absence_note_reads_as_an_auto_reply_and_holds_the_sequence_to_its_date():
    """Known limit: nothing tells this from a responder, so the sequence waits until after the
    date it gives instead of stopping."""
    body = "Thanks! I'm out of the office until the 12th. I'll get back to you when I return."
    verdict = classify(_plain(body))
    assert verdict.kind == AUTO_REPLY
    assert verdict.return_date == date(2026, 3, 12)


# Return dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "received_on", "expected"),
    [
        ("I will be back on March 12.", date(2026, 3, 2), date(2026, 3, 12)),
        ("I will be back on Thursday, March 12th, 2026.", date(2026, 3, 2), date(2026, 3, 12)),
        ("Returning 12/03/2026.", date(2026, 3, 2), date(2026, 3, 12)),
        ("Returning 03/12/2026.", date(2026, 3, 2), date(2026, 3, 12)),
        ("Returning 25/03/26.", date(2026, 3, 2), date(2026, 3, 25)),
        ("Away until 14 April.", date(2026, 3, 2), date(2026, 4, 14)),
        ("Back 2026-03-18.", date(2026, 3, 2), date(2026, 3, 18)),
        ("Ich bin bis zum 3. März nicht im Büro.", date(2026, 2, 20), date(2026, 3, 3)),
        ("Abwesend bis 06.03.", date(2026, 3, 2), date(2026, 3, 6)),
        ("De retour le 1er avril.", date(2026, 3, 2), date(2026, 4, 1)),
        ("Fuera de la oficina hasta el 10 de marzo de 2026.", date(2026, 3, 2), date(2026, 3, 10)),
        ("Afwezig tot en met 12 maart.", date(2026, 3, 2), date(2026, 3, 12)),
        ("Out from 2 March until 6 March.", date(2026, 3, 2), date(2026, 3, 6)),
        # Over new year: the next 3 January, not the last one.
        ("Away until 3 January.", date(2025, 12, 20), date(2026, 1, 3)),
        # A responder left on after its end: the date just passed, not next year's.
        ("Away until March 1.", date(2026, 3, 5), date(2026, 3, 1)),
        # Received on Wednesday 4 March.
        ("I will be back on Monday.", date(2026, 3, 4), date(2026, 3, 9)),
        ("Back on Wednesday.", date(2026, 3, 4), date(2026, 3, 11)),
        ("Back in the office tomorrow.", date(2026, 3, 4), date(2026, 3, 5)),
        ("Back on the 12th.", date(2026, 3, 2), date(2026, 3, 12)),
        ("Back on the 1st.", date(2026, 3, 20), date(2026, 4, 1)),
        ("I will reply as soon as possible.", date(2026, 3, 2), None),
    ],
)
def test_return_date(sentence, received_on, expected):
    raw = _plain(f"I am out of the office. {sentence}", Auto_Submitted="auto-replied")
    assert classify(raw, received_on=received_on).return_date == expected


def test_a_date_outside_the_absence_sentences_is_not_a_return_date():
    raw = _plain(
        "Your request was created on 2 March 2026 and assigned number 4411.",
        Auto_Submitted="auto-generated",
    )
    assert classify(raw).return_date is None


def test_the_subject_can_give_the_return_date():
    raw = _plain(
        "I am away.", subject="Out of office until 20 March", Auto_Submitted="auto-replied"
    )
    assert classify(raw).return_date == date(2026, 3, 20)


def test_received_on_anchors_yearless_dates_before_the_date_header():
    raw = _plain("I am away until 3 January.", Auto_Submitted="auto-replied")
    assert classify(raw).return_date == date(2027, 1, 3)
    assert classify(raw, received_on=date(2025, 12, 28)).return_date == date(2026, 1, 3)
    arrived = datetime(2025, 12, 28, 9, 30, tzinfo=UTC)
    assert classify(raw, received_on=arrived).return_date == date(2026, 1, 3)


def test_without_any_anchor_only_dates_with_a_year_count():
    undated = (
        "From: jane@northwind.example\nAuto-Submitted: auto-replied\n\n"
        "I am away until 3 January{}.\n"
    )
    assert classify(undated.format("")).return_date is None
    assert classify(undated.format(" 2027")).return_date == date(2027, 1, 3)


# Delivery reports without a proper report ---------------------------------------------------


def test_a_mail_system_notice_without_a_failure_is_recorded_not_bounced():
    raw = (
        "From: Mail Delivery System <MAILER-DAEMON@mail.northwind.example>\n"
        "To: rita@acme.example\nSubject: Message held for review\nReturn-Path: <>\n\n"
        "Your message is held for review by the list moderator.\n"
    )
    verdict = classify(raw)
    assert verdict.kind == AUTO_REPLY
    assert "without a failure report" in verdict.reason


def test_a_delay_warning_without_a_report_is_a_delay():
    raw = (
        "From: postmaster@mail.northwind.example\nTo: rita@acme.example\n"
        "Subject: Warning: could not send message for past 4 hours\nReturn-Path: <>\n\n"
        "    **********************************************\n"
        "    **      THIS IS A WARNING MESSAGE ONLY      **\n"
        "    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n"
        "    **********************************************\n\n"
        "The original message was received at Mon, 2 Mar 2026 12:15:52 -0500\n\n"
        "   ----- Transcript of session follows -----\n"
        "<jane@northwind.example>... Deferred: Connection timed out\n"
        "Warning: message still undelivered after 4 hours\n"
        "Will keep trying until message is 5 days old\n"
    )
    verdict = classify(raw)
    assert verdict.kind == DELIVERY_DELAY
    assert verdict.failed_recipients == ("jane@northwind.example",)
