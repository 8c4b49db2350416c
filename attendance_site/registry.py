"""The extension registry: fixed keys that apps and plugins add to.

Built-in apps register exactly as a plugin would (in their AppConfig.ready), so the
dashboard renders whatever panels and menu entries are registered, without knowing
which app provided them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DashboardPanel:
    key: str
    title: str
    template: str
    order: int = 100
    # Whether a given person sees the panel at all (default: everyone with a role).
    visible_to: Callable[[object], bool] = field(default=lambda user: True)


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str
    url: str
    order: int = 100
    visible_to: Callable[[object], bool] = field(default=lambda user: True)


class Registry:
    """Items under one key; keys are unique so a plugin cannot silently replace a panel."""

    def __init__(self, name: str):
        self.name = name
        self._items: dict[str, object] = {}

    def register(self, item) -> None:
        if item.key in self._items:
            raise ValueError(f"{self.name}: {item.key!r} is already registered")
        self._items[item.key] = item

    def unregister(self, key: str) -> None:
        self._items.pop(key, None)

    def for_user(self, user) -> list:
        return sorted((item for item in self._items.values() if item.visible_to(user)), key=lambda item: item.order)


registry: dict[str, Registry] = {
    name: Registry(name)
    for name in ("dashboard_panels", "menu_items", "anomaly_detectors", "integration_transports", "export_formats")
}
