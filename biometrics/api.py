"""REST API of the biometrics app, mounted at /api/biometrics/.

People (admins write, viewers read) manage consent, enrolment, erasure, QR credentials
and per-site thresholds; devices check people in by face, voice or QR. No endpoint ever
returns a template, an embedding or a kept photo.
"""

import base64
import binascii

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from accounts.permissions import IsAdminRole
from accounts.selectors import sites_visible_to
from attendance.authentication import DeviceAuthentication, DeviceRateThrottle, IsDevice
from attendance.models import AttendanceEvent
from attendance.serializers import RecordResultSerializer
from attendance_site.api import AwareDateTimeField
from attendance_site.filters import visible_choices
from attendance_site.openapi import service_unavailable_response
from attendance_site.outages import ServiceUnavailable
from attendance_site.serializers import IdField, ModelSerializer, ScopedPrimaryKeyRelatedField, Serializer
from attendance_site.viewsets import record_response
from biometrics import selectors
from biometrics.models import BiometricConsent, SiteBiometricPolicy
from biometrics.services.check_in import BiometricCheckIn, face_check_in, voice_check_in
from biometrics.services.consent import biometrics_erase, consent_grant, consent_withdraw
from biometrics.services.enrolment import face_templates_enroll, voice_template_enroll
from biometrics.services.errors import RecognitionUnavailable
from biometrics.services.qr import qr_check_in, qr_credential_revoke, qr_page_link_issue
from biometrics.services.site_policy import site_policy_update
from employees.selectors import employees_visible_to

MAX_SAMPLE_BYTES = 8 * 1024 * 1024
MAX_FRAMES = 40


@extend_schema_field(OpenApiTypes.BINARY)
class SampleBytesField(serializers.Field):
    """An uploaded file (multipart) or a base64 string (JSON), read into bytes, bounded."""

    default_error_messages = {
        "invalid": "Send a file (multipart) or a base64 string.",
        "base64": "Not valid base64.",
        "too_large": "The sample is larger than {limit} bytes.",
        "empty": "The sample is empty.",
    }

    def __init__(self, *, max_bytes: int = MAX_SAMPLE_BYTES, **kwargs):
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> bytes:
        if isinstance(data, UploadedFile):
            if (data.size or 0) > self.max_bytes:
                self.fail("too_large", limit=self.max_bytes)
            content = data.read()
        elif isinstance(data, str):
            if len(data) > self.max_bytes * 4 // 3 + 4:
                self.fail("too_large", limit=self.max_bytes)
            try:
                content = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                self.fail("base64")
        else:
            self.fail("invalid")
        if not content:
            self.fail("empty")
        return content

    def to_representation(self, value):
        raise NotImplementedError("samples are never returned")


def with_file_lists(request, *names: str) -> dict:
    """Request data where the named fields are lists, from JSON or from multipart.

    A multipart form repeats a field once per file; DRF's ListField expects a list.
    """
    if not hasattr(request.data, "getlist"):
        return request.data
    data = request.data.dict()
    for name in names:
        files = request.data.getlist(name)
        if files:
            data[name] = files
    return data


# --- Device endpoints ---------------------------------------------------------------


class RecognitionUnavailableError(ServiceUnavailable):
    default_detail = "Face recognition is busy or unavailable; retry, or check in by QR code."
    default_code = "recognition_unavailable"


class DeviceCheckBaseSerializer(Serializer):
    direction = serializers.ChoiceField(choices=AttendanceEvent.Direction.choices)
    client_event_id = serializers.CharField(max_length=64)
    occurred_at = AwareDateTimeField(required=False)
    # DRF's metaclass moves declared fields out of the class: this shadows no Field.source.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=AttendanceEvent.Source.choices, default=AttendanceEvent.Source.ONLINE
    )

    def check_in(self, device) -> BiometricCheckIn:
        data = self.validated_data
        return BiometricCheckIn(
            device=device,
            direction=data["direction"],
            client_event_id=data["client_event_id"],
            occurred_at=data.get("occurred_at"),
            source=data["source"],
        )


class FaceCheckSerializer(DeviceCheckBaseSerializer):
    image = SampleBytesField(help_text="JPEG/PNG/WebP: a file, or base64 in JSON.")
    employee = IdField(required=False, help_text="Claimed employee: verify 1:1 instead of identifying 1:N.")
    frames = serializers.ListField(
        child=SampleBytesField(),
        required=False,
        max_length=MAX_FRAMES,
        help_text="A burst of frames for the liveness check (required where the site demands liveness).",
    )


class VoiceCheckSerializer(DeviceCheckBaseSerializer):
    clip = SampleBytesField(help_text="WAV, FLAC or OGG: a file, or base64 in JSON.")
    employee = IdField(help_text="The employee the speaker claims to be.")


