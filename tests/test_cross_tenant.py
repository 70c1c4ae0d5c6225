"""Walks every URL pattern of the product, Django admin included, as a member of another
organization. Each URL that names an object must answer 404 (or 403), never the object. A new
URL with a parameter fails this test until it is added below: that is the point."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver

from ats_sync.models import ActivitySync, AtsConnection, UserMapping
from outreach.models import Invitation, Organization, Role, User
from senders.models import Delegation, Mailbox
from sequences.models import (
    DoNotContact,
    EmailTemplate,
    EnrollJob,
    Enrollment,
    ImportJob,
    Message,
    Prospect,
    Sequence,
    Snippet,
    Stage,
    Task,
)
from tests.factories import (
    DelegationFactory,
    EnrollmentFactory,
    InvitationFactory,
    MailboxFactory,
    ProspectFactory,
    SequenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Parameters that name no object of an organization.
NON_OBJECT_PARAMS = {"app_label", "url"}  # admin's app index and its catch-all
# URLs whose parameter is a signed token: what they name is in the signature, not the URL.
SIGNED_TOKEN_ROUTES = {
    "signup/confirm/<str:token>/",
    "invitations/<str:token>/",
    "account/email/<str:token>/",
    "password-reset/<uidb64>/<token>/",
    "senders/review/<str:token>/",
    "t/o/<str:token>.gif",
    "t/c/<str:token>/",
    "u/<str:token>/",
    "ats/pause/<str:token>/",
}

VIEW_ON_SITE = "admin/r/<path:content_type_id>/<path:object_id>/"


def routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, set(entry.pattern.regex.groupindex)


def object_of(model, org, owner):
    """One row of `model` belonging to `org`."""
    if model is Organization:
        return org
    if model is User:
        return UserFactory(organization=org)
    if model is Invitation:
        return InvitationFactory(organization=org, invited_by=owner)
    if model is LogEntry:
        return LogEntry.objects.log_actions(
            user_id=owner.pk,
            queryset=[owner],
            action_flag=CHANGE,
            change_message="x",
            single_object=True,
        )
    if model is Mailbox:
        return MailboxFactory(owner=UserFactory(organization=org))
    if model is Delegation:
        return DelegationFactory(grantor=owner)
    if model is Sequence:
        return SequenceFactory(owner=owner)
    if model is Prospect:
        return ProspectFactory(organization=org)
    if model is Enrollment:
        return EnrollmentFactory(sequence=SequenceFactory(owner=owner))
    if model is DoNotContact:
        return DoNotContact.objects.create(organization=org, value="blocked.example")
    if model is ActivitySync:
        prospect = ProspectFactory(organization=org)
        message = Message.objects.create(
            organization=org,
            prospect=prospect,
            mailbox=MailboxFactory(owner=owner),
            direction="outbound",
            status="sent",
            from_address=owner.email,
            to_address=prospect.email,
            subject="Hello",
        )
        return ActivitySync.objects.create(organization=org, message=message, status="failed")
    if model is AtsConnection:
        return AtsConnection.objects.get_or_create(organization=org)[0]
    if model is UserMapping:
        return UserMapping.objects.create(
            organization=org, user=UserFactory(organization=org), greenhouse_user_id=7
        )
    # Global tables, for the operator only.
    if model is Group:
        return Group.objects.create(name="Global group")
    login = {
        "user_agent": "",
        "ip_address": "10.0.0.1",
        "username": owner.email,
        "http_accept": "",
        "path_info": "/login/",
    }
    if model is AccessAttempt:
        return AccessAttempt.objects.create(
            **login, get_data="", post_data="", failures_since_start=1
        )
    if model in (AccessLog, AccessFailureLog):
        return model.objects.create(**login)
    raise AssertionError(f"Tell the cross-tenant walk how to make a {model.__name__} row")


def product_urls(org, owner):
    """(method, url) for each object-bearing route of our own views."""
    invitation = InvitationFactory(organization=org, invited_by=owner)
    member = UserFactory(organization=org, role=Role.RECRUITER)
    mailbox = MailboxFactory(owner=owner)
    delegation = DelegationFactory(grantor=owner, delegate=member)
    granted = DelegationFactory(grantor=member, delegate=owner)
    sequence = SequenceFactory(owner=owner, stages=2)
    stage, second = sequence.stages.order_by("position")
    prospect = ProspectFactory(organization=org)
    enrollment = EnrollmentFactory(sequence=sequence, mailbox=mailbox, prospect=prospect)
    manual = Stage.objects.create(sequence=sequence, position=2, kind="manual", manual_kind="call")
    task = Task.objects.create(
        organization=org, enrollment=enrollment, stage=manual, assignee=owner
    )
    one_off = SequenceFactory(owner=owner, kind=Sequence.Kind.ONE_OFF, stages=1)
    EnrollmentFactory(sequence=one_off, mailbox=mailbox, prospect=prospect)
    reply = Message.objects.create(
        organization=org,
        prospect=prospect,
        enrollment=enrollment,
        mailbox=mailbox,
        direction=Message.Direction.INBOUND,
        inbound_kind=Message.InboundKind.REPLY,
        gmail_message_id="their-reply",
    )
    template = EmailTemplate.objects.create(
        organization=org, owner=owner, name="Intro", subject="Hi", body_html="<p>Hi</p>"
    )
    snippet = Snippet.objects.create(
        organization=org, owner=owner, name="Signature", body_html="<p>Rick</p>"
    )
    job = ImportJob.objects.create(
        organization=org, created_by=owner, token="walk", status=ImportJob.Status.DONE
    )
    enroll_job = EnrollJob.objects.create(
        organization=org, created_by=owner, sequence=sequence, filter_query="all=1", mailbox=mailbox
    )
    seq = f"/sequences/{sequence.pk}"
    return {
        **{
            f"{kind}s/<int:pk>/{action}": (method, f"/{kind}s/{pk}/{action}")
            for kind, pk in (("template", template.pk), ("snippet", snippet.pk))
            for action, method in (("", "get"), ("content/", "get"), ("delete/", "post"))
        },
        "emails/<int:pk>/": ("get", f"/emails/{one_off.pk}/"),
        "emails/<int:pk>/cancel/": ("post", f"/emails/{one_off.pk}/cancel/"),
        "sequences/<int:pk>/": ("get", f"{seq}/"),
        "sequences/<int:pk>/settings/": ("post", f"{seq}/settings/"),
        "sequences/<int:pk>/shares/": ("post", f"{seq}/shares/"),
        "sequences/<int:pk>/clone/": ("post", f"{seq}/clone/"),
        "sequences/<int:pk>/archive/": ("post", f"{seq}/archive/"),
        "sequences/<int:pk>/pause/": ("post", f"{seq}/pause/"),
        "sequences/<int:pk>/enroll/": ("post", f"{seq}/enroll/"),
        "sequences/<int:pk>/picker/": ("get", f"{seq}/picker/"),
        "prospects/enrolling/<int:pk>/": ("get", f"/prospects/enrolling/{enroll_job.pk}/"),
        "sequences/<int:pk>/stages/new/": ("post", f"{seq}/stages/new/"),
        "sequences/<int:pk>/stages/<int:stage_pk>/": ("get", f"{seq}/stages/{stage.pk}/"),
        "sequences/<int:pk>/stages/<int:stage_pk>/delete/": (
            "post",
            f"{seq}/stages/{second.pk}/delete/",
        ),
        "sequences/<int:pk>/stages/<int:stage_pk>/move/": (
            "post",
            f"{seq}/stages/{stage.pk}/move/",
        ),
        "sequences/<int:pk>/stages/<int:stage_pk>/preview/": (
            "get",
            f"{seq}/stages/{stage.pk}/preview/",
        ),
        "enrollments/<int:pk>/": ("get", f"/enrollments/{enrollment.pk}/"),
        "enrollments/<int:pk>/<slug:action>/": ("post", f"/enrollments/{enrollment.pk}/pause/"),
        "prospects/<int:pk>/": ("get", f"/prospects/{prospect.pk}/"),
        "prospects/imports/<int:pk>/": ("get", f"/prospects/imports/{job.pk}/"),
        "prospects/imports/<int:pk>/errors.csv": ("get", f"/prospects/imports/{job.pk}/errors.csv"),
        "replies/<int:pk>/text/": ("get", f"/replies/{reply.pk}/text/"),
        "prospects/<int:pk>/do-not-contact/": ("post", f"/prospects/{prospect.pk}/do-not-contact/"),
        "tasks/<int:pk>/complete/": ("post", f"/tasks/{task.pk}/complete/"),
        "team/members/<int:user_pk>/hand-over/": ("get", f"/team/members/{member.pk}/hand-over/"),
        "senders/mailboxes/<int:pk>/disconnect/": (
            "post",
            f"/senders/mailboxes/{mailbox.pk}/disconnect/",
        ),
        "senders/mailboxes/<int:pk>/check/": ("post", f"/senders/mailboxes/{mailbox.pk}/check/"),
        "senders/mailboxes/<int:pk>/signature/": (
            "post",
            f"/senders/mailboxes/{mailbox.pk}/signature/",
        ),
        "senders/delegations/<int:pk>/resend/": (
            "post",
            f"/senders/delegations/{granted.pk}/resend/",
        ),
        "senders/delegations/<int:pk>/approve/": (
            "post",
            f"/senders/delegations/{delegation.pk}/approve/",
        ),
        "senders/delegations/<int:pk>/reject/": (
            "post",
            f"/senders/delegations/{delegation.pk}/reject/",
        ),
        "senders/delegations/<int:pk>/revoke/": (
            "post",
            f"/senders/delegations/{delegation.pk}/revoke/",
        ),
        "team/invitations/<int:pk>/revoke/": ("post", f"/team/invitations/{invitation.pk}/revoke/"),
        "team/members/<int:pk>/deactivate/": ("post", f"/team/members/{member.pk}/deactivate/"),
        "team/members/<int:pk>/reactivate/": ("post", f"/team/members/{member.pk}/reactivate/"),
        "ats/prospects/<int:prospect_id>/sync/": ("post", f"/ats/prospects/{prospect.pk}/sync/"),
        "ats/users/<int:user_id>/": ("post", f"/ats/users/{owner.pk}/"),
    }


def admin_urls(org, owner):
    urls = {}
    all_routes = list(routes())
    for model in site._registry:
        pk = str(object_of(model, org, owner).pk)
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        for route, params in all_routes:
            if route.startswith(prefix) and params & {"object_id", "id"}:
                path = route.replace("<path:object_id>", pk).replace("<id>", pk)
                urls[route] = ("get", "/" + path)
    user = UserFactory(organization=org)
    content_type = ContentType.objects.get_for_model(User)
    urls[VIEW_ON_SITE] = ("get", f"/admin/r/{content_type.pk}/{user.pk}/")
    return urls


def test_every_object_url_is_closed_to_other_organizations(client, org, admin_user, other_admin):
    urls = {**product_urls(org, admin_user), **admin_urls(org, admin_user)}

    object_routes = {
        r for r, params in routes() if params - NON_OBJECT_PARAMS
    } - SIGNED_TOKEN_ROUTES
    uncovered = object_routes - set(urls)
    assert not uncovered, f"Add these URLs to the cross-tenant walk: {sorted(uncovered)}"

    client.force_login(other_admin)
    for route, (method, url) in urls.items():
        # Followed: admin's "<id>/" only redirects to "<id>/change/".
        status = getattr(client, method)(url, follow=True).status_code
        assert status in (403, 404), (
            f"{route}: {method.upper()} {url} gave {status} to another team"
        )
    # Their attempts changed nothing.
    assert not Invitation.objects.filter(organization=org, revoked_at__isnull=False).exists()
    assert not User.objects.filter(organization=org, is_active=False).exists()
    assert not Delegation.objects.exclude(status=Delegation.Status.PENDING).exists()
    assert not Mailbox.objects.exclude(status=Mailbox.Status.CONNECTED).exists()
    assert not Sequence.objects.filter(archived_at__isnull=False).exists()
    assert Sequence.objects.filter(organization=org).count() == Sequence.objects.count()
    assert not Enrollment.objects.exclude(status=Enrollment.Status.ACTIVE).exists()
    assert not Prospect.objects.filter(do_not_contact=True).exists()
    assert not Prospect.objects.filter(ats_sync_paused=True).exists()
    assert not Task.objects.exclude(status=Task.Status.OPEN).exists()
    assert EmailTemplate.objects.count() == Snippet.objects.count() == 1

    # The owner's admin does reach each URL, so the 404s above mean "hidden", not "broken URL".
    client.force_login(admin_user)
    for route, (method, url) in urls.items():
        if route == VIEW_ON_SITE and not hasattr(User, "get_absolute_url"):
            continue  # no model of ours has a public page yet: 404 for everybody
        assert getattr(client, method)(url).status_code != 404, (
            f"{route}: {url} is broken for its owner"
        )
