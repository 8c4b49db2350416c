"""Who may do what: every access decision of the project goes through this module.

Two independent axes:
- role (group membership): Admins change things, Viewers only read;
- scope (guardian): the object permission ``employees.access_site`` on a Site. Held on
  the model (not an object), it means every site. Superusers are admins of every site.
Devices are not people: they authenticate with their own credential (attendance) and
never pass these checks.
"""

from django.contrib.auth import get_user_model
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import ROLE_GROUP_NAMES, Role

SITE_ACCESS_PERMISSION = "employees.access_site"

User = get_user_model()


def user_role(user) -> Role | None:
    if not isinstance(user, User) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    cached = getattr(user, "_attendance_role", False)
    if cached is not False:
        return cached
    group_names = set(user.groups.values_list("name", flat=True))
    role = None
    if ROLE_GROUP_NAMES[Role.ADMIN] in group_names:
        role = Role.ADMIN
    elif ROLE_GROUP_NAMES[Role.VIEWER] in group_names:
        role = Role.VIEWER
    user._attendance_role = role
    return role


def user_is_admin(user) -> bool:
    return user_role(user) == Role.ADMIN


class IsStaffMemberWithRole(BasePermission):
    """People with a role: viewers read, admins read and write.

    Which objects they reach is decided by the ``*_visible_to`` selectors that every
    viewset's queryset goes through; a site outside the scope answers 404.
    """

    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        role = user_role(request.user)
        if role is None:
            return False
        return request.method in SAFE_METHODS or role == Role.ADMIN


class IsAdminRole(BasePermission):
    message = "Only admins may do this."

    def has_permission(self, request, view) -> bool:
        return user_is_admin(request.user)
