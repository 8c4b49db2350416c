"""REST API of the attendance app, mounted at /api/attendance/.

People (session or token) manage devices, read events and summaries, and enter
attendance by hand; devices (their own credential) check people in and out.
"""

from datetime import date
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from accounts.selectors import sites_visible_to, visible_site_ids
from attendance import selectors, services
from attendance.authentication import DeviceAuthentication, DeviceRateThrottle, IsDevice
from attendance.models import AttendanceEvent, Device
from attendance.serializers import AttendanceEventSerializer, RecordResultSerializer
from attendance_site.api import AwareDateTimeField, NewestFirstCursorPagination
from attendance_site.filters import SiteScopedFilter, visible_choices
from attendance_site.serializers import (
    ModelSerializer,
    ScopedPrimaryKeyRelatedField,
    Serializer,
    StrictPrimaryKeyRelatedField,
)
from attendance_site.viewsets import AuditedModelViewSet, record_response
from employees.models import Employee
from employees.selectors import departments_visible_to, employees_visible_to

# Bounds for dates in queries: outside them date arithmetic overflows, and no
# attendance exists there anyway.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)

# --- Devices, managed by people ---------------------------------------------------


class DeviceSerializer(ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(selector=sites_visible_to)

    class Meta:
        model = Device
        fields = ["id", "site", "name", "kind", "is_revoked", "revoked_at", "last_seen_at", "created_at"]
        read_only_fields = ["is_revoked", "revoked_at", "last_seen_at", "created_at"]


class DeviceCreatedSerializer(DeviceSerializer):
    credential = serializers.CharField(
        read_only=True, help_text="Shown once, now: store it on the device. Only a hash is kept."
    )

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "credential"]


class DeviceFilter(SiteScopedFilter):
    class Meta:
        model = Device
        fields = ["site", "kind"]


