"""Simulation runs: how each authentication method fared under simulated light and noise.

A run belongs to one site and holds many result rows; the analysis turns them into
success and error rates per condition band and into a recommended rule set.
"""

from django.db import models


class SimulationRun(models.Model):
    site = models.ForeignKey("employees.Site", on_delete=models.CASCADE, related_name="simulation_runs")
    scenario = models.CharField(max_length=120)
    parameters = models.JSONField(default=dict, blank=True, help_text="Whatever the generator was run with.")
    generator_version = models.CharField(max_length=60)
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    row_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "created_at"], name="simulation_run_site_time_idx")]

    def __str__(self) -> str:
        return f"simulation {self.scenario} ({self.generator_version}) at site {self.site_id}"


class SimulationResult(models.Model):
    """One simulated authentication attempt and how it ended."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FALSE_ACCEPT = "false_accept", "False accept"
        FALSE_REJECT = "false_reject", "False reject"
        FAILURE_TO_ACQUIRE = "failure_to_acquire", "Failure to acquire"

    run = models.ForeignKey(SimulationRun, on_delete=models.CASCADE, related_name="results")
    light_lux = models.FloatField()
    noise_db = models.FloatField()
    # An environment mode of a registry check-in method (face_liveness, pin, a plugin's
    # badge...): not database choices, so that a plugin's mode can be stored.
    method = models.CharField(max_length=32)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    duration_ms = models.FloatField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "method"], name="simulation_result_method_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(light_lux__gte=0), name="simulation_light_not_negative"),
            models.CheckConstraint(condition=models.Q(duration_ms__gte=0), name="simulation_duration_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.outcome} at {self.light_lux:g} lux, {self.noise_db:g} dB"
