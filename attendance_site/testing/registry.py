"""Tests only: put items into the frozen registry for the duration of a ``with`` block."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from attendance_site.registry import Store

ItemT = TypeVar("ItemT")


@contextmanager
def registered(store: Store[ItemT], *items: ItemT, owner: str = "tests") -> Iterator[None]:
    """Register ``items`` as an extensions.py would, and take them out again afterwards."""
    added: list[str] = []
    frozen = store._frozen
    store._frozen = False
    try:
        for item in items:
            store.register(item, owner=owner)
            added.append(store._key(item))
    except BaseException:
        _remove(store, added)
        raise
    finally:
        store._frozen = frozen
    try:
        yield
    finally:
        _remove(store, added)


def _remove(store: Store[ItemT], keys: list[str]) -> None:
    for key in keys:
        del store._items[key]
        del store._owners[key]
