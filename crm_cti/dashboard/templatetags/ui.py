"""Template tags shared by every page: the click-to-dial tag and layout helpers.

``{% load ui %}`` then ``{% dial number %}`` renders a phone number as a RingOut button
plus ``rcmobile://`` and ``tel:`` links. Every phone number on every page goes through it
so that click-to-dial behaves the same everywhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import template
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString, mark_safe

from crm_cti.crm.phones import format_display, is_extension_number, try_normalize_e164
from crm_cti.telephony.serializers import call_outcome_text

register = template.Library()


def dial_context(number: str | None, *, label: str = "") -> dict[str, Any]:
    """What the dial widget needs: display text, the E.164 to dial and the link targets."""
    raw = (number or "").strip()
    if not raw:
        return {"empty": True}
    if is_extension_number(raw):
        # Internal extensions are dialled as is; RingOut accepts them too.
        target = raw
        display = f"ext. {raw}"
    else:
        target = try_normalize_e164(raw)
        display = format_display(target) if target else raw
    digits = target.lstrip("+") if target else ""
    return {
        "empty": False,
        "raw": raw,
        "display": display,
        "target": target,
        "label": label,
        "dialable": bool(target),
        "tel_href": f"tel:{target}" if target else "",
        "rcmobile_href": f"rcmobile://call?number={quote(digits)}" if digits else "",
    }


@register.simple_tag
def dial(number: str | None, label: str = "") -> SafeString:
    """Render ``number`` with its click-to-dial controls (``{% dial number %}``)."""
    context = dial_context(number, label=label)
    if context["empty"]:
        return mark_safe('<span class="muted">—</span>')
    return mark_safe(render_to_string("dashboard/_dial.html", context))  # noqa: S308 - escaped template


@register.filter
def controls_calls(agent: Any) -> bool:
    """``{% if me|controls_calls %}``: the agent's token carries CallControl, so the card's
    call-control buttons and "call from my phone" are offered."""
    from crm_cti.telephony.services.callcontrol import callcontrol_allowed

    return callcontrol_allowed(agent)


@register.simple_tag(takes_context=True)
def current_agent(context: template.Context) -> Any:
    """The signed-in user's Agent (or None), whether or not a context processor set it."""
    if context.get("agent") is not None:
        return context["agent"]
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    # RelatedObjectDoesNotExist is an AttributeError: a user without an Agent gives None.
    return getattr(user, "agent", None)


@register.simple_tag(takes_context=True)
def optional_include(context: template.Context, name: str) -> SafeString:
    """Include ``name`` when it exists (templates another domain may or may not provide)."""
    try:
        tmpl = get_template(name)
    except TemplateDoesNotExist:
        return mark_safe("")
    return mark_safe(tmpl.render(context.flatten(), context.get("request")))  # noqa: S308


@register.filter
def phone_display(number: str | None) -> str:
    """A number formatted for reading, without dial controls (e.g. inside a select)."""
    if not number:
        return ""
    if is_extension_number(number):
        return f"ext. {number}"
    e164 = try_normalize_e164(number)
    return format_display(e164) if e164 else number


@register.filter
def duration(seconds: int | float | None) -> str:
    """``125`` → ``2:05``; ``3725`` → ``1:02:05``."""
    if seconds in (None, ""):
        return "—"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def outcome_text(call: Any) -> str:
    """A call's telephony-session outcome ("Answered by Priya Shah"; "" when none)."""
    return call_outcome_text(call)
