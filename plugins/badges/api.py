"""REST API of the badge plugin, mounted at /api/plugins/badges/.

People (session or token) list badges of their sites; admins assign and revoke them.
Devices (their own credential) check the holder of a card in and out.
"""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from accounts.selectors import sites_visible_to
from attendance.authentication import DeviceAuthentication, DeviceRateThrottle, IsDevice
from attendance.models import AttendanceEvent, Device
from attendance.serializers import RecordResultSerializer
from attendance_site.api import AwareDateTimeField
from attendance_site.filters import visible_choices
from attendance_site.serializers import ScopedPrimaryKeyRelatedField, Serializer
from attendance_site.viewsets import record_response
from employees.selectors import employees_visible_to
from plugins.badges import selectors, services
from plugins.badges.models import Badge

# Long enough for a 32-digit UID with a separator between every byte; longer is not a UID.
CARD_UID_MAX_LENGTH = 64


def _calling_device(request: Request) -> Device:
    if not isinstance(request.auth, Device):
        raise exceptions.NotAuthenticated()
    return request.auth


class BadgeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    card_uid_hint = serializers.CharField(
        read_only=True, help_text="The card UID's last four digits: the UID itself is never shown."
    )
    employee = serializers.IntegerField(source="employee_id", read_only=True)
    employee_code = serializers.CharField(source="employee.employee_code", read_only=True)
    employee_name = serializers.CharField(source="employee.full_name", read_only=True)
    site = serializers.IntegerField(source="employee.site_id", read_only=True)
    status = serializers.ChoiceField(choices=Badge.Status.choices, read_only=True)
    assigned_at = serializers.DateTimeField(read_only=True)
    assigned_by = serializers.CharField(source="assigned_by.username", read_only=True, allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked_by = serializers.CharField(source="revoked_by.username", read_only=True, allow_null=True)
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)


class BadgeAssignSerializer(Serializer):
    employee = ScopedPrimaryKeyRelatedField(selector=employees_visible_to)
    card_uid = serializers.CharField(
        max_length=CARD_UID_MAX_LENGTH, help_text="As the reader prints it; separators (: - space) are ignored."
    )


class BadgeFilter(filters.FilterSet):
    employee = filters.ModelChoiceFilter(queryset=visible_choices(employees_visible_to))
    site = filters.ModelChoiceFilter(field_name="employee__site", queryset=visible_choices(sites_visible_to))

    class Meta:
        model = Badge
        fields = ["employee", "site", "status"]


class BadgeViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Badges of the employees of your sites. Viewers read; admins assign and revoke."""

    serializer_class = BadgeSerializer
    filterset_class = BadgeFilter
    search_fields = ["employee__employee_code", "employee__last_name"]
    ordering_fields = ["assigned_at", "last_used_at"]

    def get_queryset(self):
        return selectors.badges_visible_to(self.request.user).select_related("assigned_by", "revoked_by")

    @extend_schema(
        request=BadgeAssignSerializer,
        responses={
            201: OpenApiResponse(BadgeSerializer, description="Assigned."),
            200: OpenApiResponse(BadgeSerializer, description="The employee already holds this card: that badge."),
        },
        summary="Assign a card to an employee (admins)",
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        assign = BadgeAssignSerializer(data=request.data, context=self.get_serializer_context())
        assign.is_valid(raise_exception=True)
        badge, created = services.badge_assign(actor=request.user, **assign.validated_data)
        return Response(BadgeSerializer(badge).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: BadgeSerializer}, summary="Revoke a badge (admins)")
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """The card opens nothing from now on; revoking a revoked badge changes nothing."""
        badge = services.badge_revoke(actor=request.user, badge=self.get_object())
        return Response(BadgeSerializer(badge).data)


class BadgeCheckSerializer(Serializer):
    card_uid = serializers.CharField(max_length=CARD_UID_MAX_LENGTH, help_text="As the reader read it.")
    client_event_id = serializers.CharField(
        max_length=64, help_text="Generated by the device, unique per device: a retry with it is answered, not stored."
    )
    occurred_at = AwareDateTimeField(required=False, help_text="Device clock, with offset; defaults to now.")


class BadgeDeviceViewSet(viewsets.ViewSet):
    """What a card reader calls, with ``Authorization: Device <credential>``."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceRateThrottle]
    serializer_class = BadgeCheckSerializer

    def _record(self, request: Request, direction: str) -> Response:
        check = BadgeCheckSerializer(data=request.data)
        check.is_valid(raise_exception=True)
        result = services.badge_check_record(
            device=_calling_device(request), direction=direction, **check.validated_data
        )
        return record_response(result, serializer_class=RecordResultSerializer)

    @extend_schema(
        request=BadgeCheckSerializer,
        responses={
            201: OpenApiResponse(RecordResultSerializer, description="Stored."),
            200: OpenApiResponse(RecordResultSerializer, description="A replay or a duplicate: nothing stored."),
        },
        summary="Check the card's holder in",
    )
    @action(detail=False, methods=["post"], url_path="check-in")
    def check_in(self, request: Request) -> Response:
        return self._record(request, AttendanceEvent.Direction.IN)

    @extend_schema(
        request=BadgeCheckSerializer,
        responses={
            201: OpenApiResponse(RecordResultSerializer, description="Stored (flagged if nothing was open)."),
            200: OpenApiResponse(RecordResultSerializer, description="A replay or a duplicate: nothing stored."),
        },
        summary="Check the card's holder out",
    )
    @action(detail=False, methods=["post"], url_path="check-out")
    def check_out(self, request: Request) -> Response:
        return self._record(request, AttendanceEvent.Direction.OUT)


router = DefaultRouter()
router.register("badges", BadgeViewSet, basename="badge")
router.register("device", BadgeDeviceViewSet, basename="badge-device")
urlpatterns = router.urls
