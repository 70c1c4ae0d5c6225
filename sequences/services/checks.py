"""The checks the writes share: each validates and raises (ValidationError for what the user can
fix, PermissionDenied for what their role or the sequence's sharing forbids)."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied, ValidationError

from outreach import permissions
from outreach.models import User
from outreach.permissions import Access
from outreach.validators import email_list
from senders.models import Mailbox, SendAsAlias

from .. import eligibility, selectors
from ..models import Enrollment, Sequence, Stage


def require_editor(user: User, sequence: Sequence) -> None:
    permissions.require(user, Access.RECRUITER)
    if not selectors.can_edit(user, sequence):
        raise PermissionDenied("Only the owner, editors and admins change this sequence.")


def require_editor_or_sender(user: User, enrollment: Enrollment) -> None:
    permissions.require(user, Access.RECRUITER)
    if enrollment.enrolled_by_id != user.pk and not selectors.can_edit(user, enrollment.sequence):
        raise PermissionDenied("Only the sender, the sequence's editors and admins change this.")


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{name} is not a timezone.") from exc
    return name


def check_sender(user: User, mailbox: Mailbox | None, alias: SendAsAlias | None) -> None:
    if mailbox is None:
        return
    for problem in eligibility.sender_problems(user, mailbox, you=True):
        raise ValidationError(problem.message)
    if alias is not None and (alias.mailbox_id != mailbox.pk or not alias.verified):
        raise ValidationError(f"{alias.email} is not a verified address of {mailbox.email}.")


def check_name(name: str) -> None:
    longest = Sequence._meta.get_field("name").max_length
    assert longest is not None  # a CharField's
    if len(name) > longest:
        raise ValidationError(f"A sequence name is at most {longest} characters.")
    if "\x00" in name:
        raise ValidationError("A sequence name cannot contain a null character.")


def bcc_list(raw: str) -> str:
    """The BCC addresses as stored ("a, b"), refused when they outgrow the column."""
    addresses = email_list(raw)
    # Written out as "a, b", the list can outgrow what was typed.
    longest = Sequence._meta.get_field("bcc").max_length
    assert longest is not None  # a CharField's
    if len(addresses) > longest:
        raise ValidationError(f"The BCC addresses come to more than {longest} characters.")
    return addresses


def check_template(user: User, stage: Stage) -> None:
    """The library template recorded on a stage (or a one-off email) as the one loaded into it:
    one that `user` may use, or the one it already had (its owner may have made it private
    since, which must not stop the stage from being saved)."""
    if stage.template_id is None:
        return
    if selectors.visible_templates(user).filter(pk=stage.template_id).exists():
        return
    if stage.pk and Stage.objects.filter(pk=stage.pk, template_id=stage.template_id).exists():
        return
    raise PermissionDenied("That template is not one of the library's you can use.")
