"""A sequence's stages: adding, editing, deleting, moving one, and its preview."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from outreach import rich_text
from outreach.tenancy import get_for_user_or_404, scope_to_user
from senders import selectors as sender_selectors

from .. import rendering, selectors, services, templating
from ..forms import StageForm
from ..models import EmailTemplate, Prospect, Stage
from .common import _errors, _sequence


def _stage(request, pk, stage_pk):
    sequence = _sequence(request, pk, edit=True)
    return get_for_user_or_404(
        Stage.objects.select_related("sequence"), request.user, pk=stage_pk, sequence=sequence
    )


@require_POST
def stage_add(request, pk):
    sequence = _sequence(request, pk, edit=True)
    kind = request.POST.get("kind", Stage.Kind.EMAIL)
    stage = Stage(sequence=sequence, kind=kind, delay_days=3)
    if kind == Stage.Kind.MANUAL:
        stage.manual_kind = Stage.ManualKind.LINKEDIN_INMAIL
        stage.instructions = "Send a short InMail referring to the email."
    else:
        stage.body_html = (
            "<p>Hi {{first_name|there}},</p><p>Following up on my note.</p>"
            "<p>{{sender_first_name}}</p>"
        )
    try:
        services.save_stage(stage=stage, by=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect(f"{reverse('sequences:detail', args=[sequence.pk])}#stage-{stage.pk}")


@require_http_methods(["GET", "POST"])
def stage_edit(request, pk, stage_pk):
    stage = _stage(request, pk, stage_pk)
    form = StageForm(
        request.POST or None, instance=stage, templates=selectors.visible_templates(request.user)
    )
    if request.method == "POST" and form.is_valid():
        written = form.cleaned_data.get("body_html", "")
        try:
            services.save_stage(stage=form.save(commit=False), by=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"Stage {stage.position + 1} saved.")
            removed = rich_text.clean(written).summary if written else ""
            if removed:
                messages.warning(request, removed)
            return redirect(f"{reverse('sequences:detail', args=[pk])}#stage-{stage.pk}")
    return render(
        request,
        "sequences/stage_edit.html",
        {
            "stage": stage,
            "sequence": stage.sequence,
            "form": form,
            "tokens": templating.TOKENS,
            "prospects": selectors.prospect_rows(request.user)[:200],
            "mailboxes": sender_selectors.sendable_mailboxes(request.user),
            "library": (
                selectors.library_picker(request.user) if stage.kind == Stage.Kind.EMAIL else None
            ),
        },
    )


@require_POST
def stage_delete(request, pk, stage_pk):
    stage = _stage(request, pk, stage_pk)
    try:
        services.delete_stage(stage=stage, by=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("sequences:detail", pk)


@require_POST
def stage_move(request, pk, stage_pk):
    stage = _stage(request, pk, stage_pk)
    order = list(stage.sequence.stages.order_by("position").values_list("pk", flat=True))
    index = order.index(stage.pk)
    target = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
        try:
            services.reorder_stages(sequence=stage.sequence, by=request.user, stage_ids=order)
        except ValidationError as exc:
            _errors(request, exc)
    return redirect("sequences:detail", pk)


@require_http_methods(["GET", "POST"])
def stage_preview(request, pk, stage_pk):
    """The stage as one prospect would receive it from one sender (htmx fragment): as saved, or,
    posted with the stage's form, as written so far (nothing is saved), with what the cleaning
    would remove."""
    stage = get_for_user_or_404(
        Stage.objects.select_related("sequence"),
        request.user,
        pk=stage_pk,
        sequence__in=selectors.visible_sequences(request.user),
        sequence_id=pk,
    )
    chosen = request.POST if request.method == "POST" else request.GET
    prospect = scope_to_user(Prospect, request.user).filter(pk=chosen.get("prospect") or 0).first()
    mailbox = (
        sender_selectors.sendable_mailboxes(request.user)
        .filter(pk=chosen.get("mailbox") or 0)
        .first()
        or stage.sequence.sender_mailbox
    )
    context: dict[str, object] = {"stage": stage, "prospect": prospect, "mailbox": mailbox}
    if request.method == "POST" and stage.kind == Stage.Kind.EMAIL:
        context.update(_as_written(stage, request.POST))
    if stage.kind == Stage.Kind.MANUAL:
        # As the tasks page will show them when this stage comes due for the prospect.
        context["instructions"] = (
            rendering.manual_instructions(stage, prospect, mailbox)
            if prospect and mailbox
            else stage.instructions
        )
    elif prospect and mailbox:
        try:
            context["email"] = services.render_stage(stage, prospect, mailbox)
        except templating.TemplateError as exc:
            context["error"] = str(exc)
    return render(request, "sequences/_preview.html", context)


def _as_written(stage: Stage, data) -> dict[str, object]:
    """Puts the posted subject, body and signature choice on `stage` (unsaved), the body cleaned
    as saving would; the preview's context for them."""
    # Validating a model form puts the fields written so far on its instance.
    # The template it came from does not change what it shows: no template is a valid choice.
    StageForm(data, instance=stage, templates=EmailTemplate.objects.none()).is_valid()
    if templating.too_long(stage.body_html):
        # Left as written: rendering says it is too long, without cleaning it first.
        return {"draft": True}
    cleaned = rich_text.clean(stage.body_html)
    stage.body_html = cleaned.html
    return {"draft": True, "removed": cleaned.summary}
