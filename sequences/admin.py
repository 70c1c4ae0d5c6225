from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from outreach import clock
from outreach.admin import ReadOnlyTenantInline, TenantAdmin, is_operator
from outreach.models import Organization, User

from . import donotcontact
from .models import DoNotContact, Enrollment, Prospect, Sequence, Stage


class StageInline(ReadOnlyTenantInline):
    model = Stage
    fields = ("position", "kind", "delay_days", "subject", "manual_kind")


@admin.register(Sequence)
class SequenceAdmin(TenantAdmin):
    """For the record and for support; recruiters edit sequences in the app."""

    list_display = ("name", "kind", "owner", "visibility", "sender_mailbox", "archived_at")
    list_filter = ("kind", "visibility")
    search_fields = ("name",)
    fields = (
        "name",
        "kind",
        "owner",
        "visibility",
        "sender_mailbox",
        "bcc",
        "timezone",
        "archived_at",
    )
    readonly_fields = fields
    inlines = [StageInline]

    def has_add_permission(self, request):
        return False


@admin.register(Prospect)
class ProspectAdmin(TenantAdmin):
    list_display = ("email", "first_name", "last_name", "company", "do_not_contact")
    list_filter = ("do_not_contact",)
    search_fields = ("email", "first_name", "last_name", "company")
    fields = (
        "email",
        "first_name",
        "last_name",
        "company",
        "title",
        "timezone",
        "custom_fields",
        "do_not_contact",
        "ats_candidate_id",
        "ats_sync_paused",
    )


@admin.register(Enrollment)
class EnrollmentAdmin(TenantAdmin):
    list_display = ("prospect", "sequence", "mailbox", "status", "next_action_at")
    list_filter = ("status",)
    search_fields = ("prospect__email", "sequence__name")
    fields = (
        "prospect",
        "sequence",
        "mailbox",
        "enrolled_by",
        "status",
        "status_reason",
        "current_stage",
        "next_action_at",
        "last_event",
        "last_event_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DoNotContactForm(forms.ModelForm):
    request: HttpRequest | None = None  # set by DoNotContactAdmin.get_form

    class Meta:
        model = DoNotContact
        fields = ("organization", "value", "reason")

    def clean_value(self):
        try:
            return donotcontact.normalize(self.cleaned_data["value"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        organization = cleaned.get("organization")
        if organization:
            organization_id = organization.pk
        else:
            # A team's admin, whose form has no organization: their own team's list.
            if self.request is None or not isinstance(self.request.user, User):
                raise PermissionDenied("Only a signed-in admin changes the list.")
            organization_id = self.request.user.organization_id
        value = cleaned.get("value")
        if (
            value
            and DoNotContact.objects.filter(organization_id=organization_id, value__iexact=value)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            self.add_error("value", f"{value} is already on the list.")
        return cleaned


MAX_IMPORT_BYTES = 2 * 1024 * 1024


class DoNotContactImportForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.order_by("name"))
    file = forms.FileField(
        required=False,
        help_text="A CSV file or a plain list: one email address or domain per line; an optional "
        "second column gives the reason.",
    )
    entries = forms.CharField(
        required=False, widget=forms.Textarea, help_text="Or paste them, one per line."
    )
    reason = forms.CharField(
        required=False, max_length=200, help_text="For the lines that give none."
    )

    def __init__(self, *args, operator: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not operator:
            # A team's admin imports into their own team's list only.
            del self.fields["organization"]

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        upload = cleaned.get("file")
        text = ""
        if upload is not None:
            if upload.size > MAX_IMPORT_BYTES:
                raise forms.ValidationError("The file is larger than 2 MB.")
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise forms.ValidationError("The file is not UTF-8 text.") from exc
        text = f"{text}\n{cleaned.get('entries', '')}"
        try:
            cleaned["rows"] = donotcontact.parse(text)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        if not cleaned["rows"]:
            raise forms.ValidationError("Choose a file or paste some entries.")
        return cleaned


@admin.register(DoNotContact)
class DoNotContactAdmin(TenantAdmin):
    """The team's do-not-contact list: its admins add, edit, remove and import entries. An entry
    blocks enrolling the address (or any address on the domain), and stops an enrollment before
    its next email."""

    form = DoNotContactForm
    list_display = ("value", "reason", "created_at")
    search_fields = ("value", "reason")
    readonly_fields = ("created_at",)
    change_list_template = "sequences/dnc_change_list.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def get_urls(self):
        # Ahead of the admin's own patterns, whose "<object_id>/" would take "import/".
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="sequences_donotcontact_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        operator = is_operator(request)
        form = DoNotContactImportForm(
            request.POST or None, request.FILES or None, operator=operator
        )
        if request.method == "POST" and form.is_valid():
            organization = form.cleaned_data.get("organization")
            default_reason = (
                form.cleaned_data["reason"]
                or f"Imported by {request.user.full_name or request.user.email} "
                f"on {clock.now():%Y-%m-%d}"
            )
            result = donotcontact.add(
                organization.pk if organization else request.user.organization_id,
                form.cleaned_data["rows"],
                default_reason=default_reason,
            )
            messages.success(
                request,
                f"{len(result.added)} added, {len(result.already)} already on the list.",
            )
            if result.invalid:
                shown = ", ".join(result.invalid[:20])
                more = f" and {len(result.invalid) - 20} more" if len(result.invalid) > 20 else ""
                messages.warning(
                    request, f"Not an email address or a domain, skipped: {shown}{more}."
                )
            return redirect("admin:sequences_donotcontact_changelist")
        return TemplateResponse(
            request,
            "sequences/dnc_import.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "title": "Import do-not-contact entries",
            },
        )
