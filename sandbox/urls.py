"""The sandbox's own URL configuration, served on its own port as Google and Greenhouse are other
hosts: each Google and Greenhouse API at the path its real host serves it (Greenhouse's hosts
under /harvest/ and /greenhouse-auth/), and the sandbox's pages under /sandbox/."""

from django.urls import include, path

from . import oauth_views, ui
from .gmail_api import endpoint
from .greenhouse import endpoints as gh
from .greenhouse import ui as greenhouse_ui
from .greenhouse import views as greenhouse

_gmail = "gmail/v1/users/<str:user_id>/"
_candidate = "harvest/v1/candidates/<int:candidate_id>"

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
    path("greenhouse/", greenhouse_ui.overview, name="greenhouse"),
    path("greenhouse/candidates/", greenhouse_ui.add_candidate, name="greenhouse_add_candidate"),
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
    # auth.greenhouse.io
    path("greenhouse-auth/token", greenhouse.token, name="greenhouse_token"),
    # harvest.greenhouse.io/v1
    path("harvest/v1/candidates", greenhouse.endpoint(GET=gh.V1_CANDIDATES_LIST)),
    path(_candidate, greenhouse.endpoint(GET=gh.V1_CANDIDATES_GET)),
    path(_candidate + "/activity_feed", greenhouse.endpoint(GET=gh.V1_ACTIVITY_FEED)),
    path(_candidate + "/activity_feed/notes", greenhouse.endpoint(POST=gh.V1_NOTES_CREATE)),
    path(_candidate + "/activity_feed/emails", greenhouse.endpoint(POST=gh.V1_EMAILS_CREATE)),
    path("harvest/v1/users", greenhouse.endpoint(GET=gh.V1_USERS_LIST)),
    path("harvest/v1/prospects", greenhouse.endpoint(POST=gh.V1_PROSPECTS_CREATE)),
    # harvest.greenhouse.io/v3
    path("harvest/v3/candidates", greenhouse.endpoint(GET=gh.V3_CANDIDATES_LIST)),
    path("harvest/v3/users", greenhouse.endpoint(GET=gh.V3_USERS_LIST)),
    path(
        "harvest/v3/notes",
        greenhouse.endpoint(GET=gh.V3_NOTES_LIST, POST=gh.V3_NOTES_CREATE),
    ),
    path("sandbox/", include((ui_patterns, "sandbox"))),
]
