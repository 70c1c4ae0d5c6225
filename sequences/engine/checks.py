"""The checks before a send, made again at every send (permissions and the prospect's wishes may
have changed since enrolment): what blocks it pauses or ends the enrollment, as eligibility says."""

from typing import NoReturn

from django.db import transaction

from .. import (
    eligibility,
    lifecycle,
    locks,
)
from ..models import Enrollment
from .claims import ClaimedEnrollment
from .skip import Skip


def check_may_send(enrollment: ClaimedEnrollment) -> None:
    """Pauses or ends the enrollment if it may not send now, raising Skip with why."""
    problems = eligibility.problems_to_send(
        enrollment, on_do_not_contact_list=enrollment.on_do_not_contact_list
    )
    for problem in problems:
        act_on(enrollment, problem)


def act_on(enrollment: Enrollment, problem: eligibility.Problem) -> NoReturn:
    """What blocks a send ends the enrollment or pauses it, as the problem says; raises Skip."""
    with transaction.atomic():
        locked = locks.enrollment(enrollment.pk)
        if problem.stops_as:
            lifecycle.stop(locked, status=problem.stops_as, reason=problem.message)
        elif problem.pauses_for:
            lifecycle.pause(locked, cause=problem.pauses_for, reason=problem.message)
    raise Skip(problem.short)
