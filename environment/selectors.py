"""Reads of the environment app: current conditions and downsampled history."""

from datetime import datetime

from django.db.models import Avg, Count, Max, Min, OuterRef, QuerySet, Subquery
from django.db.models.functions import Trunc

from attendance.models import Device
from employees.selectors import visible_site_ids
from environment.models import ConditionReading
from environment.services import READING_FIELDS

NUMERIC_FIELDS = (
    "light_lux",
    "noise_db",
    "temperature_c",
    "network_latency_ms",
    "network_loss_pct",
    "network_bandwidth_kbps",
)
BUCKETS = ("minute", "hour", "day")


def readings_visible_to(user) -> QuerySet[ConditionReading]:
    return ConditionReading.objects.filter(site_id__in=visible_site_ids(user))


def device_conditions_current(*, device_ids) -> dict[int, ConditionReading]:
    """Each device's newest reading, in two indexed queries whatever the number of devices."""
    newest = ConditionReading.objects.filter(device_id=OuterRef("pk")).order_by("-recorded_at", "-id").values("id")[:1]
    reading_ids = (
        Device.objects.filter(pk__in=device_ids)
        .annotate(reading_id=Subquery(newest))
        .values_list("reading_id", flat=True)
    )
    readings = ConditionReading.objects.filter(id__in=[rid for rid in reading_ids if rid is not None])
    return {reading.device_id: reading for reading in readings}


def readings_history(
    *, queryset: QuerySet[ConditionReading], start: datetime | None, end: datetime | None, bucket: str | None
) -> list[dict]:
    """Readings in [start, end), raw or averaged per device and minute/hour/day bucket."""
    if start is not None:
        queryset = queryset.filter(recorded_at__gte=start)
    if end is not None:
        queryset = queryset.filter(recorded_at__lt=end)
    if bucket is None:
        return list(queryset.order_by("recorded_at", "id").values("device_id", "recorded_at", *READING_FIELDS)[:5000])
    return list(
        queryset.annotate(period=Trunc("recorded_at", bucket))
        .values("device_id", "period")
        .annotate(
            readings=Count("id"),
            **{f"{field}_avg": Avg(field) for field in NUMERIC_FIELDS},
            light_lux_min=Min("light_lux"),
            noise_db_max=Max("noise_db"),
        )
        .order_by("period", "device_id")[:5000]
    )
