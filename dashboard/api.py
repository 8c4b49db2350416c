"""REST API behind the dashboard, mounted at /api/dashboard/.

A page loads (and, after a gap in the live stream, reloads) its state from here; the
WebSocket only carries what changed since.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import sites_visible_to
from attendance_site.live.publisher import site_sequences
from attendance_site.serializers import IdField
from dashboard import selectors


class SiteQuerySerializer(serializers.Serializer):
    site = IdField()


class PresenceRowSerializer(serializers.Serializer):
    employee = serializers.IntegerField(source="employee_id")
    employee_code = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField()
    state = serializers.ChoiceField(choices=["in", "out", "absent"])
    first_in = serializers.DateTimeField(allow_null=True)
    late_by = serializers.DurationField(allow_null=True)


class PresenceCountsSerializer(serializers.Serializer):
    checked_in = serializers.IntegerField()
    checked_out = serializers.IntegerField()
    absent = serializers.IntegerField()
    late = serializers.IntegerField()
    total = serializers.IntegerField()


class PresenceSerializer(serializers.Serializer):
    site = serializers.IntegerField(source="site_id")
    date = serializers.DateField(help_text="Today in the site's time zone.")
    sequence = serializers.IntegerField(help_text="Last live message number of this site when this was read.")
    counts = PresenceCountsSerializer()
    people = PresenceRowSerializer(many=True)


class DayPresenceSerializer(serializers.Serializer):
    date = serializers.DateField()
    present = serializers.IntegerField()


class DepartmentLateSerializer(serializers.Serializer):
    department = serializers.CharField()
    late = serializers.IntegerField()


class ChartsSerializer(serializers.Serializer):
    days = DayPresenceSerializer(many=True)
    late_by_department = DepartmentLateSerializer(many=True)


def _site_from_query(request):
    query = SiteQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return get_object_or_404(sites_visible_to(request.user), pk=query.validated_data["site"])


class PresenceView(APIView):
    @extend_schema(parameters=[SiteQuerySerializer], responses={200: PresenceSerializer}, summary="Today's presence")
    def get(self, request):
        site = _site_from_query(request)
        # Read the sequence first: a message sent while presence is read is then seen
        # as new (and applied twice, harmlessly) rather than lost.
        sequence = site_sequences([site.pk])[site.pk]
        presence = selectors.presence_today(user=request.user, site=site)
        data = PresenceSerializer(
            {
                "site_id": presence.site_id,
                "date": presence.date,
                "sequence": sequence,
                "counts": presence.counts,
                "people": presence.people,
            }
        ).data
        return Response(data)


class ChartsView(APIView):
    @extend_schema(parameters=[SiteQuerySerializer], responses={200: ChartsSerializer}, summary="Last 30 days")
    def get(self, request):
        site = _site_from_query(request)
        return Response(ChartsSerializer(selectors.charts_last_30_days(user=request.user, site=site)).data)
