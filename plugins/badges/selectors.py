"""Reads of the badge plugin, always through the caller's site scope."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.permissions import RequestUser
from accounts.selectors import visible_site_ids
from attendance.models import AttendanceEvent
from attendance.selectors import local_day_bounds
from employees.models import Site
from employees.selectors import employees_visible_to
from plugins.badges.models import Badge

BADGE_METHOD = "badge"


def badges_visible_to(user: RequestUser) -> QuerySet[Badge]:
    """The badges of the employees the person may see: a badge is scoped by its employee's site."""
    return Badge.objects.filter(employee__in=employees_visible_to(user)).select_related("employee__site")


def badges_for_card(*, card_uid: str) -> list[Badge]:
    """Every badge ever issued for a (normalised) card UID, the active one first."""
    return sorted(
        Badge.objects.filter(card_uid=card_uid).select_related("employee__site"),
        key=lambda badge: (badge.status != Badge.Status.ACTIVE, -badge.pk),
    )


@dataclass(frozen=True)
class BadgeSiteSummary:
    site_id: int
    site_name: str
    active_badges: int
    badge_check_ins_today: int


def badge_summaries_visible_to(user: RequestUser, *, now: datetime) -> list[BadgeSiteSummary]:
    """Per site the person sees: active badges, and badge check-ins since the site's local midnight.

    Three queries whatever the number of sites: the panel is on every dashboard load.
    """
    sites = list(Site.objects.filter(id__in=visible_site_ids(user)).order_by("name"))
    if not sites:
        return []
    active = dict(
        Badge.objects.filter(employee__site__in=sites, status=Badge.Status.ACTIVE)
        .order_by()
        .values("employee__site_id")
        .annotate(count=Count("id"))
        .values_list("employee__site_id", "count")
    )
    since_midnight = Q(pk__in=[])
    for site in sites:
        midnight = local_day_bounds(timezone.localtime(now, site.timezone).date(), site.timezone)
        since_midnight |= Q(site_id=site.pk, occurred_at__gte=midnight)
    check_ins = dict(
        AttendanceEvent.objects.filter(since_midnight, method=BADGE_METHOD, direction=AttendanceEvent.Direction.IN)
        .order_by()
        .values("site_id")
        .annotate(count=Count("id"))
        .values_list("site_id", "count")
    )
    return [
        BadgeSiteSummary(
            site_id=site.pk,
            site_name=site.name,
            active_badges=active.get(site.pk, 0),
            badge_check_ins_today=check_ins.get(site.pk, 0),
        )
        for site in sites
    ]
