"""Reads of the environment app: current conditions and downsampled history."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Trunc
from django.utils import timezone

from accounts.permissions import RequestUser
from accounts.selectors import visible_site_ids
from attendance.models import Device
from attendance.selectors import devices_visible_to
from attendance_site.process_cache import VersionedProcessCache
from attendance_site.registry import registry
from employees.models import Site
from environment.models import READING_FIELDS, ConditionReading, DeviceModeState, RuleSet
from environment.rules import ModeDecision, decisions_as_json, modes_select

NUMERIC_FIELDS = (
    "light_lux",
    "noise_db",
    "temperature_c",
    "network_latency_ms",
    "network_loss_pct",
    "network_bandwidth_kbps",
)
BUCKETS = ("minute", "hour", "day")


def readings_visible_to(
    user: RequestUser, *, site: Site | None = None, device: Device | None = None
) -> QuerySet[ConditionReading]:
    readings = ConditionReading.objects.filter(site_id__in=visible_site_ids(user))
    if site is not None:
        readings = readings.filter(site=site)
    if device is not None:
        readings = readings.filter(device=device)
    return readings


def device_conditions_visible_to(user: RequestUser, *, site: Site | None = None) -> list[ConditionReading]:
    """The newest reading of each device the person sees (of one site, if given)."""
    devices = devices_visible_to(user)
    if site is not None:
        devices = devices.filter(site=site)
    return list(device_conditions_current(device_ids=devices.values_list("pk", flat=True)).values())


def device_conditions_current(*, device_ids: Iterable[int]) -> dict[int, ConditionReading]:
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
) -> list[Mapping[str, Any]]:
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


def rule_sets_visible_to(user: RequestUser) -> QuerySet[RuleSet]:
    """Rule sets of the person's sites, plus the default that applies to all of them."""
    return RuleSet.objects.filter(Q(site_id__in=visible_site_ids(user)) | Q(site__isnull=True))


def device_mode_states_visible_to(user: RequestUser, *, site: Site | None = None) -> QuerySet[DeviceModeState]:
    states = DeviceModeState.objects.filter(device__site_id__in=visible_site_ids(user)).order_by("device_id")
    if site is not None:
        states = states.filter(device__site=site)
    return states


# Active rule sets are cached per process, re-read after every activation.
_RULE_SET_VERSION_KEY = "environment:rule-set-version"
active_rule_sets: VersionedProcessCache[int, RuleSet | None] = VersionedProcessCache(
    version_keys=lambda site_id: [_RULE_SET_VERSION_KEY]
)


def rule_sets_invalidate() -> None:
    active_rule_sets.invalidate(_RULE_SET_VERSION_KEY)


def rule_set_for_site(*, site_id: int) -> RuleSet | None:
    """The active rule set of a site, else the active default, else None (no limits)."""
    return active_rule_sets.get(site_id, lambda: _rule_set_for_site_read(site_id))


def _rule_set_for_site_read(site_id: int) -> RuleSet | None:
    candidates = list(
        RuleSet.objects.filter(status=RuleSet.Status.ACTIVE).filter(Q(site_id=site_id) | Q(site__isnull=True))
    )
    # A site's own rule set wins over the default.
    own = [rule_set for rule_set in candidates if rule_set.site_id == site_id]
    return own[0] if own else (candidates[0] if candidates else None)


@dataclass(frozen=True)
class ModesInForce:
    allowed_modes: list[str]
    decisions: list[dict[str, Any]]


def device_modes_decide(
    *, device: Device, rule_set: RuleSet, previously_allowed: frozenset[str] = frozenset()
) -> tuple[list[ModeDecision], ConditionReading | None]:
    """(decisions, newest reading) of a rule set for a device's newest reading.

    A device with no reading yet meets no condition: only the rule set's unconditional
    modes are allowed until its first reading arrives.
    """
    reading = device_conditions_current(device_ids=[device.pk]).get(device.pk)
    conditions = {field: getattr(reading, field) for field in READING_FIELDS} if reading else {}
    return modes_select(rule_set.rules, conditions, previously_allowed), reading


