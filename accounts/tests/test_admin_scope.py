"""The Django admin's list filters show a site-scoped person nothing of other sites."""

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.admin import SiteScopedRelatedFieldListFilter
from accounts.models import Role
from accounts.services import user_create
from employees.models import Employee, Site
from tests.factories import DepartmentFactory, EmployeeFactory, ShiftFactory, SiteFactory


def changelists_filtering_by_site_bound_relations() -> list[str]:
    """Every admin changelist with a list filter on a site, department or shift."""
    names = []
    for model, model_admin in admin.site._registry.items():
        for entry in model_admin.list_filter:
            field = model._meta.get_field(entry) if isinstance(entry, str) and "__" not in entry else None
            related = field.related_model if field is not None and field.is_relation else None
            if related is not None and related._meta.label.startswith("employees."):
                names.append(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
                break
    return sorted(names)


@pytest.fixture
def two_sites_and_a_hidden_one(db):
    """Site A and C are the person's; B, with its department and shift, is not."""
    site_a, site_b, site_c = SiteFactory(name="Site A"), SiteFactory(name="Hidden Site B"), SiteFactory(name="Site C")
    DepartmentFactory(site=site_a, name="Front desk A")
    DepartmentFactory(site=site_b, name="Secret lab B")
    ShiftFactory(site=site_b, name="Night watch B")
    EmployeeFactory(site=site_a, department=None)
    person = user_create(username="admin-a-c", password="pw-admin-a-c", role=Role.ADMIN, sites=[site_a, site_c])
    return person


def test_the_walk_finds_the_admins_that_filter_by_site():
    names = changelists_filtering_by_site_bound_relations()

    assert "admin:employees_employee_changelist" in names
    assert "admin:attendance_attendanceevent_changelist" in names
    assert "admin:accounts_auditlogentry_changelist" in names


@pytest.mark.parametrize("changelist", changelists_filtering_by_site_bound_relations())
def test_list_filters_offer_only_the_persons_sites_and_their_rows(client, two_sites_and_a_hidden_one, changelist):
    client.force_login(two_sites_and_a_hidden_one)

    response = client.get(reverse(changelist))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Hidden Site B" not in page
    assert "Secret lab B" not in page
    assert "Night watch B" not in page
    filters = response.context["cl"].filter_specs
    site_filters = [spec for spec in filters if isinstance(spec, SiteScopedRelatedFieldListFilter)]
    assert site_filters, "no list filter of this admin was scoped"
    offered = {label for spec in site_filters for _, label in spec.lookup_choices}
    assert "Site A" in offered or "Front desk A" in offered


def test_a_site_filter_still_narrows_the_list_to_the_chosen_site(client, two_sites_and_a_hidden_one):
    client.force_login(two_sites_and_a_hidden_one)
    chosen = Site.objects.get(name="Site C")
    EmployeeFactory(site=chosen, employee_code="C-ONLY", department=None)

    page = client.get(reverse("admin:employees_employee_changelist"), {"site__id__exact": chosen.pk}).content.decode()

    assert "C-ONLY" in page
    assert Employee.objects.filter(site__name="Site A").get().employee_code not in page
