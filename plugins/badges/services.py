"""Writes of the badge plugin: assigning and revoking cards, and checking in with one.

A badge check-in is an ordinary check-in: once the card names an employee of the
device's site, it goes through ``attendance_event_record`` with method ``badge``, which
applies the environment's rule set, replays and duplicates like any other method.
"""

import logging
import re
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AuditLogEntry
from accounts.permissions import RequestUser
from accounts.services import audit_record, model_snapshot
from attendance.models import Device
from attendance.selectors import attendance_event_by_client_id
from attendance.services import RecordOutcome, RecordResult, attendance_event_record
from employees.models import Employee
from plugins.badges.models import Badge, card_uid_mask
from plugins.badges.selectors import BADGE_METHOD, badges_for_card

logger = logging.getLogger(__name__)

# 4, 7 and 10-byte ISO 14443 UIDs, 5-byte 125 kHz cards, and room for longer ones.
CARD_UID_MIN_DIGITS, CARD_UID_MAX_DIGITS = 8, 32
# Readers print bytes apart ("04:A2:3B:...", "04 A2 3B"): the separators are not the UID.
_SEPARATORS = re.compile(r"[\s:-]")
_HEX = re.compile(r"[0-9A-F]+")


def card_uid_normalise(card_uid: str) -> str:
    """The one spelling of a card UID: upper-case hex digits, without separators."""
    normalised = _SEPARATORS.sub("", card_uid.strip()).upper()
    if not _HEX.fullmatch(normalised):
        raise ValidationError({"card_uid": ValidationError("A card UID is hex digits (0-9, A-F).", code="invalid")})
    if not CARD_UID_MIN_DIGITS <= len(normalised) <= CARD_UID_MAX_DIGITS:
        raise ValidationError(
            {
                "card_uid": ValidationError(
                    f"A card UID has {CARD_UID_MIN_DIGITS} to {CARD_UID_MAX_DIGITS} hex digits.", code="invalid"
                )
            }
        )
    return normalised


def _person(actor: RequestUser | None) -> User | None:
    return actor if isinstance(actor, User) else None


def _card_error(message: str, code: str) -> ValidationError:
    return ValidationError({"card_uid": ValidationError(message, code=code)})


@transaction.atomic
def badge_assign(*, actor: RequestUser, employee: Employee, card_uid: str) -> tuple[Badge, bool]:
    """Give an employee a card; (badge, created).

    Assigning the card the employee already holds answers with that badge, so a client's
    retry does no harm; a card active on someone else must be revoked first.
    """
    card_uid = card_uid_normalise(card_uid)
    if not employee.is_active:
        raise ValidationError({"employee": ValidationError("This employee is not active.", code="inactive")})
    holder = Badge.objects.filter(card_uid=card_uid, status=Badge.Status.ACTIVE).first()
    if holder is not None:
        if holder.employee_id == employee.pk:
            return holder, False
        raise _card_error("This card is active on another employee; revoke that badge first.", "card_in_use")
    badge = Badge(card_uid=card_uid, employee=employee, assigned_at=timezone.now(), assigned_by=_person(actor))
    try:
        with transaction.atomic():
            badge.save()
    except IntegrityError:
        # Lost a race with another assignment of the same card.
        raise _card_error("This card is active on another employee; revoke that badge first.", "card_in_use")
    audit_record(actor=actor, action=AuditLogEntry.Action.CREATE, instance=badge, after=_badge_snapshot(badge))
    return badge, True


def _badge_snapshot(badge: Badge) -> dict:
    # model_snapshot leaves the UID out (AUDIT_EXCLUDED_FIELDS); its mask identifies the card.
    return {**model_snapshot(badge), "card_uid_hint": badge.card_uid_hint}


@transaction.atomic
def badge_revoke(*, actor: RequestUser | None, badge: Badge, reason: str = "") -> Badge:
    """Revoke a badge: the card opens nothing from now on. Revoking twice changes nothing."""
    badge = Badge.objects.select_for_update().select_related("employee").get(pk=badge.pk)
    if badge.status == Badge.Status.REVOKED:
        return badge
    before = _badge_snapshot(badge)
    badge.status = Badge.Status.REVOKED
    badge.revoked_at = timezone.now()
    badge.revoked_by = _person(actor)
    badge.save(update_fields=["status", "revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action=AuditLogEntry.Action.REVOKE,
        instance=badge,
        before=before,
        after=_badge_snapshot(badge),
        reason=reason,
    )
    return badge


def badges_revoke_for_employee(*, employee_id: int, reason: str) -> int:
    """Revoke every active badge of an inactive employee; the number revoked (0 the second time).

    An employee active again by the time this runs (a late delivery) keeps their cards.
    """
    if not Employee.objects.filter(pk=employee_id, is_active=False).exists():
        return 0
    revoked = 0
    for badge in Badge.objects.filter(employee_id=employee_id, status=Badge.Status.ACTIVE):
        badge_revoke(actor=None, badge=badge, reason=reason)
        revoked += 1
    return revoked


def _badge_for_device(*, device: Device, card_uid: str) -> Badge:
    """The active badge of the card, if it belongs to an employee of the device's site."""
    badges = badges_for_card(card_uid=card_uid)
    masked = card_uid_mask(card_uid)
    if not badges:
        logger.info("badge check-in refused at device %s: unknown card %s", device.pk, masked)
        raise _card_error("No badge has this card UID.", "unknown_card")
    badge = badges[0]
    if badge.status != Badge.Status.ACTIVE:
        logger.info("badge check-in refused at device %s: revoked card %s", device.pk, masked)
        raise _card_error("This badge has been revoked.", "revoked_card")
    if badge.employee.site_id != device.site_id:
        logger.info("badge check-in refused at device %s: card %s of another site", device.pk, masked)
        raise _card_error("This badge belongs to an employee of another site.", "other_site")
    return badge


def badge_check_record(
    *,
    device: Device,
    card_uid: str,
    direction: str,
    client_event_id: str,
    occurred_at: datetime | None = None,
) -> RecordResult:
    """Check the card's holder in or out at a device; replays and duplicates answered as any check-in."""
    card_uid = card_uid_normalise(card_uid)
    try:
        badge = _badge_for_device(device=device, card_uid=card_uid)
    except ValidationError:
        # A retry of an event stored before the badge was revoked is still answered with it.
        replayed = attendance_event_by_client_id(device=device, client_event_id=client_event_id)
        if replayed is not None:
            return RecordResult(event=replayed, outcome=RecordOutcome.REPLAYED)
        raise
    with transaction.atomic():
        result = attendance_event_record(
            employee=badge.employee,
            device=device,
            direction=direction,
            method=BADGE_METHOD,
            occurred_at=occurred_at,
            client_event_id=client_event_id,
        )
        if result.outcome == RecordOutcome.CREATED:
            used_at = result.event.occurred_at
            Badge.objects.filter(pk=badge.pk).exclude(last_used_at__gte=used_at).update(last_used_at=used_at)
    return result
