"""REST API of the accounts app: who am I and the audit log (/api/accounts/), API tokens
(/api/auth/token/)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from accounts import services
from accounts.authentication import TokenAuthentication
from accounts.models import AuditLogEntry
from accounts.permissions import IsAdminRole, user_role
from accounts.selectors import audit_entries_visible_to, user_sees_all_sites, visible_site_ids
from attendance_site.filters import SiteScopedFilter
from attendance_site.serializers import Serializer
from attendance_site.throttling import SettingsRateThrottleMixin


class AuditLogEntrySerializer(serializers.ModelSerializer):
    object_type = serializers.CharField(source="content_type.model", read_only=True)

    class Meta:
        model = AuditLogEntry
        fields = [
            "id",
            "occurred_at",
            "actor",
            "actor_repr",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "site",
            "before",
            "after",
            "reason",
        ]
        read_only_fields = fields


class AuditLogEntryFilter(SiteScopedFilter):
    class Meta:
        model = AuditLogEntry
        fields = ["action", "site", "object_id"]


class AuditLogEntryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AuditLogEntrySerializer
    permission_classes = [IsAdminRole]
    filterset_class = AuditLogEntryFilter
    ordering_fields = ["occurred_at"]
    search_fields = ["object_repr", "actor_repr", "reason"]

    def get_queryset(self):
        return audit_entries_visible_to(self.request.user)


class CurrentUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    all_sites = serializers.BooleanField()
    site_ids = serializers.ListField(child=serializers.IntegerField())


class CurrentUserView(APIView):
    serializer_class = CurrentUserSerializer

    @extend_schema(responses={200: CurrentUserSerializer}, summary="The calling person, role and sites")
    def get(self, request):
        user = request.user
        return Response(
            CurrentUserSerializer(
                {
                    "id": user.pk,
                    "username": user.username,
                    "role": user_role(user),
                    "all_sites": user_sees_all_sites(user),
                    "site_ids": sorted(visible_site_ids(user)),
                }
            ).data
        )


class AuthRateThrottle(SettingsRateThrottleMixin, UserRateThrottle):
    """The ``auth`` rate: per address before login, per person once a token is presented."""

    scope = "auth"


class StrictCharField(serializers.CharField):
    """Text and nothing else: DRF's CharField would take the number 123 as "123"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TokenObtainSerializer(Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        source="key",
        help_text="Send as `Authorization: Token <token>`. Shown only now: the server keeps a digest of it.",
    )
    expiry = serializers.DateTimeField(help_text="When the token stops working; rotate it before then.")


class TooManyRequestsErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="`throttled`: too many requests from this address (or person); "
        "`locked_out`: too many failed logins for this username from this address."
    )
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class TooManyRequestsResponseSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="`client_error`.")
    # DRF's metaclass moves declared fields out of the class: this shadows no Serializer.errors.
    errors = TooManyRequestsErrorSerializer(many=True)  # type: ignore[assignment]


_RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    location=OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before trying again.",
)
_LOCKED_OUT = OpenApiExample(
    "Locked out",
    value={
        "type": "client_error",
        "errors": [
            {
                "code": "locked_out",
                "detail": "Too many failed logins for this username from this address; try again in 900 seconds "
                "or ask an admin to unlock it.",
                "attr": None,
            }
        ],
    },
    response_only=True,
    status_codes=["429"],
)
_TOO_MANY = OpenApiResponse(
    TooManyRequestsResponseSerializer,
    description="Throttled, or this username is locked out from this address (see Retry-After).",
)


@extend_validation_errors(["authorization"], field_name="non_field_errors", methods=["post"])
class TokenObtainView(APIView):
    """Log in with a username and password for an API token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]
    serializer_class = TokenObtainSerializer

    @extend_schema(
        request=TokenObtainSerializer,
        parameters=[_RETRY_AFTER],
        responses={
            200: OpenApiResponse(IssuedTokenSerializer, description="A new token and when it expires."),
            429: _TOO_MANY,
        },
        examples=[_LOCKED_OUT],
        summary="Obtain an API token",
        description=(
            "Wrong credentials answer 400 (`authorization`). After `LOGIN_FAILURE_LIMIT` failures in a row "
            "for one username from one address, that pair gets 429 `locked_out` for the cool-off, the right "
            "password included."
        ),
    )
    def post(self, request):
        credentials = TokenObtainSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        # Django's request, not DRF's: axes reads the address from it and marks a
        # lockout on it for its middleware.
        issued = services.api_token_obtain(request=request._request, **credentials.validated_data)
        return Response(IssuedTokenSerializer(issued).data)


@extend_validation_errors(["token_gone"], methods=["post"])
class TokenRotateView(APIView):
    """Trade the presented token for a new one."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=None,
        parameters=[_RETRY_AFTER],
        responses={200: OpenApiResponse(IssuedTokenSerializer, description="The new token."), 429: _TOO_MANY},
        summary="Rotate the API token",
        description="The token sent in `Authorization` stops working at once; the new one has a whole lifetime.",
    )
    def post(self, request):
        issued = services.api_token_rotate(token=request.auth)
        return Response(IssuedTokenSerializer(issued).data)


class TokenRevokeView(APIView):
    """Log out: end the presented token."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [AuthRateThrottle]

    @extend_schema(
        request=None,
        parameters=[_RETRY_AFTER],
        responses={204: OpenApiResponse(description="The token no longer works."), 429: _TOO_MANY},
        summary="Revoke the API token",
    )
    def post(self, request):
        services.api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


router = DefaultRouter()
router.register("audit-log", AuditLogEntryViewSet, basename="audit-log-entry")
