from attendance_site.registry import CheckInMethod

checkin_methods = [CheckInMethod(key="wave", label="Wave again")]
