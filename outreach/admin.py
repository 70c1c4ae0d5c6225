"""Django admin for the operator (superusers: everything) and for each team's admins (role admin:
their own organization's rows only, everywhere the admin shows rows: lists, forms, foreign-key
choices, filters, autocompletes and the action log)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, ReadOnlyPasswordHashField
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest

from . import services
from .models import EmailDomain, Invitation, Organization, User
from .tenancy import is_tenant_model, scope_to_user

admin.site.site_header = "outreach administration"
admin.site.site_title = "outreach admin"


def is_operator(request) -> bool:
    return request.user.is_active and request.user.is_superuser


class TenantAdmin(admin.ModelAdmin):
    """Base for every admin of tenant data. An org admin needs no Django permission rows: their
    role grants them their organization's rows, and nothing else."""

    # The lookup from this admin's model to the organization, when the model does not say.
    tenant_field: str | None = None

    def _org_admin(self, request) -> bool:
        return request.user.is_active and request.user.is_org_admin

    def has_module_permission(self, request):
        return (
            super().has_module_permission(request)
            if is_operator(request)
            else self._org_admin(request)
        )

    def has_view_permission(self, request, obj=None):
        return (
            super().has_view_permission(request, obj)
            if is_operator(request)
            else self._org_admin(request)
        )

    def has_change_permission(self, request, obj=None):
        return (
            super().has_change_permission(request, obj)
            if is_operator(request)
            else self._org_admin(request)
        )

    def has_add_permission(self, request):
        return (
            super().has_add_permission(request)
            if is_operator(request)
            else self._org_admin(request)
        )

    def has_delete_permission(self, request, obj=None):
        return (
            super().has_delete_permission(request, obj)
            if is_operator(request)
            else self._org_admin(request)
        )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_operator(request):
            return queryset
        if self.tenant_field:
            organization_id = request.user.organization_id
            return (
                queryset.filter(**{self.tenant_field: organization_id})
                if organization_id
                else queryset.none()
            )
        return scope_to_user(queryset, request.user)

    def get_object(self, request, object_id, from_field=None):
        # Django would redirect to the index with "does not exist"; a plain 404 says no more.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with this id.")
        return obj

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not is_operator(request):
            # An org admin never moves a row to another organization.
            exclude.append("organization")
        return exclude

    def save_model(self, request, obj, form, change):
        if not change and not is_operator(request) and hasattr(obj, "organization_id"):
            obj.organization_id = request.user.organization_id
        super().save_model(request, obj, form, change)

    def _scoped_choices(self, request, model, kwargs):
        if is_operator(request):
            return kwargs
        if model is Organization:
            kwargs["queryset"] = Organization.objects.filter(pk=request.user.organization_id)
        elif is_tenant_model(model):
            kwargs["queryset"] = scope_to_user(model, request.user)
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = self._scoped_choices(request, db_field.related_model, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = self._scoped_choices(request, db_field.related_model, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if is_operator(request):
            return filters
        # A related-field filter lists every row of the related table; keep only those that
        # appear in this (scoped) list.
        scoped: list[object] = []
        for item in filters:
            if isinstance(item, str) and self.opts.get_field(item.split("__")[0]).is_relation:
                scoped.append((item, admin.RelatedOnlyFieldListFilter))
            else:
                scoped.append(item)
        return scoped


class ReadOnly:
    """Records the product keeps: shown in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTenantInline(ReadOnly, admin.TabularInline):
    """Rows shown under their parent (already scoped) for the record, never edited here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_view_permission(self, request, obj=None):
        return is_operator(request) or request.user.is_org_admin


class EmailDomainInline(ReadOnlyTenantInline):
    """A domain is only ever claimed by confirming an address on it; the operator may fix one."""

    model = EmailDomain
    fields = ("domain", "verified_at", "verified_by")

    def get_readonly_fields(self, request, obj=None):
        return () if is_operator(request) else self.fields

    def has_add_permission(self, request, obj=None):
        return is_operator(request)

    def has_delete_permission(self, request, obj=None):
        return is_operator(request)

    def has_change_permission(self, request, obj=None):
        return is_operator(request)


@admin.register(Organization)
class OrganizationAdmin(TenantAdmin):
    list_display = ("name", "slug", "seats", "created_at")
    search_fields = ("name", "slug", "domains__domain")
    inlines = [EmailDomainInline]

    def get_readonly_fields(self, request, obj=None):
        # Seats are what the team pays for: the operator sets them.
        return ("created_at",) if is_operator(request) else ("slug", "seats", "created_at")

    def has_add_permission(self, request):
        return is_operator(request) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return is_operator(request) and super().has_delete_permission(request, obj)


class OperatorUserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "organization", "role")


class MemberAdminForm(forms.ModelForm):
    """Role and status changes obey the team's rules (seats, last admin) before they are saved.
    A team admin never changes a teammate's email: with it they could reset the password to an
    address of their own and send as that teammate. Members change their own, confirmed at the
    new address; the operator may change one, and that change is recorded with both addresses."""

    request: HttpRequest | None = None  # set by UserAdmin.get_form
    # The operator's view shows the hash, never a field to type one into.
    password = ReadOnlyPasswordHashField(label="Password")

    class Meta:
        model = User
        fields = ("full_name", "role", "is_active")

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        user = self.instance
        if user.pk and user.organization_id and not self.errors:
            if self.request is None or not isinstance(self.request.user, User):
                raise PermissionDenied("Only a signed-in admin changes a member.")
            current = User.objects.select_related("organization").get(pk=user.pk)
            try:
                services.check_member_change(
                    user=current,
                    by=self.request.user,
                    role=cleaned.get("role", current.role),
                    is_active=cleaned.get("is_active", current.is_active),
                )
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from exc
        return cleaned


@admin.register(User)
class UserAdmin(TenantAdmin, DjangoUserAdmin):
    form = MemberAdminForm
    add_form = OperatorUserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "role", "is_active", "organization", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("email", "full_name")
    readonly_fields = ("last_login", "date_joined", "deactivated_at", "email_confirmed_at")
    operator_fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "organization", "role")}),
        (
            "Status",
            {
                "fields": (
                    "is_active",
                    "is_superuser",
                    "email_confirmed_at",
                    "deactivated_at",
                    "last_login",
                    "date_joined",
                )
            },
        ),
    )
    member_fieldsets = (
        (None, {"fields": ("email", "full_name", "role")}),  # email shown read-only
        (
            "Status",
            {
                "fields": (
                    "is_active",
                    "email_confirmed_at",
                    "deactivated_at",
                    "last_login",
                    "date_joined",
                )
            },
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "organization",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if is_operator(request) or obj is None else (*fields, "email")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return self.operator_fieldsets if is_operator(request) else self.member_fieldsets

    def get_list_display(self, request):
        display = super().get_list_display(request)
        return display if is_operator(request) else tuple(f for f in display if f != "organization")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            form = type(form.__name__, (form,), {"request": request})
        return form

    def has_add_permission(self, request):
        # Teammates join through an invitation, which proves their address.
        return is_operator(request) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        # Users are deactivated, never deleted: their history stays attributable.
        return is_operator(request) and super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not is_operator(request):
            raise PermissionDenied("Teammates reset their own passwords.")
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        if change and "email" in form.changed_data:
            # Only the operator gets here (the field is read-only for team admins). Who had
            # which address is kept with the change; their sessions end with the old address.
            self.log_change(
                request,
                obj,
                f"Email changed from {form.initial.get('email')} to {obj.email} by the operator.",
            )
        if not change or obj.organization_id is None:
            return super().save_model(request, obj, form, change)
        current = User.objects.get(pk=obj.pk)
        role, is_active = obj.role, obj.is_active
        obj.role, obj.is_active = current.role, current.is_active
        super().save_model(request, obj, form, change)
        updated = services.update_member(user=obj, by=request.user, role=role, is_active=is_active)
        obj.role, obj.is_active, obj.deactivated_at = (
            updated.role,
            updated.is_active,
            updated.deactivated_at,
        )

    @admin.action(description="Deactivate selected users (frees their seats)")
    def deactivate(self, request, queryset):
        for user in queryset.select_related("organization"):
            try:
                services.update_member(user=user, by=request.user, is_active=False)
            except ValidationError as exc:
                self.message_user(
                    request, f"{user.email}: {' '.join(exc.messages)}", messages.ERROR
                )

    actions = ["deactivate"]


@admin.register(Invitation)
class InvitationAdmin(TenantAdmin):
    """Read-only: invitations are sent from the Team page, which emails the link."""

    list_display = ("email", "role", "invited_by", "created_at", "accepted_at", "revoked_at")
    list_filter = ("role", "invited_by")
    search_fields = ("email",)
    actions = ["withdraw"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Withdraw selected invitations", permissions=["view"])
    def withdraw(self, request, queryset):
        for invitation in queryset.select_related("organization"):
            services.revoke_invitation(invitation=invitation, by=request.user)


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnly, TenantAdmin):
    """What was changed in the admin, by whom: an org admin sees their own team's entries."""

    tenant_field = "user__organization"
    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag")
    list_filter = ("action_flag", "user")
    search_fields = ("object_repr", "change_message")
    date_hierarchy = "action_time"
