"""Writes of the biometrics app, one module per concern.

``consent`` (consent and erasure), ``enrolment`` (face and voice templates),
``site_policy``, ``identification`` (runs in the biometrics worker), ``check_in`` (face and
voice check-ins in the web process), ``qr`` (rotating QR tokens and QR check-in), and
``errors`` (what they raise). A check-in by face, voice or QR ends in
``attendance.services.attendance_event_record`` like every other check-in; these modules
only decide who the person is.
"""
