"""A synthetic model of authentication attempts under light and noise (docs/simulations.md).

Each attempt draws its conditions, then a method, then an outcome from probabilities
that depend on a condition "quality" q in (0, 1):

- light is log-uniform between 1 and 2000 lux; noise uniform between 30 and 100 dB;
- face:          q = logistic(2.0 * (ln(light) - ln(40)))   (half quality at 40 lux)
- face_liveness: q = logistic(2.0 * (ln(light) - ln(80)))   (liveness needs more light)
- voice:         q = logistic(-(noise - 68) / 4)            (half quality at 68 dB)
- qr, pin:       q = 1 (conditions do not matter);
- P(false accept) = fa_base + fa_slope * (1 - q): rare, rising in bad conditions;
- P(failure to acquire) = fta_slope * (1 - q);
- P(success) = (1 - P(false accept) - P(failure to acquire)) * ceiling * q; the rest
  are false rejects;
- duration in ms is log-normal around a per-method median, sigma 0.35.

The per-mode figures (share, ceiling, slopes, median, the lux or dB at half quality)
are the check-in methods' own (``CheckInMethod.simulation``, attendance/extensions.py
for the built-ins), passed in as ``models``; the numbers above are the built-ins'.
"""

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

GENERATOR_VERSION = "synthetic-1"
LIGHT_RANGE = (1.0, 2000.0)
NOISE_RANGE = (30.0, 100.0)
DURATION_SIGMA = 0.35


@dataclass(frozen=True)
class MethodModel:
    """One mode's figures; the check-in methods carry them (simulations.selectors.synthetic_models)."""

    share: float
    ceiling: float
    fa_base: float
    fa_slope: float
    fta_slope: float
    median_ms: float
    light_half_lux: float | None = None
    noise_half_db: float | None = None


def _logistic(value: float) -> float:
    return 1 / (1 + math.exp(-value))


def condition_quality(*, model: MethodModel, light_lux: float, noise_db: float) -> float:
    if model.light_half_lux is not None:
        return _logistic(2.0 * (math.log(light_lux) - math.log(model.light_half_lux)))
    if model.noise_half_db is not None:
        return _logistic(-(noise_db - model.noise_half_db) / 4)
    return 1.0


def synthetic_results_generate(*, rows: int, seed: int, models: Mapping[str, MethodModel]) -> list[dict]:
    """``rows`` result rows in the upload format, the same for the same seed and models."""
    generator = random.Random(seed)
    methods = list(models)
    weights = [models[method].share for method in methods]
    results = []
    for _ in range(rows):
        light = math.exp(generator.uniform(math.log(LIGHT_RANGE[0]), math.log(LIGHT_RANGE[1])))
        noise = generator.uniform(*NOISE_RANGE)
        method = generator.choices(methods, weights)[0]
        model = models[method]
        quality = condition_quality(model=model, light_lux=light, noise_db=noise)
        false_accept = model.fa_base + model.fa_slope * (1 - quality)
        failure_to_acquire = model.fta_slope * (1 - quality)
        success = (1 - false_accept - failure_to_acquire) * model.ceiling * quality
        draw = generator.random()
        if draw < false_accept:
            outcome = "false_accept"
        elif draw < false_accept + failure_to_acquire:
            outcome = "failure_to_acquire"
        elif draw < false_accept + failure_to_acquire + success:
            outcome = "success"
        else:
            outcome = "false_reject"
        results.append(
            {
                "light_lux": round(light, 2),
                "noise_db": round(noise, 2),
                "method": method,
                "outcome": outcome,
                "duration_ms": round(generator.lognormvariate(math.log(model.median_ms), DURATION_SIGMA)),
            }
        )
    return results


def synthetic_parameters(*, rows: int, seed: int, models: Mapping[str, MethodModel]) -> dict:
    """What a run records about how it was generated, so it can be reproduced."""
    return {
        "rows": rows,
        "seed": seed,
        "light_range_lux": list(LIGHT_RANGE),
        "noise_range_db": list(NOISE_RANGE),
        "duration_sigma": DURATION_SIGMA,
        "methods": {method: vars(model) for method, model in models.items()},
    }
