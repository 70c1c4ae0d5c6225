"""A stage rendered for a prospect, as a mailbox or one of its aliases: the token values."""

from senders.models import Mailbox, SendAsAlias

from . import templating
from .models import (
    Enrollment,
    Prospect,
    Stage,
    Task,
)


def token_values(prospect: Prospect, mailbox: Mailbox, alias: SendAsAlias | None) -> dict:
    sender_name = (
        (alias.display_name if alias else "") or mailbox.display_name or mailbox.owner.full_name
    )
    return templating.values_for(
        templating.ProspectValues(
            first_name=prospect.first_name,
            last_name=prospect.last_name,
            company=prospect.company,
            title=prospect.title,
            custom=prospect.custom_fields,
        ),
        templating.SenderValues(
            full_name=sender_name, email=alias.email if alias else mailbox.email
        ),
    )


def render_stage(stage: Stage, prospect: Prospect, mailbox: Mailbox, alias=None):
    """The email of `stage` for `prospect`; raises templating.MissingValue naming the token.
    It ends with the signature of the mailbox's owner (also when a teammate sends from it: the
    email is theirs) unless the stage leaves it out."""
    return templating.render_stage(
        stage.subject,
        stage.body_html,
        token_values(prospect, mailbox, alias),
        signature_html=mailbox.signature_html if stage.include_signature else "",
    )


def missing_tokens(sequence_stages, prospect: Prospect, mailbox: Mailbox, alias=None) -> list[str]:
    values = token_values(prospect, mailbox, alias)
    texts = [
        t for s in sequence_stages if s.kind == Stage.Kind.EMAIL for t in (s.subject, s.body_html)
    ]
    return templating.missing_tokens(texts, values)


def manual_instructions(
    stage: Stage, prospect: Prospect, mailbox: Mailbox, alias: SendAsAlias | None = None
) -> str:
    """A manual stage's instructions for `prospect` sent as `mailbox`: the prospect's and the
    sender's values in place of the tokens (one without a value stays as typed)."""
    return templating.render_note(stage.instructions, token_values(prospect, mailbox, alias))


def task_instructions(task: Task) -> str:
    """The instructions of the task's stage as its task shows them."""
    enrollment: Enrollment = task.enrollment
    return manual_instructions(
        task.stage, enrollment.prospect, enrollment.mailbox, enrollment.alias
    )
