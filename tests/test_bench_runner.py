"""`python -m bench` goes on past a benchmark that raises and reports it as not met."""

import json

import pytest

import bench
from bench.__main__ import BENCHES, main

BROKEN = """
def run():
    import a_package_nobody_installed  # noqa: F401
"""

WORKING = """
from bench.report import emit


def run():
    emit(bench="working", metric="speed", value=2.0, unit="x", baseline=1.0, target=">= 1", met=True)
"""


@pytest.fixture
def two_benchmarks(tmp_path, monkeypatch):
    (tmp_path / "broken.py").write_text(BROKEN)
    (tmp_path / "working.py").write_text(WORKING)
    monkeypatch.setattr(bench, "__path__", [*bench.__path__, str(tmp_path)])
    monkeypatch.setitem(BENCHES, "broken", False)
    monkeypatch.setitem(BENCHES, "working", False)


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


def test_bench_run_continues_past_a_failing_benchmark_and_exits_non_zero(two_benchmarks, capsys):
    status = main(["broken", "working"])

    captured = capsys.readouterr()
    broken, working = _lines(captured.out)
    assert status == 1
    assert broken["bench"] == "broken"
    assert broken["met"] is False
    assert broken["error"] == "ModuleNotFoundError: No module named 'a_package_nobody_installed'"
    assert working == {
        "bench": "working",
        "metric": "speed",
        "value": 2.0,
        "unit": "x",
        "baseline": 1.0,
        "ratio": 2.0,
        "target": ">= 1",
        "met": True,
    }
    assert "bench: FAILED broken" in captured.err


def test_bench_run_exits_zero_when_every_benchmark_completes(two_benchmarks, capsys):
    assert main(["working"]) == 0
    assert [line["bench"] for line in _lines(capsys.readouterr().out)] == ["working"]
