from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.urls import reverse

from .emails import absolute_url, send_product_email
from .models import Invitation, Role, User


class PasswordFieldsMixin(forms.Form):
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def password_user(self) -> User:
        """A user with the submitted details, for the similarity check."""
        return User(
            email=self.cleaned_data.get("email", ""),
            full_name=self.cleaned_data.get("full_name", ""),
        )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            try:
                password_validation.validate_password(p1, self.password_user())
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class SignupForm(PasswordFieldsMixin):
    team_name = forms.CharField(max_length=200, label="Team name")
    full_name = forms.CharField(max_length=200, label="Your name")
    email = forms.EmailField(
        label="Work email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    field_order = ["team_name", "full_name", "email", "password1", "password2"]


class AcceptInvitationForm(PasswordFieldsMixin):
    full_name = forms.CharField(max_length=200, label="Your name")

    def __init__(self, *args, invitation: Invitation, **kwargs):
        self.invitation = invitation
        super().__init__(*args, **kwargs)

    def password_user(self) -> User:
        return User(email=self.invitation.email, full_name=self.cleaned_data.get("full_name", ""))


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account.",
    }


class InviteForm(forms.Form):
    email = forms.EmailField(label="Teammate's email")
    role = forms.ChoiceField(
        choices=[(Role.RECRUITER, Role.RECRUITER.label), (Role.ADMIN, Role.ADMIN.label)],
        initial=Role.RECRUITER,
    )


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label="New address", max_length=254)


class ProductPasswordResetForm(PasswordResetForm):
    """Django's reset form, delivered like every other product email (through the worker)."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        path = reverse(
            "password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]}
        )
        send_product_email(
            to=to_email,
            template="password_reset",
            context={"user": context["user"], "url": absolute_url(path)},
        )
