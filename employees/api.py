"""REST API of the employees app, mounted at /api/employees/."""

import zoneinfo
from datetime import timedelta

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from accounts.selectors import sites_visible_to
from attendance_site.filters import SiteScopedFilter, visible_choices
from attendance_site.serializers import DictField, ModelSerializer, ScopedPrimaryKeyRelatedField
from attendance_site.viewsets import AuditedModelViewSet
from employees import selectors, services
from employees.models import Department, Employee, Shift, Site


class SiteSerializer(ModelSerializer):
    timezone = serializers.CharField(help_text="IANA zone name, e.g. Europe/Berlin.")
    duplicate_window = serializers.DurationField(required=False, min_value=timedelta(0), max_value=timedelta(hours=1))
    max_work_session = serializers.DurationField(
        required=False, min_value=timedelta(hours=1), max_value=timedelta(hours=48)
    )

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "timezone",
            "address",
            "latitude",
            "longitude",
            "duplicate_window",
            "max_work_session",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_timezone(self, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(f"Unknown time zone {value!r}; use an IANA name such as Europe/Berlin.")
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["timezone"] = str(instance.timezone)
        return data


class DepartmentSerializer(ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(selector=sites_visible_to)

    class Meta:
        model = Department
        fields = ["id", "site", "name", "created_at"]
        read_only_fields = ["created_at"]


class ShiftSerializer(ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(selector=sites_visible_to)

    class Meta:
        model = Shift
        fields = ["id", "site", "name", "start_time", "end_time", "grace_minutes", "crosses_midnight"]
        read_only_fields = ["crosses_midnight"]


class EmployeeSerializer(ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(selector=sites_visible_to)
    department = ScopedPrimaryKeyRelatedField(
        selector=selectors.departments_visible_to, allow_null=True, required=False
    )
    shift = ScopedPrimaryKeyRelatedField(selector=selectors.shifts_visible_to, allow_null=True, required=False)
    external_ids = DictField(
        child=serializers.CharField(max_length=120), required=False, help_text="HR system name -> id."
    )

    class Meta:
        model = Employee
        fields = [
            "id",
            "employee_code",
            "first_name",
            "last_name",
            "email",
            "site",
            "department",
            "shift",
            "is_active",
            "hire_date",
            "external_ids",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class DepartmentFilter(SiteScopedFilter):
    class Meta:
        model = Department
        fields = ["site"]


class ShiftFilter(SiteScopedFilter):
    class Meta:
        model = Shift
        fields = ["site"]


class EmployeeFilter(SiteScopedFilter):
    department = filters.ModelChoiceFilter(queryset=visible_choices(selectors.departments_visible_to))
    shift = filters.ModelChoiceFilter(queryset=visible_choices(selectors.shifts_visible_to))

    class Meta:
        model = Employee
        fields = ["site", "department", "shift", "is_active"]


class SiteViewSet(AuditedModelViewSet):
    serializer_class = SiteSerializer
    search_fields = ["name", "address"]
    ordering_fields = ["name", "created_at"]
    create_service = services.site_create
    update_service = services.site_update
    delete_service = services.site_delete
    instance_argument = "site"

    def get_queryset(self):
        return sites_visible_to(self.request.user).order_by("name")


class DepartmentViewSet(AuditedModelViewSet):
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilter
    search_fields = ["name"]
    ordering_fields = ["name"]
    create_service = services.department_create
    update_service = services.department_update
    delete_service = services.department_delete
    instance_argument = "department"

    def get_queryset(self):
        return selectors.departments_visible_to(self.request.user)


class ShiftViewSet(AuditedModelViewSet):
    serializer_class = ShiftSerializer
    filterset_class = ShiftFilter
    search_fields = ["name"]
    ordering_fields = ["name", "start_time"]
    create_service = services.shift_create
    update_service = services.shift_update
    delete_service = services.shift_delete
    instance_argument = "shift"

    def get_queryset(self):
        return selectors.shifts_visible_to(self.request.user)


class EmployeeViewSet(AuditedModelViewSet):
    serializer_class = EmployeeSerializer
    filterset_class = EmployeeFilter
    search_fields = ["employee_code", "first_name", "last_name", "email"]
    ordering_fields = ["employee_code", "last_name", "hire_date", "created_at"]
    create_service = services.employee_create
    update_service = services.employee_update
    instance_argument = "employee"

    def get_queryset(self):
        return selectors.employees_visible_to(self.request.user)

    @extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted: the employee had no attendance."),
            200: OpenApiResponse(EmployeeSerializer, description="Deactivated: the employee has attendance."),
        }
    )
    def destroy(self, request, *args, **kwargs):
        employee = self.get_object()
        if services.employee_remove(actor=request.user, employee=employee):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(employee).data, status=status.HTTP_200_OK)


router = DefaultRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("departments", DepartmentViewSet, basename="department")
router.register("shifts", ShiftViewSet, basename="shift")
router.register("employees", EmployeeViewSet, basename="employee")
