"""The analysis engine on its own: counts in, cells, recommendations and a rule set out."""

import pytest

from environment.rules import rules_validate
from simulations.analysis import (
    OUTCOMES,
    MethodRecommendation,
    OutcomeCounts,
    ThresholdOption,
    cells_count,
    methods_recommend,
    outcome_counts,
    rules_of,
)
from simulations.models import SimulationResult

GATES = {"face_liveness": ("light_lux", "min"), "face": ("light_lux", "min"), "voice": ("noise_db", "max")}


def counts(**tally: int) -> OutcomeCounts:
    return outcome_counts(tally)


def recommend(
    candidates: dict[str, list[ThresholdOption]],
    *,
    max_false_accept: float = 0.02,
    min_samples: int = 30,
    min_success_rate: float = 0.5,
) -> dict[str, MethodRecommendation]:
    methods = methods_recommend(
        candidates=candidates,
        threshold_conditions=GATES,
        fallback_methods=("qr", "pin"),
        max_false_accept=max_false_accept,
        min_samples=min_samples,
        min_success_rate=min_success_rate,
    )
    return {item.method: item for item in methods}


def test_counts_total_every_outcome_and_give_rates():
    tally = counts(success=30, false_accept=1, false_reject=6, failure_to_acquire=3)

    assert tally.attempts == 40
    assert (tally.success_rate, tally.false_accept_rate, tally.false_reject_rate) == (0.75, 0.025, 0.15)
    assert tally.failure_to_acquire_rate == 0.075
    assert OutcomeCounts().success_rate is None


def test_the_engine_counts_every_outcome_a_result_can_have():
    assert set(OUTCOMES) == set(SimulationResult.Outcome.values)


def test_cells_are_ordered_by_method_then_band_and_rows_outside_every_band_are_only_counted():
    rows = [
        {"method": "voice", "light_band": 0, "noise_band": 1, "outcome": "success", "rows": 4},
        {"method": "face", "light_band": 1, "noise_band": 0, "outcome": "success", "rows": 7},
        {"method": "face", "light_band": 1, "noise_band": 0, "outcome": "false_reject", "rows": 3},
        {"method": "face", "light_band": 0, "noise_band": 0, "outcome": "success", "rows": 2},
        {"method": "face", "light_band": -1, "noise_band": 0, "outcome": "success", "rows": 5},
        {"method": "qr", "light_band": 0, "noise_band": -1, "outcome": "success", "rows": 6},
    ]

    cells, outside = cells_count(
        rows=rows, light_bins=[0, 50, 300], noise_bins=[0, 60, 90], method_order=["face", "voice", "qr"]
    )

    assert [(cell.method, cell.light_band, cell.noise_band) for cell in cells] == [
        ("face", (0, 50), (0, 60)),
        ("face", (50, 300), (0, 60)),
        ("voice", (0, 50), (60, 90)),
    ]
    assert (cells[1].counts.attempts, cells[1].counts.success_rate) == (10, 0.7)
    assert outside == 11


def test_the_threshold_admitting_most_successes_within_the_false_accept_bound_is_recommended():
    candidates = {
        "face": [
            ({"min": 0.0}, counts(success=50, false_accept=4, false_reject=26)),
            ({"min": 50.0}, counts(success=38, false_reject=2)),
            ({"min": 150.0}, counts(success=30, false_reject=1)),
        ]
    }

    methods = recommend(candidates)

    assert methods["face"].status == "recommended"
    assert (methods["face"].condition, methods["face"].threshold) == ("light_lux", {"min": 50.0})
    assert methods["face"].counts.attempts == 40


def test_among_equal_successes_the_stricter_threshold_wins():
    candidates = {
        "voice": [
            ({"max": 60.0}, counts(success=36, false_reject=4)),
            ({"max": 90.0}, counts(success=36, false_reject=20)),
        ]
    }

    assert recommend(candidates)["voice"].threshold == {"max": 60.0}


@pytest.mark.parametrize(
    ("option", "bounds", "status"),
    [
        (counts(success=29), {}, "not_enough_data"),
        (counts(success=36, false_accept=4), {}, "false_accept_too_high"),
        (counts(success=19, false_reject=21), {}, "success_too_low"),
        (counts(success=39, false_reject=1), {"min_samples": 41}, "not_enough_data"),
    ],
)
def test_a_method_no_threshold_qualifies_is_left_out_with_the_reason(option, bounds, status):
    methods = recommend({"face": [({"min": 50.0}, option)]}, **bounds)

    assert (methods["face"].status, methods["face"].threshold) == (status, None)
    assert rules_of(list(methods.values())) is None


def test_methods_without_any_attempt_have_not_enough_data_and_fallbacks_are_always_allowed():
    methods = recommend({})

    assert [(item.method, item.status) for item in methods.values()] == [
        ("face_liveness", "not_enough_data"),
        ("face", "not_enough_data"),
        ("voice", "not_enough_data"),
        ("qr", "fallback"),
        ("pin", "fallback"),
    ]


def test_the_recommendation_becomes_a_valid_rule_set_with_fallbacks_last():
    methods = recommend(
        {
            "face": [({"min": 50.0}, counts(success=38, false_reject=2))],
            "voice": [({"max": 60.0}, counts(success=30, false_accept=0, false_reject=10))],
        }
    )

    rules = rules_of(list(methods.values()))

    assert rules is not None
    rules_validate(rules, modes=("face_liveness", "face", "voice", "qr", "pin"))
    assert rules["modes"] == [
        {"mode": "face", "when": {"light_lux": {"min": 50.0}}},
        {"mode": "voice", "when": {"noise_db": {"max": 60.0}}},
        {"mode": "qr", "when": {}},
        {"mode": "pin", "when": {}},
    ]
    assert rules["hysteresis"] == {"light_lux": 10, "noise_db": 3}
