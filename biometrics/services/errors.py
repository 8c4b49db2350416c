"""What the biometric services raise, for the API to turn into 400 and 503 answers."""

from django.core.exceptions import ValidationError


class RecognitionUnavailable(Exception):
    """No recognition worker answered in time (or the broker is down): retry later."""


class BiometricRejected(ValidationError):
    """A sample that does not identify anyone; raised as a 400 naming the field and why."""

    def __init__(self, field: str, code: str, detail: str):
        super().__init__({field: [ValidationError(detail, code=code)]})
        self.field = field
        self.reason_code = code
        self.detail = detail
