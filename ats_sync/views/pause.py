"""The pause link of the notice filed in the sender's own copy of a thread. No login: the link is
signed and reached only from that mailbox. GET only asks (mail scanners open links); the POST of
its form pauses, once, with the usual CSRF check."""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import services


@never_cache
@require_http_methods(["GET", "POST"])
def pause(request, token):
    notice = services.notice_for_link(token)
    if notice is None:
        return render(request, "ats_sync/pause_invalid.html", status=404)
    context = {"prospect": notice.prospect, "email": notice.prospect.email}
    if request.method == "POST":
        if services.pause_from_link(notice):
            return render(request, "ats_sync/pause_done.html", context)
        return render(request, "ats_sync/pause_used.html", context, status=410)
    if notice.pause_used_at is not None:
        return render(request, "ats_sync/pause_used.html", context, status=410)
    return render(request, "ats_sync/pause.html", context)
