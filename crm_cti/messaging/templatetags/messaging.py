"""``{% load messaging %}{% reply_template_picker %}``: the admins' reply templates as a
select that fills the nearest SMS box (inbox.js), wherever an SMS is written."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

from crm_cti.messaging.selectors import reply_templates

register = template.Library()


@register.simple_tag
def reply_template_picker(field_id: str = "") -> str:
    templates = reply_templates()
    if not templates:
        return ""
    options = format_html_join("", '<option value="{}">{}</option>',
                               ((t.text, t.name) for t in templates))
    select_id = f"template-{field_id}" if field_id else ""
    return format_html(
        '<label class="small reply-template">Template <select data-reply-template{}>'
        '<option value="">—</option>{}</select></label>',
        format_html(' id="{}"', select_id) if select_id else "", options,
    )
