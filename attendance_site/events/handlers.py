"""Who reacts to which domain events: a registry that built-in apps fill in their AppConfig.ready().

A handler's name is stored with every event it has taken (so it must not change), and it
must be idempotent: an event can reach it twice when a worker dies between the handler
finishing and its delivery being recorded.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from attendance_site.events.types import EVENT_TYPES


@dataclass(frozen=True)
class DeliveredEvent:
    id: int
    type: str
    version: int
    site_id: int | None
    payload: dict
    created_at: datetime


@dataclass(frozen=True)
class EventHandler:
    name: str
    event_types: frozenset[str]
    handle: Callable[[DeliveredEvent], None]


class EventHandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, EventHandler] = {}

    def register(self, handler: EventHandler) -> None:
        if handler.name in self._handlers:
            raise ValueError(f"an event handler named {handler.name!r} is already registered")
        unknown = handler.event_types - EVENT_TYPES.keys()
        if unknown:
            raise ValueError(f"event handler {handler.name!r} listens to unknown event types: {sorted(unknown)}")
        self._handlers[handler.name] = handler

    def unregister(self, name: str) -> None:
        """Tests only: take a handler out again."""
        del self._handlers[name]

    def handlers_for(self, event_type: str) -> list[EventHandler]:
        return [handler for handler in self._handlers.values() if event_type in handler.event_types]


event_handlers = EventHandlerRegistry()
