"""A CompiledQuery returns what its queryset would, from SQL compiled once."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Value
from django.db.transaction import TransactionManagementError

from outreach import clock
from outreach.compiled import CompiledInsert, CompiledQuery, CompiledUpdate
from sequences.models import Enrollment, EnrollmentEvent, Prospect, Stage
from tests.factories import EnrollmentFactory, ProspectFactory

pytestmark = pytest.mark.django_db

ENROLLMENT = CompiledQuery(
    lambda pk: (
        Enrollment.objects.select_related("prospect", "current_stage", "sequence__owner")
        .annotate(
            later_stages=Count("sequence__stages"),
            has_tag=Value(True),
        )
        .only(
            "status",
            "prospect__email",
            "prospect__custom_fields",
            "current_stage__position",
            "sequence__name",
            "sequence__owner__email",
        )
        .filter(pk=pk)
    ),
    int,
)


def test_instances_come_back_as_the_queryset_would_build_them(django_assert_num_queries):
    enrollment = EnrollmentFactory(
        prospect=ProspectFactory(custom_fields={"school": "Delft"}),
    )
    Enrollment.objects.filter(pk=enrollment.pk).update(thread_id="thread-1")

    with django_assert_num_queries(1):
        loaded = ENROLLMENT.first(enrollment.pk)
        # Related objects arrive with the row; the JSON field went through its converter.
        assert loaded.prospect.custom_fields == {"school": "Delft"}
        assert loaded.current_stage.position == 0
        assert loaded.sequence.owner.email == enrollment.sequence.owner.email
        assert loaded.status == Enrollment.Status.ACTIVE
        assert loaded.later_stages == 2
        assert loaded.has_tag is True
    assert loaded.pk == enrollment.pk
    assert loaded.get_deferred_fields() >= {"thread_id", "bcc"}
    assert loaded.thread_id == "thread-1"  # deferred fields still load on demand


def test_each_run_takes_its_own_parameter_values():
    first, second = EnrollmentFactory(), EnrollmentFactory()
    assert ENROLLMENT.first(first.pk).prospect.email == first.prospect.email
    assert ENROLLMENT.first(second.pk).prospect.email == second.prospect.email
    assert ENROLLMENT.first(first.pk + second.pk + 1000) is None
    assert ENROLLMENT.all(second.pk) == [second]


def test_a_nullable_relation_that_is_empty_comes_back_as_none():
    enrollment = EnrollmentFactory()
    Enrollment.objects.filter(pk=enrollment.pk).update(current_stage=None)
    assert ENROLLMENT.first(enrollment.pk).current_stage is None


def test_values_lists_with_several_kinds_of_parameter():
    prospect = ProspectFactory(email="casey@candidates.example", company="Initech")
    Prospect.objects.filter(pk=prospect.pk).update(created_at=clock.now() - timedelta(days=3))
    newer = ProspectFactory(
        organization=prospect.organization, email="dee@candidates.example", company="Initech"
    )
    query = CompiledQuery(
        lambda organization_id, company, since: (
            Prospect.objects.filter(
                organization_id=organization_id,
                company=company,
                created_at__gte=since,
            )
            .order_by("email")
            .values_list("email", "custom_fields")
        ),
        int,
        str,
        type(clock.now()),
    )
    organization_id = prospect.organization_id
    week_ago, day_ago = clock.now() - timedelta(days=7), clock.now() - timedelta(days=1)
    assert query.all(organization_id, "Initech", week_ago) == [
        ("casey@candidates.example", {}),
        ("dee@candidates.example", {}),
    ]
    assert query.all(organization_id, "Initech", day_ago) == [(newer.email, {})]
    assert query.all(organization_id, "Hooli", week_ago) == []


@pytest.mark.django_db(transaction=True)
def test_a_locking_read_is_refused_outside_a_transaction_and_locks_inside_one():
    enrollment = EnrollmentFactory()
    query = CompiledQuery(
        lambda pk: Enrollment.objects.select_for_update().filter(pk=pk).values_list("status"),
        int,
    )
    with pytest.raises(TransactionManagementError):
        query.all(enrollment.pk)
    with transaction.atomic():
        assert query.all(enrollment.pk) == [("active",)]
        # Compiled once, still checked on every run.
    with pytest.raises(TransactionManagementError):
        query.all(enrollment.pk)


def test_a_parameter_the_sql_never_uses_is_a_mistake_reported_at_once():
    query = CompiledQuery(
        lambda pk: Stage.objects.filter(
            Exists(Stage.objects.filter(pk=OuterRef("pk"))), position=0
        ),
        int,
    )
    with pytest.raises(ImproperlyConfigured, match=r"parameters \[0\]"):
        query.all(1)


MOVE_ON = CompiledUpdate(
    lambda pk, token, status, due: (
        Enrollment.objects.filter(pk=pk, claim_token=token),
        {"status": status, "next_action_at": due, "claim_token": ""},
    ),
    int,
    str,
    str,
    type(clock.now()),
)


def test_an_update_changes_only_the_rows_its_filter_matches_and_says_how_many():
    ours, other = EnrollmentFactory(claim_token="a1"), EnrollmentFactory(claim_token="b2")
    later = clock.now() + timedelta(days=1)

    assert MOVE_ON.run(ours.pk, "wrong-token", "paused", later) == 0
    assert MOVE_ON.run(ours.pk, "a1", "paused", later) == 1
    assert MOVE_ON.run(other.pk, "b2", "finished", None) == 1  # NULL where the column takes it

    ours.refresh_from_db()
    other.refresh_from_db()
    assert (ours.status, ours.next_action_at, ours.claim_token) == ("paused", later, "")
    assert (other.status, other.next_action_at) == ("finished", None)


def test_an_insert_saves_what_create_would_with_defaults_and_prepared_values():
    enrollment = EnrollmentFactory()
    before = clock.now()
    event = CompiledInsert(EnrollmentEvent).create(enrollment=enrollment, text="Stage 1 sent")
    prospect = CompiledInsert(Prospect).create(
        organization=enrollment.organization,
        email="eve@candidates.example",
        custom_fields={"school": "Delft"},
    )

    assert event.pk and not event._state.adding
    stored = EnrollmentEvent.objects.get(pk=event.pk)
    assert (stored.enrollment_id, stored.text, stored.message_id) == (
        enrollment.pk,
        "Stage 1 sent",
        None,
    )
    assert stored.at >= before
    assert Prospect.objects.get(pk=prospect.pk).custom_fields == {"school": "Delft"}


def test_a_worker_compiles_its_statements_as_it_starts_not_in_its_first_task(monkeypatch):
    from django.db import connection

    from outreach import compiled
    from outreach.celery import _warm_up, app

    app.loader.import_default_modules()  # the task modules, as a worker imports them
    assert len(compiled._every_statement) >= 8  # the claim, the lock, the outbox, the lifecycle...

    compiles = []
    original = ENROLLMENT._compile
    monkeypatch.setattr(ENROLLMENT, "_compile", lambda s: compiles.append(s) or original(s))
    in_the_task, failed = [], []

    def fresh_worker():  # a thread of its own: nothing compiled yet, as in a new process
        try:
            _warm_up()
            compiled_at_start = len(compiles)
            ENROLLMENT.first(1)
            in_the_task.extend(compiles[compiled_at_start:])
        except Exception as error:
            failed.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=fresh_worker)
    thread.start()
    thread.join()
    assert failed == []
    assert len(compiles) == 1 and in_the_task == []
