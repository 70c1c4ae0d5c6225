"""The counts a sequence's pages show, kept by the database as enrollments are written: they
equal a count of the enrollments themselves after any mix of writes, whichever way they come."""

import random

import pytest
from django.db.models import Count

from sequences import services
from sequences.models import Enrollment, EnrollmentCount, Prospect, Stage
from tests.factories import EnrollmentFactory, ProspectFactory, SequenceFactory

pytestmark = pytest.mark.django_db


def counted() -> dict[tuple, int]:
    return {(c.sequence_id, c.stage_id, c.status): c.n for c in EnrollmentCount.objects.all()}


def recounted() -> dict[tuple, int]:
    rows = Enrollment.objects.values("sequence_id", "current_stage_id", "status").annotate(
        n=Count("pk")
    )
    return {(r["sequence_id"], r["current_stage_id"], r["status"]): r["n"] for r in rows}


def test_the_counts_equal_a_recount_after_a_random_mix_of_writes(org, recruiter, other_org):
    chance = random.Random(18)
    sequences = [SequenceFactory(owner=recruiter, stages=3) for _ in range(3)]
    pool = ProspectFactory.create_batch(40, organization=org)
    # Another team's enrollments are counted apart and never mixed in.
    EnrollmentFactory.create_batch(3, sequence=SequenceFactory(owner__organization=other_org))

    def some_enrollments() -> list[Enrollment]:
        rows = list(Enrollment.objects.filter(organization=org))
        return chance.sample(rows, min(len(rows), chance.randint(1, 5)))

    for _ in range(60):
        step = chance.choice(
            [
                "enroll_one",
                "bulk_create",
                "pause_resume",
                "remove",
                "queryset_update",
                "move_stage",
                "delete_enrollment",
                "delete_prospect",
                "delete_stage",
            ]
        )
        sequence = chance.choice(sequences)
        stages = list(Stage.objects.filter(sequence=sequence))
        if step == "enroll_one":
            # Active: the rest of the mix has something to pause, resume and remove.
            prospect = ProspectFactory(organization=org)
            pool.append(prospect)
            EnrollmentFactory(sequence=sequence, prospect=prospect)
        elif step == "bulk_create":
            template = Enrollment.objects.filter(organization=org).first() or EnrollmentFactory(
                sequence=sequence, status="stopped"
            )
            Enrollment.objects.bulk_create(
                Enrollment(
                    organization=org,
                    sequence=sequence,
                    prospect=prospect,
                    mailbox_id=template.mailbox_id,
                    enrolled_by=recruiter,
                    status=chance.choice(["finished", "stopped", "replied"]),
                    current_stage=chance.choice([*stages, None]),
                )
                for prospect in chance.sample(pool, 5)
            )
        elif step == "pause_resume":
            for enrollment in some_enrollments():
                if enrollment.status == "active":
                    services.pause_enrollment(enrollment=enrollment, cause="by_user", reason="x")
                elif enrollment.status == "paused":
                    services.resume_enrollment(enrollment=enrollment, by=recruiter)
        elif step == "remove":
            for enrollment in some_enrollments():
                services.remove_enrollment(enrollment=enrollment, by=recruiter)
        elif step == "queryset_update":
            Enrollment.objects.filter(
                pk__in=[e.pk for e in some_enrollments()], status__in=["finished", "stopped"]
            ).update(status=chance.choice(["bounced", "failed", "unsubscribed"]))
        elif step == "move_stage" and stages:
            Enrollment.objects.filter(sequence=sequence).update(current_stage=chance.choice(stages))
        elif step == "delete_enrollment":
            Enrollment.objects.filter(pk__in=[e.pk for e in some_enrollments()]).delete()
        elif step == "delete_prospect":
            # Its enrollments go with it, in Django's cascade.
            prospect = chance.choice(pool)
            pool.remove(prospect)
            Prospect.objects.filter(pk=prospect.pk).delete()
            pool.append(ProspectFactory(organization=org))
        elif step == "delete_stage" and len(stages) > 1:
            # Its enrollments go on at no stage (SET_NULL), counted there.
            chance.choice(stages).delete()
        assert counted() == recounted(), step

    assert sum(counted().values()) > 8, "the mix left enrollments to count"
    sequences[0].delete()
    assert counted() == recounted()
    assert not EnrollmentCount.objects.filter(sequence_id=sequences[0].pk).exists()
    assert not EnrollmentCount.objects.filter(n__lte=0).exists()
