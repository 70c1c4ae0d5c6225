from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from . import clock, health, permissions, selectors, services
from .forms import (
    AcceptInvitationForm,
    EmailChangeForm,
    InviteForm,
    LoginForm,
    ProductPasswordResetForm,
    SignupForm,
)
from .keyset import keyset_page
from .models import Invitation, Notification, User, normalize_email
from .tenancy import get_for_user_or_404

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def home(request):
    """Each person's own start: the dashboard for recruiters and admins, Sender settings for a
    teammate who lends an inbox."""
    if not request.user.is_authenticated:
        return redirect("login")
    recruits = permissions.allows(request.user, permissions.Access.RECRUITER)
    return redirect("sequences:dashboard" if recruits else "senders:settings")


def too_many_requests(request, what: str) -> HttpResponse:
    return render(request, "registration/too_many.html", {"what": what}, status=429)


def _over_rate(request, group: str, rate: str, *keys) -> bool:
    """Counts this POST against each key (every key is incremented) and tells if any is over."""
    hits = [
        is_ratelimited(
            request, group=f"{group}:{i}", key=key, rate=rate, method="POST", increment=True
        )
        for i, key in enumerate(keys)
    ]
    return any(hits)


def _posted_email(group, request) -> str:
    # As accounts are stored, so that every spelling of one address shares one count.
    return normalize_email(request.POST.get("email", ""))


# Sign-up ------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("sequences:dashboard")
    # Per address, and per target email so that nobody floods a stranger's inbox with
    # confirmation emails from many addresses.
    if request.method == "POST" and _over_rate(
        request, "signup", settings.SIGNUP_RATE, "ip", _posted_email
    ):
        return too_many_requests(request, "sign-up attempts")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            founder = services.start_team_signup(
                team_name=data["team_name"],
                full_name=data["full_name"],
                email=data["email"],
                password=data["password1"],
            )
        except ValidationError as exc:
            form.add_error("email", exc)
        else:
            request.session["signup_email"] = founder.email
            return redirect("signup_sent")
    return render(request, "registration/signup.html", {"form": form})


@require_GET
def signup_sent(request):
    return render(
        request, "registration/signup_sent.html", {"email": request.session.get("signup_email")}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def signup_confirm(request, token):
    # GET only shows what will happen: mail scanners open links, and must not confirm anything.
    try:
        if request.method == "POST":
            founder = services.confirm_team_signup(token)
            login(request, founder, backend=MODEL_BACKEND)
            messages.success(request, f"Welcome to outreach. {founder.organization} is ready.")
            return redirect("sequences:dashboard")
        founder = services.signup_for_token(token)
    except services.LinkError as exc:
        return render(request, "registration/link_error.html", {"error": str(exc)}, status=400)
    return render(request, "registration/signup_confirm.html", {"founder": founder})


# Log in, password reset ---------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


def login_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The account a log-in attempt is for, as django-axes counts failures (AXES_USERNAME_CALLABLE):
    normalized as the account's email is stored, since log-in ignores case and spaces."""
    submitted = credentials if credentials else request.POST
    return normalize_email(submitted.get(settings.AXES_USERNAME_FORM_FIELD) or "")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ProductPasswordResetForm

    def post(self, request, *args, **kwargs):
        # Per address and per target email, so nobody can flood a colleague's inbox either.
        if _over_rate(request, "password_reset", settings.PASSWORD_RESET_RATE, "ip", _posted_email):
            return too_many_requests(request, "password reset requests")
        return super().post(request, *args, **kwargs)


# Dashboard and team ------------------------------------------------------------------------------


def _team_context(request, invite_form=None):
    organization = request.user.organization
    return {
        "organization": organization,
        "members": selectors.team_members(request.user),
        "invitations": selectors.team_invitations(request.user),
        "seats_used": selectors.seats_used(organization),
        "invite_form": invite_form or InviteForm(),
        "is_admin": request.user.is_org_admin,
    }


@require_http_methods(["GET", "POST"])
def team(request):
    if request.user.organization is None:
        raise PermissionDenied
    form = None
    if request.method == "POST":
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.invite_teammate(
                    by=request.user,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
            except ValidationError as exc:
                form.add_error("email", exc)
            else:
                messages.success(request, f"Invitation sent to {invitation.email}.")
                form = None
                if not request.htmx:
                    return redirect("team")
    template = "outreach/_team_body.html" if request.htmx else "outreach/team.html"
    return render(request, template, _team_context(request, form))


@require_POST
def invitation_revoke(request, pk):
    invitation = get_for_user_or_404(Invitation, request.user, pk=pk)
    services.revoke_invitation(invitation=invitation, by=request.user)
    messages.success(request, f"Invitation for {invitation.email} withdrawn.")
    return _team_changed(request)


@require_POST
def member_deactivate(request, pk):
    member = get_for_user_or_404(User, request.user, pk=pk)
    try:
        services.update_member(user=member, by=request.user, is_active=False)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"{member.full_name or member.email} is deactivated; their seat is free."
        )
    return _team_changed(request)


@require_POST
def member_reactivate(request, pk):
    member = get_for_user_or_404(User, request.user, pk=pk)
    try:
        services.update_member(user=member, by=request.user, is_active=True)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{member.full_name or member.email} is active again.")
    return _team_changed(request)


def _team_changed(request):
    if request.htmx:
        return render(request, "outreach/_team_body.html", _team_context(request))
    return redirect("team")


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    try:
        invitation = services.invitation_for_token(token)
    except services.LinkError as exc:
        return render(request, "registration/link_error.html", {"error": str(exc)}, status=400)
    form = AcceptInvitationForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
            )
        except services.LinkError as exc:
            return render(request, "registration/link_error.html", {"error": str(exc)}, status=400)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, user, backend=MODEL_BACKEND)
            messages.success(request, f"Welcome to {user.organization}.")
            return redirect("sequences:dashboard")
    return render(
        request, "registration/invitation_accept.html", {"invitation": invitation, "form": form}
    )


