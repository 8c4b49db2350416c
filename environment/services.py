"""Writes of the environment app: storing condition readings, purging old ones."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditLogEntry
from accounts.permissions import Actor
from accounts.selectors import user_sees_all_sites
from accounts.services import audit_record, audited_create, audited_update, model_snapshot
from attendance.models import Device
from attendance.services import device_time_problem
from attendance_site.events.services import domain_event_emit
from attendance_site.events.types import (
    ENVIRONMENT_MODE_CHANGED,
    ENVIRONMENT_READING_RECORDED,
    ConditionValues,
    ModeChangedPayload,
    ReadingRecordedPayload,
)
from attendance_site.registry import registry
from employees.models import Site
from environment.models import READING_FIELDS, ConditionReading, DeviceModeState, RuleSet
from environment.rules import RuleSetInvalid, decisions_as_json, rules_validate
from environment.selectors import device_modes_decide, rule_set_for_site, rule_sets_invalidate


@dataclass(frozen=True)
class ReadingInput:
    """One reading in canonical units, as the API hands it over."""

    recorded_at: datetime
    values: dict[str, Any]


def condition_readings_record(*, device: Device, readings: list[ReadingInput]) -> list[ConditionReading]:
    """Store a batch of readings from one device, all or nothing, in one INSERT."""
    for index, reading in enumerate(readings):
        problem = device_time_problem(reading.recorded_at)
        if problem is not None:
            raise ValidationError({"readings": f"Reading {index + 1}: recorded_at: {problem}"})
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
        _reading_recorded_emit(device=device, rows=rows)
        device_modes_refresh(device=device)
    return rows


def _reading_recorded_emit(*, device: Device, rows: list[ConditionReading]) -> None:
    latest = max(rows, key=lambda row: row.recorded_at)
    values = {field: getattr(latest, field) for field in READING_FIELDS}
    payload: ReadingRecordedPayload = {
        "device_id": device.pk,
        "site_id": device.site_id,
        "readings": len(rows),
        "recorded_at": latest.recorded_at.isoformat(),
        "values": cast(ConditionValues, values),  # READING_FIELDS are ConditionValues' keys (tested)
    }
    domain_event_emit(event_type=ENVIRONMENT_READING_RECORDED, payload=payload, site_id=device.site_id)


def condition_readings_purge(*, now: datetime | None = None) -> int:
    """Delete readings older than the retention period; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ENVIRONMENT_READING_RETENTION_DAYS)
    deleted, _ = ConditionReading.objects.filter(recorded_at__lt=cutoff).delete()
    return deleted


# --- Rule sets and mode selection --------------------------------------------------------


def _rules_checked(rules: Any) -> dict[str, Any]:
    try:
        rules_validate(rules, modes=registry.checkin_methods.modes())
    except RuleSetInvalid as invalid:
        raise ValidationError({"rules": invalid.problems})
    return rules


@transaction.atomic
def rule_set_create(*, actor: Actor, site: Site | None, rules: dict[str, Any], note: str = "") -> RuleSet:
    """A new draft version for a site (or, with no site, for the default)."""
    _require_rights_over(actor, site)
    last = RuleSet.objects.select_for_update().filter(site=site).order_by("-version").first()
    return audited_create(
        actor=actor,
        model=RuleSet,
        fields={
            "site": site,
            "version": (last.version + 1) if last else 1,
            "rules": _rules_checked(rules),
            "note": note,
            "created_by": actor,
        },
    )


def _require_rights_over(actor: Actor, site: Site | None) -> None:
    if site is None and not user_sees_all_sites(actor):
        raise PermissionDenied("Only admins of every site may change the default rule set.")


def rule_set_update(*, actor: Actor, rule_set: RuleSet, fields: dict[str, Any]) -> RuleSet:
    _require_rights_over(actor, rule_set.site)
    if "site" in fields and fields["site"] != rule_set.site:
        raise ValidationError({"site": "A rule set stays with its site; create a new one for another site."})
    if rule_set.status != RuleSet.Status.DRAFT:
        raise ValidationError("Only drafts can be edited; create a new version instead.")
    if "rules" in fields:
        _rules_checked(fields["rules"])
    return audited_update(actor=actor, instance=rule_set, fields=fields)


