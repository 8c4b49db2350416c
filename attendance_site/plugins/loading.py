"""Plugin start-up: validation while settings load, extensions once apps are ready.

``plugins_install`` runs in settings.py, before Django imports any model: it checks each
enabled plugin's version range and required settings and merges its defaults, so a
plugin that cannot run stops start-up with a message naming it. ``extensions_load``
runs last among the apps' ``ready()`` and fills the registry from every installed app's
``extensions.py`` in INSTALLED_APPS order (built-ins first), then freezes it and checks
that the configured biometric backends are registered.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import module_has_submodule

from attendance_site.plugins import PluginConfig

EXTENSIONS_MODULE = "extensions"


def plugins_install(*, plugins: list[str], plugins_config: dict[str, Any], platform_version: str) -> list[str]:
    """The INSTALLED_APPS entries of the enabled plugins; ``plugins_config`` gets their defaults merged in."""
    if not isinstance(plugins_config, dict):
        raise ImproperlyConfigured(
            f"PLUGINS_CONFIG must be a JSON object keyed by plugin name, not {plugins_config!r}."
        )
    duplicates = sorted({name for name in plugins if plugins.count(name) > 1})
    if duplicates:
        raise ImproperlyConfigured(f"PLUGINS lists {', '.join(duplicates)} more than once.")
    entries = []
    for plugin_name in plugins:
        config_class = plugin_config_class(plugin_name)
        plugins_config[plugin_name] = config_class.validate(plugins_config.get(plugin_name, {}), platform_version)
        entries.append(f"{config_class.__module__}.{config_class.__qualname__}")
    return entries


def plugin_config_class(plugin_name: str) -> type[PluginConfig]:
    """The one PluginConfig subclass that ``<plugin_name>.apps`` defines."""
    try:
        module = import_module(f"{plugin_name}.apps")
    except ModuleNotFoundError as error:
        if error.name is not None and (plugin_name + ".apps").startswith(error.name):
            raise ImproperlyConfigured(
                f"Plugin {plugin_name} (PLUGINS): no module {error.name!r}; a plugin is a package with an apps.py."
            ) from error
        raise
    candidates = [
        candidate
        for _, candidate in inspect.getmembers(module, inspect.isclass)
        if issubclass(candidate, PluginConfig) and candidate.__module__ == module.__name__
    ]
    if len(candidates) != 1:
        raise ImproperlyConfigured(
            f"Plugin {plugin_name}: its apps.py must define one subclass of attendance_site.plugins.PluginConfig,"
            f" found {len(candidates)}."
        )
    config_class = candidates[0]
    if config_class.name != plugin_name:
        raise ImproperlyConfigured(
            f"Plugin {plugin_name}: {config_class.__qualname__}.name is {config_class.name!r};"
            f" it must be the module listed in PLUGINS."
        )
    return config_class


def extensions_load(app_configs: Iterable[AppConfig]) -> None:
    from attendance_site.registry import registry

    stores = registry.stores()
    for app_config in app_configs:
        module = _extensions_module(app_config)
        if module is None:
            continue
        _names_check(app_config, module, stores.keys())
        for store_name, store in stores.items():
            items = getattr(module, store_name, None)
            if items is None:
                continue
            if not isinstance(items, list | tuple):
                raise ImproperlyConfigured(
                    f"{app_config.name}: {EXTENSIONS_MODULE}.{store_name} must be a list, not {type(items).__name__}."
                )
            for item in items:
                store.register(item, owner=app_config.name)
    registry.freeze()
    biometric_backends_check(settings.BIOMETRIC_BACKENDS)


def biometric_backends_check(configured: dict[str, str]) -> None:
    """Each configured backend must be registered, and of its kind, before anything asks for it."""
    from attendance_site.registry import BIOMETRIC_BACKEND_KINDS, registry

    for kind, key in configured.items():
        if kind not in BIOMETRIC_BACKEND_KINDS:
            raise ImproperlyConfigured(
                f"BIOMETRIC_BACKENDS: {kind!r} is no kind of biometric backend"
                f" (kinds: {', '.join(sorted(BIOMETRIC_BACKEND_KINDS))})."
            )
        backend = registry.biometric_backends.get(key)
        if backend is None or backend.kind != kind:
            known = sorted(item.key for item in registry.biometric_backends if item.kind == kind)
            raise ImproperlyConfigured(
                f"BIOMETRIC_BACKENDS[{kind!r}]: no {kind} backend {key!r} is registered"
                f" (registered: {', '.join(known)})."
            )
    missing = set(BIOMETRIC_BACKEND_KINDS) - configured.keys()
    if missing:
        raise ImproperlyConfigured(f"BIOMETRIC_BACKENDS names no backend for {', '.join(sorted(missing))}.")


def _extensions_module(app_config: AppConfig) -> ModuleType | None:
    if not module_has_submodule(app_config.module, EXTENSIONS_MODULE):
        return None
    return import_module(f"{app_config.name}.{EXTENSIONS_MODULE}")


def _names_check(app_config: AppConfig, module: ModuleType, store_names: Iterable[str]) -> None:
    """A misspelt store (``menu_item = [...]``) would otherwise be skipped without a word."""
    known = set(store_names)
    for name, value in vars(module).items():
        if name.startswith("_") or name in known or not isinstance(value, list | tuple):
            continue
        raise ImproperlyConfigured(
            f"{app_config.name}: {EXTENSIONS_MODULE}.{name} is no registry store (stores: {', '.join(sorted(known))});"
            f" name helpers with a leading underscore."
        )
