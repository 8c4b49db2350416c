"""Sites, departments, shifts and employees: who works where, and when."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from timezone_field import TimeZoneField


class Site(models.Model):
    name = models.CharField(max_length=120, unique=True)
    timezone = TimeZoneField(help_text="IANA zone; days, shifts and date filters are read in it.")
    address = models.TextField(blank=True)
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    duplicate_window = models.DurationField(
        default=timedelta(minutes=2),
        help_text="A second check-in of the same person within this window is a duplicate.",
    )
    max_work_session = models.DurationField(
        default=timedelta(hours=16),
        help_text="A check-out further than this from the last check-in does not close it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("access_site", "Can see and act on this site's data")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duplicate_window__gte=timedelta(0)), name="site_duplicate_window_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(max_work_session__gt=timedelta(0)), name="site_max_work_session_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="departments")
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="department_unique_name_per_site")]

    def __str__(self) -> str:
        return f"{self.name} ({self.site})"


class Shift(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="shifts")
    name = models.CharField(max_length=120)
    start_time = models.TimeField(help_text="Local time at the site.")
    end_time = models.TimeField(help_text="Local time at the site; before start_time for a night shift.")
    grace_minutes = models.PositiveSmallIntegerField(default=5, validators=[MaxValueValidator(240)])
    crosses_midnight = models.BooleanField(editable=False, default=False)

    class Meta:
        ordering = ["site__name", "start_time"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="shift_unique_name_per_site"),
            models.CheckConstraint(condition=~models.Q(start_time=models.F("end_time")), name="shift_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def save(self, *args, **kwargs) -> None:
        # Derived, never entered: a shift that ends "earlier" than it starts ends tomorrow.
        self.crosses_midnight = self.end_time < self.start_time
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.start_time is not None and self.start_time == self.end_time:
            raise ValidationError({"end_time": "A shift cannot start and end at the same time."})


class Employee(models.Model):
    employee_code = models.CharField(max_length=40, unique=True)
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    email = models.EmailField(blank=True)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="employees")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="employees"
    )
    shift = models.ForeignKey(Shift, null=True, blank=True, on_delete=models.SET_NULL, related_name="employees")
    is_active = models.BooleanField(default=True)
    hire_date = models.DateField(null=True, blank=True)
    external_ids = models.JSONField(
        default=dict, blank=True, help_text='Ids in HR systems, e.g. {"zoho_people": "123", "bamboohr": "45"}.'
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["site", "is_active"]),
            models.Index(fields=["last_name", "first_name"]),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.employee_code})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def clean(self) -> None:
        errors = {}
        if self.department is not None and self.site_id and self.department.site_id != self.site_id:
            errors["department"] = "The department belongs to another site."
        if self.shift is not None and self.site_id and self.shift.site_id != self.site_id:
            errors["shift"] = "The shift belongs to another site."
        if not isinstance(self.external_ids, dict) or not all(
            isinstance(key, str) and isinstance(value, str) and value for key, value in self.external_ids.items()
        ):
            errors["external_ids"] = "Must map each HR system's name to a non-empty string id."
        if errors:
            raise ValidationError(errors)
