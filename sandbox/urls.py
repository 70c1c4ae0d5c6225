"""The sandbox's own URL configuration, served on its own port as Google is another host: each
Google API at the path its real host serves it, and the sandbox's pages under /sandbox/."""

from django.urls import include, path

from . import oauth_views, ui
from .gmail_api import endpoint

_gmail = "gmail/v1/users/<str:user_id>/"

ui_patterns = [
    path("", ui.home, name="home"),
    path("accounts/", ui.create_account, name="create_account"),
    path("domains/", ui.set_domain, name="set_domain"),
    path("clients/", ui.register_client, name="register_client"),
    path("faults/", ui.add_fault, name="add_fault"),
    path("faults/clear/", ui.clear_faults, name="clear_faults"),
    path("accounts/<str:email>/", ui.mailbox_view, name="mailbox"),
    path("accounts/<str:email>/settings/", ui.update_settings, name="update_settings"),
    path("accounts/<str:email>/aliases/", ui.add_alias, name="add_alias"),
    path("accounts/<str:email>/compose/", ui.compose, name="compose"),
    path("accounts/<str:email>/expire-history/", ui.expire_history, name="expire_history"),
    path("accounts/<str:email>/grants/<int:pk>/revoke/", ui.revoke_grant, name="revoke_grant"),
    path("accounts/<str:email>/threads/<str:thread_id>/", ui.thread_view, name="thread"),
    path("accounts/<str:email>/threads/<str:thread_id>/reply/", ui.reply, name="reply"),
]

urlpatterns = [
    # accounts.google.com and oauth2.googleapis.com
    path("o/oauth2/auth", oauth_views.authorize, name="oauth_authorize"),
    path("token", oauth_views.token, name="oauth_token"),
    path("revoke", oauth_views.revoke, name="oauth_revoke"),
    path("oauth2/v3/certs", oauth_views.certs, name="oauth_certs"),
    # gmail.googleapis.com
    path(_gmail + "profile", endpoint(GET="gmail.users.getProfile")),
    path(
        _gmail + "messages",
        endpoint(GET="gmail.users.messages.list", POST="gmail.users.messages.insert"),
    ),
    path(_gmail + "messages/send", endpoint(POST="gmail.users.messages.send")),
    path(
        _gmail + "messages/<str:message_id>",
        endpoint(GET="gmail.users.messages.get", DELETE="gmail.users.messages.delete"),
    ),
    path(_gmail + "messages/<str:message_id>/trash", endpoint(POST="gmail.users.messages.trash")),
    path(_gmail + "threads/<str:thread_id>", endpoint(GET="gmail.users.threads.get")),
    path(_gmail + "history", endpoint(GET="gmail.users.history.list")),
    path(_gmail + "settings/sendAs", endpoint(GET="gmail.users.settings.sendAs.list")),
    path("sandbox/", include((ui_patterns, "sandbox"))),
]
