from django.apps import AppConfig, apps


class PluginFrameworkConfig(AppConfig):
    """Listed last in INSTALLED_APPS, so its ready() runs when every other app is ready."""

    name = "attendance_site.plugins"
    label = "plugin_framework"
    verbose_name = "Plugin framework"

    def ready(self) -> None:
        from attendance_site.plugins.loading import extensions_load

        extensions_load(apps.get_app_configs())
