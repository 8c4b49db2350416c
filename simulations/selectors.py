"""Reads of the simulations app: visible runs, filtered results, and the analysis.

The analysis counts outcomes per method and condition band in the database, then picks
per method the threshold (one of the bin edges) that admits the most successful
attempts while the false-accept rate over the admitted attempts stays within a bound.
"""

import itertools
from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from employees.selectors import visible_site_ids
from simulations.models import SimulationResult, SimulationRun

Method = SimulationResult.Method
Outcome = SimulationResult.Outcome

# Which condition gates each method, and in which direction a threshold admits rows.
THRESHOLD_CONDITIONS = {
    "face_liveness": ("light_lux", "min"),
    "face": ("light_lux", "min"),
    "voice": ("noise_db", "max"),
}
FALLBACK_METHODS = ("qr", "pin")
# Margins that keep a device hovering at a recommended threshold from flapping.
RECOMMENDED_HYSTERESIS = {"light_lux": 10, "noise_db": 3}


def simulation_runs_visible_to(user) -> QuerySet[SimulationRun]:
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
class OutcomeCounts:
    attempts: int = 0
    success: int = 0
    false_accept: int = 0
    false_reject: int = 0
    failure_to_acquire: int = 0

    def rate(self, outcome: str) -> float | None:
        return getattr(self, outcome) / self.attempts if self.attempts else None

    @property
    def success_rate(self) -> float | None:
        return self.rate("success")

    @property
    def false_accept_rate(self) -> float | None:
        return self.rate("false_accept")

    @property
    def false_reject_rate(self) -> float | None:
        return self.rate("false_reject")

    @property
    def failure_to_acquire_rate(self) -> float | None:
        return self.rate("failure_to_acquire")


@dataclass(frozen=True)
class Cell:
    method: str
    light_band: tuple[float, float]
    noise_band: tuple[float, float]
    counts: OutcomeCounts


@dataclass(frozen=True)
class MethodRecommendation:
    """What the analysis advises for one method.

    ``status``: ``recommended`` (with a threshold), ``fallback`` (qr and pin, always
    allowed), ``not_enough_data`` (no threshold admits ``min_samples`` attempts),
    ``false_accept_too_high`` (no threshold keeps false accepts within the bound) or
    ``success_too_low`` (those that do fall short of ``min_success_rate``). The last
    three leave the method out of the rule set.
    """

    method: str
    status: str
    condition: str | None = None
    threshold: dict | None = None
    counts: OutcomeCounts = field(default_factory=OutcomeCounts)


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
    tallies: dict[tuple[str, int, int], dict[str, int]] = {}
    outside = 0
    for row in grouped:
        if row["light_band"] < 0 or row["noise_band"] < 0:
            outside += row["rows"]
            continue
        tally = tallies.setdefault((row["method"], row["light_band"], row["noise_band"]), {})
        tally[row["outcome"]] = tally.get(row["outcome"], 0) + row["rows"]
    method_order = {method: index for index, method in enumerate(Method.values)}
    cells = [
        Cell(
            method=method,
            light_band=(light_bins[light], light_bins[light + 1]),
            noise_band=(noise_bins[noise], noise_bins[noise + 1]),
            counts=_counts(tally),
        )
        for (method, light, noise), tally in sorted(
            tallies.items(), key=lambda item: (method_order[item[0][0]], item[0][1:])
        )
    ]
    methods = _recommendations(
        results=results,
        edges={"light_lux": light_bins, "noise_db": noise_bins},
        max_false_accept=max_false_accept,
        min_samples=min_samples,
        min_success_rate=min_success_rate,
    )
    rules = _rules_of(methods)
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


def _counts(tally: dict[str, int]) -> OutcomeCounts:
    return OutcomeCounts(attempts=sum(tally.values()), **{outcome: tally.get(outcome, 0) for outcome in Outcome.values})


def _recommendations(
    *,
    results: QuerySet[SimulationResult],
    edges: dict[str, list[float]],
    max_false_accept: float,
    min_samples: int,
    min_success_rate: float,
) -> list[MethodRecommendation]:
    # One aggregate query per condition: outcome counts among the rows each edge admits.
    candidates: dict[str, list[tuple[dict, OutcomeCounts]]] = {}
    for condition in ("light_lux", "noise_db"):
        gated = [method for method, (gate, _) in THRESHOLD_CONDITIONS.items() if gate == condition]
        direction = THRESHOLD_CONDITIONS[gated[0]][1]
        lookup = "gte" if direction == "min" else "lte"
        aggregates = {
            f"e{index}_{outcome}": Count("id", filter=Q(**{f"{condition}__{lookup}": edge, "outcome": outcome}))
            for index, edge in enumerate(edges[condition])
            for outcome in Outcome.values
        }
        for row in results.filter(method__in=gated).values("method").annotate(**aggregates).order_by():
            candidates[row["method"]] = [
                (
                    {direction: edge},
                    _counts({outcome: row[f"e{index}_{outcome}"] for outcome in Outcome.values}),
                )
                for index, edge in enumerate(edges[condition])
            ]
    recommendations = []
    for method, (condition, _) in THRESHOLD_CONDITIONS.items():
        options = [option for option in candidates.get(method, []) if option[1].attempts >= min_samples]
        if not options:
            recommendations.append(MethodRecommendation(method=method, status="not_enough_data", condition=condition))
            continue
        safe = [option for option in options if option[1].false_accept <= max_false_accept * option[1].attempts]
        if not safe:
            recommendations.append(
                MethodRecommendation(method=method, status="false_accept_too_high", condition=condition)
            )
            continue
        safe = [option for option in safe if option[1].success >= min_success_rate * option[1].attempts]
        if not safe:
            recommendations.append(MethodRecommendation(method=method, status="success_too_low", condition=condition))
            continue
        # Most successes first; among equals, the higher success rate (the stricter threshold).
        threshold, counts = max(safe, key=lambda option: (option[1].success, option[1].rate("success")))
        recommendations.append(
            MethodRecommendation(
                method=method, status="recommended", condition=condition, threshold=threshold, counts=counts
            )
        )
    recommendations.extend(MethodRecommendation(method=method, status="fallback") for method in FALLBACK_METHODS)
    return recommendations


def _rules_of(methods: list[MethodRecommendation]) -> dict | None:
    """The recommendation as a rule set (docs/environment.md), or None if no method qualifies."""
    if not any(item.status == "recommended" for item in methods):
        return None
    modes = [
        {"mode": item.method, "when": {item.condition: item.threshold}}
        for item in methods
        if item.status == "recommended"
    ]
    modes.extend({"mode": item.method, "when": {}} for item in methods if item.status == "fallback")
    return {"modes": modes, "hysteresis": dict(RECOMMENDED_HYSTERESIS)}
