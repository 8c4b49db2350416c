"""Filter sets scoped like the querysets they filter: another site's id is an invalid choice."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django_filters import rest_framework as filters

from accounts.selectors import sites_visible_to


def visible_choices(
    selector: Callable[[AbstractBaseUser | AnonymousUser], QuerySet[Any]],
) -> Callable[[HttpRequest | None], QuerySet[Any]]:
    """A filter's choices as the caller sees them: another site's id is an invalid choice."""

    def choices(request: HttpRequest | None) -> QuerySet[Any]:
        # Without a request (the schema generator builds filters without one) nobody is
        # asking, and nobody sees any site.
        return selector(getattr(request, "user", None) or AnonymousUser())

    return choices


class SiteScopedFilter(filters.FilterSet):
    site = filters.ModelChoiceFilter(queryset=visible_choices(sites_visible_to))
