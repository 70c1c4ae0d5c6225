"""An enrollment's life: every change of its status, and the event each one writes on its
timeline. Nothing else assigns `Enrollment.status`.

Each function takes an enrollment its caller has locked (see `locks`) and saves it. Which status
may follow which is stated once, in TRANSITIONS; any other move raises IllegalTransition. Ending
or pausing a run also ends its claim, so that a worker holding one finds, at its next look, that
the email is no longer its to send.
"""

from datetime import datetime, timedelta

from django.db.models import QuerySet

from outreach import clock
from outreach.compiled import CompiledInsert, CompiledUpdate
from outreach.models import User
from senders.models import Mailbox, SendAsAlias

from . import schedule
from .models import Enrollment, EnrollmentEvent, Message, Stage

Status = Enrollment.Status

ENDED = frozenset({Status.REPLIED, Status.FINISHED, Status.STOPPED, Status.BOUNCED})
ENDED |= {Status.UNSUBSCRIBED, Status.FAILED}

# Where an enrollment may go from each status.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.ACTIVE: frozenset(
        {
            Status.PAUSED,
            Status.REPLIED,
            Status.FINISHED,
            Status.STOPPED,
            Status.BOUNCED,
            Status.UNSUBSCRIBED,
            Status.FAILED,
        }
    ),
    Status.PAUSED: frozenset(
        {
            Status.ACTIVE,
            Status.REPLIED,
            Status.FINISHED,
            Status.STOPPED,
            Status.BOUNCED,
            Status.UNSUBSCRIBED,
        }
    ),
    # A reply after the last stage still counts: the sequence did its job. So does an
    # unsubscribe from one of its emails: the stats count it.
    Status.FINISHED: frozenset({Status.REPLIED, Status.UNSUBSCRIBED}),
    Status.REPLIED: frozenset(),
    Status.STOPPED: frozenset(),
    Status.BOUNCED: frozenset(),
    Status.UNSUBSCRIBED: frozenset(),
    Status.FAILED: frozenset(),
}


class IllegalTransition(ValueError):
    """A move TRANSITIONS does not allow: a bug in the caller, never the user's doing."""


# Every send that finishes a sequence writes one (see outreach.compiled).
_NEW_EVENT = CompiledInsert(EnrollmentEvent)


def record(enrollment: Enrollment, event: str, message: Message | None = None) -> None:
    """Adds `event` to the enrollment's timeline (the enrollment is saved by the caller)."""
    enrollment.last_event, enrollment.last_event_at = event[:200], clock.now()
    _NEW_EVENT.create(enrollment=enrollment, text=event[:500], message=message)


def _move(
    locked: Enrollment,
    to: str,
    event: str,
    *,
    reason: str = "",
    cause: str = "",
    message: Message | None = None,
) -> None:
    if to not in TRANSITIONS[locked.status]:
        raise IllegalTransition(f"An enrollment {locked.status} cannot become {to}.")
    locked.status, locked.status_reason, locked.pause_cause = to, reason[:500], cause
    if to in ENDED or to == Status.PAUSED:
        locked.claim_token, locked.claimed_until = "", None
    if to in ENDED:
        locked.next_action_at = None
    record(locked, event, message)
    locked.save()


# Beginning -----------------------------------------------------------------------------------


def begin(enrollment: Enrollment, *, first_send: datetime, refused: str, event: str) -> None:
    """Sets up a new (unsaved) enrollment: active from its first send, or failed at once with
    why when the prospect may not get the email (kept, so that the recruiter sees the reason)."""
    if refused:
        enrollment.status, enrollment.status_reason = Status.FAILED, refused[:500]
        enrollment.next_action_at, event = None, f"Not sent: {refused}"
    else:
        enrollment.status, enrollment.next_action_at = Status.ACTIVE, first_send
    enrollment.last_event, enrollment.last_event_at = event[:200], clock.now()


def record_begun(enrollments: list[Enrollment], queued: str) -> None:
    """The first timeline event of each (saved) enrollment set up by `begin`: `queued` for
    those that wait for their first send, the reason for those that failed at once."""
    EnrollmentEvent.objects.bulk_create(
        EnrollmentEvent(enrollment=e, text=e.last_event if e.status == Status.FAILED else queued)
        for e in enrollments
    )


