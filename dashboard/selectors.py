"""Reads behind the dashboard: today's presence per site and the 30-day charts."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count
from django.utils import timezone

from accounts.permissions import RequestUser
from attendance.models import WorkSession
from attendance.selectors import daily_summaries_list
from employees.models import Employee, Site


@dataclass(frozen=True)
class PresenceRow:
    employee_id: int
    employee_code: str
    name: str
    department: str
    state: str  # in, out, absent
    first_in: object
    late_by: timedelta | None


@dataclass(frozen=True)
class Presence:
    site_id: int
    date: date
    counts: dict[str, int]
    people: list[PresenceRow]


def site_today(site: Site) -> date:
    return timezone.localtime(timezone.now(), site.timezone).date()


def presence_today(*, user: RequestUser, site: Site) -> Presence:
    """Who is in, out, late or absent today (site-local) among the site's active staff."""
    today = site_today(site)
    summaries = {
        summary.employee_id: summary
        for summary in daily_summaries_list(user=user, date_from=today, date_to=today, site_id=site.pk)
    }
    employees = Employee.objects.filter(site=site, is_active=True).select_related("department")
    rows = []
    for employee in employees.order_by("last_name", "first_name"):
        summary = summaries.get(employee.pk)
        if summary is None:
            state, first_in, late_by = "absent", None, None
        else:
            state = "in" if summary.open_sessions else "out"
            first_in, late_by = summary.first_in, summary.late_by
        rows.append(
            PresenceRow(
                employee_id=employee.pk,
                employee_code=employee.employee_code,
                name=employee.full_name,
                department=employee.department.name if employee.department else "",
                state=state,
                first_in=first_in,
                late_by=late_by,
            )
        )
    # Who is here first, then who left, then who has not come.
    rows.sort(key=lambda row: ("in", "out", "absent").index(row.state))
    counts = Counter(row.state for row in rows)
    late = sum(1 for row in rows if row.late_by)
    return Presence(
        site_id=site.pk,
        date=today,
        counts={
            "checked_in": counts["in"],
            "checked_out": counts["out"],
            "absent": counts["absent"],
            "late": late,
            "total": len(rows),
        },
        people=rows,
    )


@dataclass(frozen=True)
class Charts:
    days: list[dict]
    late_by_department: list[dict]


def charts_last_30_days(*, user: RequestUser, site: Site) -> Charts:
    today = site_today(site)
    first_day = today - timedelta(days=29)
    present = dict(
        WorkSession.objects.filter(site=site, work_date__gte=first_day, work_date__lte=today)
        .values_list("work_date")
        .annotate(people=Count("employee", distinct=True))
    )
    days = [
        {"date": first_day + timedelta(days=offset), "present": present.get(first_day + timedelta(days=offset), 0)}
        for offset in range(30)
    ]
    departments = dict(Employee.objects.filter(site=site).values_list("pk", "department__name"))
    late = Counter(
        departments.get(summary.employee_id) or "No department"
        for summary in daily_summaries_list(user=user, date_from=first_day, date_to=today, site_id=site.pk)
        if summary.late_by
    )
    return Charts(
        days=days,
        late_by_department=[{"department": name, "late": count} for name, count in late.most_common()],
    )
