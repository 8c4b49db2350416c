"""Each enabled plugin's routes: ``urls.py`` under /plugins/<base_url>/, ``api.py`` under /api/plugins/<base_url>/."""

from django.apps import apps
from django.urls import URLPattern, URLResolver, include, path
from django.utils.module_loading import module_has_submodule

from attendance_site.plugins import PluginConfig


def _plugin_routes() -> list[URLPattern | URLResolver]:
    routes: list[URLPattern | URLResolver] = []
    for app_config in apps.get_app_configs():
        if not isinstance(app_config, PluginConfig):
            continue
        prefix = app_config.url_prefix
        if module_has_submodule(app_config.module, "urls"):
            routes.append(path(f"plugins/{prefix}/", include(f"{app_config.name}.urls")))
        if module_has_submodule(app_config.module, "api"):
            routes.append(path(f"api/plugins/{prefix}/", include(f"{app_config.name}.api")))
    return routes


urlpatterns = _plugin_routes()
