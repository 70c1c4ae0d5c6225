"""Unsubscribing. Every sequence email names a signed link in its `List-Unsubscribe` header
(with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, RFC 8058), and optionally in a footer.
A GET of the link shows what will happen (mail scanners open links); a POST does it: the one-click
POST a mail client sends, or the confirmation page's button.

Unsubscribing marks the prospect do-not-contact for the whole organization, puts the address on
its do-not-contact list (which outlives the prospect's row, e.g. a later re-import), and stops
every open enrollment of the prospect, whoever enrolled them.

The link never expires: the law wants it to work for at least 30 days after sending, the
recipient wants it to work as long as the email exists, and all a leaked link can do is stop
email to that very address."""

import functools
from dataclasses import replace
from html import escape

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import get_script_prefix, get_urlconf, reverse

from outreach.emails import absolute_url

from . import donotcontact, lifecycle, locks
from .models import Enrollment, Message, Prospect
from .templating import RenderedEmail

SALT = "sequences.unsubscribe"
ONE_CLICK = "One-Click"  # the body of an RFC 8058 POST: List-Unsubscribe=One-Click


def url_for(message_id: int) -> str:
    token = signing.Signer(salt=SALT).sign(str(message_id))
    before, after = _link_around_token(get_urlconf(), get_script_prefix(), settings.SITE_URL)
    return f"{before}{token}{after}"


@functools.cache
def _link_around_token(urlconf, script_prefix: str, site_url: str) -> tuple[str, str]:
    """The link with its token cut out, resolved once per URL configuration: every send builds
    one, and reverse() is a measurable part of a send's CPU. A signed token is made of
    characters reverse() writes unchanged (letters, digits, "-", "_", ":")."""
    marker = "TOKEN"
    link = absolute_url(reverse("sequences:unsubscribe", args=[marker], urlconf=urlconf))
    before, _, after = link.partition(marker)
    return before, after


def message_for(token: str) -> Message | None:
    """The outbound message whose link this is, with its prospect and organization."""
    try:
        message_id = int(signing.Signer(salt=SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return (
        Message.objects.select_related("prospect", "organization")
        .filter(pk=message_id, direction=Message.Direction.OUTBOUND)
        .first()
    )


def with_footer(rendered: RenderedEmail, url: str) -> RenderedEmail:
    """The rendered email ending with a visible unsubscribe link."""
    sentence = "If you would rather not hear from us again, you can unsubscribe"
    return replace(
        rendered,
        html=f'{rendered.html}<p>{sentence} <a href="{escape(url)}">here</a>.</p>',
        text=f"{rendered.text}\n\n{sentence}: {url}",
    )


@transaction.atomic
def unsubscribe(*, prospect: Prospect, source: str, message: Message | None = None) -> int:
    """Stops all email to the prospect from the organization; returns how many enrollments
    stopped. `message`: the email whose link was used; its enrollment, finished, is marked
    unsubscribed all the same, so that its sequence's stats count it. Doing it again changes
    nothing."""
    Prospect.objects.filter(pk=prospect.pk).update(do_not_contact=True)
    prospect.do_not_contact = True
    donotcontact.add(prospect.organization_id, [(prospect.email, f"Unsubscribed ({source})")])
    stopped = 0
    for pk in Enrollment.objects.filter(prospect=prospect, status__in=Enrollment.OPEN).values_list(
        "pk", flat=True
    ):
        reason = f"{prospect.email} unsubscribed ({source})."
        stopped += lifecycle.unsubscribe(locks.enrollment(pk), reason)
    if message is not None and message.enrollment_id is not None:
        lifecycle.unsubscribe(
            locks.enrollment(message.enrollment_id),
            f"{prospect.email} unsubscribed after the sequence finished ({source}).",
            after_finish=True,
        )
    return stopped
