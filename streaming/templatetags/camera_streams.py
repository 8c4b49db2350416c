"""Template access to the cameras a person may see, for the dashboard's camera tiles.

Panels are plain templates included by the dashboard, which knows nothing of cameras;
the tiles load their streams through the same site-scoped selector as the API.
"""

from django import template

from streaming.models import CameraStream
from streaming.selectors import camera_streams_visible_to

register = template.Library()


@register.simple_tag(takes_context=True)
def camera_streams_visible(context) -> list[CameraStream]:
    return list(camera_streams_visible_to(context["request"].user).order_by("site_id", "name"))
