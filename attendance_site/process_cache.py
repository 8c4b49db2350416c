"""Values built once per process and kept while shared version keys say they are current.

Face galleries and active rule sets are read on every check-in and change rarely: each
process keeps its own copy, and a version key in Redis, bumped after every change, tells
all processes when to rebuild. Redis holds only the versions, so losing it costs a
rebuild, never a wrong answer:

- a key that is gone (Redis restarted empty) gets a fresh version, so every copy is stale;
- while Redis is unreachable, :func:`attendance_site.outages.shared_version` gives None
  and the value is rebuilt from the database on every use;
- a bump that could not be written during an outage is covered by ``max_age_s``: no copy
  lives longer than that without a rebuild.
"""

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from attendance_site.outages import shared_version, shared_version_bump

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class VersionedProcessCache(Generic[Key, Value]):
    def __init__(self, *, version_keys: Callable[[Key], list[str]], max_age_s: float = 300.0):
        self._version_keys = version_keys
        self._max_age_s = max_age_s
        self._entries: dict[Key, tuple[tuple[str, ...], float, Value]] = {}

    def get(self, key: Key, build: Callable[[], Value]) -> Value:
        versions = [shared_version(version_key) for version_key in self._version_keys(key)]
        now = time.monotonic()
        entry = self._entries.get(key)
        if (
            entry is not None
            and None not in versions
            and entry[0] == tuple(versions)
            and now - entry[1] < self._max_age_s
        ):
            return entry[2]
        value = build()
        if None in versions:
            self._entries.pop(key, None)  # cannot tell when it goes stale: do not keep it
        else:
            self._entries[key] = (tuple(versions), now, value)  # type: ignore[arg-type]
        return value

    @staticmethod
    def invalidate(version_key: str) -> None:
        """Make every process's copies under this version key stale (call after commit)."""
        shared_version_bump(version_key)

    def clear(self) -> None:
        """Forget this process's copies (tests, whose databases reuse ids after a rollback)."""
        self._entries.clear()
