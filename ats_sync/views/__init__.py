from django.core.exceptions import PermissionDenied


def admins_only(request) -> None:
    """ATS sync's pages are the team admins' (403 for everyone else)."""
    if not request.user.is_org_admin:
        raise PermissionDenied("Only the team's admins manage the ATS sync.")
