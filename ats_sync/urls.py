from django.urls import path

from outreach.permissions import Access, state_rules

from .views import log, pause, settings

app_name = "ats_sync"

urlpatterns = [
    path("ats/", settings.settings_page, name="settings"),
    path("ats/test/", settings.test_connection, name="test_connection"),
    path("ats/users/find/", settings.find_users, name="find_users"),
    path("ats/users/<int:user_id>/", settings.map_user, name="map_user"),
    path("ats/log/", log.sync_log, name="log"),
    path("ats/log/retry/", log.retry, name="retry"),
    path("ats/prospects/<int:prospect_id>/sync/", log.prospect_sync, name="prospect_sync"),
    path("ats/pause/<str:token>/", pause.pause, name="pause"),
]

state_rules(
    app_name,
    {
        "settings": Access.ADMIN,
        "test_connection": Access.ADMIN,
        "find_users": Access.ADMIN,
        "map_user": Access.ADMIN,
        "log": Access.ADMIN,
        "retry": Access.ADMIN,
        # Resuming sync for a candidate, from the prospect's page.
        "prospect_sync": Access.RECRUITER,
        "pause": Access.PUBLIC,
    },
)
