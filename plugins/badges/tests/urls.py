"""Until the plugin framework mounts plugins: the project's routes plus this plugin's API."""

from django.urls import include, path

from attendance_site.urls import handler404, handler500, urlpatterns as project_urlpatterns  # noqa: F401

urlpatterns = [path("api/plugins/badges/", include("plugins.badges.api")), *project_urlpatterns]
