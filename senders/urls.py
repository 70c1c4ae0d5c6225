from django.urls import path

from outreach.permissions import Access, state_rules

from . import views

app_name = "senders"

urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("connect/", views.connect, name="connect"),
    path("google/callback/", views.google_callback, name="google_callback"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("mailboxes/<int:pk>/disconnect/", views.disconnect, name="disconnect"),
    path("mailboxes/<int:pk>/check/", views.check, name="check"),
    path("mailboxes/<int:pk>/signature/", views.signature, name="signature"),
    path("delegations/request/", views.request_access, name="request_access"),
    path("delegations/invite/", views.invite, name="invite"),
    path("delegations/<int:pk>/resend/", views.resend, name="resend"),
    path("delegations/<int:pk>/approve/", views.approve, name="approve"),
    path("delegations/<int:pk>/reject/", views.reject, name="reject"),
    path("delegations/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("review/<str:token>/", views.review, name="review"),
]

state_rules(
    app_name,
    {
        "settings": Access.MEMBER,
        "connect": Access.MEMBER,
        # Also the way back from a Google sign-in and a sender-only approval, before any log-in.
        "google_callback": Access.PUBLIC,
        "sign_in": Access.PUBLIC,
        "disconnect": Access.MEMBER,
        "check": Access.MEMBER,
        "signature": Access.MEMBER,
        # Sending from a teammate's inbox is a recruiter's; lending one's own is anyone's.
        "request_access": Access.RECRUITER,
        "invite": Access.RECRUITER,
        "resend": Access.RECRUITER,
        "approve": Access.MEMBER,
        "reject": Access.MEMBER,
        "revoke": Access.MEMBER,
        # The emailed link: a signed token names the request, the view asks who is deciding.
        "review": Access.PUBLIC,
    },
)
