from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.db.models import QuerySet

from outreach import clock, rich_text
from outreach.models import User
from senders.models import Mailbox, SendAsAlias

from .models import Prospect, Sequence, Stage, Visibility
from .services import SEQUENCE_FIELDS, EmailDraft

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
TIMEZONES = sorted(available_timezones())
TIMEZONES_SET = frozenset(TIMEZONES)
# How far in the past a time to send may be and still mean "now".
PAST_GRACE = timedelta(minutes=1)


class SenderChoiceField(forms.ChoiceField):
    """A mailbox or one of its verified aliases, as "mailbox_id" or "mailbox_id:alias_id"."""

    def __init__(self, mailboxes: Iterable[Mailbox], *args: Any, **kwargs: Any):
        choices = [("", "Choose a sender")]
        self.options: dict[str, tuple[Mailbox, SendAsAlias | None]] = {}
        for mailbox in mailboxes:
            choices.append((str(mailbox.pk), f"{mailbox.email} ({mailbox.owner.full_name})"))
            self.options[str(mailbox.pk)] = (mailbox, None)
            for alias in mailbox.aliases.all():
                if alias.verified and alias.email != mailbox.email:
                    key = f"{mailbox.pk}:{alias.pk}"
                    choices.append((key, f"{alias} via {mailbox.email}"))
                    self.options[key] = (mailbox, alias)
        super().__init__(*args, choices=choices, **kwargs)

    def to_mailbox(self, value: str | None) -> tuple[Mailbox | None, SendAsAlias | None]:
        return self.options.get(value or "", (None, None))

    def chosen(self, value: str) -> tuple[Mailbox, SendAsAlias | None]:
        """The sender of a value that this field, required, accepted: one of its choices."""
        mailbox, alias = self.to_mailbox(value)
        if mailbox is None:
            raise ValueError(f"{value!r} is not one of the senders offered.")
        return mailbox, alias

    @staticmethod
    def key(mailbox: Mailbox | None, alias: SendAsAlias | None) -> str:
        if mailbox is None:
            return ""
        return f"{mailbox.pk}:{alias.pk}" if alias else str(mailbox.pk)


def sender_field(form: forms.BaseForm) -> SenderChoiceField:
    """The form's "sender" field: the SenderChoiceField that its __init__ puts there."""
    field = form.fields["sender"]
    assert isinstance(field, SenderChoiceField), field
    return field


