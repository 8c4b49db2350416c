"""The one output format of every benchmark, and the statistics they share."""

import json
import math
import sys


def emit(*, bench: str, metric: str, value: float, unit: str, baseline: float, target: str, met: bool) -> dict:
    """Print one figure as a JSON line on stdout (the only thing stdout carries)."""
    line = {
        "bench": bench,
        "metric": metric,
        "value": round(float(value), 3),
        "unit": unit,
        "baseline": round(float(baseline), 3),
        "ratio": round(value / baseline, 3) if baseline else None,
        "target": target,
        "met": bool(met),
    }
    print(json.dumps(line), flush=True)
    return line


def emit_failure(*, bench: str, error: BaseException) -> dict:
    """The line of a benchmark that raised: no figure, not met, and why."""
    line = {
        "bench": bench,
        "metric": "completed",
        "value": None,
        "unit": None,
        "baseline": None,
        "ratio": None,
        "target": "runs to the end",
        "met": False,
        "error": f"{type(error).__name__}: {error}",
    }
    print(json.dumps(line), flush=True)
    return line


def note(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile: with ~50 samples, interpolating would invent precision."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
