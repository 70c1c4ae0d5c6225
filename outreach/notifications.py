"""Telling a person something: an in-app notification, and the same as an email."""

from .emails import absolute_url, send_product_email
from .models import Notification, User


def notify(
    user: User,
    message: str,
    *,
    url: str = "",
    email_subject: str | None = None,
    in_app: bool = True,
) -> Notification | None:
    """Records `message` for `user` (unless `in_app` is off); with `email_subject`, also emails
    it (after commit)."""
    notification = (
        Notification.objects.create(
            organization_id=user.organization_id, user=user, message=message, url=url
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
