"""Sending through the Gmail client and what arrives where: threads per mailbox, Gmail's
threading rules, From rewriting, bounces and vacation replies."""

import base64
from email import message_from_bytes, policy

from sandbox import control
from tests.sandbox.conftest import CANDIDATE, RECRUITER
from tests.sandbox.mails import header, outgoing


def _send(gmail, **kwargs):
    return gmail.users().messages().send(userId="me", body=outgoing(**kwargs)).execute()


def _get(gmail, message_id, fmt="full", **kwargs):
    return gmail.users().messages().get(userId="me", id=message_id, format=fmt, **kwargs).execute()


def _only(gmail, q):
    found = gmail.users().messages().list(userId="me", q=q).execute()
    assert found["resultSizeEstimate"] == 1, found
    return found["messages"][0]


def _body(resource) -> str:
    parts = resource["payload"].get("parts") or [resource["payload"]]
    data = next(part["body"]["data"] for part in parts if part["mimeType"] == "text/plain")
    return base64.urlsafe_b64decode(data).decode()


def test_a_sent_message_is_read_in_the_recipients_inbox(recruiter_gmail, candidate_gmail):
    sent = _send(
        recruiter_gmail,
        sender=f"Rick Recruiter <{RECRUITER}>",
        to=CANDIDATE,
        subject="Staff engineer role",
        body="Hi Casey, are you open to a chat?",
    )
    assert set(sent) == {"id", "threadId", "labelIds"} and sent["labelIds"] == ["SENT"]
    assert sent["id"] == sent["threadId"]

    listed = _only(candidate_gmail, f"in:inbox from:{RECRUITER}")
    received = _get(candidate_gmail, listed["id"])
    assert header(received, "Subject") == "Staff engineer role"
    assert header(received, "Delivered-To") == CANDIDATE
    assert set(received["labelIds"]) == {"INBOX", "UNREAD"}
    assert _body(received).strip() == "Hi Casey, are you open to a chat?"
    assert received["snippet"] == "Hi Casey, are you open to a chat?"
    # Each mailbox has its own ids for the same message.
    assert received["id"] != sent["id"] and received["threadId"] != sent["threadId"]


def test_a_reply_lands_in_the_senders_thread_and_in_its_history(recruiter_gmail, candidate_gmail):
    start = recruiter_gmail.users().getProfile(userId="me").execute()["historyId"]
    sent = _send(recruiter_gmail, sender=RECRUITER, to=CANDIDATE, subject="Staff engineer role")
    original = _get(
        recruiter_gmail, sent["id"], "metadata", metadataHeaders=["Message-ID", "Subject"]
    )
    message_id = header(original, "Message-ID")
    assert [item["name"] for item in original["payload"]["headers"]] == ["Subject", "Message-ID"]

    received = _only(candidate_gmail, f"rfc822msgid:{message_id}")
    reply = _send(
        candidate_gmail,
        sender=CANDIDATE,
        to=RECRUITER,
        subject="Re: Staff engineer role",
        body="Yes, happy to talk.",
        thread_id=received["threadId"],
        in_reply_to=message_id,
    )
    assert reply["threadId"] == received["threadId"]

    history = (
        recruiter_gmail.users()
        .history()
        .list(userId="me", startHistoryId=start, historyTypes="messageAdded")
        .execute()
    )
    added = [item["message"] for record in history["history"] for item in record["messagesAdded"]]
    assert [message["threadId"] for message in added] == [sent["threadId"], sent["threadId"]]
    assert added[1]["labelIds"] == ["INBOX", "UNREAD"]
    thread = recruiter_gmail.users().threads().get(userId="me", id=sent["threadId"]).execute()
    assert [_body(message).strip() for message in thread["messages"]] == [
        "Hello",
        "Yes, happy to talk.",
    ]


