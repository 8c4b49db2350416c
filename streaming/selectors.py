"""Reads of the streaming app, through the caller's site scope."""

from django.db.models import QuerySet

from employees.selectors import visible_site_ids
from streaming.models import CameraHostAllowance, CameraStream


def camera_streams_visible_to(user) -> QuerySet[CameraStream]:
    return CameraStream.objects.filter(site_id__in=visible_site_ids(user))


def camera_hosts_visible_to(user) -> QuerySet[CameraHostAllowance]:
    return CameraHostAllowance.objects.filter(site_id__in=visible_site_ids(user))
