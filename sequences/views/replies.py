"""The replies inbox: every reply to what I sent or what was sent on my behalf, and every reply
that came into my own inbox, with its text, its sentiment and the way back to the thread."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from outreach.keyset import keyset_page

from .. import selectors
from ..models import Sentiment

PAGE_SIZE = 25


@require_GET
def reply_list(request):
    """The replies, newest first, a page at a time (off the index message_replies_newest)."""
    page = keyset_page(
        selectors.replies_for(request.user), key="sent_at", params=request.GET, size=PAGE_SIZE
    )
    here = request.get_full_path()
    return render(
        request,
        "sequences/replies.html",
        {"page": page, "here": here, "sentiments": Sentiment.choices},
    )


@require_GET
def reply_text(request, pk):
    """The whole reply, read through its mailbox's provider (only its snippet is stored)."""
    reply = get_object_or_404(selectors.replies_for(request.user), pk=pk)
    return render(
        request, "sequences/_reply_text.html", {"text": selectors.conversation_text(reply)}
    )
