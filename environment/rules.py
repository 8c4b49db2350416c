"""The rule-set format: validation (gaps, contradictions) and mode selection with hysteresis.

A rule set lists modes in order of preference, each with the conditions it needs:

    {"modes": [{"mode": "face_liveness", "when": {"light_lux": {"min": 150}, "camera_available": true}},
               {"mode": "voice", "when": {"noise_db": {"max": 60}, "microphone_available": true}},
               {"mode": "pin", "when": {}}],
     "hysteresis": {"light_lux": 10, "noise_db": 3}}

A mode that was allowed stays allowed until a reading passes its threshold by more than
the hysteresis margin, so a device hovering at a threshold does not flap.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

NUMERIC_CONDITIONS = (
    "light_lux",
    "noise_db",
    "temperature_c",
    "network_latency_ms",
    "network_loss_pct",
    "network_bandwidth_kbps",
)
BOOLEAN_CONDITIONS = ("camera_available", "microphone_available", "network_online")


class RuleSetInvalid(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def rules_validate(rules: object, *, modes: Sequence[str]) -> None:
    """Raise RuleSetInvalid listing every problem: unknown names, contradictions, gaps.

    ``modes`` are the modes the installed check-in methods provide (the registry's
    vocabulary, passed in so this engine module stays free of Django).
    """
    problems: list[str] = []
    if not isinstance(rules, dict) or not isinstance(rules.get("modes"), list) or not rules["modes"]:
        raise RuleSetInvalid(['"modes" must be a non-empty list of {"mode", "when"} objects.'])
    seen: set[str] = set()
    for index, entry in enumerate(rules["modes"], start=1):
        where = f"modes[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("when", {}), dict):
            problems.append(f'{where}: must be an object with "mode" and "when".')
            continue
        mode = entry.get("mode")
        if mode not in modes:
            problems.append(f"{where}: unknown mode {mode!r}; use one of {', '.join(modes)}.")
        elif mode in seen:
            problems.append(f"{where}: mode {mode!r} appears twice.")
        if isinstance(mode, str):
            seen.add(mode)
        for condition, requirement in entry.get("when", {}).items():
            problems.extend(_requirement_problems(f"{where}.when.{condition}", condition, requirement))
    if not any(isinstance(entry, dict) and not entry.get("when") for entry in rules["modes"]):
        problems.append(
            "Incomplete: some conditions would allow no mode at all. Add a fallback with no conditions "
            '(for example {"mode": "pin", "when": {}}).'
        )
    hysteresis = rules.get("hysteresis", {})
    if not isinstance(hysteresis, dict):
        problems.append('"hysteresis" must map numeric conditions to margins.')
    else:
        for condition, margin in hysteresis.items():
            if condition not in NUMERIC_CONDITIONS:
                problems.append(f"hysteresis.{condition}: not a numeric condition.")
            elif not _is_number(margin) or margin < 0:
                problems.append(f"hysteresis.{condition}: must be a number >= 0.")
    if problems:
        raise RuleSetInvalid(problems)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _requirement_problems(where: str, condition: str, requirement: object) -> list[str]:
    if condition in BOOLEAN_CONDITIONS:
        return [] if isinstance(requirement, bool) else [f"{where}: must be true or false."]
    if condition not in NUMERIC_CONDITIONS:
        return [f"{where}: unknown condition; use one of {', '.join(NUMERIC_CONDITIONS + BOOLEAN_CONDITIONS)}."]
    if not isinstance(requirement, dict) or not requirement or set(requirement) - {"min", "max"}:
        return [f'{where}: must be {{"min": x}}, {{"max": y}} or both.']
    bad = [key for key, value in requirement.items() if not _is_number(value)]
    if bad:
        return [f"{where}.{key}: must be a finite number." for key in bad]
    if "min" in requirement and "max" in requirement and requirement["min"] > requirement["max"]:
        return [f"{where}: contradiction, min {requirement['min']} is above max {requirement['max']}."]
    return []


@dataclass(frozen=True)
class ModeDecision:
    mode: str
    allowed: bool
    reason: str


def modes_select(
    rules: Mapping[str, Any], conditions: Mapping[str, Any], previously_allowed: frozenset[str] = frozenset()
) -> list[ModeDecision]:
    """Every mode of the rule set with whether the conditions allow it, and why."""
    hysteresis = rules.get("hysteresis", {})
    decisions: list[ModeDecision] = []
    for entry in rules["modes"]:
        mode, when = entry["mode"], entry.get("when", {})
        margin_applies = mode in previously_allowed
        failures: list[str] = []
        passes: list[str] = []
        for condition, requirement in when.items():
            value = conditions.get(condition)
            if condition in BOOLEAN_CONDITIONS:
                (passes if value == requirement else failures).append(f"{condition} is {value}, needs {requirement}")
                continue
            if value is None:
                failures.append(f"no {condition} reading")
                continue
            margin = hysteresis.get(condition, 0) if margin_applies else 0
            if "min" in requirement and value < requirement["min"] - margin:
                failures.append(f"{condition} {value:g} < {requirement['min'] - margin:g}")
            elif "max" in requirement and value > requirement["max"] + margin:
                failures.append(f"{condition} {value:g} > {requirement['max'] + margin:g}")
            else:
                passes.append(f"{condition} {value:g} within {_bounds(requirement, margin)}")
        reason = "; ".join(failures) if failures else ("; ".join(passes) or "always allowed")
        decisions.append(ModeDecision(mode=mode, allowed=not failures, reason=reason))
    return decisions


def _bounds(requirement: Mapping[str, float], margin: float) -> str:
    low = f">= {requirement['min'] - margin:g}" if "min" in requirement else ""
    high = f"<= {requirement['max'] + margin:g}" if "max" in requirement else ""
    return " and ".join(part for part in (low, high) if part)


def decisions_as_json(decisions: list[ModeDecision]) -> list[dict[str, Any]]:
    return [asdict(decision) for decision in decisions]
