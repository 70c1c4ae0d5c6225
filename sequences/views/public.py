"""The public links in the emails: the open pixel, tracked links, unsubscribing.

No login: the prospect follows them. They answer the same to a bad token as to a good one where
they can (the pixel), else a plain 404, so that they tell nothing about what exists.
"""

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .. import tracking
from .. import unsubscribe as unsubscribing


@require_http_methods(["GET", "HEAD"])
def track_open(request, token):
    """The pixel: always the same transparent GIF, never cached, whatever the token."""
    if request.method == "GET":
        tracking.record_open(
            token, user_agent=request.headers.get("User-Agent", ""), viewer=request.user
        )
    response = HttpResponse(tracking.PIXEL, content_type="image/gif")
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "HEAD"])
def track_click(request, token):
    """A tracked link: recorded (on GET), then on to the URL the email pointed to."""
    clicked = tracking.destination(token)
    if clicked is None:
        raise Http404
    message_id, url = clicked
    if request.method == "GET":
        tracking.record_click(
            message_id, url, user_agent=request.headers.get("User-Agent", ""), viewer=request.user
        )
    response = HttpResponseRedirect(url)
    add_never_cache_headers(response)
    # The destination learns nothing of the tracked URL it came through.
    response["Referrer-Policy"] = "no-referrer"
    return response


# Mail clients POST the RFC 8058 one-click request with no cookie and no token of ours, so this
# view cannot ask for a CSRF token; the signed token in the URL is what authorizes the POST, and a
# page that forged one would need that token too.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET: what unsubscribing will do, with a button. POST: done, from that button or from the
    one-click POST of a mail client (List-Unsubscribe=One-Click)."""
    message = unsubscribing.message_for(token)
    if message is None:
        return render(request, "sequences/unsubscribe_invalid.html", status=404)
    context = {"email": message.prospect.email, "organization": message.organization}
    if request.method == "GET":
        return render(request, "sequences/unsubscribe.html", context)
    one_click = request.POST.get("List-Unsubscribe") == unsubscribing.ONE_CLICK
    unsubscribing.unsubscribe(
        prospect=message.prospect,
        source="one-click from the mail client" if one_click else "unsubscribe page",
        message=message,
    )
    return render(request, "sequences/unsubscribed.html", context)
