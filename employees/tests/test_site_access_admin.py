"""Site access granted or taken away on the admin's object permission pages is audited."""

from django.contrib.auth.models import Group, User

from accounts.models import ROLE_GROUP_NAMES, AuditLogEntry, Role
from accounts.selectors import visible_site_ids
from accounts.services import user_create


def _access_entries(site):
    return AuditLogEntry.objects.filter(
        content_type__model="site", object_id=str(site.pk), action__in=["grant", "revoke"]
    ).order_by("id")


def test_access_given_and_taken_away_to_a_person_in_the_admin_is_audited(client, admin_a, site_a, site_b):
    other = user_create(username="other", password=None, role=Role.VIEWER, sites=[site_b])
    client.force_login(admin_a)
    page = f"/admin/employees/site/{site_a.pk}/permissions/user-manage/{other.pk}/"

    granted = client.post(page, {"permissions": ["access_site"]})
    sees_after_grant = visible_site_ids(User.objects.get(pk=other.pk))
    # Nothing ticked: the browser still sends the form's CSRF token (the test client does not check it).
    taken = client.post(page, {"csrfmiddlewaretoken": "sent-by-the-browser"})

    assert granted.status_code == taken.status_code == 302
    assert site_a.pk in sees_after_grant and site_a.pk not in visible_site_ids(User.objects.get(pk=other.pk))
    entries = [(entry.action, entry.actor, entry.after) for entry in _access_entries(site_a)]
    assert entries == [
        ("grant", admin_a, {"holder": "other", "permissions": ["access_site"]}),
        ("revoke", admin_a, {"holder": "other", "permissions": []}),
    ]


def test_access_given_to_a_group_in_the_admin_is_audited(client, admin_a, site_a):
    viewers = Group.objects.get(name=ROLE_GROUP_NAMES[Role.VIEWER])
    client.force_login(admin_a)

    granted = client.post(
        f"/admin/employees/site/{site_a.pk}/permissions/group-manage/{viewers.pk}/", {"permissions": ["access_site"]}
    )

    assert granted.status_code == 302
    entry = _access_entries(site_a).get()
    assert (entry.action, entry.actor, entry.site_id) == ("grant", admin_a, site_a.pk)
    assert entry.after == {"holder": viewers.name, "permissions": ["access_site"]}


def test_saving_the_same_access_again_adds_no_entry(client, admin_a, site_a, viewer_a):
    client.force_login(admin_a)

    client.post(
        f"/admin/employees/site/{site_a.pk}/permissions/user-manage/{viewer_a.pk}/", {"permissions": ["access_site"]}
    )

    assert not _access_entries(site_a).exists()  # viewer A had access already
