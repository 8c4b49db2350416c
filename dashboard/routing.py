from django.urls import path

from dashboard.consumers import LiveConsumer

# Channels routes ASGI applications through Django's path(), whose stubs know only views.
websocket_urlpatterns = [path("ws/live/", LiveConsumer.as_asgi())]  # type: ignore[arg-type]
