"""Statuses in words on the pages: `{{ text|in_words }}` shows a bounce's reason in words with
the raw reason as its tooltip (`{{ reason|in_words:True }}` after the status, without repeating
it); `{{ text|in_words_detail }}` puts the raw reason beside them."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..classifier import bounce_in_words

register = template.Library()


@register.filter
def in_words(text: str, after_status: bool = False) -> str | SafeString:
    """`after_status`: shown after the status itself, so "Bounced: " is not said twice."""
    words = bounce_in_words(text or "")
    if words is None:
        return text
    if after_status:
        words = words.removeprefix("Bounced: ")
    return format_html('<span title="{}">{}</span>', text, words)


@register.filter
def in_words_detail(text: str) -> str | SafeString:
    words = bounce_in_words(text or "")
    if words is None:
        return text
    return format_html('{} <span class="muted">({})</span>', words, text.removeprefix("Bounced: "))
