"""How attendance events leave the API: the event, and the answer to a check-in.

Kept apart from api.py because every way of checking in answers in this shape: the
device endpoints here, face, voice and QR in biometrics, and plugins' methods.
"""

from rest_framework import serializers

from attendance.models import AttendanceEvent
from attendance.selectors import attendance_method_choices
from attendance.services import RecordOutcome


class AttendanceEventSerializer(serializers.Serializer):
    # Declared field by field rather than a ModelSerializer: this renders every
    # check-in answer and every list page, and ModelSerializer re-introspects the model
    # each time it is instantiated.
    id = serializers.IntegerField(read_only=True)
    employee = serializers.IntegerField(source="employee_id", read_only=True)
    employee_code = serializers.CharField(source="employee.employee_code", read_only=True)
    employee_name = serializers.CharField(source="employee.full_name", read_only=True)
    site = serializers.IntegerField(source="site_id", read_only=True)
    device = serializers.IntegerField(source="device_id", read_only=True, allow_null=True)
    direction = serializers.ChoiceField(choices=AttendanceEvent.Direction.choices, read_only=True)
    occurred_at = serializers.DateTimeField(read_only=True)
    received_at = serializers.DateTimeField(read_only=True)
    method = serializers.ChoiceField(choices=attendance_method_choices(), read_only=True)
    confidence = serializers.FloatField(read_only=True, allow_null=True)
    liveness_score = serializers.FloatField(read_only=True, allow_null=True)
    client_event_id = serializers.CharField(read_only=True)
    # The stubs read this field as Field.source, the attribute it shadows in the class body only.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=AttendanceEvent.Source.choices, read_only=True
    )
    status = serializers.ChoiceField(choices=AttendanceEvent.Status.choices, read_only=True)
    reason = serializers.CharField(read_only=True)


class RecordResultSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=RecordOutcome.choices)
    event = AttendanceEventSerializer()
