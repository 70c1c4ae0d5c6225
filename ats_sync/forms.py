from django import forms

from .models import AtsConnection, Visibility


class SecretInput(forms.PasswordInput):
    """Write-only: never rendered back (not even after an error), never autofilled with the
    admin's own password by the browser."""

    def __init__(self, attrs=None):
        super().__init__(
            attrs={"autocomplete": "new-password", "spellcheck": "false", **(attrs or {})},
            render_value=False,
        )


class CredentialsForm(forms.Form):
    api = forms.ChoiceField(
        choices=AtsConnection.Api.choices,
        widget=forms.RadioSelect,
        label="Harvest API",
        initial=AtsConnection.Api.V3,
    )
    client_id = forms.CharField(
        required=False,
        max_length=200,
        label="Client ID",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    client_secret = forms.CharField(
        required=False, max_length=500, label="Client secret", widget=SecretInput
    )
    api_key = forms.CharField(required=False, max_length=500, label="API key", widget=SecretInput)

    @classmethod
    def for_connection(cls, connection: AtsConnection, data=None):
        # Secrets have no initial value: they are never sent back to the browser.
        return cls(
            data,
            initial={"api": connection.api, "client_id": connection.client_id},
            auto_id="credentials_%s",
        )


class SyncSettingsForm(forms.Form):
    auto_sync = forms.BooleanField(
        required=False,
        label="Write every sequence email and reply to Greenhouse automatically",
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        widget=forms.RadioSelect,
        label="Who sees what we write in Greenhouse",
    )
    when_candidate_missing = forms.ChoiceField(
        choices=AtsConnection.WhenCandidateMissing.choices,
        widget=forms.RadioSelect,
        label="When no Greenhouse candidate has the prospect's email",
    )

    @classmethod
    def for_connection(cls, connection: AtsConnection, data=None):
        return cls(
            data,
            initial={name: getattr(connection, name) for name in cls.base_fields},
            auto_id="sync_%s",
        )


class UserMappingForm(forms.Form):
    greenhouse_user_id = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        label="Greenhouse user id",
        help_text="Empty: this teammate has no Greenhouse user.",
    )
