"""ASGI entry point: Django HTTP plus Channels WebSockets, behind the request limits."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from attendance_site.request_limits import RequestLimitsMiddleware  # noqa: E402
from dashboard.routing import websocket_urlpatterns  # noqa: E402

application = RequestLimitsMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            # URLRouter's stubs want a pattern type of their own that Django's path() never returns.
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(URLRouter(websocket_urlpatterns))  # type: ignore[arg-type]
            ),
        }
    )
)
