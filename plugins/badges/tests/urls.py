"""Until the plugin framework mounts plugins: the project's routes plus this plugin's API."""

from django.urls import include, path

from attendance_site.urls import handler404, handler500  # noqa: F401
from attendance_site.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("api/plugins/badges/", include("plugins.badges.api")), *project_urlpatterns]
