"""The camera allowlist is paged in a stable order (found by the API fuzz test)."""

import warnings

from django.core.paginator import UnorderedObjectListWarning

from streaming.services import camera_host_allow

HOSTS = "/api/streams/camera-hosts/"


def test_camera_hosts_are_listed_in_a_stable_order_page_by_page(admin_client, admin_user, site_a, site_b):
    for site, host in ((site_b, "10.2.0.0/24"), (site_a, "10.1.0.9"), (site_a, "10.1.0.0/24")):
        camera_host_allow(actor=admin_user, site=site, host=host)

    with warnings.catch_warnings():
        # Without an order, pages of a list may repeat or skip rows; DRF warns of it.
        warnings.simplefilter("error", UnorderedObjectListWarning)
        response = admin_client.get(HOSTS)

    assert response.status_code == 200
    assert [(row["site"], row["host"]) for row in response.json()["results"]] == [
        (site_a.pk, "10.1.0.9"),
        (site_a.pk, "10.1.0.0/24"),
        (site_b.pk, "10.2.0.0/24"),
    ]
