"""What a domain event handler is; handlers are declared in an app's extensions.py (registry.event_handlers).

A handler's name is stored with every event it has taken (so it must not change), and it
must be idempotent: an event can reach it twice when a worker dies between the handler
finishing and its delivery being recorded.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


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
