from django import forms

from .faults import ENDPOINTS, FAILURE_STATUSES
from .greenhouse.endpoints import WRITES
from .models import GoogleAccount


class AccountForm(forms.Form):
    email = forms.EmailField()
    display_name = forms.CharField(max_length=200, required=False)


class AccountSettingsForm(forms.ModelForm):
    class Meta:
        model = GoogleAccount
        fields = [
            "display_name",
            "out_of_office",
            "out_of_office_message",
            "quota_units_per_minute",
            "daily_send_limit",
        ]
        widgets = {"out_of_office_message": forms.Textarea(attrs={"rows": 2})}


class AliasForm(forms.Form):
    email = forms.EmailField(label="Send-as address")
    display_name = forms.CharField(max_length=200, required=False)
    verified = forms.BooleanField(required=False, initial=True)


class DomainForm(forms.Form):
    domain = forms.CharField(max_length=253)
    bounces = forms.BooleanField(required=False, initial=True)


class ClientForm(forms.Form):
    client_id = forms.CharField(max_length=200)
    client_secret = forms.CharField(max_length=200)
    redirect_uri = forms.URLField(required=False, assume_scheme="https")


class _Addresses(forms.CharField):
    def to_python(self, value):
        text = super().to_python(value)
        return [address.strip() for address in text.replace(";", ",").split(",") if address.strip()]

    def validate(self, value):
        super().validate(value)
        for address in value:
            forms.EmailField().clean(address)


class ComposeForm(forms.Form):
    to = _Addresses(help_text="Comma-separated addresses.")
    subject = forms.CharField(max_length=998, required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))


class ReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))


class FaultForm(forms.Form):
    endpoint = forms.ChoiceField(choices=[(name, name) for name in ENDPOINTS])
    account = forms.ModelChoiceField(
        GoogleAccount.objects.all(),
        required=False,
        to_field_name="email",
        empty_label="any account",
    )
    kind = forms.ChoiceField(
        choices=[
            ("fail", "Fail the next calls"),
            ("drop", "Drop the connection after the next writes"),
            ("latency", "Add latency"),
        ]
    )
    status = forms.TypedChoiceField(
        choices=[(status, status) for status in FAILURE_STATUSES], coerce=int, initial=503
    )
    count = forms.IntegerField(min_value=1, initial=1, label="Calls")
    latency_ms = forms.IntegerField(min_value=0, initial=1000, label="Latency (ms)")

    def clean(self):
        data = super().clean()
        if data.get("kind") == "drop" and data.get("endpoint") not in WRITES:
            raise forms.ValidationError(f"Only a write can drop its answer: {', '.join(WRITES)}.")
        return data