# A member's own account ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def account(request):
    """The member's own address: a new one is used once confirmed from a link sent to it."""
    form = EmailChangeForm(request.POST or None)
    if request.method == "POST":
        if _over_rate(request, "email_change", settings.EMAIL_CHANGE_RATE, "user"):
            return too_many_requests(request, "address changes")
        if form.is_valid():
            try:
                new_email = services.request_email_change(
                    user=request.user, new_email=form.cleaned_data["email"]
                )
            except ValidationError as exc:
                form.add_error("email", exc)
            else:
                messages.success(
                    request,
                    f"We sent a link to {new_email}: open it to confirm. Until then you log in "
                    f"as {request.user.email}.",
                )
                return redirect("account")
    return render(request, "outreach/account.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def email_change_confirm(request, token):
    # GET only shows what will change: mail scanners open links, and must not change anything.
    try:
        if request.method == "POST":
            user = services.confirm_email_change(token=token)
            messages.success(request, f"Your address is now {user.email}. Log in with it.")
            return redirect("login")
        change = services.email_change_for_token(token)
    except services.LinkError as exc:
        return render(request, "registration/link_error.html", {"error": str(exc)}, status=400)
    return render(request, "registration/email_change_confirm.html", {"change": change})


# Operations --------------------------------------------------------------------------------------


@never_cache
@require_GET
def healthz(request):
    checks = health.checks()
    healthy = all(value == "ok" for value in checks.values())
    body: dict[str, object] = {"status": "ok" if healthy else "unhealthy"}
    if health.for_operator(request):
        body["checks"] = checks
        if healthy:
            # Reported for alerting, not failed on: a quiet night has no sends to be late.
            body.update(health.reports())
    return JsonResponse(body, status=200 if healthy else 503)


@require_http_methods(["GET", "POST"])
def notifications(request):
    if request.method == "POST":
        services.set_reply_alerts(
            user=request.user,
            in_app=request.POST.get("in_app") == "on",
            by_email=request.POST.get("by_email") == "on",
        )
        messages.success(request, "Alert settings saved.")
        return redirect("notifications")
    # Newest first, a page at a time (the page read before all are marked read).
    page = keyset_page(
        Notification.objects.filter(organization_id=request.user.team_id, user=request.user),
        key="created_at",
        params=request.GET,
    )
    request.user.notifications.filter(read_at__isnull=True).update(read_at=clock.now())
    return render(request, "outreach/notifications.html", {"items": page, "page": page})
