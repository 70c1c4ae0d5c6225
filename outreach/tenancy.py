"""Tenant scoping: every read a view or the admin makes goes through `scope_to_user`."""

from typing import Any, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)


class TenantQuerySet(models.QuerySet[M]):
    def for_organization(self, organization_id: int) -> "TenantQuerySet[M]":
        return self.filter(**{tenant_field(self.model): organization_id})


def tenant_field(model: type[models.Model]) -> str:
    """The lookup from `model` to its organization's id, e.g. "organization" or
    "sequence__organization"; a model declares `tenant_field` when it is not a direct FK."""
    return getattr(model, "tenant_field", "organization")


def is_tenant_model(model: type[models.Model]) -> bool:
    return hasattr(model, "tenant_field") or any(
        f.name == "organization" and f.is_relation for f in model._meta.get_fields()
    )


def scope_to_user(
    queryset_or_model: models.QuerySet[M] | type[M], user: AbstractBaseUser | AnonymousUser
) -> models.QuerySet[M]:
    """The rows of `user`'s organization; none for a user without one (or anonymous)."""
    queryset = (
        queryset_or_model._default_manager.all()
        if isinstance(queryset_or_model, type)
        else queryset_or_model
    )
    organization_id = getattr(user, "organization_id", None)
    if organization_id is None:
        return queryset.none()
    return queryset.filter(**{tenant_field(queryset.model): organization_id})


def get_for_user_or_404(
    queryset_or_model: models.QuerySet[M] | type[M],
    user: AbstractBaseUser | AnonymousUser,
    **lookup: Any,
) -> M:
    """One row of `user`'s organization; a row of another organization is a plain 404, so that
    its existence is not revealed."""
    try:
        return scope_to_user(queryset_or_model, user).get(**lookup)
    except (models.ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
