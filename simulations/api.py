"""REST API of the simulations app, mounted at /api/simulations/.

Admins upload runs (JSON, or a CSV file for big runs) and turn a run's recommendation
into a draft rule set; viewers read runs, results and analyses of their sites.
"""

import csv
import io
import itertools
import math

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from accounts.selectors import sites_visible_to
from attendance_site.filters import SiteScopedFilter
from attendance_site.registry import registry
from attendance_site.serializers import (
    JSONField,
    ModelSerializer,
    ScopedPrimaryKeyRelatedField,
    UnknownFieldsRefusedMixin,
)
from environment.serializers import RuleSetSerializer
from simulations import selectors, services
from simulations.models import SimulationResult, SimulationRun

DEFAULT_LIGHT_BINS = [0.0, 50.0, 150.0, 300.0, 1000.0]
DEFAULT_NOISE_BINS = [0.0, 40.0, 60.0, 80.0, 120.0]
MAX_BINS = 20


class ResultRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = SimulationResult
        fields = ["id", "light_lux", "noise_db", "method", "outcome", "duration_ms"]


@extend_schema_field(ResultRowSerializer(many=True))
class ResultRowsField(serializers.JSONField):
    """The rows as sent; the service checks each one and reports every bad row at once."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            raise serializers.ValidationError("Must be a list of result rows.")
        return data


class SimulationRunSerializer(ModelSerializer):
    site = ScopedPrimaryKeyRelatedField(selector=sites_visible_to)
    parameters = JSONField(required=False, help_text="Whatever the generator was run with.")

    class Meta:
        model = SimulationRun
        fields = ["id", "site", "scenario", "parameters", "generator_version", "created_by", "created_at", "row_count"]
        read_only_fields = ["created_by", "created_at", "row_count"]

    def validate_parameters(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be an object.")
        return value


class RunUploadSerializer(SimulationRunSerializer):
    results = ResultRowsField(
        help_text=f"Up to {services.MAX_ROWS} rows (within the request size limit); all or nothing."
    )

    class Meta(SimulationRunSerializer.Meta):
        fields = [*SimulationRunSerializer.Meta.fields, "results"]


class RunCsvUploadSerializer(SimulationRunSerializer):
    parameters = JSONField(binary=True, required=False, help_text="A JSON object, as text.")
    results = serializers.FileField(
        help_text="CSV (UTF-8) with the header light_lux,noise_db,method,outcome,duration_ms; "
        f"up to {services.MAX_ROWS} rows; all or nothing."
    )

    class Meta(SimulationRunSerializer.Meta):
        fields = [*SimulationRunSerializer.Meta.fields, "results"]


def _csv_rows(upload) -> list[dict]:
    """The rows of an uploaded CSV file as dicts, numbers still as text for the service to check."""
    try:
        text = io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
        reader = csv.DictReader(text)
        header = reader.fieldnames or []
        if sorted(header) != sorted(services.RESULT_FIELDS):
            raise serializers.ValidationError(
                {"results": f"The CSV header must be {','.join(services.RESULT_FIELDS)}; got {','.join(header)}."}
            )
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) > services.MAX_ROWS:
                break
        return rows
    except UnicodeDecodeError:
        raise serializers.ValidationError({"results": "The CSV file must be UTF-8 text."})
    except csv.Error as error:
        raise serializers.ValidationError({"results": f"Unreadable CSV: {error}."})


class SimulationRunFilter(SiteScopedFilter):
    class Meta:
        model = SimulationRun
        fields = ["site", "scenario", "generator_version"]


class ResultQuerySerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=registry.checkin_methods.mode_choices(), required=False)
    outcome = serializers.ChoiceField(choices=SimulationResult.Outcome.choices, required=False)
    light_min = serializers.FloatField(required=False, help_text="Lux, inclusive.")
    light_max = serializers.FloatField(required=False, help_text="Lux, inclusive.")
    noise_min = serializers.FloatField(required=False, help_text="dB, inclusive.")
    noise_max = serializers.FloatField(required=False, help_text="dB, inclusive.")


@extend_schema_field(OpenApiTypes.STR)
class BinEdgesField(serializers.Field):
    """Bin edges, comma-separated ("0,50,150") or a list: finite, strictly increasing."""

    def __init__(self, *, minimum: float | None = None, **kwargs):
        self.minimum = minimum
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> list[float]:
        items = data.split(",") if isinstance(data, str) else data
        if not isinstance(items, list):
            raise serializers.ValidationError("Give comma-separated numbers, e.g. 0,50,150.")
        try:
            edges = [float(item) for item in items if not isinstance(item, bool)]
        except (TypeError, ValueError):
            raise serializers.ValidationError("Every edge must be a number.")
        if len(edges) != len(items) or not all(math.isfinite(edge) for edge in edges):
            raise serializers.ValidationError("Every edge must be a finite number.")
        if not 2 <= len(edges) <= MAX_BINS + 1:
            raise serializers.ValidationError(f"Give between 2 and {MAX_BINS + 1} edges.")
        if any(low >= high for low, high in itertools.pairwise(edges)):
            raise serializers.ValidationError("Edges must be strictly increasing.")
        if self.minimum is not None and edges[0] < self.minimum:
            raise serializers.ValidationError(f"Edges must be >= {self.minimum:g}.")
        return edges

    def to_representation(self, value):
        return ",".join(f"{edge:g}" for edge in value)


class AnalysisQuerySerializer(serializers.Serializer):
    light_bins = BinEdgesField(
        minimum=0, default=lambda: list(DEFAULT_LIGHT_BINS), help_text="Lux edges, comma-separated."
    )
    noise_bins = BinEdgesField(default=lambda: list(DEFAULT_NOISE_BINS), help_text="dB edges, comma-separated.")
    max_false_accept = serializers.FloatField(
        min_value=0, max_value=1, default=0.01, help_text="Bound on false accepts / attempts a threshold admits."
    )
    min_samples = serializers.IntegerField(
        min_value=1, default=30, help_text="Fewest attempts a threshold must admit to be considered."
    )
    min_success_rate = serializers.FloatField(
        min_value=0, max_value=1, default=0.5, help_text="Lowest success rate over the attempts a threshold admits."
    )


class RecommendationDraftSerializer(UnknownFieldsRefusedMixin, AnalysisQuerySerializer):
    """The analysis parameters as a request body, where a misspelled one is refused."""


class RatesMixin(serializers.Serializer):
    attempts = serializers.IntegerField(source="counts.attempts")
    success_rate = serializers.FloatField(source="counts.success_rate", allow_null=True)
    false_reject_rate = serializers.FloatField(source="counts.false_reject_rate", allow_null=True)
    false_accept_rate = serializers.FloatField(source="counts.false_accept_rate", allow_null=True)
    failure_to_acquire_rate = serializers.FloatField(source="counts.failure_to_acquire_rate", allow_null=True)


class CellSerializer(RatesMixin):
    method = serializers.CharField()
    light_band = serializers.ListField(child=serializers.FloatField(), help_text="[low, high) in lux.")
    noise_band = serializers.ListField(child=serializers.FloatField(), help_text="[low, high) in dB.")


class MethodRecommendationSerializer(RatesMixin):
    method = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["recommended", "fallback", "not_enough_data", "false_accept_too_high", "success_too_low"],
        help_text="See docs/simulations.md.",
    )
    condition = serializers.CharField(allow_null=True)
    threshold = serializers.DictField(child=serializers.FloatField(), allow_null=True)


class RecommendationSerializer(serializers.Serializer):
    methods = MethodRecommendationSerializer(many=True)
    rules = serializers.JSONField(allow_null=True, help_text="A rule set (docs/environment.md); null if none.")


class AnalysisSerializer(serializers.Serializer):
    run = serializers.IntegerField(source="run.pk")
    light_bins = serializers.ListField(child=serializers.FloatField())
    noise_bins = serializers.ListField(child=serializers.FloatField())
    max_false_accept = serializers.FloatField()
    min_samples = serializers.IntegerField()
    min_success_rate = serializers.FloatField()
    outside_bins = serializers.IntegerField(help_text="Rows outside every light or noise band.")
    cells = CellSerializer(many=True, help_text="Per method x light band x noise band; empty cells omitted.")
    recommendation = RecommendationSerializer(source="*")


class SimulationRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Simulation runs of the caller's sites: admins upload and delete, everyone with a role reads."""

    serializer_class = SimulationRunSerializer
    filterset_class = SimulationRunFilter
    search_fields = ["scenario"]
    ordering_fields = ["created_at", "scenario"]
    parser_classes = [JSONParser, MultiPartParser]

    def get_queryset(self):
        return selectors.simulation_runs_visible_to(self.request.user)

    @extend_schema(
        request={"application/json": RunUploadSerializer, "multipart/form-data": RunCsvUploadSerializer},
        responses={201: SimulationRunSerializer},
    )
    def create(self, request):
        """Upload a run with its result rows; any malformed row refuses the whole upload."""
        is_csv = request.content_type.startswith("multipart/form-data")
        upload = (RunCsvUploadSerializer if is_csv else RunUploadSerializer)(
            data=request.data, context=self.get_serializer_context()
        )
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        run = services.simulation_run_create(
            actor=request.user,
            site=data["site"],
            scenario=data["scenario"],
            parameters=data.get("parameters", {}),
            generator_version=data["generator_version"],
            results=_csv_rows(data["results"]) if is_csv else data["results"],
        )
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.simulation_run_delete(actor=self.request.user, run=instance)

    @extend_schema(parameters=[ResultQuerySerializer], responses={200: ResultRowSerializer(many=True)})
    @action(detail=True, methods=["get"], filter_backends=[])
    def results(self, request, pk=None):
        """The run's result rows, in upload order, a page at a time."""
        query = ResultQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.simulation_results_filter(run=self.get_object(), **query.validated_data)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ResultRowSerializer(page, many=True).data)

    @extend_schema(parameters=[AnalysisQuerySerializer], responses={200: AnalysisSerializer})
    @action(detail=True, methods=["get"], filter_backends=[])
    def analysis(self, request, pk=None):
        """Rates per method and condition band, and the thresholds the run recommends."""
        query = AnalysisQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        analysis = selectors.simulation_run_analyse(run=self.get_object(), **query.validated_data)
        return Response(AnalysisSerializer(analysis).data)

    @extend_schema(request=RecommendationDraftSerializer, responses={201: RuleSetSerializer})
    @action(detail=True, methods=["post"], url_path="recommendation/draft", filter_backends=[])
    def recommendation_draft(self, request, pk=None):
        """Turn the recommendation into a new draft rule set of the run's site; it is not activated."""
        body = RecommendationDraftSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule_set = services.simulation_recommendation_draft(
            actor=request.user, run=self.get_object(), **body.validated_data
        )
        return Response(
            RuleSetSerializer(rule_set, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )


router = DefaultRouter()
router.register("runs", SimulationRunViewSet, basename="simulation-run")
