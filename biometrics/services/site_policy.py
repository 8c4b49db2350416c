"""A site's biometric policy: face thresholds and whether liveness is required."""

from typing import Any

from accounts.permissions import RequestUser
from biometrics.models import SiteBiometricPolicy
from employees.models import Site


def site_policy_update(*, actor: RequestUser, site: Site, fields: dict[str, Any]) -> SiteBiometricPolicy:
    from accounts.services import audited_create, audited_update

    policy = SiteBiometricPolicy.objects.filter(site=site).first()
    if policy is None:
        return audited_create(actor=actor, model=SiteBiometricPolicy, fields={"site": site, **fields})
    return audited_update(actor=actor, instance=policy, fields=fields)
