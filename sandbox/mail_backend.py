"""An email backend for development: the product's own emails (invitations, approval requests,
alerts) land in the recipients' sandbox inboxes, where a tester reads and clicks them as a user
would. Selected with EMAIL_BACKEND=sandbox.mail_backend.SandboxInboxBackend."""

from email.utils import parseaddr

from django.core.mail.backends.base import BaseEmailBackend

from . import mail


class SandboxInboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        delivered = 0
        for email in email_messages:
            recipients = [parseaddr(recipient)[1] for recipient in email.recipients()]
            if not recipients:
                continue
            raw = email.message().as_bytes()
            return_path = parseaddr(email.from_email)[1]
            for recipient in recipients:
                mail.deliver_from_outside(recipient, raw, return_path=return_path)
            delivered += 1
        return delivered
