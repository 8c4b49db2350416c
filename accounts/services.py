"""Writes of the accounts app: role groups, people, site access, audit entries, API
tokens and login lockouts."""

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.contrib.auth.signals import user_logged_in
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.http import HttpRequest
from django.utils import timezone
from guardian.shortcuts import assign_perm
from knox.models import AuthToken

from accounts.models import ROLE_GROUP_NAMES, AuditLogEntry, LoginLockout, Role
from accounts.permissions import SITE_ACCESS_PERMISSION, Actor
from attendance_site.events.services import domain_event_emit
from attendance_site.events.types import ACCOUNT_LOGIN_LOCKED_OUT, LoginLockedOutPayload
from attendance_site.plugins import domain_app_labels

User = get_user_model()
logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=models.Model)

# The apps whose data roles are about (a plugin's included); Django's own and third-party
# tables stay with superusers.
ROLE_MANAGED_APPS = domain_app_labels()


def role_groups_sync(*, using: str = "default") -> None:
    """Give the Admins group every permission of our apps and Viewers every view one.

    The audit log is append-only for everyone, and site access is granted per person,
    never through a role.
    """
    permissions = Permission.objects.using(using).filter(content_type__app_label__in=ROLE_MANAGED_APPS)
    permissions = permissions.exclude(codename="access_site").exclude(
        content_type__model="auditlogentry", codename__regex=r"^(add|change|delete)_"
    )
    admins, _ = Group.objects.using(using).get_or_create(name=ROLE_GROUP_NAMES[Role.ADMIN])
    viewers, _ = Group.objects.using(using).get_or_create(name=ROLE_GROUP_NAMES[Role.VIEWER])
    admins.permissions.set(permissions)
    viewers.permissions.set(permissions.filter(codename__startswith="view_"))


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: Role,
    sites: Iterable[models.Model] = (),
    all_sites: bool = False,
    email: str = "",
) -> AbstractUser:
    """A staff member with one role, scoped to the given sites (or to all of them)."""
    user = User.objects.create_user(username=username, password=password, email=email, is_staff=True)
    user.groups.add(Group.objects.get(name=ROLE_GROUP_NAMES[role]))
    if all_sites:
        assign_perm(SITE_ACCESS_PERMISSION, user)
    for site in sites:
        assign_perm(SITE_ACCESS_PERMISSION, user, site)
    return user


@transaction.atomic
def site_access_grant(*, actor: Actor, user: AbstractUser, site: models.Model) -> None:
    assign_perm(SITE_ACCESS_PERMISSION, user, site)
    audit_record(actor=actor, action=AuditLogEntry.Action.GRANT, instance=site, after={"user": user.username})


class _SnapshotEncoder(DjangoJSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, tzinfo):
            return str(o)
        return super().default(o)


def model_snapshot(instance: models.Model) -> dict[str, Any]:
    """A JSON-safe copy of a row's fields, without the ones a model marks secret."""
    secret_fields = set(getattr(instance, "AUDIT_EXCLUDED_FIELDS", ()))
    values = {name: value for name, value in model_to_dict(instance).items() if name not in secret_fields}
    return json.loads(json.dumps(values, cls=_SnapshotEncoder))


