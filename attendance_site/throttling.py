"""DRF throttles whose rates follow the settings at request time, and that fail open.

DRF copies ``DEFAULT_THROTTLE_RATES`` into its throttle classes once, at import, so a
rate changed afterwards (by a test's settings override, say) would be ignored. The
throttles themselves are where their keys are: per address and person in accounts,
per device in attendance. Their history lives in the Django cache (Redis).
"""

from rest_framework.settings import api_settings

from attendance_site.outages import OUTAGE_ERRORS, redis_breaker


class SettingsRateThrottleMixin:
    """Read the scope's rate on every request; an empty rate turns the throttle off."""

    scope: str

    def get_rate(self) -> str | None:
        # A scope missing from the settings is a KeyError, not a silently open door.
        rate = api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        return str(rate) if rate else None

    def allow_request(self, request, view) -> bool:
        # A throttle guards a request; it is not what the request needs. Without Redis
        # it lets requests through at once (the breaker spares each one Redis's timeout),
        # so check-ins go on; the login lockout is kept in the database and still holds.
        if redis_breaker.is_open():
            return True
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except OUTAGE_ERRORS as error:
            redis_breaker.trip(error)
            return True