@transaction.atomic
def rule_set_activate(*, actor: Actor, rule_set: RuleSet) -> RuleSet:
    """Make a draft the active version of its site; the previous one is retired."""
    _require_rights_over(actor, rule_set.site)
    if rule_set.status != RuleSet.Status.DRAFT:
        raise ValidationError("Only a draft can be activated.")
    _rules_checked(rule_set.rules)
    RuleSet.objects.select_for_update().filter(site=rule_set.site, status=RuleSet.Status.ACTIVE).update(
        status=RuleSet.Status.RETIRED
    )
    before = model_snapshot(rule_set)
    rule_set.status = RuleSet.Status.ACTIVE
    rule_set.activated_at = timezone.now()
    rule_set.save(update_fields=["status", "activated_at"])
    audit_record(
        actor=actor,
        action=AuditLogEntry.Action.UPDATE,
        instance=rule_set,
        before=before,
        after=model_snapshot(rule_set),
        reason="Rule set activated",
    )
    transaction.on_commit(rule_sets_invalidate, robust=True)
    devices = Device.objects.filter(revoked_at__isnull=True)
    if rule_set.site_id is not None:
        devices = devices.filter(site_id=rule_set.site_id)
    device_ids = list(devices.values_list("pk", flat=True))
    transaction.on_commit(lambda: _devices_modes_refresh(device_ids), robust=True)
    return rule_set


def _devices_modes_refresh(device_ids: list[int]) -> None:
    for device in Device.objects.filter(pk__in=device_ids).select_related("site"):
        with transaction.atomic():
            device_modes_refresh(device=device)


def device_modes_refresh(*, device: Device) -> DeviceModeState | None:
    """Re-decide a device's modes from its newest reading; an event when they change.

    Called inside the caller's transaction (no savepoint of its own: it runs with every
    reading batch), so the new state and its event commit together.
    """
    rule_set = rule_set_for_site(site_id=device.site_id)
    state = DeviceModeState.objects.filter(device=device).first()
    if rule_set is None:
        if state is not None:
            state.delete()
        return None
    previous_modes = list(state.allowed_modes) if state else []
    previously = frozenset(previous_modes)
    decisions, reading = device_modes_decide(device=device, rule_set=rule_set, previously_allowed=previously)
    allowed = [decision.mode for decision in decisions if decision.allowed]
    decisions_json = decisions_as_json(decisions)
    reading_at = reading.recorded_at if reading else None
    if (
        state is not None
        and state.rule_set_id == rule_set.pk
        and state.decisions == decisions_json
        and state.reading_at == reading_at
    ):
        return state  # nothing new: no write
    changed = state is None or state.allowed_modes != allowed or state.rule_set_id != rule_set.pk
    state, _ = DeviceModeState.objects.update_or_create(
        device=device,
        defaults={
            "rule_set": rule_set,
            "allowed_modes": allowed,
            "decisions": decisions_json,
            "reading_at": reading_at,
            "changed_at": timezone.now() if changed else (state.changed_at if state else timezone.now()),
        },
    )
    if changed:
        payload: ModeChangedPayload = {
            "device_id": device.pk,
            "site_id": device.site_id,
            "rule_set_id": rule_set.pk,
            "allowed_modes": allowed,
            "previous_modes": previous_modes,
            "decisions": decisions_json,
        }
        domain_event_emit(event_type=ENVIRONMENT_MODE_CHANGED, payload=payload, site_id=device.site_id)
    return state


@dataclass(frozen=True)
class DeviceModes:
    """What a device is told about the modes it may use, in order of preference, and why."""

    allowed_modes: list[str]
    decisions: list[dict]
    rule_set_id: int | None
    reading_at: datetime | None


def device_modes_answer(*, device: Device) -> DeviceModes:
    """The device's current modes; every mode, without reasons, where no rule set applies."""
    state = device_modes_current(device=device)
    if state is None:
        return DeviceModes(
            allowed_modes=list(registry.checkin_methods.modes()), decisions=[], rule_set_id=None, reading_at=None
        )
    return DeviceModes(
        allowed_modes=state.allowed_modes,
        decisions=state.decisions,
        rule_set_id=state.rule_set_id,
        reading_at=state.reading_at,
    )


def device_modes_current(*, device: Device) -> DeviceModeState | None:
    """The device's modes as last decided, recomputed only if the rule set changed since.

    Readings and rule-set activations already keep the state current, so a device asking
    costs no work beyond its authentication (which loads the state).
    """
    try:
        state = device.mode_state
    except DeviceModeState.DoesNotExist:
        state = None
    rule_set = rule_set_for_site(site_id=device.site_id)
    if state is not None and rule_set is not None and state.rule_set_id == rule_set.pk:
        return state
    if state is None and rule_set is None:
        return None  # no limits and nothing stored to clear: the refresh would find the same
    with transaction.atomic():
        return device_modes_refresh(device=device)
