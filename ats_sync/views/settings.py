"""The ATS settings page (team admins only): Greenhouse credentials with Test connection, the
team-wide sync settings, and which Greenhouse user each teammate is."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from outreach.models import User
from outreach.tenancy import get_for_user_or_404, scope_to_user

from .. import connections, greenhouse
from ..forms import CredentialsForm, SyncSettingsForm, UserMappingForm
from ..models import AtsConnection


def _connection(request) -> AtsConnection:
    """The team's connection, or an unsaved one with the defaults (nothing is created by a
    visit)."""
    organization = request.user.organization
    return connections.connection_for(organization.pk) or AtsConnection(organization=organization)


def _credentials_context(connection: AtsConnection, form=None, *, just_tested=False) -> dict:
    return {
        "connection": connection,
        "credentials_form": (
            form if form is not None else CredentialsForm.for_connection(connection)
        ),
        # Whether a secret is stored, never the secret itself.
        "secret_stored": bool(connection.client_secret),
        "key_stored": bool(connection.api_key),
        "just_tested": just_tested,
    }


def _members(request) -> list[dict]:
    """Every active teammate with their mapping (joined: one query) and the Greenhouse name
    the last lookup found (from the cache)."""
    names = connections.greenhouse_user_names(request.user.organization_id)
    rows = []
    members = (
        scope_to_user(User, request.user)
        .filter(is_active=True)
        .select_related("greenhouse_mapping")
        .order_by("full_name", "email")
    )
    for member in members:
        mapping = getattr(member, "greenhouse_mapping", None)
        greenhouse_id = mapping.greenhouse_user_id if mapping else None
        name = names.get(greenhouse_id, "") if greenhouse_id is not None else ""
        rows.append({"user": member, "mapping": mapping, "name": name})
    return rows


def _page(request, connection, *, credentials_form=None, sync_form=None):
    return render(
        request,
        "ats_sync/settings.html",
        {
            **_credentials_context(connection, credentials_form),
            "sync_form": (
                sync_form if sync_form is not None else SyncSettingsForm.for_connection(connection)
            ),
            "members": _members(request),
        },
    )


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _save(request, form) -> bool:
    """Saves a valid form's fields on the team's connection; False (errors on the form) if not."""
    if not form.is_valid():
        return False
    try:
        connections.save_connection(
            organization=request.user.organization, by=request.user, **form.cleaned_data
        )
    except ValidationError as exc:
        _add_errors(form, exc)
        return False
    return True


@require_http_methods(["GET", "POST"])
def settings_page(request):
    connection = _connection(request)
    if request.method == "GET":
        return _page(request, connection)
    section = request.POST.get("section")
    if section == "credentials":
        form = CredentialsForm.for_connection(connection, request.POST)
        if _save(request, form):
            messages.success(request, "Greenhouse credentials saved.")
            return redirect("ats_sync:settings")
        return _page(request, _connection(request), credentials_form=form)
    if section == "sync":
        form = SyncSettingsForm.for_connection(connection, request.POST)
        if _save(request, form):
            on = form.cleaned_data["auto_sync"]
            said = "emails and replies are written to Greenhouse" if on else "automatic sync is off"
            messages.success(request, f"Sync settings saved: {said}.")
            return redirect("ats_sync:settings")
        return _page(request, _connection(request), sync_form=form)
    return HttpResponseBadRequest("Unknown section.")


@require_POST
def test_connection(request):
    """Saves the credentials sent along (a blank secret keeps the stored one), then asks
    Greenhouse. htmx gets the credentials card back with the outcome; a plain POST, a message."""
    connection = _connection(request)
    if "api" in request.POST:
        form = CredentialsForm.for_connection(connection, request.POST)
        if not _save(request, form):
            if request.htmx:
                return render(
                    request,
                    "ats_sync/_settings_credentials.html",
                    _credentials_context(connection, form),
                )
            return _page(request, connection, credentials_form=form)
        connection = _connection(request)
    error = connections.test_connection(connection)
    if request.htmx:
        return render(
            request,
            "ats_sync/_settings_credentials.html",
            _credentials_context(connection, just_tested=True),
        )
    if error:
        messages.error(request, f"Test failed: {error}")
    else:
        messages.success(request, "Connection works: Greenhouse accepted the credentials.")
    return redirect("ats_sync:settings")


@require_POST
def find_users(request):
    try:
        found = connections.find_users_by_email(organization=request.user.organization)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except greenhouse.GreenhouseError as exc:
        messages.error(
            request,
            f"{exc} The teammates looked up before this are saved: Find by email again carries "
            "on with the others.",
        )
    else:
        messages.success(
            request,
            f"{found} teammate{'s' if found != 1 else ''} found in Greenhouse by email. "
            "Set the others by hand, with their Greenhouse user id.",
        )
    return redirect(reverse("ats_sync:settings") + "#ats-users")


@require_POST
def map_user(request, user_id):
    """An admin sets a teammate's Greenhouse user (empty: none), or hands them back to the
    lookup by email ("reset")."""
    member = get_for_user_or_404(User, request.user, pk=user_id, is_active=True)
    organization = request.user.organization
    who = member.full_name or member.email
    if request.POST.get("reset"):
        connections.forget_user_mapping(organization=organization, user=member)
        messages.success(request, f"{who} will be looked up by email again.")
        return redirect(reverse("ats_sync:settings") + "#ats-users")
    form = UserMappingForm(request.POST)
    if not form.is_valid():
        errors = form["greenhouse_user_id"].errors
        messages.error(request, f"{who}: " + " ".join(str(error) for error in errors))
        return redirect(reverse("ats_sync:settings") + "#ats-users")
    greenhouse_user_id = form.cleaned_data["greenhouse_user_id"]
    connections.set_user_mapping(
        organization=organization, user=member, greenhouse_user_id=greenhouse_user_id
    )
    if greenhouse_user_id:
        messages.success(request, f"{who} is Greenhouse user {greenhouse_user_id}.")
    else:
        messages.success(
            request,
            f"{who} is set to no Greenhouse user: emails from their inbox are not written to "
            "Greenhouse until one is set.",
        )
    return redirect(reverse("ats_sync:settings") + "#ats-users")
