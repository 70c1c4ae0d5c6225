"""The task list: what a recruiter reads of a manual stage that came due."""

import pytest

from sequences.models import Stage, Task
from tests.factories import EnrollmentFactory, ProspectFactory, StageFactory

pytestmark = pytest.mark.django_db


def test_the_task_list_shows_instructions_with_the_prospects_values_in_place_of_tokens(
    recruiter_client, recruiter, sequence, recruiter_mailbox
):
    stage = StageFactory(
        sequence=sequence,
        position=5,
        kind=Stage.Kind.MANUAL,
        manual_kind=Stage.ManualKind.LINKEDIN_INMAIL,
        subject="",
        body_html="",
        body_text="",
        instructions=(
            "Send {{first_name}} {{ last_name }} at {{company}} an InMail.\n"
            "Mention {{custom.team|our platform team}}; sign {{sender_first_name}}. "
            "Ask about {{custom.stack}}."
        ),
    )
    prospect = ProspectFactory(
        organization=recruiter.organization,
        first_name="Casey",
        last_name="Jones",
        company="Umbrella",
    )
    enrollment = EnrollmentFactory(
        sequence=sequence, prospect=prospect, mailbox=recruiter_mailbox, current_stage=stage
    )
    Task.objects.create(
        organization=recruiter.organization, enrollment=enrollment, stage=stage, assignee=recruiter
    )

    page = recruiter_client.get("/tasks/").content.decode()

    assert "Send Casey Jones at Umbrella an InMail.<br>" in page
    assert "Mention our platform team; sign Rick." in page
    # A token without a value stays as typed: the recruiter sees what is missing.
    assert "Ask about {{custom.stack}}." in page
    assert "{{first_name}}" not in page
