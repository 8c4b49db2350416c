"""Template access to the badge figures of a person's sites, for the dashboard's badge panel.

The dashboard includes the panel without knowing of badges; the figures come through
the same site-scoped selectors as the API.
"""

from django import template
from django.utils import timezone

from plugins.badges.selectors import BadgeSiteSummary, badge_summaries_visible_to

register = template.Library()


@register.simple_tag(takes_context=True)
def badge_summaries(context: template.Context) -> list[BadgeSiteSummary]:
    return badge_summaries_visible_to(context["request"].user, now=timezone.now())
