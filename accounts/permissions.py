"""Who may do what: every access decision of the project goes through this module.

Two independent axes:
- role (group membership): Admins change things, Viewers only read;
- scope (guardian): the object permission ``employees.access_site`` on a Site. Held on
  the model (not an object), it means every site. Superusers are admins of every site.
Devices are not people: they authenticate with their own credential (attendance) and
never pass these checks.
"""

from typing import TYPE_CHECKING, TypeAlias, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import ROLE_GROUP_NAMES, Role

if TYPE_CHECKING:
    # Only for annotations: importing DRF's views here at run time would import this
    # module again through DEFAULT_PERMISSION_CLASSES.
    from rest_framework.request import Request
    from rest_framework.views import APIView

SITE_ACCESS_PERMISSION = "employees.access_site"

User = get_user_model()

# Whoever a request carries: a person, or nobody. Services and selectors take this and
# decide from the role, so a view never has to narrow it first.
RequestUser: TypeAlias = AbstractBaseUser | AnonymousUser
# Who makes a change: a person, or None for the system itself (commands, the demo).
Actor: TypeAlias = RequestUser | None


_ROLE_CACHE_ATTRIBUTE = "_attendance_role"
_NOT_CACHED = object()


def user_role(user: RequestUser | None) -> Role | None:
    if not isinstance(user, User) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    # Cached on the request's user object, which a request asks many times.
    cached = getattr(user, _ROLE_CACHE_ATTRIBUTE, _NOT_CACHED)
    if cached is not _NOT_CACHED:
        return cast(Role | None, cached)
    group_names = set(user.groups.values_list("name", flat=True))
    role = None
    if ROLE_GROUP_NAMES[Role.ADMIN] in group_names:
        role = Role.ADMIN
    elif ROLE_GROUP_NAMES[Role.VIEWER] in group_names:
        role = Role.VIEWER
    setattr(user, _ROLE_CACHE_ATTRIBUTE, role)
    return role


def user_is_admin(user: RequestUser | None) -> bool:
    return user_role(user) == Role.ADMIN


class IsStaffMemberWithRole(BasePermission):
    """People with a role: viewers read, admins read and write.

    Which objects they reach is decided by the ``*_visible_to`` selectors that every
    viewset's queryset goes through; a site outside the scope answers 404.
    """

    message = "Your role does not allow this."

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        role = user_role(request.user)
        if role is None:
            return False
        return request.method in SAFE_METHODS or role == Role.ADMIN


class IsAdminRole(BasePermission):
    message = "Only admins may do this."

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        return user_is_admin(request.user)
