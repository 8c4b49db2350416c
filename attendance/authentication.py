"""Device authentication: ``Authorization: Device <credential>``.

Devices are not people. A device request carries no user: ``request.user`` is a
``DevicePrincipal`` and ``request.auth`` the Device, and the people's permission
classes refuse it.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from attendance.models import Device
from attendance.services import device_authenticate
from attendance_site.throttling import SettingsRateThrottleMixin


class DevicePrincipal:
    """Stands in for request.user on device requests."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, device: Device):
        self.device = device
        self.pk = None

    def __str__(self) -> str:
        return f"device:{self.device.pk}"


class DeviceAuthentication(authentication.BaseAuthentication):
    keyword = "Device"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Device <credential>'.")
        try:
            credential = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Malformed device credential.")
        device = device_authenticate(credential=credential)
        if device is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked device credential.")
        return DevicePrincipal(device), device

    def authenticate_header(self, request) -> str:
        return self.keyword


class IsDevice(BasePermission):
    message = "This endpoint is for devices; authenticate with 'Authorization: Device <credential>'."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Device)


class DeviceRateThrottle(SettingsRateThrottleMixin, SimpleRateThrottle):
    """The ``device`` rate, counted per device: one busy kiosk never slows another.

    Set on every view that authenticates devices; requests of people pass untouched.
    """

    scope = "device"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, Device):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class DeviceAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "attendance.authentication.DeviceAuthentication"
    name = "deviceAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Device <credential>`: the credential shown once when the device was created.",
        }
