"""Reads of the attendance app, always through the caller's site scope."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from accounts.permissions import RequestUser
from accounts.selectors import visible_site_ids
from attendance.models import AttendanceEvent, Device, WorkSession
from attendance_site.registry import registry
from employees.models import Employee, Shift, Site


def devices_visible_to(user: RequestUser) -> QuerySet[Device]:
    return Device.objects.filter(site_id__in=visible_site_ids(user)).select_related("site")


def attendance_events_visible_to(user: RequestUser) -> QuerySet[AttendanceEvent]:
    return AttendanceEvent.objects.filter(site_id__in=visible_site_ids(user)).select_related("employee")


def attendance_event_by_client_id(*, device: Device, client_event_id: str) -> AttendanceEvent | None:
    return (
        AttendanceEvent.objects.select_related("employee")
        .filter(device=device, client_event_id=client_event_id)
        .first()
    )


def local_day_bounds(day: date, zone: ZoneInfo) -> datetime:
    """The aware instant a site-local day starts (DST-safe: midnight may not exist)."""
    return datetime.combine(day, time.min, tzinfo=zone)


def attendance_events_in_local_dates(
    queryset: QuerySet[AttendanceEvent], *, site_ids: frozenset[int], date_from: date | None, date_to: date | None
) -> QuerySet[AttendanceEvent]:
    """Events whose site-local date is in [date_from, date_to].

    Each site's days are turned into UTC bounds, so the filter is a range on
    (site, occurred_at) and the index serves it; sites sharing a zone share a clause.
    """
    if date_from is None and date_to is None:
        return queryset
    site_ids_by_zone: dict[str, list[int]] = defaultdict(list)
    for site_id, zone in Site.objects.filter(id__in=site_ids).values_list("id", "timezone"):
        site_ids_by_zone[str(zone)].append(site_id)
    condition = Q(pk__in=[])
    for zone_name, ids in site_ids_by_zone.items():
        zone = ZoneInfo(zone_name)
        clause = Q(site_id__in=ids)
        if date_from is not None:
            clause &= Q(occurred_at__gte=local_day_bounds(date_from, zone))
        if date_to is not None:
            clause &= Q(occurred_at__lt=local_day_bounds(date_to + timedelta(days=1), zone))
        condition |= clause
    return queryset.filter(condition)


@dataclass(frozen=True)
class DailySummary:
    employee_id: int
    employee_code: str
    employee_name: str
    site_id: int
    work_date: date
    first_in: datetime
    last_out: datetime | None
    worked: timedelta
    open_sessions: int
    late_by: timedelta | None
    left_early_by: timedelta | None


def _shift_bounds(shift: Shift, work_date: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(work_date, shift.start_time, tzinfo=zone)
    end_date = work_date + timedelta(days=1) if shift.crosses_midnight else work_date
    return start, datetime.combine(end_date, shift.end_time, tzinfo=zone)


def daily_summaries_list(
    *,
    user: RequestUser,
    date_from: date,
    date_to: date,
    site_id: int | None = None,
    department_id: int | None = None,
    employee_id: int | None = None,
) -> list[DailySummary]:
    """One row per employee and site-local work date that has a check-in.

    Worked time sums closed sessions; a night shift's session counts on the date it
    began. Late and early are measured against the employee's current shift.
    """
    sessions = WorkSession.objects.filter(
        site_id__in=visible_site_ids(user), work_date__gte=date_from, work_date__lte=date_to
    ).select_related("employee__shift", "site")
    if site_id is not None:
        sessions = sessions.filter(site_id=site_id)
    if department_id is not None:
        sessions = sessions.filter(employee__department_id=department_id)
    if employee_id is not None:
        sessions = sessions.filter(employee_id=employee_id)

    grouped: dict[tuple[int, date], list[WorkSession]] = defaultdict(list)
    for session in sessions.order_by("work_date", "employee_id", "started_at"):
        grouped[(session.employee_id, session.work_date)].append(session)
    return [_summarise(day_sessions) for day_sessions in grouped.values()]


def _summarise(sessions: list[WorkSession]) -> DailySummary:
    first = sessions[0]
    employee: Employee = first.employee
    closed_ends = [s.ended_at for s in sessions if s.ended_at is not None]
    first_in = first.started_at
    last_out = max(closed_ends) if closed_ends else None
    late_by = left_early_by = None
    if employee.shift is not None:
        shift_start, shift_end = _shift_bounds(employee.shift, first.work_date, first.site.timezone)
        lateness = first_in - shift_start
        late_by = lateness if lateness > timedelta(minutes=employee.shift.grace_minutes) else timedelta(0)
        if last_out is not None:
            left_early_by = max(shift_end - last_out, timedelta(0))
    return DailySummary(
        employee_id=employee.pk,
        employee_code=employee.employee_code,
        employee_name=employee.full_name,
        site_id=first.site_id,
        work_date=first.work_date,
        first_in=first_in,
        last_out=last_out,
        worked=sum((s.duration for s in sessions if s.ended_at is not None), timedelta(0)),
        open_sessions=sum(1 for s in sessions if s.ended_at is None),
        late_by=late_by,
        left_early_by=left_early_by,
    )


def attendance_method_choices(*, manual: bool = True) -> list[tuple[str, str]]:
    """Every method an event may carry: the installed check-in methods, a camera stream, a correction."""
    others = [
        choice for choice in AttendanceEvent.Method.choices if manual or choice[0] != AttendanceEvent.Method.MANUAL
    ]
    return registry.checkin_methods.choices() + others