def test_follow_ups_join_the_thread_only_under_gmails_rules(recruiter_gmail, candidate_gmail):
    first = _send(recruiter_gmail, sender=RECRUITER, to=CANDIDATE, subject="Staff engineer role")
    message_id = header(
        _get(recruiter_gmail, first["id"], "metadata", metadataHeaders=["Message-ID"]), "Message-ID"
    )
    same = {"sender": RECRUITER, "to": CANDIDATE, "thread_id": first["threadId"]}

    follow_up = _send(
        recruiter_gmail, subject="RE:  staff engineer role", in_reply_to=message_id, **same
    )
    other_subject = _send(recruiter_gmail, subject="Quick question", in_reply_to=message_id, **same)
    no_references = _send(recruiter_gmail, subject="Re: Staff engineer role", **same)

    assert follow_up["threadId"] == first["threadId"]
    assert other_subject["threadId"] not in (first["threadId"], follow_up["threadId"])
    assert no_references["threadId"] != first["threadId"]
    # The recipient's mailbox threads its copies by the same rule.
    inbox = candidate_gmail.users().messages().list(userId="me", q="in:inbox").execute()
    assert len({message["threadId"] for message in inbox["messages"]}) == 3


def test_from_is_rewritten_unless_a_verified_send_as_alias(recruiter_gmail):
    control.add_send_as(RECRUITER, "jobs@acme.example", "Acme Jobs", verified=True)
    control.add_send_as(RECRUITER, "pending@acme.example", verified=False)
    froms = {}
    for address in ("jobs@acme.example", "pending@acme.example", "ceo@acme.example"):
        sent = _send(recruiter_gmail, sender=f"Rick <{address}>", to=CANDIDATE, subject="Hi")
        froms[address] = header(_get(recruiter_gmail, sent["id"], "metadata"), "From")
    assert froms == {
        "jobs@acme.example": "Rick <jobs@acme.example>",
        "pending@acme.example": f"Rick <{RECRUITER}>",
        "ceo@acme.example": f"Rick <{RECRUITER}>",
    }
    aliases = recruiter_gmail.users().settings().sendAs().list(userId="me").execute()["sendAs"]
    assert aliases[0] == {
        "sendAsEmail": RECRUITER,
        "displayName": "Rick Recruiter",
        "replyToAddress": "",
        "signature": "",
        "isPrimary": True,
        "isDefault": True,
    }
    assert {(alias["sendAsEmail"], alias["verificationStatus"]) for alias in aliases[1:]} == {
        ("jobs@acme.example", "accepted"),
        ("pending@acme.example", "pending"),
    }


def test_a_message_id_is_kept_when_given_and_added_when_missing(recruiter_gmail):
    kept = _send(
        recruiter_gmail,
        sender=RECRUITER,
        to=CANDIDATE,
        subject="A",
        message_id="<given@outreach.test>",
    )
    raw = outgoing(sender=RECRUITER, to=CANDIDATE, subject="B")
    parsed = message_from_bytes(base64.urlsafe_b64decode(raw["raw"]), policy=policy.default)
    del parsed["Message-ID"]
    added = (
        recruiter_gmail.users()
        .messages()
        .send(userId="me", body={"raw": base64.urlsafe_b64encode(parsed.as_bytes()).decode()})
        .execute()
    )
    ids = [
        header(
            _get(recruiter_gmail, sent["id"], "metadata", metadataHeaders=["Message-ID"]),
            "Message-ID",
        )
        for sent in (kept, added)
    ]
    assert ids[0] == "<given@outreach.test>"
    assert ids[1].startswith("<") and ids[1].endswith("@mail.gmail.com>")


def test_bcc_recipients_get_the_message_without_the_bcc_header(recruiter_gmail, candidate_gmail):
    _send(
        recruiter_gmail,
        sender=RECRUITER,
        to="someone@elsewhere.example",
        subject="Note",
        Bcc=CANDIDATE,
    )
    received = _get(candidate_gmail, _only(candidate_gmail, "in:inbox")["id"], "raw")
    raw = base64.urlsafe_b64decode(received["raw"])
    assert b"\r\nBcc:" not in raw and b"Subject: Note\r\n" in raw


