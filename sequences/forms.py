from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.db.models import QuerySet
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from outreach import clock, rich_text
from outreach.models import User
from senders.models import Mailbox, SendAsAlias

from .models import EmailTemplate, Prospect, Sequence, Snippet, Stage, Tag, Visibility
from .prospect_filter import STATUSES, ProspectFilter
from .services import SEQUENCE_FIELDS, EmailDraft

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
TIMEZONES = sorted(available_timezones())
TIMEZONES_SET = frozenset(TIMEZONES)
# How far in the past a time to send may be and still mean "now".
PAST_GRACE = timedelta(minutes=1)


class LongSelect(forms.Select):
    """A select of hundreds of options (the timezones) written in Python: through the form
    templates its 600 options took a tenth of a second of every page that shows it."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option, mark_safe(" selected") if str(option) == chosen else "", label)
                for option, label in self.choices
            ),
        )
        final = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final), options)


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
    timezone = forms.ChoiceField(choices=[(tz, tz) for tz in TIMEZONES], widget=LongSelect)
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
            "template",
        ]
        labels = {
            "body_html": "Body",
            "delay_days": "Wait (business days after the previous stage)",
        }
        widgets = {
            "subject": forms.TextInput(attrs={"data-token-target": ""}),
            "body_html": forms.Textarea(attrs=BODY_ATTRS),
            "instructions": forms.Textarea(attrs={"rows": 3}),
            "template": forms.HiddenInput,
        }

    # A stage keeps the kind it was added with: its form has only that kind's fields.
    EMAIL_ONLY = ("subject", "body_html", "include_signature", "threading", "template")
    MANUAL_ONLY = ("manual_kind", "instructions")

    def __init__(self, *args: Any, templates: QuerySet[EmailTemplate], **kwargs: Any):
        super().__init__(*args, **kwargs)
        stage = self.instance
        if stage.kind == Stage.Kind.EMAIL:
            # The picker fills it in; the template the stage already has stays a valid answer.
            _limit_choices(
                self,
                "template",
                templates | EmailTemplate.objects.filter(pk=stage.template_id or 0),
            )
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

    def __init__(self, *args, mailboxes, prospects, all_matching: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sender"] = SenderChoiceField(mailboxes, label="Send as")
        _limit_choices(self, "prospects", prospects)
        if all_matching:
            # The prospects are those of the list's filter, carried beside the form.
            del self.fields["prospects"]

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
    # The library template the writer loaded (the picker fills it in).
    template = forms.ModelChoiceField(
        queryset=EmailTemplate.objects.none(), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, mailboxes, prospects, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sender"] = SenderChoiceField(mailboxes, label="From")
        _limit_choices(self, "prospects", prospects)
        _limit_choices(self, "template", templates)

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
            template=data.get("template"),
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
        required=False,
        choices=[("", "Unknown")] + [(tz, tz) for tz in TIMEZONES],
        widget=LongSelect,
    )


YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class ProspectFilterForm(forms.Form):
    """The prospect list's filter, as its query string has it: a wrong value is that field's
    error, and the other fields still filter."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any"), *STATUSES], label="Status in any sequence"
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label="Owner", empty_label="Anyone"
    )
    tag = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.none(), required=False, label="Tags (any of)"
    )
    company = forms.CharField(required=False, max_length=200, label="Company contains")
    title = forms.CharField(required=False, max_length=200, label="Title contains")
    contacted_after = forms.DateField(
        required=False, label="Last contacted after", widget=forms.DateInput(attrs={"type": "date"})
    )
    contacted_before = forms.DateField(
        required=False,
        label="Last contacted before",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    contacted_days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, label="Contacted in the last N days"
    )
    replied = forms.ChoiceField(required=False, choices=YES_NO)
    bounced = forms.ChoiceField(required=False, choices=YES_NO)
    dnc = forms.ChoiceField(required=False, choices=YES_NO, label="Do not contact")

    def __init__(self, *args: Any, members: QuerySet[User], tags: QuerySet[Tag], **kwargs: Any):
        super().__init__(*args, **kwargs)
        _limit_choices(self, "owner", members)
        _limit_choices(self, "tag", tags)

    def prospect_filter(self) -> ProspectFilter:
        """The filter of the fields that are valid (call after is_valid())."""
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        owner = data.get("owner")
        return ProspectFilter(
            search=(data.get("q") or "").strip(),
            status=data.get("status") or "",
            owner_id=owner.pk if owner else None,
            tag_ids=tuple(sorted(tag.pk for tag in data.get("tag") or ())),
            company=(data.get("company") or "").strip(),
            title=(data.get("title") or "").strip(),
            contacted_after=data.get("contacted_after"),
            contacted_before=data.get("contacted_before"),
            contacted_within_days=data.get("contacted_days"),
            replied=_yes_no(data.get("replied") or ""),
            bounced=_yes_no(data.get("bounced") or ""),
            do_not_contact=_yes_no(data.get("dnc") or ""),
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


class EmailTemplateForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = ["name", "subject", "body_html", "visibility"]
        labels = {"body_html": "Body", "visibility": "Who can use it"}
        help_texts = {"subject": "Leave it empty for a follow-up that replies in the thread."}
        widgets = {
            "subject": forms.TextInput(attrs={"data-token-target": ""}),
            "body_html": forms.Textarea(
                attrs={"rows": 10, "data-token-target": "", "data-rich-editor": ""}
            ),
        }


class SnippetForm(forms.ModelForm):
    class Meta:
        model = Snippet
        fields = ["name", "body_html", "visibility"]
        labels = {"body_html": "Text", "visibility": "Who can use it"}
        widgets = {
            "body_html": forms.Textarea(
                attrs={"rows": 6, "data-token-target": "", "data-rich-editor": ""}
            ),
        }