def _limit_choices(form: forms.BaseForm, name: str, queryset: QuerySet[Any]) -> None:
    """The rows the model choice field `name` offers."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField), field  # multiple choice fields are too
    field.queryset = queryset


class SequenceSettingsForm(forms.Form):
    name = forms.CharField(max_length=200)
    visibility = forms.ChoiceField(choices=Visibility.choices)
    sender = forms.ChoiceField(required=False)
    bcc = forms.CharField(
        required=False,
        max_length=500,
        label="BCC",
        help_text="Applies to prospects enrolled after you change it. New sequences start "
        "with your team's default BCC (such as your ATS's maildrop address).",
    )
    timezone = forms.ChoiceField(choices=[(tz, tz) for tz in TIMEZONES])
    use_prospect_timezone = forms.BooleanField(
        required=False, label="Send in the prospect's timezone when known"
    )
    send_days = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, label="Send on"
    )
    send_start = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), label="From")
    send_end = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}), label="Until")
    track_opens = forms.BooleanField(required=False)
    track_clicks = forms.BooleanField(required=False)
    unsubscribe_footer = forms.BooleanField(
        required=False,
        label="Unsubscribe link in the footer",
        help_text="Every email carries one-click unsubscribe headers either way.",
    )

    def __init__(self, *args, mailboxes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sender"] = SenderChoiceField(mailboxes, required=False, label="Default sender")

    @classmethod
    def initial_for(cls, sequence: Sequence) -> dict:
        plain = (name for name in SEQUENCE_FIELDS if name not in ("sender_mailbox", "sender_alias"))
        return {
            **{name: getattr(sequence, name) for name in plain},
            "sender": SenderChoiceField.key(sequence.sender_mailbox, sequence.sender_alias),
        }

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        mailbox, alias = sender_field(self).to_mailbox(data.pop("sender"))
        return {**data, "sender_mailbox": mailbox, "sender_alias": alias}


class SharesForm(forms.Form):
    def __init__(self, *args, members, shares, **kwargs):
        super().__init__(*args, **kwargs)
        current = {share.user_id: share.can_edit for share in shares}
        for member in members:
            initial = "edit" if current.get(member.pk) else ("view" if member.pk in current else "")
            self.fields[f"user_{member.pk}"] = forms.ChoiceField(
                label=member.full_name or member.email,
                required=False,
                initial=initial,
                choices=[("", "No access"), ("view", "Can view"), ("edit", "Can edit")],
            )

    def shares(self) -> dict[int, bool]:
        return {
            int(name.removeprefix("user_")): value == "edit"
            for name, value in self.cleaned_data.items()
            if value
        }


# The body of an email: static/js/editor.js makes the textarea a rich-text editor (kept as the
# form's field), and the token picker inserts into it.
BODY_ATTRS = {"rows": 10, "data-token-target": "", "data-rich-editor": ""}


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = [
            "kind",
            "delay_days",
            "subject",
            "body_html",
            "include_signature",
            "threading",
            "manual_kind",
            "instructions",
        ]
        labels = {
            "body_html": "Body",
            "delay_days": "Wait (business days after the previous stage)",
        }
        widgets = {
            "subject": forms.TextInput(attrs={"data-token-target": ""}),
            "body_html": forms.Textarea(attrs=BODY_ATTRS),
            "instructions": forms.Textarea(attrs={"rows": 3}),
        }

    # A stage keeps the kind it was added with: its form has only that kind's fields.
    EMAIL_ONLY = ("subject", "body_html", "include_signature", "threading")
    MANUAL_ONLY = ("manual_kind", "instructions")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        stage = self.instance
        dropped = [
            "kind",
            *(self.MANUAL_ONLY if stage.kind == Stage.Kind.EMAIL else self.EMAIL_ONLY),
        ]
        if stage.kind == Stage.Kind.EMAIL and stage.position == 0:
            # The first email always starts the thread, as the stage list says.
            dropped.append("threading")
        for name in dropped:
            del self.fields[name]
        if stage.kind == Stage.Kind.EMAIL and not self.is_bound:
            # A body from before the editor opens in it as the paragraphs it is sent as.
            self.initial["body_html"] = rich_text.paragraphs(stage.body_html)
        if stage.kind == Stage.Kind.MANUAL:
            self.fields["manual_kind"].required = True
            self.fields["manual_kind"].label = "Task"


def not_in_the_past(value: datetime, *, empty_means: str) -> datetime:
    """A chosen time that has passed is refused, not quietly taken as now. The field has
    minutes: the minute under way still reads as now."""
    if value < clock.now() - PAST_GRACE:
        raise forms.ValidationError(
            f"This time has already passed. Choose a later time, or leave it empty to "
            f"{empty_means}.",
            code="past",
        )
    return value


class EnrollForm(forms.Form):
    prospects = forms.ModelMultipleChoiceField(
        queryset=Prospect.objects.none(),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": "Choose at least one prospect."},
    )
    sender = forms.ChoiceField()
    start = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: now (inside the send window).",
    )

    def __init__(self, *args, mailboxes, prospects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sender"] = SenderChoiceField(mailboxes, label="Send as")
        _limit_choices(self, "prospects", prospects)

    def clean_start(self) -> datetime | None:
        value = self.cleaned_data["start"]
        return None if value is None else not_in_the_past(value, empty_means="start now")


class EmailForm(forms.Form):
    """A one-off email to one prospect or a selection."""

    prospects = forms.ModelMultipleChoiceField(
        queryset=Prospect.objects.none(),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": "Choose at least one prospect."},
    )
    sender = forms.ChoiceField(label="From")
    subject = forms.CharField(
        max_length=300, widget=forms.TextInput(attrs={"data-token-target": ""})
    )
    body_html = forms.CharField(label="Body", widget=forms.Textarea(attrs=BODY_ATTRS))
    include_signature = forms.BooleanField(
        required=False, initial=True, label="Add the sender's signature"
    )
    bcc = forms.CharField(
        required=False,
        max_length=500,
        label="BCC",
        help_text="Your team's default (such as your ATS's maildrop address) is filled in.",
    )
    send_at = forms.DateTimeField(
        required=False,
        label="Send at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: now. A scheduled email can be cancelled until it goes out.",
    )
    # The browser's timezone (filled in by a script): the time above is read in it.
    timezone = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, mailboxes, prospects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sender"] = SenderChoiceField(mailboxes, label="From")
        _limit_choices(self, "prospects", prospects)

    def draft(self) -> EmailDraft | None:
        """The email as written so far (valid fields only: the live preview reads drafts)."""
        data = self.cleaned_data
        mailbox, alias = sender_field(self).to_mailbox(data.get("sender"))
        if mailbox is None:
            return None
        return EmailDraft(
            mailbox=mailbox,
            alias=alias,
            subject=data.get("subject", ""),
            body_html=data.get("body_html", ""),
            bcc=data.get("bcc", ""),
            include_signature=data.get("include_signature", False),
        )

    def clean_send_at(self):
        value = self.cleaned_data["send_at"]
        zone = self.data.get("timezone") or "UTC"
        if value is None:
            return value
        if zone in TIMEZONES_SET:
            # Entered as wall time where the user is, not in the server's zone.
            value = value.replace(tzinfo=None).replace(tzinfo=ZoneInfo(zone))
        return not_in_the_past(value, empty_means="send now")


class ProspectForm(forms.Form):
    email = forms.EmailField(max_length=254)
    first_name = forms.CharField(required=False, max_length=100)
    last_name = forms.CharField(required=False, max_length=100)
    company = forms.CharField(required=False, max_length=200)
    title = forms.CharField(required=False, max_length=200)
    timezone = forms.ChoiceField(
        required=False, choices=[("", "Unknown")] + [(tz, tz) for tz in TIMEZONES]
    )


class PasteProspectsForm(forms.Form):
    # Not a CharField, which refuses the whole text for one null character: each line is
    # checked on its own (importing), and a bad one is reported with its number.
    lines = forms.Field(
        widget=forms.Textarea(attrs={"rows": 6}),
        label="One per line: email, first name, last name, company, title",
    )


class CsvUploadForm(forms.Form):
    # An empty file is the importer's to name, with the other ways a file can be empty.
    file = forms.FileField(label="CSV file", allow_empty_file=True)


class HandOverForm(forms.Form):
    to = forms.ModelChoiceField(queryset=User.objects.none(), label="Hand over to")
    sender = forms.ChoiceField(label="Their emails are sent from")

    def __init__(self, *args, members, mailboxes, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_choices(self, "to", members)
        self.fields["sender"] = SenderChoiceField(mailboxes, label="Their emails are sent from")
