from django.urls import path

from outreach.permissions import Access, state_rules

from .views import (
    dashboard,
    emails,
    enrollments,
    library,
    offboarding,
    prospects,
    public,
    replies,
    sequences,
    stages,
    stats,
    tasks,
)

app_name = "sequences"

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("sequences/", sequences.sequence_list, name="list"),
    path("sequences/new/", sequences.sequence_create, name="create"),
    path("sequences/<int:pk>/", sequences.sequence_detail, name="detail"),
    path("sequences/<int:pk>/settings/", sequences.sequence_settings, name="settings"),
    path("sequences/<int:pk>/shares/", sequences.sequence_shares, name="shares"),
    path("sequences/<int:pk>/clone/", sequences.sequence_clone, name="clone"),
    path("sequences/<int:pk>/archive/", sequences.sequence_archive, name="archive"),
    path("sequences/<int:pk>/pause/", sequences.sequence_pause, name="pause"),
    path("sequences/<int:pk>/enroll/", enrollments.enroll, name="enroll"),
    path("sequences/<int:pk>/picker/", enrollments.enroll_picker, name="enroll_picker"),
    path("sequences/<int:pk>/stages/new/", stages.stage_add, name="stage_add"),
    path("sequences/<int:pk>/stages/<int:stage_pk>/", stages.stage_edit, name="stage_edit"),
    path(
        "sequences/<int:pk>/stages/<int:stage_pk>/delete/", stages.stage_delete, name="stage_delete"
    ),
    path("sequences/<int:pk>/stages/<int:stage_pk>/move/", stages.stage_move, name="stage_move"),
    path(
        "sequences/<int:pk>/stages/<int:stage_pk>/preview/",
        stages.stage_preview,
        name="stage_preview",
    ),
    path("enrollments/reassign/", enrollments.reassign, name="reassign"),
    path("enrollments/<int:pk>/", enrollments.enrollment_timeline, name="timeline"),
    path("outbox/", enrollments.outbox, name="outbox"),
    path("replies/", replies.reply_list, name="replies"),
    path("replies/<int:pk>/text/", replies.reply_text, name="reply_text"),
    path("stats/", stats.stats_page, name="stats"),
    path("stats/export.csv", stats.stats_export, name="stats_export"),
    path(
        "enrollments/<int:pk>/<slug:action>/",
        enrollments.enrollment_action,
        name="enrollment_action",
    ),
    path("prospects/", prospects.prospect_list, name="prospects"),
    path("prospects/paste/", prospects.prospect_paste, name="prospect_paste"),
    path("prospects/import/", prospects.prospect_import, name="prospect_import"),
    path("prospects/imports/<int:pk>/", prospects.prospect_import_job, name="prospect_import_job"),
    path(
        "prospects/imports/<int:pk>/errors.csv",
        prospects.prospect_import_errors,
        name="prospect_import_errors",
    ),
    path("prospects/enrolling/<int:pk>/", enrollments.enroll_job, name="enroll_job"),
    path("prospects/enroll/", prospects.prospects_enroll, name="prospects_enroll"),
    path("prospects/tag/", prospects.prospects_tag, name="prospects_tag"),
    path("prospects/export.csv", prospects.prospects_export, name="prospects_export"),
    path("prospects/<int:pk>/", prospects.prospect_detail, name="prospect"),
    path("prospects/<int:pk>/do-not-contact/", prospects.prospect_dnc, name="prospect_dnc"),
    path("emails/", emails.email_list, name="emails"),
    path("emails/new/", emails.email_compose, name="email_compose"),
    path("emails/preview/", emails.email_preview, name="email_preview"),
    path("emails/<int:pk>/", emails.email_detail, name="email"),
    path("emails/<int:pk>/cancel/", emails.email_cancel, name="email_cancel"),
    path("templates/", library.template_list, name="templates"),
    path(
        "templates/new/", library.entry_create, {"kind": library.TEMPLATES}, name="template_create"
    ),
    path(
        "templates/<int:pk>/", library.entry_edit, {"kind": library.TEMPLATES}, name="template_edit"
    ),
    path(
        "templates/<int:pk>/delete/",
        library.entry_delete,
        {"kind": library.TEMPLATES},
        name="template_delete",
    ),
    path(
        "templates/<int:pk>/content/",
        library.entry_content,
        {"kind": library.TEMPLATES},
        name="template_content",
    ),
    path("snippets/", library.snippet_list, name="snippets"),
    path("snippets/new/", library.entry_create, {"kind": library.SNIPPETS}, name="snippet_create"),
    path("snippets/<int:pk>/", library.entry_edit, {"kind": library.SNIPPETS}, name="snippet_edit"),
    path(
        "snippets/<int:pk>/delete/",
        library.entry_delete,
        {"kind": library.SNIPPETS},
        name="snippet_delete",
    ),
    path(
        "snippets/<int:pk>/content/",
        library.entry_content,
        {"kind": library.SNIPPETS},
        name="snippet_content",
    ),
    path("tasks/", tasks.task_list, name="tasks"),
    path("tasks/<int:pk>/complete/", tasks.task_complete, name="task_complete"),
    path("team/members/<int:user_pk>/hand-over/", offboarding.hand_over, name="hand_over"),
    # Public, signed links in the emails.
    path("t/o/<str:token>.gif", public.track_open, name="track_open"),
    path("t/c/<str:token>/", public.track_click, name="track_click"),
    path("u/<str:token>/", public.unsubscribe, name="unsubscribe"),
]

# The team's work is for recruiters (and admins); offboarding a teammate is an admin's; the
# signed links in emails are anyone's.
state_rules(
    app_name,
    {
        **{
            pattern.name: Access.RECRUITER
            for pattern in urlpatterns
            if pattern.name is not None
            and pattern.name not in ("hand_over", "track_open", "track_click", "unsubscribe")
        },
        "hand_over": Access.ADMIN,
        "track_open": Access.PUBLIC,
        "track_click": Access.PUBLIC,
        "unsubscribe": Access.PUBLIC,
    },
)
