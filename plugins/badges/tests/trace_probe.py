"""Prints, as JSON, every trace the badge plugin can leave in a process: run by test_plugin_traces.

``python -m plugins.badges.tests.trace_probe`` under the settings of its environment
(PLUGINS decides); it makes no database query.
"""

import json

import django


def traces() -> dict[str, object]:
    from django.apps import apps
    from django.contrib import admin
    from django.test import Client
    from drf_spectacular.generators import SchemaGenerator

    from attendance_site.registry import registry

    client = Client(HTTP_HOST="localhost")  # a host ALLOWED_HOSTS of the child process lists
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        "installed": apps.is_installed("plugins.badges"),
        "routes": {
            path: client.generic(method, path).status_code
            for method, path in [
                ("GET", "/api/plugins/badges/"),
                ("GET", "/api/plugins/badges/badges/"),
                ("POST", "/api/plugins/badges/device/check-in/"),
            ]
        },
        "schema_paths": sorted(path for path in schema["paths"] if "badge" in path),
        "menu_items": registry.menu_items.keys(),
        "dashboard_panels": registry.dashboard_panels.keys(),
        "checkin_methods": registry.checkin_methods.keys(),
        "modes": sorted(mode for method in registry.checkin_methods for mode in method.modes),
        "event_handlers": registry.event_handlers.keys(),
        "admin_models": sorted(model._meta.label for model in admin.site._registry),
    }


if __name__ == "__main__":
    django.setup()
    print(json.dumps(traces()))
