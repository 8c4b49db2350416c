"""Writes of the simulations app: storing a run with its rows, drafting a rule set from it."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.permissions import Actor
from accounts.services import audited_create, audited_delete
from attendance_site.registry import registry
from employees.models import Site
from environment.models import RuleSet
from environment.services import rule_set_create
from simulations import selectors
from simulations.models import SimulationResult, SimulationRun

MAX_ROWS = 50_000
# An upload with thousands of bad rows lists this many problems, and the total.
MAX_REPORTED_PROBLEMS = 100
INSERT_BATCH_SIZE = 5000
RESULT_FIELDS = ("light_lux", "noise_db", "method", "outcome", "duration_ms")


@dataclass(frozen=True)
class RowProblem:
    index: int
    field: str
    message: str


def simulation_rows_check(
    *, results: Sequence[Mapping[str, object]]
) -> tuple[list[SimulationResult], list[RowProblem]]:
    """Every row converted, or every problem found (0-based row index, field, message)."""
    rows: list[SimulationResult] = []
    problems: list[RowProblem] = []
    methods, outcomes = registry.checkin_methods.modes(), SimulationResult.Outcome.values
    for index, raw in enumerate(results):
        if not isinstance(raw, Mapping):
            problems.append(RowProblem(index, "non_field_errors", "Must be an object with " + ", ".join(RESULT_FIELDS)))
            continue
        row_problems = [RowProblem(index, name, "Unknown field.") for name in raw if name not in RESULT_FIELDS]
        light, message = _number(raw.get("light_lux"), minimum=0)
        if message:
            row_problems.append(RowProblem(index, "light_lux", message))
        noise, message = _number(raw.get("noise_db"))
        if message:
            row_problems.append(RowProblem(index, "noise_db", message))
        duration, message = _number(raw.get("duration_ms"), minimum=0)
        if message:
            row_problems.append(RowProblem(index, "duration_ms", message))
        method, outcome = raw.get("method"), raw.get("outcome")
        if not isinstance(method, str) or method not in methods:
            row_problems.append(
                RowProblem(index, "method", f"Unknown method {method!r}; use one of {', '.join(methods)}.")
            )
        if not isinstance(outcome, str) or outcome not in outcomes:
            row_problems.append(
                RowProblem(index, "outcome", f"Unknown outcome {outcome!r}; use one of {', '.join(outcomes)}.")
            )
        if row_problems:
            problems.extend(row_problems)
            continue
        rows.append(
            SimulationResult(
                light_lux=light, noise_db=noise, method=str(method), outcome=str(outcome), duration_ms=duration
            )
        )
    return rows, problems


def _number(value: object, *, minimum: float | None = None) -> tuple[float, str]:
    """The value as a finite float (CSV cells arrive as text), or why it is not one."""
    if value is None or value == "":
        return 0.0, "This field is required."
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0, "Must be a number."
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return 0.0, f"{value!r} is not a number."
    if not math.isfinite(number):
        return 0.0, "Must be a finite number."
    if minimum is not None and number < minimum:
        return 0.0, f"Must be >= {minimum:g}."
    return number, ""


def _problems_error(problems: list[RowProblem], row_total: int) -> ValidationError:
    bad_rows = len({problem.index for problem in problems})
    errors: dict[str, list[str]] = {
        "results": [
            f"{bad_rows} of {row_total} rows are malformed ({len(problems)} problems"
            f"{f', the first {MAX_REPORTED_PROBLEMS} listed' if len(problems) > MAX_REPORTED_PROBLEMS else ''}); "
            "nothing was stored."
        ]
    }
    for problem in problems[:MAX_REPORTED_PROBLEMS]:
        errors.setdefault(f"results.{problem.index}.{problem.field}", []).append(problem.message)
    return ValidationError(errors)


def simulation_run_create(
    *,
    actor: Actor,
    site: Site,
    scenario: str,
    parameters: dict[str, Any],
    generator_version: str,
    results: Sequence[Mapping[str, object]],
) -> SimulationRun:
    """Store a run and all its result rows, or nothing if any row is malformed."""
    if not results:
        raise ValidationError({"results": ["A run needs at least one result row."]})
    if len(results) > MAX_ROWS:
        raise ValidationError({"results": [f"{len(results)} rows; a run holds at most {MAX_ROWS}."]})
    rows, problems = simulation_rows_check(results=results)
    if problems:
        raise _problems_error(problems, len(results))
    with transaction.atomic():
        run = audited_create(
            actor=actor,
            model=SimulationRun,
            fields={
                "site": site,
                "scenario": scenario,
                "parameters": parameters,
                "generator_version": generator_version,
                "created_by": actor,
                "row_count": len(rows),
            },
        )
        for row in rows:
            row.run = run
        SimulationResult.objects.bulk_create(rows, batch_size=INSERT_BATCH_SIZE)
    return run


def simulation_recommendation_draft(
    *,
    actor: Actor,
    run: SimulationRun,
    light_bins: list[float],
    noise_bins: list[float],
    max_false_accept: float,
    min_samples: int,
    min_success_rate: float,
) -> RuleSet:
    """A new draft rule-set version for the run's site from its recommendation; never activated."""
    analysis = selectors.simulation_run_analyse(
        run=run,
        light_bins=light_bins,
        noise_bins=noise_bins,
        max_false_accept=max_false_accept,
        min_samples=min_samples,
        min_success_rate=min_success_rate,
    )
    if analysis.rules is None:
        raise ValidationError(
            "No method qualifies: every one lacks data or exceeds the false-accept bound; nothing to draft."
        )
    note = (
        f"Recommended by simulation run {run.pk} ({run.scenario}, generator {run.generator_version}): "
        f"false accepts <= {max_false_accept:g}, success rate >= {min_success_rate:g}, "
        f"at least {min_samples} attempts per decision, "
        f"light bins {','.join(f'{edge:g}' for edge in light_bins)}, "
        f"noise bins {','.join(f'{edge:g}' for edge in noise_bins)}."
    )
    return rule_set_create(actor=actor, site=run.site, rules=analysis.rules, note=note)


def simulation_run_delete(*, actor: Actor, run: SimulationRun) -> None:
    """Delete a run with its rows; rule sets drafted from it stay."""
    audited_delete(actor=actor, instance=run)