def device_modes_in_force(*, device: Device) -> ModesInForce | None:
    """The modes that limit the device's check-ins now; None where no rule set applies.

    The stored state answers when there is one (readings and activations keep it
    current). A device without one, new since the last activation or never heard from,
    is decided here, without a write, whatever path its check-in takes.
    """
    try:
        state = device.mode_state
    except DeviceModeState.DoesNotExist:
        state = None
    if state is not None:
        return ModesInForce(allowed_modes=state.allowed_modes, decisions=state.decisions)
    rule_set = rule_set_for_site(site_id=device.site_id)
    if rule_set is None:
        return None
    decisions, _reading = device_modes_decide(device=device, rule_set=rule_set)
    return ModesInForce(
        allowed_modes=[decision.mode for decision in decisions if decision.allowed],
        decisions=decisions_as_json(decisions),
    )


def device_method_refusal(*, device: Device, method: str) -> str | None:
    """Why the device's current modes forbid a check-in method, or None if they allow it."""
    method_modes = registry.checkin_methods.method_modes().get(method)
    if method_modes is None:
        return None  # not a check-in method (a correction, a camera stream): never limited
    modes = device_modes_in_force(device=device)
    if modes is None or set(method_modes) & set(modes.allowed_modes):
        return None
    reasons = [f"{d['mode']}: {d['reason']}" for d in modes.decisions if d["mode"] in method_modes]
    allowed = ", ".join(modes.allowed_modes) or "none"
    return (
        f"{method} is not allowed at this device now ({'; '.join(reasons) or 'not in the rule set'}); use: {allowed}."
    )


def device_requires_liveness(*, device: Device) -> bool:
    """Face is allowed here only with a liveness check."""
    modes = device_modes_in_force(device=device)
    if modes is None:
        return False
    return "face_liveness" in modes.allowed_modes and "face" not in modes.allowed_modes


def rule_set_decide(*, rule_set: RuleSet, conditions: Mapping[str, Any]) -> list[ModeDecision]:
    """What a rule set (a draft, typically) would decide for given conditions."""
    return modes_select(rule_set.rules, conditions)


def rule_set_replay_recent(*, rule_set: RuleSet, days: int, now: datetime | None = None) -> dict[str, Any]:
    """``rule_set_replay`` over the last ``days`` days of the rule set's site."""
    if rule_set.site_id is None:
        raise ValidationError({"days": "Replay needs a site's rule set; the default applies to many sites."})
    until = now or timezone.now()
    since = until - timedelta(days=days)
    return rule_set_replay(rule_set=rule_set, site_id=rule_set.site_id, since=since, until=until)


def rule_set_replay(*, rule_set: RuleSet, site_id: int, since: datetime, until: datetime) -> dict[str, Any]:
    """What a rule set would have decided over past readings, next to the active one.

    Each device's readings are replayed in order, with hysteresis, under both rule sets;
    the answer says, per device, how often each mode would have been allowed and how many
    readings would have been decided differently.
    """
    active = rule_set_for_site(site_id=site_id)
    readings = (
        ConditionReading.objects.filter(site_id=site_id, recorded_at__gte=since, recorded_at__lt=until)
        .order_by("device_id", "recorded_at", "id")
        .values("device_id", *READING_FIELDS)[:200_000]
    )
    devices: dict[int, dict[str, Any]] = {}
    previous: dict[tuple[int, str], frozenset[str]] = {}
    for reading in readings:
        device_id = reading["device_id"]
        summary = devices.setdefault(device_id, {"device": device_id, "readings": 0, "differences": 0, "allowed": {}})
        summary["readings"] += 1
        allowed_by: dict[str, frozenset[str] | None] = {}
        for label, rules in (("draft", rule_set.rules), ("current", active.rules if active else None)):
            if rules is None:
                allowed_by[label] = None
                continue
            decisions = modes_select(rules, reading, previous.get((device_id, label), frozenset()))
            allowed = frozenset(decision.mode for decision in decisions if decision.allowed)
            previous[(device_id, label)] = allowed
            allowed_by[label] = allowed
            for mode in allowed:
                counts = summary["allowed"].setdefault(mode, {"draft": 0, "current": 0})
                counts[label] += 1
        if allowed_by["current"] is not None and allowed_by["draft"] != allowed_by["current"]:
            summary["differences"] += 1
    for summary in devices.values():
        total = summary["readings"]
        summary["allowed"] = {
            mode: {label: round(count / total, 4) for label, count in counts.items()}
            for mode, counts in sorted(summary.pop("allowed").items())
        }
    return {
        "active_rule_set": active.pk if active else None,
        "readings": sum(summary["readings"] for summary in devices.values()),
        "readings_decided_differently": sum(summary["differences"] for summary in devices.values()),
        "devices": list(devices.values()),
    }
