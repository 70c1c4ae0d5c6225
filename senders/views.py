from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from outreach.emails import absolute_url
from outreach.models import Role, User
from outreach.tenancy import get_for_user_or_404

from . import gmail, selectors, services
from .forms import ConnectForm, InviteSenderForm, RequestAccessForm
from .models import Delegation, Mailbox

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
OAUTH_SESSION_KEY = "senders.google_oauth"
# A refused signature, shown again in the editor by the next settings page.
SIGNATURE_DRAFT_KEY = "senders.signature_draft"


def _callback_uri() -> str:
    # From SITE_URL, not the request: it must equal the URI registered with Google.
    return absolute_url(reverse("senders:google_callback"))


def _start_google(request, *, purpose: str, email: str, delegation: Delegation | None = None):
    """Sends the browser to Google; what to do on return is kept in the session."""
    start = gmail.sign_in_url if purpose == "sign_in" else gmail.authorization_url
    url, state, verifier = start(_callback_uri(), login_hint=email)
    request.session[OAUTH_SESSION_KEY] = {
        "state": state,
        "verifier": verifier,
        "purpose": purpose,
        "email": email,
        "delegation": delegation.pk if delegation else None,
        "user": request.user.pk if request.user.is_authenticated else None,
    }
    return redirect(url)


def _oauth_problem(request, message: str, status: int = 400):
    return render(request, "senders/oauth_problem.html", {"error": message}, status=status)


# Sender settings -----------------------------------------------------------------------------


@require_GET
def settings_page(request):
    user = request.user
    mailboxes = list(selectors.own_mailboxes(user))
    draft = request.session.pop(SIGNATURE_DRAFT_KEY, None)
    for mailbox in mailboxes:
        if draft and draft["mailbox"] == mailbox.pk:
            mailbox.signature_html = draft["html"]
        missing = services.missing_scopes(mailbox) if mailbox.is_connected else []
        mailbox.missing = [gmail.scope_label(scope) for scope in missing]
        # Each permission in words, with Google's name for it.
        mailbox.permissions = [(gmail.scope_label(scope), scope) for scope in mailbox.scopes]
    return render(
        request,
        "senders/settings.html",
        {
            "mailboxes": mailboxes,
            "held": selectors.delegations_held(user),
            "granted": selectors.delegations_granted(user),
            "events": selectors.recent_events(user),
            # Three forms on one page: distinct ids keep every label tied to its own field.
            "connect_form": ConnectForm(initial={"email": user.email}, auto_id="connect_%s"),
            "request_form": RequestAccessForm(auto_id="request_%s"),
            "invite_form": InviteSenderForm(auto_id="invite_%s"),
            "is_sender_only": user.role == Role.SENDER,
            "scope_purposes": [
                (gmail.scope_label(scope), scope, why)
                for scope, why in gmail.SCOPE_PURPOSES.items()
            ],
        },
    )


