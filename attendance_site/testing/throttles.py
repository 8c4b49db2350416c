"""Throttle history for tests: it lives in Redis, which no test's database rollback clears."""

import redis
from django.conf import settings
from django.core.cache import cache


def throttle_history_clear() -> None:
    """Forget every DRF throttle's history (keys ``throttle_<scope>_<ident>`` in the cache)."""
    pattern = cache.make_key("throttle_*")
    with redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]) as client:
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
