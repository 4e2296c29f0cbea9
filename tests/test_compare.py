"""The regression gate: paired tests on known tables, and the planted cases end to end (exit codes)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO
from helpers.run_folders import TaskSpec, write_run

from stepkto_eval.cli import main
from stepkto_eval.regression_gate import holm, load_snapshot, mcnemar_exact, paired_bootstrap


# --- exact McNemar on known contingency tables (p-values worked by hand) -----------------------------
@pytest.mark.parametrize(
    ("b", "c", "p"),
    [
        (0, 0, 1.0),  # no discordant pair: no evidence at all
        (10, 0, 2 / 1024),  # 2 * (1/2)^10
        (0, 10, 2 / 1024),  # symmetric
        (5, 1, 14 / 64),  # 2 * (C(6,0) + C(6,1)) / 2^6 = 2 * 7/64
        (12, 2, 212 / 16384),  # 2 * (1 + 14 + 91) / 2^14
        (3, 3, 1.0),  # 2 * 42/64 > 1 -> capped at 1
        (1, 0, 1.0),  # 2 * 1/2
    ],
)
def test_mcnemar_exact(b, c, p):
    assert mcnemar_exact(b, c) == pytest.approx(p, rel=1e-12)


@pytest.mark.parametrize(
    ("p_values", "adjusted"),
    [
        ([0.01], [0.01]),
        ([0.01, 0.04, 0.03], [0.03, 0.06, 0.06]),  # 3*0.01, max(2*0.03, .03)=.06, max(1*0.04, .06)=.06
        ([0.5, 0.9], [1.0, 1.0]),
    ],
)
def test_holm(p_values, adjusted):
    assert holm(p_values) == pytest.approx(adjusted)


def test_paired_bootstrap_known_cases():
    low, high, p = paired_bootstrap(np.zeros(30))
    assert (low, high, p) == (0.0, 0.0, 1.0)
    low, high, p = paired_bootstrap(np.full(30, -0.5))  # every item lost half its accuracy
    assert low == high == -0.5 and p < 0.001
    diffs = np.array([0.25, -0.25] * 15 + [-0.125])  # mean slightly negative, pure noise
    low, high, p = paired_bootstrap(diffs)
    assert low < diffs.mean() < high and low < 0 < high and p > 0.5
    assert paired_bootstrap(diffs) == paired_bootstrap(diffs)  # seeded


# --- planted cases through the command (exit codes) -----------------------------------------------
def _task(pattern: list[bool] | list[list[bool]]) -> TaskSpec:
    return TaskSpec(correct={f"q{i:02d}": (v if isinstance(v, list) else [v]) for i, v in enumerate(pattern)})


BASE_30 = [i % 4 != 0 for i in range(30)]  # 22/30 correct


def _gate(tmp_path, base_pattern, run_pattern, *, n=1, extra=(), **run_kwargs) -> int:
    base = write_run(tmp_path / "base", "m", {"math500": _task(base_pattern)}, n=n)
    run = write_run(tmp_path / "run", "m", {"math500": _task(run_pattern)}, n=n, **run_kwargs)
    return main(["compare", "--baseline", str(base), "--run", str(run), *extra])


def test_identical_runs_pass(tmp_path, capsys):
    assert _gate(tmp_path, BASE_30, BASE_30) == 0
    assert "no significant drop" in capsys.readouterr().out


def test_planted_drop_fails(tmp_path, capsys):
    run = [False if i < 12 else ok for i, ok in enumerate(BASE_30)]  # 9 items lost, none gained
    assert _gate(tmp_path, BASE_30, run, extra=["--json", str(tmp_path / "r.json")]) == 1
    assert "REGRESSION: significant drop on math500" in capsys.readouterr().err
    (result,) = json.loads((tmp_path / "r.json").read_text())
    assert result["discordant"] == [9, 0] and result["p_value"] == pytest.approx(2 / 512)
    assert result["difference"] == pytest.approx(-9 / 30) and result["ci_high"] < 0


def test_tiny_noisy_drop_on_30_items_is_not_significant(tmp_path, capsys):
    run = list(BASE_30)
    for i in (1, 2, 3):  # three items lost ...
        run[i] = False
    for i in (0, 4):  # ... two gained: net -1 item
        run[i] = True
    assert _gate(tmp_path, BASE_30, run, extra=["--json", str(tmp_path / "r.json")]) == 0
    (result,) = json.loads((tmp_path / "r.json").read_text())
    assert result["discordant"] == [3, 2] and result["p_value"] == 1.0
    assert result["ci_low"] < result["difference"] < 0 < result["ci_high"]


def test_improvement_never_fails(tmp_path):
    assert _gate(tmp_path, BASE_30, [True] * 30) == 0


@pytest.mark.parametrize(
    ("lost", "gained", "expected"),
    [
        (0, 0, 0),  # identical
        (10, 8, 0),  # one sample lost on 10 items, one gained on 8: mean -1.25 points, noise
        (30, 0, 1),  # one sample lost on 30 of 40 items: a real drop
    ],
)
def test_several_samples_per_item_use_paired_bootstrap(tmp_path, lost, gained, expected):
    base = [[True, False, True, False] for _ in range(40)]  # 50% per item, 4 samples each
    run = [list(flags) for flags in base]
    for flags in run[:lost]:
        flags[0] = False
    for flags in run[40 - gained:]:
        flags[1] = True
    assert _gate(tmp_path, base, run, n=4, extra=["--json", str(tmp_path / "r.json")]) == expected
    (result,) = json.loads((tmp_path / "r.json").read_text())
    assert result["test"] == "paired-bootstrap" and result["discordant"] is None
    assert result["difference"] == pytest.approx((gained - lost) * 0.25 / 40)
    assert result["ci_low"] <= result["difference"] <= result["ci_high"]


# --- incompatible inputs -> exit 2 with a message naming the difference ---------------------------
@pytest.mark.parametrize(
    ("run_kwargs", "run_pattern", "message"),
    [
        ({"temperature": 0.7}, BASE_30, "sampling.temperature: baseline 0.0 vs run 0.7"),
        ({"checker": "2"}, BASE_30, "checker_version: baseline '1' vs run '2'"),
        ({}, BASE_30[:25], "items differ (5 only in baseline"),
    ],
)
def test_incompatible_inputs_exit_2(tmp_path, capsys, run_kwargs, run_pattern, message):
    assert _gate(tmp_path, BASE_30, run_pattern, **run_kwargs) == 2
    assert message in capsys.readouterr().err


def test_different_prompt_or_tasks_exit_2(tmp_path, capsys):
    base = write_run(tmp_path / "base", "m", {"math500": _task(BASE_30)})
    other_prompt = TaskSpec(correct=_task(BASE_30).correct, prompt_hash="p2")
    run = write_run(tmp_path / "run", "m", {"math500": other_prompt})
    assert main(["compare", "--baseline", str(base), "--run", str(run)]) == 2
    assert "tasks.math500.prompt_hash: baseline 'p1' vs run 'p2'" in capsys.readouterr().err
    run2 = write_run(tmp_path / "run2", "m", {"math500": _task(BASE_30), "amc23": _task([True])})
    assert main(["compare", "--baseline", str(base), "--run", str(run2)]) == 2
    assert "tasks differ: baseline ['math500'] vs run ['amc23', 'math500']" in capsys.readouterr().err


def test_checker_change_can_be_allowed(tmp_path):
    assert _gate(tmp_path, BASE_30, BASE_30, checker="2", extra=["--allow-checker-change"]) == 0


def test_unreadable_inputs_exit_2(tmp_path, capsys):
    base = write_run(tmp_path / "base", "m", {"math500": _task(BASE_30)})
    assert main(["compare", "--baseline", str(tmp_path / "nope.json"), "--run", str(base)]) == 2
    assert "nope.json: file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "stepkto-baseline/1", "tasks": {"math500": {}}}))
    assert main(["compare", "--baseline", str(bad), "--run", str(base)]) == 2
    assert "bad.json: malformed baseline file" in capsys.readouterr().err


# --- baseline files ------------------------------------------------------------------------------
def test_baseline_file_round_trip_and_gate(tmp_path, capsys):
    base = write_run(tmp_path / "base", "m", {"math500": _task(BASE_30)})
    out = tmp_path / "baselines" / "m.json"
    assert main(["compare", "--write-baseline", str(base), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["tasks"]["math500"]["n_items"] == 30 and data["tasks"]["math500"]["items"]["q00"] == [0, 1]
    assert data["manifest_summary"]["settings_hash"] and out.stat().st_size < 5000
    assert load_snapshot(out).tasks == load_snapshot(base).tasks
    assert main(["compare", "--baseline", str(out), "--run", str(base)]) == 0
    dropped = write_run(tmp_path / "drop", "m", {"math500": _task([False] * 30)})
    assert main(["compare", "--baseline", str(out), "--run", str(dropped)]) == 1


def test_newest_sample_line_wins(tmp_path):
    run = write_run(tmp_path / "r", "m", {"math500": _task([True, True])})
    with (run / "samples.jsonl").open("a") as fh:  # a rerun rewrote q00 as wrong
        fh.write(json.dumps({"task": "math500", "id": "q00", "sample_index": 0, "correct": False}) + "\n")
    assert load_snapshot(run).tasks["math500"] == {"q00": (0, 1), "q01": (1, 1)}


def test_repository_ci_gate_on_real_completions(shared_data, tmp_path, capsys):
    """This repository's own gate: re-score the real completions file and compare with the stored baseline.

    Exit 2 here means the checker version changed: regenerate the baseline with
    `stepkto-eval score ... --output-dir D && stepkto-eval compare --write-baseline D --out <baseline>`.
    """
    baseline = REPO / "leaderboards" / "baselines" / "qwen25math7b_math_cot_100.json"
    run = tmp_path / "score"
    assert main(["score", str(shared_data / "qwen25math7b_math_cot_100.jsonl"), "--gold-field", "gt",
                 "--completions-field", "response", "--output-dir", str(run), "--workers", "1"]) == 0
    assert main(["compare", "--baseline", str(baseline), "--run", str(run)]) == 0, capsys.readouterr().err
    # ... and the same gate catches a planted regression: 12 problems lose every correct sample.
    lines = (run / "samples.jsonl").read_text().splitlines()
    broken = {str(i) for i in range(1, 13)}
    records = [json.loads(line) for line in lines]
    for rec in records:
        if rec["id"] in broken:
            rec["correct"] = False
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["compare", "--baseline", str(baseline), "--run", str(run)]) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--alpha", "1.5", "--baseline", "b", "--run", "r"], "--alpha must be in (0, 1)"),
        (["--baseline", "b"], "give --baseline and --run"),
        (["--write-baseline", "r"], "--write-baseline needs --out FILE"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    assert main(["compare", *argv]) == 2
    assert message in capsys.readouterr().err