class DeviceViewSet(AuditedModelViewSet):
    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter
    search_fields = ["name"]
    ordering_fields = ["name", "last_seen_at", "created_at"]
    update_service = services.device_update
    delete_service = services.device_delete
    instance_argument = "device"

    def get_queryset(self):
        return selectors.devices_visible_to(self.request.user)

    @extend_schema(request=DeviceSerializer, responses={201: DeviceCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.device_create(actor=request.user, fields=serializer.validated_data)
        output = DeviceCreatedSerializer(created.device, context=self.get_serializer_context()).data
        output["credential"] = created.credential
        return Response(output, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: DeviceSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the device's credential at once; it can never authenticate again."""
        device = services.device_revoke(actor=request.user, device=self.get_object())
        return Response(self.get_serializer(device).data)


# --- Events -----------------------------------------------------------------------


class ManualEntrySerializer(Serializer):
    employee = ScopedPrimaryKeyRelatedField(selector=employees_visible_to)
    direction = serializers.ChoiceField(choices=AttendanceEvent.Direction.choices)
    occurred_at = AwareDateTimeField()
    reason = serializers.CharField(max_length=2000, help_text="Why this was entered by hand; kept in the audit log.")


class AttendanceEventFilter(SiteScopedFilter):
    employee = filters.ModelChoiceFilter(queryset=visible_choices(employees_visible_to))
    device = filters.ModelChoiceFilter(queryset=visible_choices(selectors.devices_visible_to))
    department = filters.ModelChoiceFilter(
        field_name="employee__department", queryset=visible_choices(departments_visible_to)
    )
    method = filters.ChoiceFilter(choices=selectors.attendance_method_choices())
    date_from = filters.DateFilter(method="filter_local_dates", help_text="Site-local date, inclusive.")
    date_to = filters.DateFilter(method="filter_local_dates", help_text="Site-local date, inclusive.")

    class Meta:
        model = AttendanceEvent
        fields = ["employee", "department", "site", "device", "method", "status", "direction", "source"]

    def filter_local_dates(self, queryset, name, value):
        # Both bounds need each site's zone, so they are applied together in filter_queryset.
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        date_from, date_to = self.form.cleaned_data.get("date_from"), self.form.cleaned_data.get("date_to")
        for name, value in (("date_from", date_from), ("date_to", date_to)):
            if value and not FIRST_DAY <= value <= LAST_DAY:
                raise serializers.ValidationError({name: f"Must lie between {FIRST_DAY} and {LAST_DAY}."})
        if date_from and date_to and date_from > date_to:
            raise serializers.ValidationError({"date_to": "Must not be before date_from."})
        site = self.form.cleaned_data.get("site")
        site_ids = frozenset([site.pk]) if site else visible_site_ids(self.request.user)
        return selectors.attendance_events_in_local_dates(
            queryset, site_ids=site_ids, date_from=date_from, date_to=date_to
        )


class AttendanceEventViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The attendance log. Events are never edited: corrections are new manual entries."""

    serializer_class = AttendanceEventSerializer
    filterset_class = AttendanceEventFilter
    pagination_class = NewestFirstCursorPagination
    ordering_fields = ["occurred_at"]
    search_fields = None

    def get_queryset(self):
        return selectors.attendance_events_visible_to(self.request.user)

    @extend_schema(
        request=ManualEntrySerializer,
        responses={201: RecordResultSerializer, 200: RecordResultSerializer},
        summary="Enter attendance by hand (admins)",
    )
    def create(self, request, *args, **kwargs):
        entry = ManualEntrySerializer(data=request.data, context=self.get_serializer_context())
        entry.is_valid(raise_exception=True)
        result = services.attendance_event_manual_create(actor=request.user, **entry.validated_data)
        return record_response(result, serializer_class=RecordResultSerializer)


# --- Device endpoints -------------------------------------------------------------


class DeviceCheckSerializer(Serializer):
    employee = StrictPrimaryKeyRelatedField(
        queryset=Employee.objects.none(), required=False, help_text="Employee id; or send employee_code."
    )
    employee_code = serializers.CharField(max_length=40, required=False)
    client_event_id = serializers.CharField(
        max_length=64, help_text="Generated by the device, unique per device: a retry with it is answered, not stored."
    )
    occurred_at = AwareDateTimeField(required=False, help_text="Device clock, with offset; defaults to now.")
    method = serializers.ChoiceField(choices=selectors.attendance_method_choices(manual=False))
    confidence = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    liveness_score = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    # DRF's metaclass moves declared fields out of the class: this shadows no Field.source.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=AttendanceEvent.Source.choices, default=AttendanceEvent.Source.ONLINE
    )

    def __init__(self, *args: Any, device: Device | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if device is not None:
            # A device only ever identifies people of its own site.
            employees = Employee.objects.filter(site_id=device.site_id).select_related("site")
            employee_field = cast("serializers.PrimaryKeyRelatedField[Employee]", self.fields["employee"])
            # The stubs declare queryset as possibly a Manager, which mypy then treats as a
            # descriptor on assignment; a QuerySet is what DRF takes here.
            employee_field.queryset = employees  # type: ignore[arg-type]
        self.device = device

    def validate(self, attrs):
        code = attrs.pop("employee_code", None)
        if ("employee" in attrs) == (code is not None):
            raise serializers.ValidationError({"employee": "Send exactly one of employee and employee_code."})
        if code is not None:
            if self.device is None:
                raise ImproperlyConfigured("a device check is validated with the device that sent it")
            employee = (
                Employee.objects.filter(site_id=self.device.site_id, employee_code=code).select_related("site").first()
            )
            if employee is None:
                raise serializers.ValidationError({"employee_code": "No employee with this code at this site."})
            attrs["employee"] = employee
        return attrs


class DeviceSerializerForDevice(serializers.ModelSerializer):
    site_name = serializers.CharField(source="site.name", read_only=True)

    class Meta:
        model = Device
        fields = ["id", "name", "kind", "site", "site_name", "last_seen_at"]
        read_only_fields = fields


class DeviceEndpointViewSet(viewsets.ViewSet):
    """What a device calls, with ``Authorization: Device <credential>``."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceRateThrottle]
    serializer_class = DeviceCheckSerializer

    def _record(self, request, direction: str) -> Response:
        device = request.auth
        check = DeviceCheckSerializer(data=request.data, device=device)
        check.is_valid(raise_exception=True)
        result = services.attendance_event_record(device=device, direction=direction, **check.validated_data)
        return record_response(result, serializer_class=RecordResultSerializer)

    @extend_schema(
        request=DeviceCheckSerializer,
        responses={
            201: OpenApiResponse(RecordResultSerializer, description="Stored."),
            200: OpenApiResponse(RecordResultSerializer, description="A replay or a duplicate: nothing stored."),
        },
        summary="Check someone in",
    )
    @action(detail=False, methods=["post"], url_path="check-in")
    def check_in(self, request):
        return self._record(request, AttendanceEvent.Direction.IN)

    @extend_schema(
        request=DeviceCheckSerializer,
        responses={
            201: OpenApiResponse(RecordResultSerializer, description="Stored (flagged if nothing was open)."),
            200: OpenApiResponse(RecordResultSerializer, description="A replay or a duplicate: nothing stored."),
        },
        summary="Check someone out",
    )
    @action(detail=False, methods=["post"], url_path="check-out")
    def check_out(self, request):
        return self._record(request, AttendanceEvent.Direction.OUT)

    @extend_schema(request=None, responses={200: DeviceSerializerForDevice}, summary="The calling device")
    @action(detail=False, methods=["get"], url_path="me")
    def me(self, request):
        return Response(DeviceSerializerForDevice(request.auth).data)


# --- Daily summaries ----------------------------------------------------------------


class DailySummaryQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    # Scoped like every other filter: another site's id is an invalid choice (400), not an empty list.
    site = ScopedPrimaryKeyRelatedField(selector=sites_visible_to, required=False)
    department = ScopedPrimaryKeyRelatedField(selector=departments_visible_to, required=False)
    employee = ScopedPrimaryKeyRelatedField(selector=employees_visible_to, required=False)

    MAX_DAYS = 62

    def validate(self, attrs):
        for name in ("date_from", "date_to"):
            if not FIRST_DAY <= attrs[name] <= LAST_DAY:
                raise serializers.ValidationError({name: f"Must lie between {FIRST_DAY} and {LAST_DAY}."})
        span = (attrs["date_to"] - attrs["date_from"]).days
        if span < 0:
            raise serializers.ValidationError({"date_to": "Must not be before date_from."})
        if span >= self.MAX_DAYS:
            raise serializers.ValidationError({"date_to": f"A summary covers at most {self.MAX_DAYS} days."})
        return attrs


class DailySummarySerializer(serializers.Serializer):
    employee = serializers.IntegerField(source="employee_id")
    employee_code = serializers.CharField()
    employee_name = serializers.CharField()
    site = serializers.IntegerField(source="site_id")
    work_date = serializers.DateField(help_text="Site-local date of the first check-in.")
    first_in = serializers.DateTimeField()
    last_out = serializers.DateTimeField(allow_null=True)
    worked = serializers.DurationField(help_text="Sum of closed sessions.")
    open_sessions = serializers.IntegerField(help_text="Check-ins not (yet) closed by a check-out.")
    late_by = serializers.DurationField(allow_null=True, help_text="0 within the grace period; null without a shift.")
    left_early_by = serializers.DurationField(allow_null=True)


class DailySummaryViewSet(viewsets.GenericViewSet):
    serializer_class = DailySummarySerializer
    filter_backends = []

    @extend_schema(parameters=[DailySummaryQuerySerializer], responses={200: DailySummarySerializer(many=True)})
    def list(self, request):
        query = DailySummaryQuerySerializer(data=request.query_params, context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        params = query.validated_data
        summaries = selectors.daily_summaries_list(
            user=request.user,
            date_from=params["date_from"],
            date_to=params["date_to"],
            site_id=params["site"].pk if "site" in params else None,
            department_id=params["department"].pk if "department" in params else None,
            employee_id=params["employee"].pk if "employee" in params else None,
        )
        page = self.paginate_queryset(summaries)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


router = DefaultRouter()
router.register("devices", DeviceViewSet, basename="device")
router.register("events", AttendanceEventViewSet, basename="attendance-event")
router.register("daily-summaries", DailySummaryViewSet, basename="daily-summary")
router.register("device", DeviceEndpointViewSet, basename="device-endpoint")
