"""Offboarding (team admins): handing a departed teammate's sequences and enrollments over."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from outreach.models import User
from outreach.tenancy import get_for_user_or_404, scope_to_user
from senders.models import Mailbox

from .. import services
from ..forms import HandOverForm, sender_field
from ..models import Enrollment


@require_http_methods(["GET", "POST"])
def hand_over(request, user_pk):
    departed = get_for_user_or_404(User, request.user, pk=user_pk)
    members = scope_to_user(User, request.user).filter(is_active=True).exclude(pk=departed.pk)
    mailboxes = (
        scope_to_user(Mailbox, request.user)
        .filter(status=Mailbox.Status.CONNECTED)
        .select_related("owner")
        .prefetch_related("aliases")
    )
    form = HandOverForm(request.POST or None, members=members, mailboxes=mailboxes)
    if request.method == "POST" and form.is_valid():
        mailbox, _ = sender_field(form).chosen(form.cleaned_data["sender"])
        try:
            done = services.hand_over(
                departed=departed, to=form.cleaned_data["to"], mailbox=mailbox, by=request.user
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"{done['sequences']} sequences and {done['enrollments']} enrollments handed over; "
                f"{done['resumed']} resumed.",
            )
            return redirect("team")
    waiting = Enrollment.objects.filter(status__in=Enrollment.OPEN, enrolled_by=departed).count()
    return render(
        request,
        "sequences/hand_over.html",
        {"departed": departed, "form": form, "waiting": waiting},
    )
