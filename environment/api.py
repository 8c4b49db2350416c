"""REST API of the environment app, mounted at /api/environment/.

Devices post readings with explicit units; people read current conditions and history.
"""

import math
from collections.abc import Callable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from accounts.selectors import sites_visible_to
from attendance.authentication import DeviceAuthentication, DeviceRateThrottle, IsDevice
from attendance.selectors import devices_visible_to
from attendance_site.api import AwareDateTimeField
from attendance_site.serializers import ScopedPrimaryKeyRelatedField, Serializer
from attendance_site.viewsets import AuditedModelViewSet
from environment import selectors, services
from environment.rules import BOOLEAN_CONDITIONS, NUMERIC_CONDITIONS
from environment.serializers import RuleSetSerializer

MAX_BATCH = 1000


class MeasureSerializer(Serializer):
    """A number with its unit; converted to the stored unit by ``UNITS``."""

    UNITS: dict[str, Callable[[float], float]] = {}
    value = serializers.FloatField()
    unit = serializers.CharField(max_length=10)

    def validate_value(self, value: float) -> float:
        if not math.isfinite(value):
            raise serializers.ValidationError("Must be a finite number.")
        return value

    def validate_unit(self, unit: str) -> str:
        if unit not in self.UNITS:
            raise serializers.ValidationError(f"Unknown unit {unit!r}; use one of {', '.join(self.UNITS)}.")
        return unit

    # Physically plausible bounds in the stored unit; also keeps converted values finite.
    STORED_RANGE = (-1e9, 1e9)

    def to_internal_value(self, data):
        measure = super().to_internal_value(data)
        value = self.UNITS[measure["unit"]](measure["value"])
        low, high = self.STORED_RANGE
        if not math.isfinite(value) or not low <= value <= high:
            raise serializers.ValidationError({"value": f"Out of the plausible range {low:g} to {high:g}."})
        return value


class LightSerializer(MeasureSerializer):
    UNITS = {"lux": float, "lx": float}
    STORED_RANGE = (0, 200_000)

    def validate_value(self, value: float) -> float:
        value = super().validate_value(value)
        if value < 0:
            raise serializers.ValidationError("Light cannot be negative.")
        return value


class NoiseSerializer(MeasureSerializer):
    UNITS = {"dB": float, "dBA": float}
    STORED_RANGE = (-50, 200)


class TemperatureSerializer(MeasureSerializer):
    UNITS = {"C": float, "F": lambda value: (value - 32) * 5 / 9, "K": lambda value: value - 273.15}
    STORED_RANGE = (-100, 150)


class LatencySerializer(MeasureSerializer):
    UNITS = {"ms": float, "s": lambda value: value * 1000}
    STORED_RANGE = (0, 600_000)

    def validate_value(self, value: float) -> float:
        value = super().validate_value(value)
        if value < 0:
            raise serializers.ValidationError("Latency cannot be negative.")
        return value


class LossSerializer(MeasureSerializer):
    UNITS = {"%": float}

    def validate_value(self, value: float) -> float:
        value = super().validate_value(value)
        if not 0 <= value <= 100:
            raise serializers.ValidationError("Packet loss is a percentage between 0 and 100.")
        return value


class BandwidthSerializer(MeasureSerializer):
    UNITS = {"kbps": float, "Mbps": lambda value: value * 1000}
    STORED_RANGE = (0, 100_000_000)

    def validate_value(self, value: float) -> float:
        value = super().validate_value(value)
        if value < 0:
            raise serializers.ValidationError("Bandwidth cannot be negative.")
        return value


class NetworkSerializer(Serializer):
    online = serializers.BooleanField(required=False)
    latency = LatencySerializer(required=False)
    loss = LossSerializer(required=False)
    bandwidth = BandwidthSerializer(required=False)


class ReadingInputSerializer(Serializer):
    recorded_at = AwareDateTimeField()
    light = LightSerializer(required=False)
    noise = NoiseSerializer(required=False)
    temperature = TemperatureSerializer(required=False)
    network = NetworkSerializer(required=False)
    camera_available = serializers.BooleanField(required=False)
    microphone_available = serializers.BooleanField(required=False)

    def to_reading(self, data: dict) -> services.ReadingInput:
        network = data.get("network", {})
        return services.ReadingInput(
            recorded_at=data["recorded_at"],
            values={
                "light_lux": data.get("light"),
                "noise_db": data.get("noise"),
                "temperature_c": data.get("temperature"),
                "network_online": network.get("online"),
                "network_latency_ms": network.get("latency"),
                "network_loss_pct": network.get("loss"),
                "network_bandwidth_kbps": network.get("bandwidth"),
                "camera_available": data.get("camera_available"),
                "microphone_available": data.get("microphone_available"),
            },
        )


class ReadingBatchSerializer(Serializer):
    # DRF passes max_length on to the list serializer; its stubs do not list that argument.
    readings = ReadingInputSerializer(many=True, allow_empty=False, max_length=MAX_BATCH)  # type: ignore[call-arg]


