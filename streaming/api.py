"""REST API of the streaming app, mounted at /api/streams/: admins manage, viewers watch."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from accounts.selectors import sites_visible_to
from attendance_site.filters import SiteScopedFilter
from attendance_site.serializers import ModelSerializer, ScopedPrimaryKeyRelatedField
from attendance_site.viewsets import AuditedModelViewSet
from streaming import selectors, services
from streaming.models import CameraHostAllowance, CameraStream


class CameraStreamSerializer(ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(selector=sites_visible_to)
    url = serializers.CharField(
        write_only=True, max_length=500, help_text="rtsp:// or rtsps://; credentials in it are stored encrypted."
    )
    has_credentials = serializers.SerializerMethodField()
    hls_url = serializers.SerializerMethodField(help_text="The annotated stream's HLS playlist.")

    class Meta:
        model = CameraStream
        fields = [
            "id",
            "site",
            "name",
            "url",
            "url_without_credentials",
            "has_credentials",
            "hls_url",
            "label_faces",
            "record_attendance",
            "attendance_direction",
            "attendance_cooldown_seconds",
            "max_width",
            "max_height",
            "max_fps",
            "tls_verify",
            "tls_fingerprint_sha256",
            "state",
            "input_fps",
            "output_fps",
            "latency_ms",
            "last_error",
            "heartbeat_at",
            "created_at",
        ]
        read_only_fields = [
            "url_without_credentials",
            "state",
            "input_fps",
            "output_fps",
            "latency_ms",
            "last_error",
            "heartbeat_at",
            "created_at",
        ]
        extra_kwargs = {
            "max_width": {"min_value": 160, "max_value": 1920},
            "max_height": {"min_value": 120, "max_value": 1080},
            "max_fps": {"min_value": 1, "max_value": 30},
            "attendance_cooldown_seconds": {"min_value": 10, "max_value": 86400},
        }

    def get_has_credentials(self, stream: CameraStream) -> bool:
        return stream.credentials_encrypted is not None

    def get_hls_url(self, stream: CameraStream) -> str:
        path = reverse("stream-hls", args=[stream.pk, "index.m3u8"])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class CameraHostSerializer(ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(selector=sites_visible_to)

    class Meta:
        model = CameraHostAllowance
        fields = ["id", "site", "host", "note", "created_at"]
        read_only_fields = ["created_at"]


class CameraStreamFilter(SiteScopedFilter):
    class Meta:
        model = CameraStream
        fields = ["site", "state"]


class CameraHostFilter(SiteScopedFilter):
    class Meta:
        model = CameraHostAllowance
        fields = ["site"]


class CameraStreamViewSet(AuditedModelViewSet):
    serializer_class = CameraStreamSerializer
    filterset_class = CameraStreamFilter
    http_method_names = ["get", "post", "delete", "head", "options"]
    delete_service = services.camera_stream_delete
    instance_argument = "stream"

    def get_queryset(self):
        return selectors.camera_streams_visible_to(self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.camera_stream_create(
            actor=self.request.user, site=data.pop("site"), name=data.pop("name"), url=data.pop("url"), options=data
        )

    @extend_schema(request=None, responses={200: CameraStreamSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start a stopped or failed stream again (400 when the concurrent-stream limit is reached)."""
        stream = services.camera_stream_start(actor=request.user, stream=self.get_object())
        return Response(self.get_serializer(stream).data)

    @extend_schema(request=None, responses={200: CameraStreamSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop the stream and keep its settings; its playlist ends where it stopped."""
        stream = services.camera_stream_stop(actor=request.user, stream=self.get_object())
        return Response(self.get_serializer(stream).data)


class CameraHostViewSet(AuditedModelViewSet):
    serializer_class = CameraHostSerializer
    filterset_class = CameraHostFilter
    http_method_names = ["get", "post", "delete", "head", "options"]
    delete_service = services.camera_host_remove
    instance_argument = "host"

    def get_queryset(self):
        return selectors.camera_hosts_visible_to(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.camera_host_allow(actor=self.request.user, **serializer.validated_data)


router = DefaultRouter()
router.register("camera-hosts", CameraHostViewSet, basename="camera-host")
router.register("", CameraStreamViewSet, basename="camera-stream")
