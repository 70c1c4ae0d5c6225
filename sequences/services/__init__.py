"""Writes for sequences, stages, prospects, enrollments and tasks, by sub-domain (as HackSoft's
Django-Styleguide-Example): `from sequences import services` then `services.enroll(...)`.

    checks          the validations the writes share (check_ raises)
    authoring       sequences and their stages
    rendering       a stage for a prospect: token values
    prospects       prospects, do not contact, ATS flags
    enrolling       what would happen to each prospect, then the enrollments
    enrollments     what people do to an enrollment (each transition: sequences.lifecycle)
    manual_stages   tasks
    reactions       what other apps' announcements do; the admin's hand-over
    one_off         one-off emails
    library         the team's email templates and snippets
    tagging         tags on prospects, in bulk
"""

from django.core.exceptions import PermissionDenied, ValidationError

from ..rendering import missing_tokens, render_stage, token_values
from ..schedule import timezone_for, window_of
from .authoring import (
    SEQUENCE_FIELDS,
    check_stage,
    clone_sequence,
    create_sequence,
    delete_stage,
    reorder_stages,
    save_stage,
    set_archived,
    set_shares,
    update_sequence,
)
from .checks import bcc_list, check_sender, check_timezone
from .enrolling import (
    ENROLL_BATCH,
    EnrollmentOutcome,
    EnrollmentReport,
    EnrollmentSummary,
    RefusedFor,
    check_enrollment,
    check_may_enroll,
    enroll,
    enroll_matching,
)
from .enrollments import (
    mark_responded,
    mark_sentiment,
    pause_enrollment,
    pause_sequence,
    remove_enrollment,
    resume_enrollment,
    resume_sequence,
    stop_enrollment,
)
from .library import delete_snippet, delete_template, save_snippet, save_template
from .manual_stages import complete_task, open_due_tasks
from .one_off import (
    ANY_TIME,
    EmailDraft,
    OneOffCheck,
    cancel_one_off,
    check_one_off,
    one_off_stage,
    send_one_off,
)
from .prospects import (
    PROSPECT_FIELDS,
    remember_ats_candidate,
    set_ats_sync_paused,
    set_do_not_contact,
    upsert_prospect,
)
from .reactions import (
    HANDED_OVER_CAUSES,
    Reassigned,
    hand_over,
    pause_for_departure,
    pause_for_mailbox,
    reassign_sender,
    resume_for_mailbox,
)
from .tagging import TagChange, add_tag, remove_tag

__all__ = [
    "ANY_TIME",
    "ENROLL_BATCH",
    "HANDED_OVER_CAUSES",
    "PROSPECT_FIELDS",
    "SEQUENCE_FIELDS",
    "EmailDraft",
    "EnrollmentOutcome",
    "EnrollmentReport",
    "EnrollmentSummary",
    "OneOffCheck",
    "PermissionDenied",
    "Reassigned",
    "RefusedFor",
    "TagChange",
    "ValidationError",
    "add_tag",
    "bcc_list",
    "cancel_one_off",
    "check_enrollment",
    "check_may_enroll",
    "check_one_off",
    "check_sender",
    "check_stage",
    "check_timezone",
    "clone_sequence",
    "complete_task",
    "create_sequence",
    "delete_snippet",
    "delete_stage",
    "delete_template",
    "enroll",
    "enroll_matching",
    "hand_over",
    "mark_responded",
    "mark_sentiment",
    "missing_tokens",
    "one_off_stage",
    "open_due_tasks",
    "pause_enrollment",
    "pause_for_departure",
    "pause_for_mailbox",
    "pause_sequence",
    "reassign_sender",
    "remember_ats_candidate",
    "remove_enrollment",
    "remove_tag",
    "render_stage",
    "reorder_stages",
    "resume_enrollment",
    "resume_for_mailbox",
    "resume_sequence",
    "save_snippet",
    "save_stage",
    "save_template",
    "send_one_off",
    "set_archived",
    "set_ats_sync_paused",
    "set_do_not_contact",
    "set_shares",
    "stop_enrollment",
    "timezone_for",
    "token_values",
    "update_sequence",
    "upsert_prospect",
    "window_of",
]
