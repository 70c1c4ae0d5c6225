"""What the page groups share: the sequence a URL names, where to go back to, errors as messages."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.http import url_has_allowed_host_and_scheme

from outreach.tenancy import get_for_user_or_404

from .. import selectors


def _sequence(request, pk, *, edit=False):
    sequence = get_for_user_or_404(selectors.visible_sequences(request.user), request.user, pk=pk)
    if edit and not selectors.can_edit(request.user, sequence):
        raise PermissionDenied("Only the owner, editors and admins change this sequence.")
    return sequence


def _next(request, default: str) -> str:
    """Where to go back to after a POST: only ever a path of this site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _errors(request, exc: ValidationError):
    for message in exc.messages:
        messages.error(request, message)


def _form_errors(request, form: forms.BaseForm) -> None:
    """A refused form's errors as messages, one per field."""
    for errors in form.errors.values():
        messages.error(request, " ".join(str(error) for error in errors))
