"""Base viewsets every app's API builds on, and the answer its idempotent writes share."""

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from django.db.models import Model
from rest_framework import status, viewsets
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer


class AuditedModelViewSet(viewsets.ModelViewSet[Any]):
    """CRUD whose writes go through the app's services, with the caller as actor.

    A subclass names the services it offers; the instance reaches them under
    ``instance_argument`` (``site=``, ``device=``). Services are looked up on the class,
    so that a plain function is not bound as a method.
    """

    create_service: ClassVar[Callable[..., Model]]
    update_service: ClassVar[Callable[..., Model]]
    delete_service: ClassVar[Callable[..., None]]
    instance_argument: ClassVar[str] = ""

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        serializer.instance = type(self).create_service(actor=self.request.user, fields=serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        serializer.instance = type(self).update_service(
            actor=self.request.user, **{self.instance_argument: serializer.instance}, fields=serializer.validated_data
        )

    def perform_destroy(self, instance: Model) -> None:
        type(self).delete_service(actor=self.request.user, **{self.instance_argument: instance})


class Recorded(Protocol):
    """What an idempotent write returns: whether this very request stored the row."""

    @property
    def created(self) -> bool: ...


def record_response(result: Recorded, *, serializer_class: type[BaseSerializer[Any]]) -> Response:
    """201 when the request stored something; 200 when it is answered with what a retry
    or an earlier duplicate already stored, so a client can tell the two apart."""
    return Response(
        serializer_class(result).data,
        status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
    )
