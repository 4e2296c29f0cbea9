"""The speed gate end to end: a real pytest-benchmark run, a baseline, an unchanged rerun and a planted slowdown."""
from __future__ import annotations

import importlib.util
import json

import pytest
from conftest import REPO

_spec = importlib.util.spec_from_file_location("speed_gate", REPO / "benchmarks" / "speed_gate.py")
speed_gate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(speed_gate)

BENCH = """
def _work(n):
    return sum(i * i % 7 for i in range(n))

def test_work(benchmark):
    assert benchmark.pedantic(_work, args=({n},), rounds=5, iterations=1) >= 0
"""


@pytest.mark.parametrize(
    ("current", "baseline", "slow", "line"),
    [
        ({"a": 1.0}, {"a": 1.0}, False, "  1.00x  ok     a"),
        ({"a": 1.49}, {"a": 1.0}, False, "  1.49x  ok     a"),
        ({"a": 1.6}, {"a": 1.0}, True, "  1.60x  SLOWER a"),
        ({"a": 1.0, "b": 1.0}, {"a": 1.0}, False, "new (not in baseline): b"),
        ({}, {"a": 1.0}, True, "missing (in baseline, not run): a"),  # a vanished benchmark fails the gate
    ],
)
def test_compare_normalised_times(current, baseline, slow, line):
    lines, is_slow = speed_gate.compare(current, baseline, threshold=1.5)
    assert is_slow is slow and line in lines


def test_anchor_is_deterministic_work():
    assert speed_gate.anchor_workload() == speed_gate.anchor_workload() > 0


def test_gate_on_a_real_benchmark_run(tmp_path, capsys):
    bench, baseline = tmp_path / "test_bench_tiny.py", tmp_path / "speed.json"
    bench.write_text(BENCH.format(n=20_000))
    args = ["--tests", str(bench), "--baseline", str(baseline)]
    assert speed_gate.main([*args, "--update", "--repeats", "2"]) == 0
    stored = json.loads(baseline.read_text())
    (entry,) = stored["benchmarks"].values()
    assert entry["normalised"] == pytest.approx(entry["min_seconds"] / stored["anchor_seconds"])
    assert speed_gate.main([*args, "--repeats", "2"]) == 0  # same code, same machine
    bench.write_text(BENCH.format(n=200_000))  # planted 10x slowdown of the same benchmark
    assert speed_gate.main([*args, "--repeats", "1"]) == 1
    assert "SLOWER" in capsys.readouterr().out


def test_gate_cannot_measure_exit_2(tmp_path):
    assert speed_gate.main(["--tests", str(tmp_path / "missing.py")]) == 2
    bench = tmp_path / "test_bench_tiny.py"
    bench.write_text(BENCH.format(n=1000))
    assert speed_gate.main(["--tests", str(bench), "--baseline", str(tmp_path / "none.json"), "--repeats", "1"]) == 2
