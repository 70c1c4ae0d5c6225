from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views
from .permissions import Access, rule, state_rules

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("signup/", views.signup, name="signup"),
    path("signup/sent/", views.signup_sent, name="signup_sent"),
    path("signup/confirm/<str:token>/", views.signup_confirm, name="signup_confirm"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("team/", views.team, name="team"),
    path("team/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("team/members/<int:pk>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("team/members/<int:pk>/reactivate/", views.member_reactivate, name="member_reactivate"),
    path("notifications/", views.notifications, name="notifications"),
    path("account/", views.account, name="account"),
    path("account/email/<str:token>/", views.email_change_confirm, name="email_change_confirm"),
    path("senders/", include("senders.urls")),
    path("", include("sequences.urls")),
    path("", include("ats_sync.urls")),
    path("admin/", admin.site.urls),
]

state_rules(
    "",
    {
        # Where a visit starts: it sends each person to the page of their role.
        "home": Access.PUBLIC,
        "healthz": Access.PUBLIC,
        "signup": Access.PUBLIC,
        "signup_sent": Access.PUBLIC,
        "signup_confirm": Access.PUBLIC,
        "login": Access.PUBLIC,
        "logout": Access.PUBLIC,
        "password_reset": Access.PUBLIC,
        "password_reset_done": Access.PUBLIC,
        "password_reset_confirm": Access.PUBLIC,
        "password_reset_complete": Access.PUBLIC,
        "invitation_accept": Access.PUBLIC,
        # Recruiters see their teammates; admins invite.
        "team": rule(Access.RECRUITER, write=Access.ADMIN),
        "invitation_revoke": Access.ADMIN,
        "member_deactivate": Access.ADMIN,
        "member_reactivate": Access.ADMIN,
        "notifications": Access.MEMBER,
        "account": Access.MEMBER,
        # The link sent to the new address: its signature names the change, its POST makes it.
        "email_change_confirm": Access.PUBLIC,
    },
)
