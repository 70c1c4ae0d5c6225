"""The team's library: email templates and snippets, their lists and editing, and what the
stage editor and the compose page load from it (read-only JSON)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from outreach.models import User
from outreach.tenancy import get_for_user_or_404

from .. import selectors, services, stats, templating
from ..forms import EmailTemplateForm, SnippetForm
from ..models import EmailTemplate, Snippet

PAGE_SIZE = 25


@dataclass(frozen=True)
class _Kind:
    """Templates and snippets are written, listed and deleted the same way."""

    noun: str
    model: type[EmailTemplate | Snippet]
    form: type[forms.ModelForm]
    visible: Callable[[User], QuerySet[Any]]
    save: Callable[[Any, User], EmailTemplate | Snippet]
    delete: Callable[[Any, User], None]
    # What the picker loads of one.
    content: tuple[str, ...]
    list_url: str
    delete_url: str


TEMPLATES = _Kind(
    noun="template",
    model=EmailTemplate,
    form=EmailTemplateForm,
    visible=selectors.visible_templates,
    save=lambda item, by: services.save_template(template=item, by=by),
    delete=lambda item, by: services.delete_template(template=item, by=by),
    content=("subject", "body_html"),
    list_url="sequences:templates",
    delete_url="sequences:template_delete",
)
SNIPPETS = _Kind(
    noun="snippet",
    model=Snippet,
    form=SnippetForm,
    visible=selectors.visible_snippets,
    save=lambda item, by: services.save_snippet(snippet=item, by=by),
    delete=lambda item, by: services.delete_snippet(snippet=item, by=by),
    content=("body_html",),
    list_url="sequences:snippets",
    delete_url="sequences:snippet_delete",
)


def _item(request, kind: _Kind, pk: int) -> EmailTemplate | Snippet:
    """Another team's, or a teammate's private one: 404."""
    return get_for_user_or_404(
        kind.visible(request.user).select_related("owner"), request.user, pk=pk
    )


def _page(request, rows: QuerySet):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@require_GET
def template_list(request):
    search = request.GET.get("q", "").strip()
    page = _page(request, selectors.template_rows(request.user, search=search))
    return render(
        request,
        "sequences/templates.html",
        {
            "page": page,
            "rows": stats.template_rows(request.user, list(page)),
            "search": search,
        },
    )


@require_GET
def snippet_list(request):
    search = request.GET.get("q", "").strip()
    return render(
        request,
        "sequences/snippets.html",
        {
            "page": _page(request, selectors.snippet_rows(request.user, search=search)),
            "search": search,
        },
    )


def _edit(request, kind: _Kind, item: EmailTemplate | Snippet):
    """Writing a new one, or changing one; someone who may not change it reads it."""
    editable = item.pk is None or selectors.can_change_library_item(request.user, item)
    if request.method == "POST" and not editable:
        raise PermissionDenied(f"Only its owner and the team's admins change this {kind.noun}.")
    form = kind.form(request.POST if request.method == "POST" else None, instance=item)
    if request.method == "POST" and form.is_valid():
        created = item.pk is None
        try:
            saved = kind.save(form.save(commit=False), request.user)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"{saved.name} {'created' if created else 'saved'}.")
            return redirect(kind.list_url)
    return render(
        request,
        "sequences/library_edit.html",
        {
            "kind": kind,
            "item": item,
            "form": form,
            "editable": editable,
            "tokens": templating.TOKENS,
        },
    )


# The pages below serve both kinds: each URL names its kind (sequences/urls.py).


@require_http_methods(["GET", "POST"])
def entry_create(request, kind: _Kind):
    return _edit(request, kind, kind.model())


@require_http_methods(["GET", "POST"])
def entry_edit(request, pk, kind: _Kind):
    return _edit(request, kind, _item(request, kind, pk))


@require_POST
def entry_delete(request, pk, kind: _Kind):
    item = _item(request, kind, pk)
    kind.delete(item, request.user)
    messages.success(request, f"{item.name} deleted.")
    return redirect(kind.list_url)


@require_GET
def entry_content(request, pk, kind: _Kind):
    """What the picker loads into a stage or an email: a template's subject and body, a
    snippet's text."""
    item = _item(request, kind, pk)
    return JsonResponse(
        {"id": item.pk, "name": item.name, **{name: getattr(item, name) for name in kind.content}}
    )
