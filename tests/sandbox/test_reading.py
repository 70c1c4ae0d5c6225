"""Reading a mailbox through the Gmail client: message formats, search, paging, history,
threads, insert, trash and delete."""

import base64
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from googleapiclient.errors import HttpError

from sandbox import control, scopes
from tests.sandbox.conftest import CANDIDATE, RECRUITER
from tests.sandbox.mails import outgoing


def _send(gmail, **kwargs):
    return gmail.users().messages().send(userId="me", body=outgoing(**kwargs)).execute()


def _error(raised) -> dict:
    return json.loads(raised.value.content)["error"]


@pytest.fixture
def full_gmail(sandbox):
    """A mailbox connected with https://mail.google.com/, the scope that allows everything."""
    control.create_account(RECRUITER, "Rick Recruiter")
    return sandbox.gmail(sandbox.connect(RECRUITER, [scopes.MAIL]))


def test_message_formats(recruiter_gmail):
    sent = _send(
        recruiter_gmail, sender=RECRUITER, to=CANDIDATE, subject="Café & co", body="It's ok"
    )
    get = recruiter_gmail.users().messages().get
    minimal = get(userId="me", id=sent["id"], format="minimal").execute()
    assert set(minimal) == {
        "id",
        "threadId",
        "labelIds",
        "snippet",
        "sizeEstimate",
        "historyId",
        "internalDate",
    }
    assert minimal["snippet"] == "It&#39;s ok"
    metadata = get(
        userId="me", id=sent["id"], format="metadata", metadataHeaders=["subject"]
    ).execute()
    assert metadata["payload"]["headers"] == [{"name": "Subject", "value": "Café & co"}]
    full = get(userId="me", id=sent["id"]).execute()
    assert full["payload"]["mimeType"] == "text/plain" and full["payload"]["partId"] == ""
    assert base64.urlsafe_b64decode(full["payload"]["body"]["data"]).decode().strip() == "It's ok"
    raw = base64.urlsafe_b64decode(get(userId="me", id=sent["id"], format="raw").execute()["raw"])
    assert (
        raw.startswith(b"From: ") and b"\r\n\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")
    )
    assert minimal["sizeEstimate"] == len(raw)


def test_unknown_and_malformed_ids(recruiter_gmail):
    with pytest.raises(HttpError) as raised:
        recruiter_gmail.users().messages().get(userId="me", id="18c0ffee00000000").execute()
    assert _error(raised) == {
        "code": 404,
        "message": "Requested entity was not found.",
        "errors": [
            {"message": "Requested entity was not found.", "domain": "global", "reason": "notFound"}
        ],
        "status": "NOT_FOUND",
    }
    with pytest.raises(HttpError) as raised:
        recruiter_gmail.users().threads().get(userId="me", id="not-hex").execute()
    assert raised.value.status_code == 400


def test_another_users_mailbox_is_refused(recruiter_gmail):
    with pytest.raises(HttpError) as raised:
        recruiter_gmail.users().getProfile(userId=CANDIDATE).execute()
    assert raised.value.status_code == 403
    assert _error(raised)["message"] == f"Delegation denied for {CANDIDATE}"
    assert (
        recruiter_gmail.users().getProfile(userId=RECRUITER).execute()["emailAddress"] == RECRUITER
    )


