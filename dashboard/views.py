"""HTML pages: the live dashboard. Data comes from /api/dashboard/ and the WebSocket."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.permissions import user_is_admin, user_role
from accounts.selectors import sites_visible_to
from attendance_site.registry import registry


@login_required
def dashboard(request):
    if user_role(request.user) is None:
        raise PermissionDenied("You have no role in this system; ask an admin for access.")
    sites = list(sites_visible_to(request.user).order_by("name"))
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "sites": sites,
            "panels": registry.dashboard_panels.for_user(request.user),
            "can_edit": user_is_admin(request.user),
        },
    )
