from django.urls import path

from streaming import views
from streaming.api import router

app_name = "streaming"
urlpatterns = router.urls

# Pages, mounted at the site root outside the API's namespace.
page_urlpatterns = [
    path("streams/<int:stream_id>/", views.stream_player, name="stream-player"),
    path("streams/<int:stream_id>/hls/<str:filename>", views.hls_file, name="stream-hls"),
]
