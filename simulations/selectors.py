"""Reads of the simulations app: visible runs, filtered results, and the analysis.

The analysis counts outcomes per method and condition band in the database; the engine
in ``simulations.analysis`` turns the counts into rates and recommended thresholds.
"""

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from accounts.permissions import RequestUser
from accounts.selectors import visible_site_ids
from attendance_site.registry import registry
from simulations.analysis import (
    Cell,
    MethodRecommendation,
    ThresholdOption,
    cells_count,
    methods_recommend,
    outcome_counts,
    rules_of,
)
from simulations.models import SimulationResult, SimulationRun
from simulations.synthetic import MethodModel

Outcome = SimulationResult.Outcome


def threshold_conditions() -> dict[str, tuple[str, str]]:
    """Which condition gates each mode, and in which direction a threshold admits rows.

    In the modes' order of preference, as the recommended rule set lists them; from the
    check-in methods' simulation figures.
    """
    simulated = registry.checkin_methods.simulated_modes()
    return {
        mode: limit
        for mode in registry.checkin_methods.modes()
        if mode in simulated and (limit := simulated[mode].limited_by) is not None
    }


def fallback_modes() -> tuple[str, ...]:
    """The modes of the methods recommended when biometrics fail, always allowed in a recommendation."""
    methods = registry.checkin_methods
    return tuple(mode for key in methods.fallbacks() for mode in methods[key].modes)


def synthetic_models() -> dict[str, MethodModel]:
    """The synthetic generator's per-mode models, from the check-in methods' simulation figures."""
    return {mode: MethodModel(**vars(figures)) for mode, figures in registry.checkin_methods.simulated_modes().items()}


def simulation_runs_visible_to(user: RequestUser) -> QuerySet[SimulationRun]:
    return SimulationRun.objects.filter(site_id__in=visible_site_ids(user)).select_related("site")


def simulation_results_filter(
    *,
    run: SimulationRun,
    method: str | None = None,
    outcome: str | None = None,
    light_min: float | None = None,
    light_max: float | None = None,
    noise_min: float | None = None,
    noise_max: float | None = None,
) -> QuerySet[SimulationResult]:
    """A run's result rows, narrowed by method, outcome and inclusive condition ranges."""
    bounds = {
        "method": method,
        "outcome": outcome,
        "light_lux__gte": light_min,
        "light_lux__lte": light_max,
        "noise_db__gte": noise_min,
        "noise_db__lte": noise_max,
    }
    return SimulationResult.objects.filter(
        run=run, **{key: value for key, value in bounds.items() if value is not None}
    )


@dataclass(frozen=True)
class Analysis:
    run: SimulationRun
    light_bins: list[float]
    noise_bins: list[float]
    max_false_accept: float
    min_samples: int
    min_success_rate: float
    cells: list[Cell]
    outside_bins: int
    methods: list[MethodRecommendation]
    rules: dict | None

    @property
    def recommends_anything(self) -> bool:
        return any(item.status == "recommended" for item in self.methods)


def simulation_run_analyse(
    *,
    run: SimulationRun,
    light_bins: list[float],
    noise_bins: list[float],
    max_false_accept: float,
    min_samples: int,
    min_success_rate: float,
) -> Analysis:
    """Rates per method x light band x noise band, and the recommended thresholds.

    Bands are half-open ``[low, high)`` except the last, which includes its upper edge;
    rows outside every band are only counted in ``outside_bins``.
    """
    results = SimulationResult.objects.filter(run=run)
    grouped = (
        results.annotate(
            light_band=_band_index("light_lux", light_bins), noise_band=_band_index("noise_db", noise_bins)
        )
        .values("method", "light_band", "noise_band", "outcome")
        .annotate(rows=Count("id"))
        .order_by()
    )
    modes = registry.checkin_methods.modes()
    cells, outside = cells_count(rows=grouped, light_bins=light_bins, noise_bins=noise_bins, method_order=modes)
    methods = methods_recommend(
        candidates=_threshold_candidates(results=results, edges={"light_lux": light_bins, "noise_db": noise_bins}),
        threshold_conditions=threshold_conditions(),
        fallback_methods=fallback_modes(),
        max_false_accept=max_false_accept,
        min_samples=min_samples,
        min_success_rate=min_success_rate,
    )
    rules = rules_of(methods)
    return Analysis(
        run=run,
        light_bins=light_bins,
        noise_bins=noise_bins,
        max_false_accept=max_false_accept,
        min_samples=min_samples,
        min_success_rate=min_success_rate,
        cells=cells,
        outside_bins=outside,
        methods=methods,
        rules=rules,
    )


def _band_index(column: str, edges: list[float]) -> Case:
    last = len(edges) - 2
    whens = [
        When(
            Q(**{f"{column}__gte": low}) & Q(**{(f"{column}__lte" if index == last else f"{column}__lt"): high}),
            then=Value(index),
        )
        for index, (low, high) in enumerate(itertools.pairwise(edges))
    ]
    return Case(*whens, default=Value(-1), output_field=IntegerField())


def _threshold_candidates(
    *, results: QuerySet[SimulationResult], edges: dict[str, list[float]]
) -> dict[str, list[ThresholdOption]]:
    # One aggregate query per condition: outcome counts among the rows each edge admits.
    candidates: dict[str, list[ThresholdOption]] = {}
    gates = threshold_conditions()
    for condition in ("light_lux", "noise_db"):
        gated = [method for method, (gate, _) in gates.items() if gate == condition]
        if not gated:
            continue
        direction = gates[gated[0]][1]
        lookup = "gte" if direction == "min" else "lte"
        aggregates = {
            f"e{index}_{outcome}": Count("id", filter=Q(**{f"{condition}__{lookup}": edge, "outcome": outcome}))
            for index, edge in enumerate(edges[condition])
            for outcome in Outcome.values
        }
        # The annotations' names are built here, so the rows are plain mappings to the type checker.
        rows: Iterable[Mapping[str, Any]] = (
            results.filter(method__in=gated).values("method").annotate(**aggregates).order_by()
        )
        for row in rows:
            candidates[row["method"]] = [
                (
                    {direction: edge},
                    outcome_counts({outcome: row[f"e{index}_{outcome}"] for outcome in Outcome.values}),
                )
                for index, edge in enumerate(edges[condition])
            ]
    return candidates
