"""Benchmark of the pages that grow with a team (not part of CI).

    .venv/bin/python bench/pages.py --prospects 100000 --enrollments 1000000

Seeds, in a scratch database and with COPY, a small team (1,000 prospects) and a large one
(`--prospects` prospects, `--enrollments` enrollments over 20 sequences of three stages (two
emails, then a call), an email for each, sent over the past year, replies for a tenth, a call
task for one in twenty of those at the call, active ones due over the coming week, one
notification per hundred enrollments and one one-off email per five hundred), then times with
the Django test client, signed in as a recruiter of each: the sequence list, a sequence page
(as it opens, filtered by status, by stage, and a page deep in it), the prospect list, a
filtered list (tag + status + search), the enrol picker's search, the outbox, the replies page,
tasks, emails and notifications: `--requests` requests each. Prints JSON: median and p95
milliseconds, queries and HTML bytes of each page, and fails if a page runs more queries for
the large team than for the small one, or its median is over the target.
"""

import argparse
import io
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

SEQUENCES = 20
TAGS = 10
STATUSES = ["active"] * 6 + ["paused", "replied", "finished", "finished"]
# Surnames as spread as real ones: 900 made of two syllables, and Smith for one in a hundred
# (about its share in the US), so that a name search matches what it would in a real team.
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "ha",
    "ze",
    "bo",
    "ce",
    "di",
    "fu",
    "go",
    "ja",
    "le",
    "mo",
    "nu",
    "pa",
    "qi",
    "ro",
    "se",
    "tu",
    "va",
    "wi",
    "xa",
    "yo",
    "zu",
    "el",
]
SMITH_EVERY = 100
COMPANIES = ["Initech", "Hooli", "Globex", "Umbrella", "Acme", "Stark", "Wayne", "Tyrell"]
TARGET_MS = 150
# The small team: enough prospects that the filtered list finds some (a page with rows runs
# the queries of its rows).
SMALL = 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prospects", type=int, default=100_000)
    parser.add_argument("--enrollments", type=int, default=120_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()  # the test client's host, the in-memory mail outbox
    old = setup_databases(verbosity=0, interactive=False)
    try:
        result = run(args)
    finally:
        teardown_databases(old, verbosity=0)
    print(json.dumps(result, indent=2))
    if result["failures"]:
        sys.exit("; ".join(result["failures"]))


def _copy(table: str, columns: list[str], rows) -> None:
    """Rows into `table` with COPY: a hundred thousand in a second or two."""
    from django.db import connection

    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(r"\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def _surname(n: int) -> str:
    if n % SMITH_EVERY == 0:
        return "Smith"
    first, second = divmod(n * 7919 % 900, 30)
    return (SYLLABLES[first] + SYLLABLES[second]).title()


def seed(prospects: int, enrollments: int) -> dict:
    """One team of that size; what the timed requests need of it."""
    from django.db import connection
    from django.utils import timezone

    from outreach.models import Notification
    from sequences.models import Enrollment, Message, Prospect, Sequence, Stage, Tag, Task
    from tests.factories import MailboxFactory, OrganizationFactory, SequenceFactory, UserFactory

    org = OrganizationFactory(seats=10)
    recruiter = UserFactory(organization=org)
    teammate = UserFactory(organization=org)
    mailbox = MailboxFactory(owner=recruiter)
    sequences = [
        SequenceFactory(owner=recruiter, visibility="shared", stages=2) for _ in range(SEQUENCES)
    ]
    for s in sequences:
        Stage.objects.create(
            sequence=s, position=2, kind="manual", manual_kind="call", instructions="Call them"
        )
    stages = {
        s.pk: list(s.stages.order_by("position").values_list("pk", flat=True)) for s in sequences
    }
    tags = [Tag.objects.create(organization=org, name=f"Tag {n}") for n in range(TAGS)]
    moment = timezone.now()
    now = moment.isoformat()

    def ago(seconds: int) -> str:
        return (moment - timedelta(seconds=seconds)).isoformat()

    first_pk = (Prospect.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    _copy(
        "sequences_prospect",
        [
            "organization_id",
            "email",
            "first_name",
            "last_name",
            "company",
            "title",
            "timezone",
            "custom_fields",
            "do_not_contact",
            "bounced_at",
            "ats_candidate_id",
            "ats_sync_paused",
            "created_by_id",
            "created_at",
        ],
        (
            (
                org.pk,
                f"p{n}@{COMPANIES[n % 8].lower()}-{org.pk}.example",
                f"First{n}",
                _surname(n),
                COMPANIES[n % 8],
                "Engineer" if n % 2 else "Designer",
                "",
                "{}",
                "t" if n % 97 == 0 else "f",
                now if n % 89 == 0 else None,
                "",
                "f",
                (recruiter if n % 2 else teammate).pk,
                now,
            )
            for n in range(prospects)
        ),
    )
    ids = list(
        Prospect.objects.filter(organization=org).order_by("pk").values_list("pk", flat=True)
    )
    assert ids[0] >= first_pk
    _copy(
        "sequences_prospect_tags",
        ["prospect_id", "tag_id"],
        ((pk, tags[i % TAGS].pk) for i, pk in enumerate(ids)),
    )
    rows = []
    for n in range(enrollments):
        prospect = ids[n % len(ids)]
        # A second round puts some prospects in a second sequence.
        sequence = sequences[(n + n // len(ids)) % SEQUENCES]
        rows.append((prospect, sequence.pk, STATUSES[n % len(STATUSES)]))
    _copy(
        "sequences_enrollment",
        [
            "organization_id",
            "sequence_id",
            "prospect_id",
            "mailbox_id",
            "enrolled_by_id",
            "status",
            "pause_cause",
            "status_reason",
            "current_stage_id",
            "claim_token",
            "attempts",
            "thread_id",
            "bcc",
            "last_event",
            "sentiment",
            "next_action_at",
            "created_at",
        ],
        (
            (
                org.pk,
                s,
                p,
                mailbox.pk,
                recruiter.pk,
                status,
                "",
                "",
                stages[s][n % 3],
                "",
                0,
                "",
                "",
                "",
                "",
                # The active ones due over the coming week, a few late.
                (moment + timedelta(minutes=n % 1000 * 10 - 30)).isoformat()
                if status == "active"
                else None,
                # Enrolled one every 30 seconds over the past year (for a million).
                ago(30 * (len(rows) - n)),
            )
            for n, (p, s, status) in enumerate(rows)
        ),
    )
    enrolled = Enrollment.objects.filter(organization=org).values_list(
        "pk", "prospect_id", "sequence_id", "status", "current_stage_id"
    )
    message_columns = [
        "organization_id",
        "prospect_id",
        "enrollment_id",
        "stage_id",
        "mailbox_id",
        "sent_by_id",
        "direction",
        "status",
        "inbound_kind",
        "gmail_message_id",
        "gmail_thread_id",
        "rfc822_message_id",
        "from_address",
        "to_address",
        "subject",
        "body_text",
        "error",
        "history_id_before",
        "created_at",
        "sent_at",
    ]

    tasks = []

    def messages():
        for n, (pk, prospect, sequence, status, stage) in enumerate(
            enrolled.order_by("pk").iterator(chunk_size=10_000)
        ):
            common = (org.pk, prospect, pk, stages[sequence][0], mailbox.pk)
            # Sent one every 30 seconds back from now: a day's worth within the cap's window.
            at = ago(30 * n)
            yield (*common, recruiter.pk, "outbound", "sent", "", f"m{pk}", f"t{pk}", "", at)
            if status == "replied":
                yield (*common, None, "inbound", "", "reply", f"r{pk}", f"t{pk}", "", at)
            if status == "active" and stage == stages[sequence][2] and n % 20 == 0:
                tasks.append((org.pk, pk, stage, recruiter.pk, "open", ago(-60 * (n % 5000))))

    _copy(
        "sequences_message",
        message_columns,
        (
            (
                *m[:-1],
                "someone@example.com",
                "other@example.com",
                "A role",
                "Thanks",
                "",
                "",
                m[-1],
                m[-1],
            )
            for m in messages()
        ),
    )
    _copy(
        "sequences_task",
        ["organization_id", "enrollment_id", "stage_id", "assignee_id", "status", "due_at"],
        tasks,
    )
    _copy(
        "outreach_notification",
        ["organization_id", "user_id", "message", "url", "created_at"],
        (
            (org.pk, recruiter.pk, f"Reply from candidate {n}", "/replies/", ago(60 * n))
            for n in range(max(1, enrollments // 100))
        ),
    )
    Sequence.objects.bulk_create(
        Sequence(
            organization=org,
            owner=recruiter,
            kind="one_off",
            name=f"A role for you {n}",
            sender_mailbox=mailbox,
            created_at=moment - timedelta(hours=n),
        )
        for n in range(max(1, enrollments // 500))
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # A page half way down the first sequence: where its older link would lead after hundreds
    # of pages.
    deep = (
        Enrollment.objects.filter(sequence=sequences[0])
        .order_by("-created_at", "-pk")
        .values_list("created_at", "pk")[enrollments // SEQUENCES // 2]
    )
    return {
        "recruiter": recruiter,
        "sequence": sequences[0],
        "stage": stages[sequences[0].pk][1],
        "deep": f"{deep[0].isoformat()}_{deep[1]}",
        "tag": tags[0],
        "counts": {
            "prospects": Prospect.objects.filter(organization=org).count(),
            "enrollments": Enrollment.objects.filter(organization=org).count(),
            "messages": Message.objects.filter(organization=org).count(),
            "replies": Message.objects.filter(organization=org, inbound_kind="reply").count(),
            "sequences": Sequence.objects.filter(organization=org, kind="sequence").count(),
            "one_off_emails": Sequence.objects.filter(organization=org, kind="one_off").count(),
            "tasks": Task.objects.filter(organization=org).count(),
            "notifications": Notification.objects.filter(organization=org).count(),
        },
    }


def pages(team: dict) -> dict[str, str]:
    sequence, tag = team["sequence"], team["tag"]
    deep = urlencode({"after": team["deep"]})
    return {
        "sequence_list": "/sequences/",
        "sequence_page": f"/sequences/{sequence.pk}/",
        "sequence_page_by_status": f"/sequences/{sequence.pk}/?status=replied",
        "sequence_page_by_stage": f"/sequences/{sequence.pk}/?stage={team['stage']}",
        "sequence_page_deep": f"/sequences/{sequence.pk}/?{deep}",
        "prospect_list": "/prospects/",
        "filtered_list": f"/prospects/?tag={tag.pk}&status=active&q=smith",
        "enrol_picker_search": f"/sequences/{sequence.pk}/picker/?pq=smith",
        "outbox": "/outbox/",
        "replies": "/replies/",
        "tasks": "/tasks/",
        "emails": "/emails/",
        "notifications": "/notifications/",
    }


def measure(team: dict, requests: int, explain: bool = False) -> dict:
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(team["recruiter"])
    figures = {}
    for name, url in pages(team).items():
        queries = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        timings.sort()
        figures[name] = {
            "url": url,
            "median_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
            "queries": len(queries),
            "html_bytes": len(response.content),
            "slowest_queries": _slowest(queries) if explain else [],
        }
    return figures


def _slowest(queries: list, shown: int = 2) -> list[dict]:
    """The page's costliest queries by EXPLAIN ANALYZE, with the plan's first lines: that each
    reads an index, not the table."""
    from django.db import connection

    plans = []
    with connection.cursor() as cursor:
        for sql, params in queries:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0][0]
            lines, node = [], plan["Plan"]
            while node and len(lines) < 4:
                read = node.get("Index Name", node.get("Relation Name", ""))
                lines.append(f"{node['Node Type']} {read}".strip())
                node = (node.get("Plans") or [None])[0]
            if os.environ.get("BENCH_PLANS"):
                cursor.execute(f"EXPLAIN ANALYZE {sql}", params)
                with open(os.environ["BENCH_PLANS"], "a") as out:
                    out.write(sql + "\n" + "\n".join(r[0] for r in cursor.fetchall()) + "\n\n")
            plans.append(
                {
                    "ms": round(plan["Execution Time"], 2),
                    "plan": " > ".join(lines),
                    "sql": sql[:160],
                }
            )
    return sorted(plans, key=lambda p: -p["ms"])[:shown]


def run(args) -> dict:
    started = time.perf_counter()
    small = seed(SMALL, SMALL * 6 // 5)
    large = seed(args.prospects, args.enrollments)
    seeded = time.perf_counter() - started
    small_figures = measure(small, 3)
    large_figures = measure(large, args.requests, explain=True)
    failures = []
    for name, figures in large_figures.items():
        figures[f"queries_at_{SMALL}_prospects"] = small_figures[name]["queries"]
        if figures["queries"] != small_figures[name]["queries"]:
            failures.append(
                f"{name}: {figures['queries']} queries, "
                f"{small_figures[name]['queries']} at {SMALL} prospects"
            )
        if figures["median_ms"] >= TARGET_MS:
            failures.append(f"{name}: median {figures['median_ms']} ms >= {TARGET_MS} ms")
    return {
        "team": large["counts"],
        "seed_seconds": round(seeded, 1),
        "requests_per_page": args.requests,
        "target_median_ms": TARGET_MS,
        "pages": large_figures,
        "failures": failures,
    }


if __name__ == "__main__":
    main()
