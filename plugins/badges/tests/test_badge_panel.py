"""The dashboard's badge panel and the admins' menu entry, as the pages show them."""

import re

from django.test import Client
from django.utils import timezone

from accounts.selectors import visible_site_ids
from plugins.badges.models import Badge
from plugins.badges.selectors import badge_summaries_visible_to
from plugins.badges.tests.conftest import CARD_A, CHECK_IN_URL
from tests.factories import EmployeeFactory


def badge_panel_rows(html: str) -> dict[str, tuple[str, str]]:
    """Site name -> (active badges, badge check-ins today), as the panel's table shows them."""
    panel = html.split('id="panel-badges"', 1)[1].split("</section>", 1)[0]
    return {
        site: (active, check_ins)
        for site, active, check_ins in re.findall(r"<td>([^<]*)</td><td>(\d+)</td><td>(\d+)</td>", panel)
    }


def test_badge_panel_counts_active_badges_and_todays_badge_check_ins_of_the_viewers_sites(
    client: Client, viewer_a, badge_a, badge_b, badge_for, employee_a, device_a_client
):
    revoked = badge_for(EmployeeFactory(site=employee_a.site), "04BEEF0000")
    Badge.objects.filter(pk=revoked.pk).update(status=Badge.Status.REVOKED, revoked_at=revoked.assigned_at)
    device_a_client.post(CHECK_IN_URL, {"card_uid": CARD_A, "client_event_id": "c-1"})
    client.force_login(viewer_a)

    html = client.get("/dashboard/").content.decode()

    assert badge_panel_rows(html) == {"Site A": ("1", "1")}


def test_badge_panel_reads_in_three_queries_whatever_the_number_of_sites(
    admin_user, badge_a, badge_b, django_assert_num_queries
):
    visible_site_ids(admin_user)  # the person's scope: read once per request, by whichever asks first
    with django_assert_num_queries(3):  # the sites, their active badges, their badge check-ins
        summaries = badge_summaries_visible_to(admin_user, now=timezone.now())

    assert [(summary.site_name, summary.active_badges) for summary in summaries] == [("Site A", 1), ("Site B", 1)]


def test_badges_menu_entry_is_for_admins_only(client: Client, admin_a, viewer_a, site_a):
    client.force_login(admin_a)
    admin_html = client.get("/dashboard/").content.decode()
    client.force_login(viewer_a)
    viewer_html = client.get("/dashboard/").content.decode()

    assert 'href="/admin/badges/badge/"' in admin_html
    assert 'href="/admin/badges/badge/"' not in viewer_html
    assert 'id="panel-badges"' in viewer_html