# Holding and going on ------------------------------------------------------------------------


def pause(locked: Enrollment, *, cause: str, reason: str) -> bool:
    """Holds an active enrollment until the matching resume; False if it was not active."""
    if locked.status != Status.ACTIVE:
        return False
    _move(locked, Status.PAUSED, f"Paused: {reason}", reason=reason, cause=cause)
    return True


def resume(locked: Enrollment) -> bool:
    """Back to active; a stage whose time passed while paused goes out at the next window.
    False if it was not paused."""
    if locked.status != Status.PAUSED:
        return False
    now = clock.now()
    if locked.next_action_at is None or locked.next_action_at < now:
        locked.next_action_at = schedule.first_send_time(
            now, schedule.window_of(locked.sequence), schedule.timezone_for(locked)
        )
    _move(locked, Status.ACTIVE, "Resumed")
    return True


def note(locked: Enrollment, event: str, message: Message | None = None) -> None:
    """`event` on the timeline; nothing else changes (an auto-reply that changes nothing)."""
    record(locked, event, message)
    locked.save(update_fields=["last_event", "last_event_at"])


def defer(
    locked: Enrollment,
    when: datetime,
    event: str,
    *,
    retry: bool = False,
    message: Message | None = None,
) -> None:
    """Releases the enrollment's claim until `when`, with `event` on its timeline; `retry`: this
    counts as one more attempt at the stage. Its status stays."""
    if retry:
        locked.attempts += 1
    locked.next_action_at = when
    locked.claim_token, locked.claimed_until = "", None
    record(locked, event, message)
    locked.save(
        update_fields=[
            "attempts",
            "next_action_at",
            "claim_token",
            "claimed_until",
            "last_event",
            "last_event_at",
        ]
    )


def defer_to_send_time(
    locked: Enrollment, not_before: datetime, event: str, *, message: Message | None = None
) -> None:
    """Defers to the first send time of the sequence's window from `not_before`."""
    when = schedule.first_send_time(
        not_before, schedule.window_of(locked.sequence), schedule.timezone_for(locked)
    )
    defer(locked, when, event, message=message)


def _following(locked: Enrollment) -> Stage | None:
    current = locked.current_stage
    if current is None:
        return None
    return locked.sequence.stages.filter(position__gt=current.position).order_by("position").first()


def complete_manual_stage(locked: Enrollment, event: str) -> None:
    """A manual stage done or skipped: `event` on the timeline, then on to the next stage (at
    its time in the window), or the sequence is finished."""
    record(locked, event)
    following = _following(locked)
    if following is None:
        finish(locked, "Finished the sequence")
        return
    locked.current_stage = following
    locked.next_action_at = schedule.next_send_time(
        clock.now(),
        following.delay_days,
        schedule.window_of(locked.sequence),
        schedule.timezone_for(locked),
    )
    locked.save()


def finish(locked: Enrollment, event: str, *, reason: str = "") -> None:
    """Ends an open enrollment as finished: its last stage was done, or deleted (`reason`)."""
    locked.current_stage = None
    _move(locked, Status.FINISHED, event, reason=reason)


def move_to_sender(
    locked: Enrollment, *, sender: User, mailbox: Mailbox, alias: SendAsAlias | None
) -> bool:
    """The enrollment goes on from another sender and inbox: its next email starts a new
    thread there (engine.mime says whose email it follows), and one paused because its sender
    could no longer send resumes. False if it had ended."""
    if locked.status not in Enrollment.OPEN:
        return False
    locked.enrolled_by, locked.mailbox, locked.alias = sender, mailbox, alias
    locked.thread_id = ""
    locked.claim_token, locked.claimed_until = "", None
    record(
        locked,
        f"Moved to {sender.full_name}, sending as {(alias or mailbox).email}: "
        "the next email starts a new thread",
    )
    locked.save()
    if locked.status == Status.PAUSED and locked.pause_cause in Enrollment.SENDER_CAUSES:
        resume(locked)
    return True


# After a send (the engine's hot path: compiled, one statement) ------------------------------