def test_search_operators_and_paging(recruiter_gmail, candidate_gmail):
    ids = [
        _send(
            recruiter_gmail,
            sender=RECRUITER,
            to=f"person{n}@elsewhere.example",
            subject=f"Role {n}",
        )["id"]
        for n in range(5)
    ]
    _send(candidate_gmail, sender=CANDIDATE, to=RECRUITER, subject="Hello from Casey")
    search = recruiter_gmail.users().messages().list

    def found(q, **kwargs):
        return [
            message["id"]
            for message in search(userId="me", q=q, **kwargs).execute().get("messages", [])
        ]

    assert found("in:sent") == ids[::-1]
    assert found("to:person3@elsewhere.example") == [ids[3]]
    assert len(found(f"from:{CANDIDATE}")) == 1 and found(f"from:{CANDIDATE} in:sent") == []
    assert found("in:sent -to:person0") == ids[:0:-1]
    today = timezone.now().astimezone(timezone.get_fixed_timezone(-8 * 60)).date()
    assert len(found(f"after:{(today - timedelta(days=1)):%Y/%m/%d}")) == 6
    assert found(f"after:{(today + timedelta(days=2)):%Y/%m/%d}") == []
    assert len(found(f"after:{int(timezone.now().timestamp()) - 60}")) == 6

    page = search(userId="me", q="in:sent", maxResults=2).execute()
    assert page["resultSizeEstimate"] == 5 and len(page["messages"]) == 2
    seen = [message["id"] for message in page["messages"]]
    while "nextPageToken" in page:
        page = search(
            userId="me", q="in:sent", maxResults=2, pageToken=page["nextPageToken"]
        ).execute()
        seen += [message["id"] for message in page["messages"]]
    assert seen == ids[::-1]
    assert search(userId="me", q="subject:nothing-like-this").execute() == {"resultSizeEstimate": 0}


def test_rfc822msgid_finds_the_copy_in_each_mailbox(recruiter_gmail, candidate_gmail):
    _send(
        recruiter_gmail,
        sender=RECRUITER,
        to=CANDIDATE,
        subject="Hi",
        message_id="<abc.123@outreach.test>",
    )
    for gmail in (recruiter_gmail, candidate_gmail):
        for q in ("rfc822msgid:<abc.123@outreach.test>", "rfc822msgid:abc.123@outreach.test"):
            assert (
                gmail.users().messages().list(userId="me", q=q).execute()["resultSizeEstimate"] == 1
            )


def test_history_list_pages_filters_and_answers_404_outside_the_window(full_gmail):
    history = full_gmail.users().history().list
    start = full_gmail.users().getProfile(userId="me").execute()["historyId"]
    first = _send(full_gmail, sender=RECRUITER, to=CANDIDATE, subject="One")
    _send(full_gmail, sender=RECRUITER, to=CANDIDATE, subject="Two")
    full_gmail.users().messages().trash(userId="me", id=first["id"]).execute()

    everything = history(userId="me", startHistoryId=start).execute()
    kinds = [
        next(key for key in record if key not in ("id", "messages"))
        for record in everything["history"]
    ]
    assert kinds == ["messagesAdded", "messagesAdded", "labelsAdded"]
    record_ids = [int(record["id"]) for record in everything["history"]]
    assert record_ids == sorted(record_ids) and int(everything["historyId"]) == record_ids[-1]
    assert everything["history"][2]["labelsAdded"] == [
        {
            "message": {
                "id": first["id"],
                "threadId": first["threadId"],
                "labelIds": ["SENT", "TRASH"],
            },
            "labelIds": ["TRASH"],
        }
    ]
    assert (
        len(
            history(userId="me", startHistoryId=start, historyTypes=["labelAdded"]).execute()[
                "history"
            ]
        )
        == 1
    )
    assert (
        len(history(userId="me", startHistoryId=start, labelId="TRASH").execute()["history"]) == 1
    )

    page = history(userId="me", startHistoryId=start, maxResults=2).execute()
    assert len(page["history"]) == 2
    rest = history(
        userId="me", startHistoryId=start, maxResults=2, pageToken=page["nextPageToken"]
    ).execute()
    assert [record["id"] for record in page["history"] + rest["history"]] == [
        str(i) for i in record_ids
    ]
    assert "nextPageToken" not in rest
    assert "history" not in history(userId="me", startHistoryId=everything["historyId"]).execute()

    control.expire_history(RECRUITER)
    with pytest.raises(HttpError) as raised:
        history(userId="me", startHistoryId=start).execute()
    assert raised.value.status_code == 404 and _error(raised)["errors"][0]["reason"] == "notFound"
    fresh = full_gmail.users().getProfile(userId="me").execute()["historyId"]
    assert history(userId="me", startHistoryId=fresh).execute() == {"historyId": fresh}


