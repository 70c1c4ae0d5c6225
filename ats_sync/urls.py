from django.urls import path

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
