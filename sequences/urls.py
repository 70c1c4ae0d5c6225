from django.urls import path

from outreach.permissions import Access, state_rules

from . import views

app_name = "sequences"

urlpatterns = [
    path("sequences/", views.sequence_list, name="list"),
    path("sequences/new/", views.sequence_create, name="create"),
    path("sequences/<int:pk>/", views.sequence_detail, name="detail"),
    path("sequences/<int:pk>/settings/", views.sequence_settings, name="settings"),
    path("sequences/<int:pk>/shares/", views.sequence_shares, name="shares"),
    path("sequences/<int:pk>/clone/", views.sequence_clone, name="clone"),
    path("sequences/<int:pk>/archive/", views.sequence_archive, name="archive"),
    path("sequences/<int:pk>/pause/", views.sequence_pause, name="pause"),
    path("sequences/<int:pk>/enroll/", views.enroll, name="enroll"),
    path("sequences/<int:pk>/stages/new/", views.stage_add, name="stage_add"),
    path("sequences/<int:pk>/stages/<int:stage_pk>/", views.stage_edit, name="stage_edit"),
    path(
        "sequences/<int:pk>/stages/<int:stage_pk>/delete/", views.stage_delete, name="stage_delete"
    ),
    path("sequences/<int:pk>/stages/<int:stage_pk>/move/", views.stage_move, name="stage_move"),
    path(
        "sequences/<int:pk>/stages/<int:stage_pk>/preview/",
        views.stage_preview,
        name="stage_preview",
    ),
    path("enrollments/<int:pk>/", views.enrollment_timeline, name="timeline"),
    path("outbox/", views.outbox, name="outbox"),
    path("stats/", views.stats_page, name="stats"),
    path("stats/export.csv", views.stats_export, name="stats_export"),
    path("enrollments/<int:pk>/<slug:action>/", views.enrollment_action, name="enrollment_action"),
    path("prospects/", views.prospect_list, name="prospects"),
    path("prospects/paste/", views.prospect_paste, name="prospect_paste"),
    path("prospects/import/", views.prospect_import, name="prospect_import"),
    path(
        "prospects/import/errors.csv", views.prospect_import_errors, name="prospect_import_errors"
    ),
    path("prospects/enroll/", views.prospects_enroll, name="prospects_enroll"),
    path("prospects/<int:pk>/", views.prospect_detail, name="prospect"),
    path("prospects/<int:pk>/do-not-contact/", views.prospect_dnc, name="prospect_dnc"),
    path("emails/", views.email_list, name="emails"),
    path("emails/new/", views.email_compose, name="email_compose"),
    path("emails/preview/", views.email_preview, name="email_preview"),
    path("emails/<int:pk>/", views.email_detail, name="email"),
    path("emails/<int:pk>/cancel/", views.email_cancel, name="email_cancel"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("team/members/<int:user_pk>/hand-over/", views.hand_over, name="hand_over"),
    # Public, signed links in the emails.
    path("t/o/<str:token>.gif", views.track_open, name="track_open"),
    path("t/c/<str:token>/", views.track_click, name="track_click"),
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

# The team's work is for recruiters (and admins); offboarding a teammate is an admin's; the
# signed links in emails are anyone's.
state_rules(
    app_name,
    {
        **{
            pattern.name: Access.RECRUITER
            for pattern in urlpatterns
            if pattern.name not in ("hand_over", "track_open", "track_click", "unsubscribe")
        },
        "hand_over": Access.ADMIN,
        "track_open": Access.PUBLIC,
        "track_click": Access.PUBLIC,
        "unsubscribe": Access.PUBLIC,
    },
)