class QrCheckSerializer(DeviceCheckBaseSerializer):
    token = serializers.CharField(required=False, max_length=500, help_text="The decoded QR text.")
    image = SampleBytesField(required=False, help_text="Or a camera image containing the QR code.")

    def validate(self, attrs):
        if ("token" in attrs) == ("image" in attrs):
            raise serializers.ValidationError({"token": "Send exactly one of token and image."})
        return attrs


_CHECK_RESPONSES = {
    201: OpenApiResponse(RecordResultSerializer, description="Identified and stored."),
    200: OpenApiResponse(RecordResultSerializer, description="A replay or a duplicate: nothing stored."),
}
_FACE_CHECK_RESPONSES = {
    **_CHECK_RESPONSES,
    503: service_unavailable_response(
        name="Recognition",
        codes=[RecognitionUnavailableError.default_code],
        description="No recognition worker answered in time (retry, or use QR), or Redis or the database is down.",
    ),
}


class BiometricDeviceViewSet(viewsets.ViewSet):
    """Check-in by face, voice or QR, with ``Authorization: Device <credential>``."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceRateThrottle]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=FaceCheckSerializer, responses=_FACE_CHECK_RESPONSES, summary="Check in or out by face")
    @action(detail=False, methods=["post"], url_path="face-check")
    def face_check(self, request):
        check = FaceCheckSerializer(data=with_file_lists(request, "frames"))
        check.is_valid(raise_exception=True)
        try:
            result = face_check_in(
                check=check.check_in(request.auth),
                image=check.validated_data["image"],
                claimed_employee_id=check.validated_data.get("employee"),
                frames=check.validated_data.get("frames"),
            )
        except RecognitionUnavailable:
            raise RecognitionUnavailableError()
        return record_response(result, serializer_class=RecordResultSerializer)

    @extend_schema(request=VoiceCheckSerializer, responses=_CHECK_RESPONSES, summary="Check in or out by voice")
    @action(detail=False, methods=["post"], url_path="voice-check")
    def voice_check(self, request):
        check = VoiceCheckSerializer(data=request.data)
        check.is_valid(raise_exception=True)
        result = voice_check_in(
            check=check.check_in(request.auth),
            clip=check.validated_data["clip"],
            claimed_employee_id=check.validated_data["employee"],
        )
        return record_response(result, serializer_class=RecordResultSerializer)

    @extend_schema(request=QrCheckSerializer, responses=_CHECK_RESPONSES, summary="Check in or out by QR code")
    @action(detail=False, methods=["post"], url_path="qr-check")
    def qr_check(self, request):
        check = QrCheckSerializer(data=request.data)
        check.is_valid(raise_exception=True)
        result = qr_check_in(
            check=check.check_in(request.auth),
            token=check.validated_data.get("token"),
            image=check.validated_data.get("image"),
        )
        return record_response(result, serializer_class=RecordResultSerializer)


# --- People: consent -----------------------------------------------------------------


class ConsentSerializer(ModelSerializer):
    employee = ScopedPrimaryKeyRelatedField(selector=employees_visible_to)

    class Meta:
        model = BiometricConsent
        fields = ["id", "employee", "notice_version", "granted_at", "recorded_by", "withdrawn_at", "withdrawn_by"]
        read_only_fields = ["granted_at", "recorded_by", "withdrawn_at", "withdrawn_by"]


class ConsentFilter(filters.FilterSet):
    employee = filters.ModelChoiceFilter(queryset=visible_choices(employees_visible_to))

    class Meta:
        model = BiometricConsent
        fields = ["employee"]


class ConsentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ConsentSerializer
    filterset_class = ConsentFilter

    def get_queryset(self):
        return selectors.consents_visible_to(self.request.user)

    def perform_create(self, serializer):
        actor = self.request.user
        if not isinstance(actor, User):  # the permission classes let only people this far
            raise NotAuthenticated()
        serializer.instance = consent_grant(actor=actor, **serializer.validated_data)

    @extend_schema(request=None, responses={200: ConsentSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw consent: every face and voice template of the employee is erased."""
        consent = consent_withdraw(actor=request.user, consent=self.get_object())
        return Response(self.get_serializer(consent).data)


# --- People: enrolment -------------------------------------------------------------------


class EnrolmentStatusSerializer(serializers.Serializer):
    employee = serializers.IntegerField(source="employee_id")
    consent = ConsentSerializer(allow_null=True)
    face_templates = serializers.IntegerField()
    voice_enrolled = serializers.BooleanField()


class FaceEnrolSerializer(Serializer):
    images = serializers.ListField(child=SampleBytesField(), min_length=1, max_length=10)