def audit_record(
    *,
    actor: Actor,
    action: str,
    instance: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditLogEntry:
    """Append one audit entry; call it inside the transaction of the change it records."""
    return AuditLogEntry.objects.create(
        actor=actor if isinstance(actor, User) and actor.pk else None,
        actor_repr=getattr(actor, "username", "") or "system",
        action=action,
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        site_id=_site_id_of(instance),
        before=before,
        after=after,
        reason=reason,
    )


def _site_id_of(instance: models.Model) -> int | None:
    if instance._meta.label == "employees.Site":
        return instance.pk
    return getattr(instance, "site_id", None)


@transaction.atomic
def audited_create(*, actor: Actor, model: type[ModelT], fields: dict[str, Any]) -> ModelT:
    """Validate, insert and audit one row; the shared path of plain CRUD services."""
    instance = model(**fields)
    instance.full_clean()
    instance.save()
    audit_record(actor=actor, action=AuditLogEntry.Action.CREATE, instance=instance, after=model_snapshot(instance))
    return instance


@transaction.atomic
def audited_update(*, actor: Actor, instance: ModelT, fields: dict[str, Any]) -> ModelT:
    before = model_snapshot(instance)
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    audit_record(
        actor=actor,
        action=AuditLogEntry.Action.UPDATE,
        instance=instance,
        before=before,
        after=model_snapshot(instance),
    )
    return instance


@transaction.atomic
def audited_delete(*, actor: Actor, instance: models.Model) -> None:
    """Delete and audit; a row still referenced elsewhere is refused, not cascaded."""
    before = model_snapshot(instance)
    audit_record(actor=actor, action=AuditLogEntry.Action.DELETE, instance=instance, before=before)
    try:
        with transaction.atomic():
            instance.delete()
    except models.ProtectedError as error:
        names = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
        raise ValidationError(f"{instance} is still used by {', '.join(names)}; remove or move those first.")


@dataclass(frozen=True)
class IssuedToken:
    """A token as its owner sees it once: the key itself is never stored, only a digest."""

    key: str
    expiry: datetime


def api_token_obtain(*, request: HttpRequest, username: str, password: str) -> IssuedToken:
    """A new token for a username and password, under the same lockout as every login.

    Not atomic on purpose: a refused attempt must leave axes's failure count behind.
    A locked-out pair fails here like a wrong password; axes's middleware then answers
    it with the lockout (``accounts.lockout.lockout_response``).
    """
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise ValidationError("Unable to log in with provided credentials.", code="authorization")
    issued = api_token_create(user=user)
    # What a browser login sends: last_login is updated and axes forgets this pair's
    # earlier failures.
    user_logged_in.send(sender=type(user), request=request, user=user)
    return issued


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser) -> IssuedToken:
    """A token that expires after ``API_TOKEN_TTL``; beyond the per-person cap, the oldest go."""
    token, key = AuthToken.objects.create(user=user, expiry=settings.API_TOKEN_TTL)
    # Rows of the person's tokens stay few: the expired ones go now (nothing else sweeps
    # them), and a script that logs in on every run does not pile up live ones.
    others = AuthToken.objects.filter(user=user).exclude(digest=token.digest)
    others.filter(expiry__lt=timezone.now()).delete()
    surplus = others.order_by("-created")[settings.API_TOKENS_PER_USER_MAX - 1 :]
    AuthToken.objects.filter(digest__in=list(surplus.values_list("digest", flat=True))).delete()
    return IssuedToken(key=key, expiry=token.expiry)


@transaction.atomic
def api_token_rotate(*, token: AuthToken) -> IssuedToken:
    """Replace the presented token by a new one with a whole lifetime; the old one ends now."""
    deleted, _ = AuthToken.objects.filter(digest=token.digest).delete()
    if not deleted:
        # Two rotations of one token at once: only the first gets a successor.
        raise ValidationError("This token was rotated or revoked meanwhile.", code="token_gone")
    return api_token_create(user=token.user)


def api_token_revoke(*, token: AuthToken) -> None:
    AuthToken.objects.filter(digest=token.digest).delete()


def login_lockout_record(*, username: str, ip_address: str | None, path: str, failures: int) -> LoginLockout:
    """Record one lockout of a (username, address) pair: its row, its audit entry, its domain event, a log line.

    Every lockout, whichever login path reached the limit, comes through here.
    """
    username = username[:150]
    with transaction.atomic():
        lockout = LoginLockout.objects.create(
            username=username,
            user=User.objects.filter(**{User.USERNAME_FIELD: username}).first(),
            ip_address=ip_address,
            path=path[:200],
            failures=failures,
        )
        audit_record(
            actor=None,
            action=AuditLogEntry.Action.LOCKOUT,
            instance=lockout,
            after={"username": username, "ip_address": ip_address, "path": lockout.path, "failures": failures},
            reason=(
                f"{failures} failed logins in a row; this username waits {settings.AXES_COOLOFF_TIME} "
                "from this address after its last attempt."
            ),
        )
        payload: LoginLockedOutPayload = {
            "lockout_id": lockout.pk,
            "username": username,
            "ip_address": ip_address,
            "failures": failures,
            "path": lockout.path,
        }
        domain_event_emit(event_type=ACCOUNT_LOGIN_LOCKED_OUT, payload=payload, site_id=None)
    # %r: the username is whatever the caller typed, line breaks included.
    logger.warning(
        "Login lockout: username %r from %s after %d failed logins (%s)", username, ip_address, failures, path
    )
    return lockout