@require_POST
def connect(request):
    form = ConnectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the Gmail address to connect.")
        return redirect("senders:settings")
    try:
        email = services.check_connectable_address(
            user=request.user, email=form.cleaned_data["email"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("senders:settings")
    return _start_google(request, purpose="connect", email=email)


@never_cache
@require_GET
def google_callback(request):
    pending = request.session.pop(OAUTH_SESSION_KEY, None)
    if pending is None:
        return _oauth_problem(
            request, "This Google sign-in was not started here, or already finished."
        )
    try:
        if pending["purpose"] == "sign_in":
            return _finish_sign_in(request, pending)
        grant = gmail.exchange_code(
            _callback_uri(),
            state=pending["state"],
            code_verifier=pending["verifier"],
            callback_url=request.build_absolute_uri(),
        )
        if pending["purpose"] == "approve":
            return _finish_approval(request, pending, grant)
        if not request.user.is_authenticated or request.user.pk != pending["user"]:
            return _oauth_problem(request, "Log in again, then connect your mailbox.", 403)
        mailbox = services.connect_mailbox(
            user=request.user, grant=grant, expected_email=pending["email"]
        )
    except (gmail.GmailError, services.WrongGoogleAccount) as exc:
        return _oauth_problem(request, str(exc))
    messages.success(request, f"{mailbox.email} is connected.")
    return redirect("senders:settings")


def _finish_approval(request, pending, grant):
    delegation = Delegation.objects.select_related("grantor").get(pk=pending["delegation"])
    grantor = delegation.grantor
    services.connect_mailbox(user=grantor, grant=grant, expected_email=grantor.email)
    if request.user != grantor:
        # Completing Google's consent as that very address proves control of the inbox.
        login(request, grantor, backend=MODEL_BACKEND)
    try:
        services.approve_delegation(delegation=delegation, by=grantor)
    except ValidationError as exc:
        return _oauth_problem(request, " ".join(exc.messages))
    if grantor.role == Role.SENDER:
        return render(request, "senders/connected.html", {"delegation": delegation})
    messages.success(request, f"{delegation.delegate.full_name} can now send from {grantor.email}.")
    return redirect("senders:settings")


def _finish_sign_in(request, pending):
    email = gmail.identify(
        _callback_uri(),
        state=pending["state"],
        code_verifier=pending["verifier"],
        callback_url=request.build_absolute_uri(),
    )
    user = User.objects.filter(email=email, is_active=True, role=Role.SENDER).first()
    if user is None:
        return _oauth_problem(
            request,
            f"{email} has no sender-only account. Teammates with a password log in with it.",
            403,
        )
    login(request, user, backend=MODEL_BACKEND)
    return redirect("senders:settings")


@require_http_methods(["GET", "POST"])
def sign_in(request):
    """Google sign-in for sender-only users (they have no password)."""
    if request.method == "POST":
        return _start_google(request, purpose="sign_in", email=request.POST.get("email", ""))
    return render(request, "senders/sign_in.html")


# Mailboxes ----------------------------------------------------------------------------------


def _own_mailbox(request, pk) -> Mailbox:
    return get_for_user_or_404(Mailbox, request.user, pk=pk, owner=request.user)


@require_POST
def disconnect(request, pk):
    mailbox = _own_mailbox(request, pk)
    services.disconnect_mailbox(mailbox=mailbox, by=request.user)
    messages.success(request, f"{mailbox.email} is disconnected and our access revoked at Google.")
    return redirect("senders:settings")


@require_POST
def check(request, pk):
    mailbox = _own_mailbox(request, pk)
    if services.check_mailbox(mailbox):
        messages.success(request, f"{mailbox.email} works.")
    else:
        mailbox.refresh_from_db()
        messages.error(request, f"{mailbox.email}: {mailbox.last_error}")
    return redirect("senders:settings")


@require_POST
def signature(request, pk):
    mailbox = _own_mailbox(request, pk)
    try:
        cleaned = services.set_signature(
            mailbox=mailbox, by=request.user, signature_html=request.POST.get("signature_html", "")
        )
    except ValidationError as exc:
        # What was written comes back in the editor, with the reason.
        messages.error(request, " ".join(exc.messages))
        request.session[SIGNATURE_DRAFT_KEY] = {
            "mailbox": mailbox.pk,
            "html": request.POST.get("signature_html", "")[: services.SIGNATURE_MAX_BYTES],
        }
        return redirect(f"{reverse('senders:settings')}#signature-{mailbox.pk}")
    messages.success(request, f"Signature for {mailbox.email} saved.")
    if cleaned.summary:
        messages.warning(request, cleaned.summary)
    return redirect(f"{reverse('senders:settings')}#signature-{mailbox.pk}")


# Delegations --------------------------------------------------------------------------------


def _form_action(request, form_class, action, success):
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid email address.")
        return redirect("senders:settings")
    try:
        delegation = action(**form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success(delegation))
    return redirect("senders:settings")


@require_POST
def request_access(request):
    return _form_action(
        request,
        RequestAccessForm,
        lambda email: services.request_delegation(requester=request.user, grantor_email=email),
        lambda d: f"Request sent to {d.grantor.email}.",
    )


@require_POST
def invite(request):
    return _form_action(
        request,
        InviteSenderForm,
        lambda full_name, email: services.invite_sender(
            inviter=request.user, full_name=full_name, email=email
        ),
        lambda d: (
            f"Invitation sent to {d.grantor.email}: "
            "once they connect their inbox, you can send from it."
        ),
    )


def _party_delegation(request, pk, **role) -> Delegation:
    scope = Delegation.objects.select_related("grantor", "delegate", "mailbox")
    if not role:
        scope = scope.filter(Q(grantor=request.user) | Q(delegate=request.user))
    return get_for_user_or_404(scope, request.user, pk=pk, **role)


def _decide(request, action, delegation):
    try:
        action(delegation=delegation, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    return True


@require_POST
def resend(request, pk):
    delegation = _party_delegation(request, pk, delegate=request.user)
    if _decide(request, services.resend_request, delegation):
        messages.success(request, f"Request sent again to {delegation.grantor.email}.")
    return redirect("senders:settings")


@require_POST
def approve(request, pk):
    delegation = _party_delegation(request, pk, grantor=request.user)
    try:
        services.approve_delegation(delegation=delegation, by=request.user)
    except services.MailboxRequired:
        return _start_google(
            request, purpose="approve", email=request.user.email, delegation=delegation
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{delegation.delegate.full_name} can now send from your inbox.")
    return redirect("senders:settings")


@require_POST
def reject(request, pk):
    delegation = _party_delegation(request, pk, grantor=request.user)
    if _decide(request, services.reject_delegation, delegation):
        messages.success(request, f"You declined {delegation.delegate.full_name}'s request.")
    return redirect("senders:settings")


@require_http_methods(["GET", "POST"])
def revoke(request, pk):
    """Asks first: a GET, or a POST without `confirm`, shows what ends and who is told, and
    changes nothing. Withdrawing one's own pending request posts the confirmation at once."""
    delegation = _party_delegation(request, pk)
    if delegation.status not in Delegation.OPEN:
        messages.info(request, "Sending on behalf has already ended.")
        return redirect("senders:settings")
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        return render(
            request,
            "senders/revoke_confirm.html",
            {
                "delegation": delegation,
                "as_grantor": delegation.grantor_id == request.user.pk,
                "address": delegation.mailbox.email
                if delegation.mailbox
                else delegation.grantor.email,
            },
        )
    if _decide(request, services.revoke_delegation, delegation):
        messages.success(request, "Sending on behalf has ended.")
    return redirect("senders:settings")


# The emailed review link ----------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def review(request, token):
    """GET only shows the request (mail scanners open links); the decision is a POST."""
    try:
        delegation = services.delegation_for_review(token)
    except services.LinkError as exc:
        return render(request, "senders/review_problem.html", {"error": str(exc)}, status=400)
    grantor = delegation.grantor
    viewer = request.user if request.user.is_authenticated else None
    if viewer is not None and viewer != grantor:
        return render(
            request,
            "senders/review_problem.html",
            {
                "error": f"This request is for {grantor.email}, and you are logged in as "
                f"{viewer.email}. Log out, then open the link again."
            },
            status=403,
        )
    needs_password_login = viewer is None and grantor.has_usable_password()
    if request.method == "POST":
        decision = request.POST.get("decision")
        if needs_password_login:
            return redirect(f"{reverse('login')}?next={request.path}")
        if decision == "approve":
            if (
                viewer is None
                or not grantor.mailboxes.filter(status=Mailbox.Status.CONNECTED).exists()
            ):
                return _start_google(
                    request, purpose="approve", email=grantor.email, delegation=delegation
                )
            services.approve_delegation(delegation=delegation, by=grantor)
            messages.success(
                request, f"{delegation.delegate.full_name} can now send from your inbox."
            )
            return redirect("senders:settings")
        if decision == "reject":
            # The signed link, sent to the grantor's inbox, is proof enough to decline.
            services.reject_delegation(delegation=delegation, by=grantor)
            return render(
                request, "senders/review_done.html", {"delegation": delegation, "approved": False}
            )
        raise PermissionDenied("Unknown decision.")
    return render(
        request,
        "senders/review.html",
        {
            "delegation": delegation,
            "needs_password_login": needs_password_login,
            "login_url": f"{reverse('login')}?next={request.path}",
            "scope_purposes": [
                (gmail.scope_label(scope), scope, why)
                for scope, why in gmail.SCOPE_PURPOSES.items()
            ],
        },
    )