def test_mail_to_an_unknown_address_on_a_bouncing_domain_comes_back_as_a_dsn(recruiter_gmail):
    control.mark_bouncing("bounce.example")
    sent = _send(recruiter_gmail, sender=RECRUITER, to="ghost@bounce.example", subject="Staff role")
    _send(recruiter_gmail, sender=RECRUITER, to="nobody@quiet.example", subject="Into the void")

    listed = _only(recruiter_gmail, "in:inbox")
    assert listed["threadId"] == sent["threadId"]
    bounce = _get(recruiter_gmail, listed["id"])
    assert header(bounce, "From") == "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"
    assert header(bounce, "Subject") == "Delivery Status Notification (Failure)"
    assert header(bounce, "X-Failed-Recipients") == "ghost@bounce.example"
    assert header(bounce, "Return-Path") == "<>"
    assert bounce["payload"]["mimeType"] == "multipart/report"
    assert "report-type=delivery-status" in header(bounce, "Content-Type").replace('"', "")
    parts = {part["mimeType"]: part for part in bounce["payload"]["parts"]}
    assert set(parts) == {"text/plain", "message/delivery-status", "message/rfc822"}
    status = base64.urlsafe_b64decode(parts["message/delivery-status"]["body"]["data"]).decode()
    assert "Final-Recipient: rfc822; ghost@bounce.example" in status
    assert "Action: failed" in status and "Status: 5.1.1" in status
    assert "Diagnostic-Code: smtp; 550 5.1.1" in status
    assert b"Subject: Staff role" in base64.urlsafe_b64decode(
        parts["message/rfc822"]["body"]["data"]
    )


def test_an_out_of_office_mailbox_answers_once_per_sender(recruiter_gmail, candidate_gmail):
    control.set_out_of_office(CANDIDATE, message="Back on Monday.")
    first = _send(recruiter_gmail, sender=RECRUITER, to=CANDIDATE, subject="Staff engineer role")
    _send(recruiter_gmail, sender=RECRUITER, to=CANDIDATE, subject="Another role")

    listed = _only(recruiter_gmail, "in:inbox")
    auto = _get(recruiter_gmail, listed["id"])
    sent_id = header(_get(recruiter_gmail, first["id"], "metadata"), "Message-ID")
    assert header(auto, "Auto-Submitted") == "auto-replied"
    assert header(auto, "From") == f"Casey Candidate <{CANDIDATE}>"
    assert header(auto, "In-Reply-To") == sent_id
    assert header(auto, "Subject") == "Re: Staff engineer role"
    assert listed["threadId"] == first["threadId"]
    assert _body(auto).strip() == "Back on Monday."
    assert (
        candidate_gmail.users()
        .messages()
        .list(userId="me", q="in:sent")
        .execute()["resultSizeEstimate"]
        == 1
    )


def test_mail_from_outside_is_threaded_like_any_incoming_mail(recruiter_gmail):
    sent = _send(recruiter_gmail, sender=RECRUITER, to="lee@elsewhere.example", subject="Role")
    message_id = header(
        _get(recruiter_gmail, sent["id"], "metadata", metadataHeaders=["Message-ID"]), "Message-ID"
    )
    raw = (
        "From: Lee <lee@elsewhere.example>\r\nTo: recruiter@acme.example\r\nSubject: Re: Role\r\n"
        f"In-Reply-To: {message_id}\r\nMessage-ID: <x1@elsewhere.example>\r\n\r\nSure.\r\n"
    ).encode()
    control.receive(RECRUITER, raw, return_path="lee@elsewhere.example")
    assert _only(recruiter_gmail, "from:lee@elsewhere.example")["threadId"] == sent["threadId"]
