"""Writes of the environment app: storing condition readings, purging old ones."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from attendance.models import Device
from environment.models import ConditionReading

READING_FIELDS = (
    "light_lux",
    "noise_db",
    "temperature_c",
    "network_online",
    "network_latency_ms",
    "network_loss_pct",
    "network_bandwidth_kbps",
    "camera_available",
    "microphone_available",
)


@dataclass(frozen=True)
class ReadingInput:
    """One reading in canonical units, as the API hands it over."""

    recorded_at: datetime
    values: dict


def condition_readings_record(*, device: Device, readings: list[ReadingInput]) -> list[ConditionReading]:
    """Store a batch of readings from one device, all or nothing, in one INSERT."""
    skew = timezone.now() + settings.ATTENDANCE_MAX_CLOCK_SKEW
    for index, reading in enumerate(readings):
        if reading.recorded_at > skew:
            raise ValidationError({"readings": f"Reading {index + 1}: recorded_at lies in the future."})
        if not any(reading.values.get(field) is not None for field in READING_FIELDS):
            raise ValidationError({"readings": f"Reading {index + 1}: it carries no measurement."})
    rows = [
        ConditionReading(
            device=device,
            site_id=device.site_id,
            recorded_at=reading.recorded_at,
            **{field: reading.values.get(field) for field in READING_FIELDS},
        )
        for reading in readings
    ]
    with transaction.atomic():
        ConditionReading.objects.bulk_create(rows, batch_size=1000)
        latest = max(rows, key=lambda row: row.recorded_at)
        transaction.on_commit(lambda: _reading_publish(latest), robust=True)
    return rows


def _reading_publish(reading: ConditionReading) -> None:
    from dashboard.publisher import site_message_publish

    # One message per batch: the device's newest reading is its current state.
    site_message_publish(
        site_id=reading.site_id,
        message_type="environment.reading",
        data={
            "device": reading.device_id,
            "recorded_at": reading.recorded_at.isoformat(),
            **{field: getattr(reading, field) for field in READING_FIELDS},
        },
    )


def condition_readings_purge(*, now: datetime | None = None) -> int:
    """Delete readings older than the retention period; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ENVIRONMENT_READING_RETENTION_DAYS)
    deleted, _ = ConditionReading.objects.filter(recorded_at__lt=cutoff).delete()
    return deleted