class ReadingSerializer(serializers.Serializer):
    device = serializers.IntegerField(source="device_id")
    recorded_at = serializers.DateTimeField()
    light_lux = serializers.FloatField(allow_null=True)
    noise_db = serializers.FloatField(allow_null=True)
    temperature_c = serializers.FloatField(allow_null=True)
    network_online = serializers.BooleanField(allow_null=True)
    network_latency_ms = serializers.FloatField(allow_null=True)
    network_loss_pct = serializers.FloatField(allow_null=True)
    network_bandwidth_kbps = serializers.FloatField(allow_null=True)
    camera_available = serializers.BooleanField(allow_null=True)
    microphone_available = serializers.BooleanField(allow_null=True)


class HistoryReadingSerializer(ReadingSerializer):
    """A raw reading of the history: the row as stored, its device as ``device_id``."""

    device = None  # type: ignore[assignment]  # DRF's way to drop an inherited field
    device_id = serializers.IntegerField()


class HistoryBucketSerializer(serializers.Serializer):
    """One device's readings averaged over one minute, hour or day of the history."""

    device_id = serializers.IntegerField()
    period = serializers.DateTimeField(help_text="Start of the bucket.")
    readings = serializers.IntegerField(help_text="Readings averaged.")
    light_lux_avg = serializers.FloatField(allow_null=True)
    noise_db_avg = serializers.FloatField(allow_null=True)
    temperature_c_avg = serializers.FloatField(allow_null=True)
    network_latency_ms_avg = serializers.FloatField(allow_null=True)
    network_loss_pct_avg = serializers.FloatField(allow_null=True)
    network_bandwidth_kbps_avg = serializers.FloatField(allow_null=True)
    light_lux_min = serializers.FloatField(allow_null=True)
    noise_db_max = serializers.FloatField(allow_null=True)


class StoredSerializer(serializers.Serializer):
    stored = serializers.IntegerField()