class VoiceEnrolSerializer(Serializer):
    clips = serializers.ListField(child=SampleBytesField(), min_length=2, max_length=10)


class ErasureRequestSerializer(Serializer):
    reason = serializers.CharField(max_length=500)


class ErasureSerializer(serializers.Serializer):
    face_templates = serializers.IntegerField()
    voice_templates = serializers.IntegerField()


class QrLinkSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The employee's personal QR page; a bearer link until revoked.")


class EnrolmentViewSet(viewsets.GenericViewSet):
    """One employee's biometric state, addressed by employee id."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    serializer_class = EnrolmentStatusSerializer
    filter_backends = []

    def get_queryset(self):
        return employees_visible_to(self.request.user)

    def retrieve(self, request, pk=None):
        employee = self.get_object()
        return Response(EnrolmentStatusSerializer(selectors.enrolment_status(employee=employee)).data)

    @extend_schema(request=FaceEnrolSerializer, responses={201: EnrolmentStatusSerializer})
    @action(detail=True, methods=["post"])
    def face(self, request, pk=None):
        """Enrol 1-10 photos; each must show exactly one sharp face of sufficient size."""
        employee = self.get_object()
        body = FaceEnrolSerializer(data=with_file_lists(request, "images"))
        body.is_valid(raise_exception=True)
        face_templates_enroll(actor=request.user, employee=employee, images=body.validated_data["images"])
        status_now = selectors.enrolment_status(employee=employee)
        return Response(EnrolmentStatusSerializer(status_now).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VoiceEnrolSerializer, responses={201: EnrolmentStatusSerializer})
    @action(detail=True, methods=["post"])
    def voice(self, request, pk=None):
        """Enrol (or replace) the voice from 2-10 clips."""
        employee = self.get_object()
        body = VoiceEnrolSerializer(data=with_file_lists(request, "clips"))
        body.is_valid(raise_exception=True)
        voice_template_enroll(actor=request.user, employee=employee, clips=body.validated_data["clips"])
        status_now = selectors.enrolment_status(employee=employee)
        return Response(EnrolmentStatusSerializer(status_now).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ErasureRequestSerializer, responses={200: ErasureSerializer})
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        """Erase all biometric data of the employee (on request); audited."""
        employee = self.get_object()
        body = ErasureRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        erased = biometrics_erase(actor=request.user, employee=employee, reason=body.validated_data["reason"])
        return Response(ErasureSerializer(erased).data)

    @extend_schema(request=None, responses={200: QrLinkSerializer})
    @action(detail=True, methods=["get"], url_path="qr-link", permission_classes=[IsAdminRole])
    def qr_link(self, request, pk=None):
        """The link to the employee's rotating QR page (open it, or send it to the employee)."""
        employee = self.get_object()
        path = reverse("biometrics-qr-page", args=[qr_page_link_issue(employee=employee)])
        return Response(QrLinkSerializer({"url": request.build_absolute_uri(path)}).data)

    @extend_schema(request=None, responses={200: QrLinkSerializer})
    @action(detail=True, methods=["post"], url_path="qr-revoke")
    def qr_revoke(self, request, pk=None):
        """Revoke every QR code and QR page link of the employee; returns the new link."""
        employee = self.get_object()
        qr_credential_revoke(actor=request.user, employee=employee)
        path = reverse("biometrics-qr-page", args=[qr_page_link_issue(employee=employee)])
        return Response(QrLinkSerializer({"url": request.build_absolute_uri(path)}).data)


# --- People: per-site policy ---------------------------------------------------------------


class SitePolicySerializer(ModelSerializer):
    class Meta:
        model = SiteBiometricPolicy
        fields = ["site", "face_distance_threshold", "face_margin", "liveness_required"]
        read_only_fields = ["site"]


class SitePolicyViewSet(viewsets.GenericViewSet):
    """Recognition thresholds and liveness requirement of one site, addressed by site id."""

    serializer_class = SitePolicySerializer
    filter_backends = []

    def get_queryset(self):
        return sites_visible_to(self.request.user)

    def retrieve(self, request, pk=None):
        site = self.get_object()
        return Response(SitePolicySerializer(selectors.site_policy(site_id=site.pk)).data)

    def partial_update(self, request, pk=None):
        site = self.get_object()
        body = SitePolicySerializer(selectors.site_policy(site_id=site.pk), data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        policy = site_policy_update(actor=request.user, site=site, fields=body.validated_data)
        return Response(SitePolicySerializer(policy).data)


router = DefaultRouter()
router.register("device", BiometricDeviceViewSet, basename="biometric-device")
router.register("consents", ConsentViewSet, basename="consent")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")
router.register("site-policies", SitePolicyViewSet, basename="site-policy")