def test_history_older_than_a_week_is_forgotten(full_gmail):
    start = full_gmail.users().getProfile(userId="me").execute()["historyId"]
    _send(full_gmail, sender=RECRUITER, to=CANDIDATE, subject="One")
    with (
        time_machine.travel(timezone.now() + timedelta(days=8)),
        pytest.raises(HttpError) as raised,
    ):
        full_gmail.users().history().list(userId="me", startHistoryId=start).execute()
    assert raised.value.status_code == 404


def test_insert_places_a_message_in_that_mailbox_only(sandbox, candidate_gmail):
    control.create_account(RECRUITER)
    gmail = sandbox.gmail(sandbox.connect(RECRUITER, [scopes.INSERT, scopes.READONLY]))
    inserted = (
        gmail.users()
        .messages()
        .insert(
            userId="me",
            body={
                **outgoing(sender=CANDIDATE, to=RECRUITER, subject="Imported"),
                "labelIds": ["INBOX"],
            },
        )
        .execute()
    )
    assert inserted["labelIds"] == ["INBOX"]
    assert (
        gmail.users().messages().list(userId="me", q="in:inbox").execute()["resultSizeEstimate"]
        == 1
    )
    assert candidate_gmail.users().messages().list(userId="me").execute()["resultSizeEstimate"] == 0


def test_trash_and_delete_need_their_scopes(sandbox, full_gmail, recruiter_gmail):
    sent = _send(full_gmail, sender=RECRUITER, to=CANDIDATE, subject="One")
    modify = sandbox.gmail(sandbox.connect(RECRUITER, [scopes.MODIFY]))
    for call in (
        recruiter_gmail.users().messages().trash(userId="me", id=sent["id"]),
        modify.users().messages().delete(userId="me", id=sent["id"]),
    ):
        with pytest.raises(HttpError) as raised:
            call.execute()
        assert _error(raised)["errors"][0]["reason"] == "insufficientPermissions"

    modify.users().messages().trash(userId="me", id=sent["id"]).execute()
    assert modify.users().messages().list(userId="me").execute()["resultSizeEstimate"] == 0
    assert (
        modify.users()
        .messages()
        .list(userId="me", includeSpamTrash=True)
        .execute()["resultSizeEstimate"]
        == 1
    )
    assert (
        modify.users().messages().list(userId="me", q="in:trash").execute()["resultSizeEstimate"]
        == 1
    )

    start = full_gmail.users().getProfile(userId="me").execute()["historyId"]
    assert full_gmail.users().messages().delete(userId="me", id=sent["id"]).execute() == ""
    with pytest.raises(HttpError):
        full_gmail.users().messages().get(userId="me", id=sent["id"]).execute()
    deleted = (
        full_gmail.users().history().list(userId="me", startHistoryId=start).execute()["history"]
    )
    assert deleted[0]["messagesDeleted"][0]["message"]["id"] == sent["id"]


def test_thread_get_and_profile(recruiter_gmail):
    sent = _send(recruiter_gmail, sender=RECRUITER, to=CANDIDATE, subject="One")
    thread = (
        recruiter_gmail.users()
        .threads()
        .get(userId="me", id=sent["threadId"], format="metadata", metadataHeaders=["Subject"])
        .execute()
    )
    assert (
        thread["id"] == sent["threadId"]
        and thread["historyId"] == thread["messages"][0]["historyId"]
    )
    assert thread["messages"][0]["payload"]["headers"] == [{"name": "Subject", "value": "One"}]
    profile = recruiter_gmail.users().getProfile(userId="me").execute()
    assert profile == {
        "emailAddress": RECRUITER,
        "messagesTotal": 1,
        "threadsTotal": 1,
        "historyId": profile["historyId"],
    }
