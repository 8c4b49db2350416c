"""The simulation analysis engine: outcome rates per band, and the recommended thresholds.

Pure logic, no Django: ``simulations.selectors`` counts rows in the database and hands the
counts here. Per method the engine picks the threshold (one of the bin edges) that admits
the most successful attempts while the false-accept rate over the admitted attempts stays
within a bound, and turns the recommendation into a rule set (docs/environment.md).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields

# Margins that keep a device hovering at a recommended threshold from flapping.
RECOMMENDED_HYSTERESIS = {"light_lux": 10, "noise_db": 3}


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


# The outcomes an attempt can have, as counted above (the model's Outcome values).
OUTCOMES = tuple(item.name for item in fields(OutcomeCounts) if item.name != "attempts")


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


# One threshold a method could be given ({"min": 50} or {"max": 60}) and what it admits.
ThresholdOption = tuple[dict, OutcomeCounts]


def outcome_counts(tally: Mapping[str, int]) -> OutcomeCounts:
    return OutcomeCounts(attempts=sum(tally.values()), **{outcome: tally.get(outcome, 0) for outcome in OUTCOMES})


def cells_count(
    *,
    rows: Iterable[Mapping],
    light_bins: list[float],
    noise_bins: list[float],
    method_order: Sequence[str],
) -> tuple[list[Cell], int]:
    """The cells of the grid and how many attempts fell outside every band.

    ``rows`` are counts grouped by method, band indexes and outcome (keys ``method``,
    ``light_band``, ``noise_band``, ``outcome``, ``rows``); a band index of -1 means the
    attempt fell outside every band.
    """
    tallies: dict[tuple[str, int, int], dict[str, int]] = {}
    outside = 0
    for row in rows:
        if row["light_band"] < 0 or row["noise_band"] < 0:
            outside += row["rows"]
            continue
        tally = tallies.setdefault((row["method"], row["light_band"], row["noise_band"]), {})
        tally[row["outcome"]] = tally.get(row["outcome"], 0) + row["rows"]
    order = {method: index for index, method in enumerate(method_order)}
    cells = [
        Cell(
            method=method,
            light_band=(light_bins[light], light_bins[light + 1]),
            noise_band=(noise_bins[noise], noise_bins[noise + 1]),
            counts=outcome_counts(tally),
        )
        for (method, light, noise), tally in sorted(tallies.items(), key=lambda item: (order[item[0][0]], item[0][1:]))
    ]
    return cells, outside


def methods_recommend(
    *,
    candidates: Mapping[str, list[ThresholdOption]],
    threshold_conditions: Mapping[str, tuple[str, str]],
    fallback_methods: Sequence[str],
    max_false_accept: float,
    min_samples: int,
    min_success_rate: float,
) -> list[MethodRecommendation]:
    """A recommendation per gated method (in ``threshold_conditions`` order), then the fallbacks.

    ``candidates`` gives, per method, every threshold it could be given with the outcome
    counts of the attempts that threshold admits.
    """
    recommendations = []
    for method, (condition, _) in threshold_conditions.items():
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
    recommendations.extend(MethodRecommendation(method=method, status="fallback") for method in fallback_methods)
    return recommendations


def rules_of(methods: list[MethodRecommendation]) -> dict | None:
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
