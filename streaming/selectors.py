"""Reads of the streaming app, through the caller's site scope."""

from django.db.models import QuerySet

from accounts.permissions import RequestUser
from accounts.selectors import visible_site_ids
from employees.models import Site
from streaming.models import CameraHostAllowance, CameraStream


def camera_streams_visible_to(user: RequestUser) -> QuerySet[CameraStream]:
    return CameraStream.objects.filter(site_id__in=visible_site_ids(user))


def camera_hosts_visible_to(user: RequestUser) -> QuerySet[CameraHostAllowance]:
    # Ordered, so that pages of the list neither repeat nor skip an entry.
    return CameraHostAllowance.objects.filter(site_id__in=visible_site_ids(user)).order_by("site_id", "pk")


def camera_allowances(*, site: Site) -> tuple[str, ...]:
    """The site's camera allowlist entries, as the address rule (camera_addresses) takes them."""
    return tuple(CameraHostAllowance.objects.filter(site=site).order_by("pk").values_list("host", flat=True))
