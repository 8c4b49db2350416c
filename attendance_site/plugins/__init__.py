"""The plugin framework (modelled on NetBox's netbox/plugins/): what a plugin declares.

A plugin is a Django app whose ``apps.py`` defines a subclass of ``PluginConfig``. It is
enabled by listing its module in the ``PLUGINS`` environment variable, and configured
under its name in ``PLUGINS_CONFIG`` (JSON). Settings validate every enabled plugin
before Django starts (``plugins_install``); once apps are ready, every installed app's
``extensions.py``, built-in or plugin, fills the registry (loading.py). docs/plugins.md
is the reference.

This module is imported by settings.py, so it imports nothing that needs settings.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured
from packaging.version import InvalidVersion, Version


class PluginConfig(AppConfig):
    """The AppConfig of a plugin: metadata, the platform versions it runs on, its settings."""

    version: ClassVar[str] = ""
    author: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # Its pages are served under /plugins/<base_url>/, its API under /api/plugins/<base_url>/;
    # the app label when not set.
    base_url: ClassVar[str] = ""
    # The platform versions it runs on (attendance_site.__version__), both ends included.
    min_version: ClassVar[str | None] = None
    max_version: ClassVar[str | None] = None
    # Keys PLUGINS_CONFIG must give it, and the values of the keys it may leave out.
    required_settings: ClassVar[tuple[str, ...]] = ()
    default_settings: ClassVar[dict[str, Any]] = {}

    @classmethod
    def validate(cls, user_config: dict[str, Any], platform_version: str) -> dict[str, Any]:
        """The plugin's settings, defaults merged in; ImproperlyConfigured if it cannot run here."""
        cls._version_check(platform_version)
        if not isinstance(user_config, dict):
            raise ImproperlyConfigured(
                f"Plugin {cls.name}: PLUGINS_CONFIG[{cls.name!r}] must be a JSON object, not {user_config!r}."
            )
        missing = [setting for setting in cls.required_settings if setting not in user_config]
        if missing:
            raise ImproperlyConfigured(
                f"Plugin {cls.name} requires the setting {missing[0]!r}: set it in "
                f'PLUGINS_CONFIG, e.g. PLUGINS_CONFIG=\'{{"{cls.name}": {{"{missing[0]}": ...}}}}\'.'
            )
        return {**cls.default_settings, **user_config}

    @classmethod
    def _version_check(cls, platform_version: str) -> None:
        current = Version(platform_version)
        for setting in ("min_version", "max_version"):
            bound = getattr(cls, setting)
            if bound is None:
                continue
            try:
                limit = Version(bound)
            except InvalidVersion:
                raise ImproperlyConfigured(f"Plugin {cls.name}: {setting} {bound!r} is not a version number.")
            too_old = setting == "min_version" and current < limit
            too_new = setting == "max_version" and current > limit
            if too_old or too_new:
                word = "at least" if too_old else "at most"
                raise ImproperlyConfigured(
                    f"Plugin {cls.name} requires platform version {word} {bound} ({setting}), "
                    f"and this platform is version {platform_version}."
                )

    @property
    def settings(self) -> dict[str, Any]:
        """This plugin's settings from PLUGINS_CONFIG, defaults included."""
        from django.conf import settings

        return dict(settings.PLUGINS_CONFIG.get(self.name, {}))

    @property
    def url_prefix(self) -> str:
        return self.base_url or self.label


def plugin_setting(plugin_name: str, key: str) -> Any:
    """One setting of an enabled plugin (defaults included), by the plugin's module name."""
    from django.conf import settings

    if plugin_name not in settings.PLUGINS:
        raise ImproperlyConfigured(f"Plugin {plugin_name} is not enabled (PLUGINS).")
    return settings.PLUGINS_CONFIG[plugin_name][key]


def domain_app_labels() -> tuple[str, ...]:
    """The apps whose data roles are about: the project's own apps and every enabled plugin.

    Django's and third-party apps stay with superusers, and so does the platform
    (attendance_site.*): its tables are plumbing, not anyone's data.
    """
    from django.apps import apps
    from django.conf import settings

    labels = []
    for app_config in apps.get_app_configs():
        package = app_config.name.split(".")[0]
        ours = package != "attendance_site" and (settings.BASE_DIR / package).is_dir()
        if ours or isinstance(app_config, PluginConfig):
            labels.append(app_config.label)
    return tuple(labels)


__all__ = ["PluginConfig", "domain_app_labels", "plugin_setting"]
