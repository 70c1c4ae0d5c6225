"""`{% load ats_sync %}{% ats_sync_panel prospect %}`: the prospect page's Greenhouse panel
(whether sync is paused, with Pause / Resume, the candidate's id, each message's sync)."""

from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("ats_sync/_prospect_sync.html", takes_context=True)
def ats_sync_panel(context, prospect):
    return {
        **selectors.prospect_panel(context["user"], prospect),
        "csrf_token": context.get("csrf_token", ""),
    }
