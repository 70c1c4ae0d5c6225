"""Writes for the team's library: email templates and snippets, checked as a stage is (known
tokens only, the body cleaned by the same sanitizer)."""

from django.core.exceptions import PermissionDenied, ValidationError

from outreach import permissions
from outreach.models import User
from outreach.permissions import Access

from .. import selectors, templating
from ..models import EmailTemplate, Snippet


def save_template(*, template: EmailTemplate, by: User) -> EmailTemplate:
    """Creates (no pk yet: `by` owns it) or updates a template; ValidationError names every
    problem of it as written."""
    template.subject = template.subject.strip()
    _save(template, by, "template", subject=template.subject)
    return template


def save_snippet(*, snippet: Snippet, by: User) -> Snippet:
    _save(snippet, by, "snippet", subject="")
    return snippet


def delete_template(*, template: EmailTemplate, by: User) -> None:
    """The stages it was loaded into keep their text; they no longer count towards it."""
    _require_owner(by, template, "template")
    template.delete()


def delete_snippet(*, snippet: Snippet, by: User) -> None:
    _require_owner(by, snippet, "snippet")
    snippet.delete()


def _require_owner(by: User, item: EmailTemplate | Snippet, noun: str) -> None:
    permissions.require(by, Access.RECRUITER)
    if not selectors.can_change_library_item(by, item):
        raise PermissionDenied(f"Only its owner and the team's admins change this {noun}.")


def _save(item: EmailTemplate | Snippet, by: User, noun: str, *, subject: str) -> None:
    if item.pk is None:
        permissions.require(by, Access.RECRUITER)
        item.organization_id, item.owner = by.team_id, by
    else:
        _require_owner(by, item, noun)
    item.name = item.name.strip()
    if templating.too_long(item.body_html):
        raise ValidationError(str(templating.EmailTooLong(len(item.body_html.encode()))))
    item.body_html = templating.sanitize_html(item.body_html)
    problems = []
    if not item.name:
        problems.append(f"Give the {noun} a name.")
    if not templating.html_to_text(item.body_html).strip():
        problems.append(f"Write the text of the {noun}.")
    problems.extend(templating.validate_stage(subject, item.body_html))
    if problems:
        raise ValidationError(problems)
    item.save()
