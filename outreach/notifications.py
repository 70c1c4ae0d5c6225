"""Telling a person something: an in-app notification, and the same as an email."""

from django.db.models import CharField

from .emails import absolute_url, send_product_email
from .models import Notification, User


def _max_length(field: CharField) -> int:
    if field.max_length is None:
        raise TypeError(f"{field} has no max_length to fit to.")
    return field.max_length


MESSAGE_LENGTH = _max_length(Notification._meta.get_field("message"))
URL_LENGTH = _max_length(Notification._meta.get_field("url"))


def _fit(text: str, longest: int) -> str:
    """`text` as the column can hold it: PostgreSQL refuses null characters in text, and a
    message too long ends in an ellipsis."""
    text = text.replace("\x00", "")
    return text if len(text) <= longest else text[: longest - 1] + "…"


def notify(
    user: User,
    message: str,
    *,
    url: str = "",
    email_subject: str | None = None,
    in_app: bool = True,
) -> Notification | None:
    """Records `message` for `user` (unless `in_app` is off); with `email_subject`, also emails
    it (after commit). A message of any length is told, cut short: what it says (a reply's
    subject, a name) is not ours to bound, and the alert must not fail for it."""
    message = _fit(message, MESSAGE_LENGTH)
    # A link cut short would lead nowhere: without it, the alert is still told.
    url = url if len(url) <= URL_LENGTH else ""
    notification = (
        Notification.objects.create(
            organization_id=user.team_id, user=user, message=message, url=url
        )
        if in_app
        else None
    )
    if email_subject and user.is_active:
        send_product_email(
            to=user.email,
            template="notification",
            context={
                "user": user,
                "subject": email_subject,
                "message": message,
                "url": absolute_url(url) if url else "",
            },
        )
    return notification