# Unless a person paused or stopped it meanwhile, it moves on; its claim ends either way.
_MOVE_ON = CompiledUpdate(
    lambda pk, stage_id, status, next_stage_id, due, thread_id, event, event_at: (
        Enrollment.objects.filter(pk=pk, status=Status.ACTIVE, current_stage_id=stage_id),
        {
            "status": status,
            "current_stage_id": next_stage_id,
            "next_action_at": due,
            "thread_id": thread_id,
            "attempts": 0,
            "claim_token": "",
            "claimed_until": None,
            "last_event": event,
            "last_event_at": event_at,
        },
    ),
    int,
    int,
    str,
    int,
    datetime,
    str,
    str,
    datetime,
)


def sent(
    enrollment: Enrollment,
    message: Message,
    *,
    following: Stage | None,
    jitter: timedelta = timedelta(0),
) -> None:
    """The stage's email went out: the enrollment moves past it (to the next stage at its time,
    plus `jitter`; or finished). One paused or stopped meanwhile keeps its status, but its next
    stage is the one after this, so that a resume never comes back to an email already sent.
    Whoever holds the claim, it ends."""
    now = clock.now()
    stage = message.stage
    assert stage is not None, "an outbound email is always some stage's"
    enrollment.current_stage_id = message.stage_id
    if stage.starts_thread or not enrollment.thread_id:
        enrollment.thread_id = message.gmail_thread_id
    if following is None:
        status, due, event = Status.FINISHED, None, "Finished the sequence"
        _NEW_EVENT.create(enrollment=enrollment, text=event, message=None)
    else:
        status, event = Status.ACTIVE, f"Stage {stage.position + 1} sent"
        due = jitter + schedule.next_send_time(
            now,
            following.delay_days,
            schedule.window_of(enrollment.sequence),
            schedule.timezone_for(enrollment),
        )
    moved = _MOVE_ON.run(
        enrollment.pk,
        message.stage_id,
        status,
        following.pk if following else None,
        due,
        enrollment.thread_id,
        event,
        now,
    )
    if not moved:
        Enrollment.objects.filter(pk=enrollment.pk, current_stage_id=message.stage_id).update(
            current_stage_id=following.pk if following else message.stage_id,
            thread_id=enrollment.thread_id,
            claim_token="",
            claimed_until=None,
        )


# Endings -------------------------------------------------------------------------------------


def stop(locked: Enrollment, *, status: str, reason: str, message: Message | None = None) -> bool:
    """Ends an open enrollment with `status` and why; False if it had ended already."""
    if locked.status not in Enrollment.OPEN:
        return False
    _move(locked, status, reason, reason=reason, message=message)
    return True


def unsubscribe(locked: Enrollment, reason: str, *, after_finish: bool = False) -> bool:
    """Ends an open enrollment as unsubscribed. `after_finish`: the prospect unsubscribed from
    one of its emails, so a finished one becomes unsubscribed too (as a late reply makes it
    replied). False if nothing changed."""
    if after_finish and locked.status == Status.FINISHED:
        _move(locked, Status.UNSUBSCRIBED, reason, reason=reason)
        return True
    return stop(locked, status=Status.UNSUBSCRIBED, reason=reason)


def reply(locked: Enrollment, message: Message) -> bool:
    """The prospect answered: the enrollment ends as replied (even after its last stage); one
    that ended otherwise keeps its status and notes the reply. False if a reply was already
    counted."""
    if locked.replied_at is not None:
        return False
    locked.replied_at = message.sent_at or clock.now()
    if locked.status in (*Enrollment.OPEN, Status.FINISHED):
        _move(locked, Status.REPLIED, "Replied", reason="Replied", message=message)
    else:
        record(locked, "Replied", message)
        locked.save()
    return True


def bounce(locked: Enrollment, message: Message, reason: str) -> bool:
    return stop(locked, status=Status.BOUNCED, reason=f"Bounced: {reason}", message=message)


def fail(locked: Enrollment, error: str) -> None:
    """The stage cannot be sent, and trying again would not help."""
    _move(locked, Status.FAILED, f"Failed: {error}", reason=error)


def finish_where(enrollments: QuerySet[Enrollment], reason: str) -> int:
    """`finish` for each open one of `enrollments`, locked in turn."""
    count = 0
    for locked in enrollments.filter(status__in=Enrollment.OPEN).select_for_update(of=("self",)):
        finish(locked, reason, reason=reason)
        count += 1
    return count
