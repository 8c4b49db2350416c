"""Base serializers and id fields that every app's API builds on.

Two rules hold for every request body: an id is a whole number written as one (never
``1.5``, ``1.0``, ``true`` or ``"1e0"``, which Python's ``int()`` and DRF would round or
read), and a key that names no field is refused instead of dropped, so a misspelled
field is an error the client sees rather than a value silently lost. And free-form JSON
(:class:`JSONField`, :class:`DictField`) holds no NUL character, as text never does.
"""

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

MAX_ID = 2**63 - 1
# Sent by HTML forms (Django's and the browsable API's), never a field of ours.
FORM_KEYS = frozenset({"csrfmiddlewaretoken"})


def is_integer_id(value) -> bool:
    """A JSON integer, or the decimal digits of one (query strings and forms are text)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and 0 < len(value) <= 20 and value.isascii() and value.isdigit()


class IdField(serializers.IntegerField):
    """A primary key given as a number: positive, within BIGINT, and never a float or boolean."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not is_integer_id(data):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.INT)
class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id that refuses what Django would round into some other row's id."""

    default_error_messages = {"incorrect_type": "Incorrect type. Expected an integer id, received {data_type}."}

    def to_internal_value(self, data):
        if not is_integer_id(data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


def null_characters_refuse(value) -> None:
    """Refuse a NUL (U+0000) anywhere in a JSON value, in keys as in strings.

    DRF's CharField refuses it in text; in free-form JSON it reached PostgreSQL, which
    stores no NUL in jsonb and failed the request with a 500 (SQLite stored it).
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise serializers.ValidationError(
                    ProhibitNullCharactersValidator.message, code=ProhibitNullCharactersValidator.code
                )
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)


class JSONField(serializers.JSONField):
    """Free-form JSON without NUL characters."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(null_characters_refuse)


class DictField(serializers.DictField):
    """A mapping whose keys, like its (text) values, hold no NUL character."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(null_characters_refuse)


if TYPE_CHECKING:
    # What the mixin is mixed into, so that the type checker knows self.fields.
    _SerializerBase = serializers.Serializer
else:
    _SerializerBase = object


class UnknownFieldsRefusedMixin(_SerializerBase):
    """Refuse keys that name no field, alongside any other error of the same body.

    Read-only fields count as known: a client may send back what it read.
    """

    def to_internal_value(self, data: Any) -> Any:
        unknown: dict[str, Any] = {}
        if isinstance(data, Mapping):
            unknown = {
                key: [ErrorDetail("Unknown field.", code="unknown_field")]
                for key in data
                if key not in self.fields and key not in FORM_KEYS
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                error.detail = {**unknown, **error.detail}
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class Serializer(UnknownFieldsRefusedMixin, serializers.Serializer):
    """The base of every serializer that reads a request body."""


class ModelSerializer(UnknownFieldsRefusedMixin, serializers.ModelSerializer):
    """The base of every model serializer that reads a request body."""

    serializer_related_field = StrictPrimaryKeyRelatedField
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping, models.JSONField: JSONField}


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyRelatedField(StrictPrimaryKeyRelatedField):
    """A reference that only accepts objects the caller can see.

    Another site's id reads as "does not exist", the same answer a wrong id gets.
    """

    def __init__(self, *, selector: Callable[[AbstractBaseUser | AnonymousUser], QuerySet[Any]], **kwargs: Any) -> None:
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.selector(self.context["request"].user)