class DeviceReadingViewSet(viewsets.ViewSet):
    """Devices report their conditions: one reading, or a batch of up to 1000 (all or nothing)."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceRateThrottle]

    @extend_schema(request=ReadingBatchSerializer, responses={201: StoredSerializer}, summary="Report conditions")
    @action(detail=False, methods=["post"])
    def readings(self, request):
        body = (
            request.data
            if isinstance(request.data, dict) and "readings" in request.data
            else {"readings": [request.data]}
        )
        batch = ReadingBatchSerializer(data=body)
        batch.is_valid(raise_exception=True)
        converter = ReadingInputSerializer()
        stored = services.condition_readings_record(
            device=request.auth, readings=[converter.to_reading(item) for item in batch.validated_data["readings"]]
        )
        return Response({"stored": len(stored)}, status=status.HTTP_201_CREATED)


class HistoryQuerySerializer(serializers.Serializer):
    site = ScopedPrimaryKeyRelatedField(selector=sites_visible_to, required=False)
    device = ScopedPrimaryKeyRelatedField(selector=devices_visible_to, required=False)
    start = AwareDateTimeField(required=False)
    end = AwareDateTimeField(required=False)
    bucket = serializers.ChoiceField(choices=selectors.BUCKETS, required=False, help_text="Average per bucket.")

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": "Must be after start."})
        return attrs


# --- Rule sets and modes ---------------------------------------------------------------


class DryRunSerializer(Serializer):
    conditions = serializers.DictField(
        required=False, help_text='Condition values in stored units, e.g. {"light_lux": 40}.'
    )
    days = serializers.IntegerField(
        required=False, min_value=1, max_value=31, help_text="Or: replay the site's readings of the last N days."
    )

    def validate_conditions(self, conditions: dict) -> dict:
        for name, value in conditions.items():
            if name in BOOLEAN_CONDITIONS:
                if not isinstance(value, bool):
                    raise serializers.ValidationError(f"{name} must be true or false.")
            elif name in NUMERIC_CONDITIONS:
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                    raise serializers.ValidationError(f"{name} must be a finite number.")
            else:
                raise serializers.ValidationError(f"Unknown condition {name!r}.")
        return conditions

    def validate(self, attrs):
        if ("conditions" in attrs) == ("days" in attrs):
            raise serializers.ValidationError({"conditions": "Send exactly one of conditions and days."})
        return attrs


class ModeDecisionSerializer(serializers.Serializer):
    mode = serializers.CharField()
    allowed = serializers.BooleanField()
    reason = serializers.CharField()


class ModeShareSerializer(serializers.Serializer):
    draft = serializers.FloatField(help_text="Share of the readings in which the draft allows the mode.")
    current = serializers.FloatField(help_text="The same under the active rule set (0 without one).")


class DeviceReplaySerializer(serializers.Serializer):
    device = serializers.IntegerField()
    readings = serializers.IntegerField()
    differences = serializers.IntegerField(help_text="Readings the two rule sets decide differently.")
    allowed = serializers.DictField(child=ModeShareSerializer(), help_text="Per mode.")


class ReplaySerializer(serializers.Serializer):
    active_rule_set = serializers.IntegerField(allow_null=True)
    readings = serializers.IntegerField()
    readings_decided_differently = serializers.IntegerField()
    devices = DeviceReplaySerializer(many=True)


class DeviceModesSerializer(serializers.Serializer):
    allowed_modes = serializers.ListField(child=serializers.CharField(), help_text="In order of preference.")
    decisions = ModeDecisionSerializer(many=True)
    rule_set = serializers.IntegerField(allow_null=True, source="rule_set_id")
    reading_at = serializers.DateTimeField(allow_null=True)


class DeviceModeStateSerializer(DeviceModesSerializer):
    device = serializers.IntegerField(source="device_id")
    changed_at = serializers.DateTimeField()


class RuleSetViewSet(AuditedModelViewSet):
    """Versioned rule sets: admins create and edit drafts and activate them; viewers read."""

    serializer_class = RuleSetSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["status"]
    update_service = services.rule_set_update
    instance_argument = "rule_set"

    def get_queryset(self):
        return selectors.rule_sets_visible_to(self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.rule_set_create(
            actor=self.request.user, site=data.get("site"), rules=data["rules"], note=data.get("note", "")
        )

    @extend_schema(request=None, responses={200: RuleSetSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """Make this draft the active version; the previous active one is retired."""
        rule_set = services.rule_set_activate(actor=request.user, rule_set=self.get_object())
        return Response(self.get_serializer(rule_set).data)

    @extend_schema(
        request=DryRunSerializer,
        responses={
            200: PolymorphicProxySerializer(
                component_name="DryRunResult",
                serializers=[ModeDecisionSerializer(many=True), ReplaySerializer],
                resource_type_field_name=None,
                many=False,
            )
        },
    )
    @action(detail=True, methods=["post"], url_path="dry-run")
    def dry_run(self, request, pk=None):
        """What this rule set (a draft, typically) would decide: for given conditions (a list of
        decisions), or over the site's readings of the last N days next to the active rule set
        ("what would have changed")."""
        rule_set = self.get_object()
        body = DryRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "conditions" in body.validated_data:
            decisions = selectors.rule_set_decide(rule_set=rule_set, conditions=body.validated_data["conditions"])
            return Response(ModeDecisionSerializer(decisions, many=True).data)
        return Response(selectors.rule_set_replay_recent(rule_set=rule_set, days=body.validated_data["days"]))


class DeviceModesViewSet(viewsets.ViewSet):
    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceRateThrottle]

    @extend_schema(responses={200: DeviceModesSerializer}, summary="The modes this device may use now, and why")
    @action(detail=False, methods=["get"])
    def modes(self, request):
        return Response(DeviceModesSerializer(services.device_modes_answer(device=request.auth)).data)


class ConditionViewSet(viewsets.GenericViewSet):
    serializer_class = ReadingSerializer
    filter_backends = []
    # Every answer here is one whole list: bounded by the visible devices or the 5000 rows.
    pagination_class = None

    @extend_schema(
        parameters=[HistoryQuerySerializer],
        responses={
            200: PolymorphicProxySerializer(
                component_name="HistoryRow",
                serializers=[HistoryReadingSerializer, HistoryBucketSerializer],
                resource_type_field_name=None,
                many=True,
            )
        },
        summary="Readings over time, raw (5000 at most) or averaged per bucket",
    )
    @action(detail=False, methods=["get"])
    def history(self, request):
        query = HistoryQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        readings = selectors.readings_visible_to(request.user, site=params.get("site"), device=params.get("device"))
        rows = selectors.readings_history(
            queryset=readings, start=params.get("start"), end=params.get("end"), bucket=params.get("bucket")
        )
        return Response(rows)

    @extend_schema(
        parameters=[OpenApiParameter("site", OpenApiTypes.INT, description="Only this site's devices.")],
        responses={200: ReadingSerializer(many=True)},
        summary="Each visible device's newest reading",
    )
    @action(detail=False, methods=["get"])
    def current(self, request):
        site = None
        if "site" in request.query_params:
            query = HistoryQuerySerializer(data={"site": request.query_params["site"]}, context={"request": request})
            query.is_valid(raise_exception=True)
            site = query.validated_data["site"]
        current = selectors.device_conditions_visible_to(request.user, site=site)
        return Response(ReadingSerializer(current, many=True).data)

    @extend_schema(
        parameters=[HistoryQuerySerializer],
        responses={200: DeviceModeStateSerializer(many=True)},
        summary="Each visible device's current modes and why",
    )
    @action(detail=False, methods=["get"])
    def modes(self, request):
        query = HistoryQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        states = selectors.device_mode_states_visible_to(request.user, site=query.validated_data.get("site"))
        return Response(DeviceModeStateSerializer(states, many=True).data)


router = DefaultRouter()
router.register("device", DeviceReadingViewSet, basename="environment-device")
router.register("device-modes", DeviceModesViewSet, basename="environment-device-modes")
router.register("conditions", ConditionViewSet, basename="condition")
router.register("rule-sets", RuleSetViewSet, basename="rule-set")
