"""Experiment tracking (`--report-to`): what is logged, read back from each tracker's own files, equals
metrics.json; reruns add no duplicate step; a failing tracker costs no evaluation. All offline: W&B in
offline mode, MLflow's file store, TensorBoard event files, all inside tmp_path."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import require
from helpers import tracker_readers as readers

from stepkto_eval.cli import main
from stepkto_eval.tracking import TrackingUnavailable, flat_metrics, flat_params, mlflow_key, parse_report_to

ALL = "tensorboard,wandb,mlflow"


def require_trackers(*names: str) -> None:
    for name in names:
        require(importlib.util.find_spec(name) is not None, f"{name} not installed (pip install 'stepkto[track]')")


@pytest.fixture
def offline_trackers(monkeypatch, tmp_path):
    """No network, nothing outside tmp_path: our defaults (inside the run folder) for the run's files."""
    readers.use_offline_trackers(monkeypatch, tmp_path / "wandb-home")


# ---------------------------------------------------------------- names and values
METRICS = {  # the shape of metrics.json (docs/run-folder.md), values made up
    "tasks": {
        "math500": {"n_problems": 4, "metrics": {"pass@1": {"value": 0.5, "ci_low": 0.25, "ci_high": 0.75},
                                                 "maj@4": {"value": 0.25, "ci_low": 0.0, "ci_high": 0.5}},
                    "truncation_rate": 0.125, "error_rate": 0.0,
                    "flawed_step_rate": {"value": 0.5, "ci_low": 0.0, "ci_high": 1.0, "n_correct": 2, "n_flawed": 1}},
        "aime24": {"n_problems": 2, "metrics": {"pass@1": {"value": 0.0, "ci_low": 0.0, "ci_high": 0.0}},
                   "truncation_rate": None, "error_rate": 0.0,
                   "flawed_step_rate": {"value": None, "ci_low": None, "ci_high": None, "n_correct": 0}},
    },
    "overall": {"metrics": {"pass@1": {"value": 1 / 3, "ci_low": 0.1, "ci_high": 0.6}}, "n_problems": 6},
}


def test_flat_metrics_names_every_value_with_its_ci():
    assert flat_metrics(METRICS) == {
        "math500/pass@1": 0.5, "math500/pass@1_ci_low": 0.25, "math500/pass@1_ci_high": 0.75,
        "math500/maj@4": 0.25, "math500/maj@4_ci_low": 0.0, "math500/maj@4_ci_high": 0.5,
        "math500/truncation_rate": 0.125, "math500/error_rate": 0.0,
        "math500/flawed_step_rate": 0.5, "math500/flawed_step_rate_ci_low": 0.0,
        "math500/flawed_step_rate_ci_high": 1.0,
        # undefined values (no correct answer to audit, unknown truncation) are absent, not 0
        "aime24/pass@1": 0.0, "aime24/pass@1_ci_low": 0.0, "aime24/pass@1_ci_high": 0.0, "aime24/error_rate": 0.0,
        "overall/pass@1": 1 / 3, "overall/pass@1_ci_low": 0.1, "overall/pass@1_ci_high": 0.6,
    }
    one_task = {"tasks": {"math500": METRICS["tasks"]["math500"]}, "overall": METRICS["overall"]}
    assert not any(k.startswith("overall/") for k in flat_metrics(one_task))  # it would repeat the task


@pytest.mark.parametrize("name, key", [
    ("math500/pass@1", "math500/pass_at_1"), ("math500/pass@1_ci_low", "math500/pass_at_1_ci_low"),
    ("my task/avg@8", "my task/avg_at_8"), ("t+1/x", "t_1/x"),
])
def test_mlflow_keys_keep_to_its_alphabet(name, key):
    assert mlflow_key(name) == key


def test_flat_params():
    assert flat_params({"sampling": {"n": 8, "temperature": 0.6}, "audit": None, "model": "m"}) == {
        "sampling.n": "8", "sampling.temperature": "0.6", "audit": "null", "model": "m"}


@pytest.mark.parametrize("text, expected", [(None, []), ("none", []), ("", []), (" TensorBoard , mlflow", [
    "tensorboard", "mlflow"]), ("wandb,wandb", ["wandb"])])
def test_report_to_parses_like_the_trainers(text, expected):
    require_trackers(*expected)
    assert parse_report_to(text) == expected


def test_unknown_or_missing_tracker_fails_before_anything_runs(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    code = main(["--model", "m", "--tasks", "math500", "--output-dir", str(out), "--report-to", "tensorbored"])
    assert code == 2 and not out.exists()
    assert "unknown tracker(s) ['tensorbored']" in capsys.readouterr().err
    # a missing library: pretend wandb's package has another name (the only way to lose an installed package
    # inside one test process; a mock of the environment, not of the code under test)
    import stepkto_eval.tracking as tracking

    monkeypatch.setitem(tracking._PACKAGE, "wandb", "wandb_not_installed_here")
    with pytest.raises(TrackingUnavailable, match=r"the wandb package is not installed \(pip install 'stepkto\[track\]'\)"):
        parse_report_to("tensorboard,wandb")
    code = main(["--model", "m", "--tasks", "math500", "--output-dir", str(out), "--report-to", "wandb"])
    assert code == 2 and not out.exists()
    code = main(["--tasks", "processbench", "--judge", "arith", "--output-dir", str(out), "--report-to", "mlflow"])
    assert code == 2 and not out.exists()
    assert "--report-to is not supported for ProcessBench runs" in capsys.readouterr().err


# ---------------------------------------------------------------- real runs, read back
def eval_command(model: Path, out: Path, data: Path, report_to: str) -> list[str]:
    return ["--model", str(model), "--tasks", "math500,amc23", "--backend", "hf", "--data-dir", str(data),
            "--limit", "2", "--max-tokens", "8", "--output-dir", str(out), "--report-to", report_to]


def test_eval_run_logs_to_every_tracker_and_a_rerun_adds_no_step(tiny_model_dir, shared_data, tmp_path, monkeypatch,
                                                                 offline_trackers, capsys):
    require_trackers("tensorboard", "wandb", "mlflow")
    out = tmp_path / "run"
    # MLflow pointed at a store it cannot open: the evaluation is complete, the failure is said, exit 1
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "nosuchscheme://tracking")
    assert main(eval_command(tiny_model_dir, out, shared_data, ALL)) == 1
    err = capsys.readouterr().err
    assert "logging to mlflow:" in err and "rerun the same command to retry the logging" in err
    metrics = json.loads((out / "metrics.json").read_text())
    assert (out / "report.html").is_file() and (out / "report.md").is_file()
    notes = {n["backend"]: n for n in json.loads((out / "manifest.json").read_text())["tracking"]}
    assert (notes["tensorboard"]["status"], notes["wandb"]["status"], notes["mlflow"]["status"]) == (
        "logged", "logged", "error")

    # the rerun finds every sample done, logs MLflow (the retry) and nothing twice
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert main(eval_command(tiny_model_dir, out, shared_data, ALL)) == 0
    assert json.loads((out / "metrics.json").read_text()) == metrics
    notes = {n["backend"]: n["status"] for n in json.loads((out / "manifest.json").read_text())["tracking"]}
    assert notes == {"tensorboard": "already logged", "wandb": "already logged", "mlflow": "logged"}

    expected = {k: {0: v} for k, v in flat_metrics(metrics).items()}
    entry = metrics["tasks"]["math500"]
    # the names promised in the README, against metrics.json itself
    assert expected["math500/pass@1"] == {0: entry["metrics"]["pass@1"]["value"]}
    assert expected["math500/pass@1_ci_low"] == {0: entry["metrics"]["pass@1"]["ci_low"]}
    assert expected["math500/pass@1_ci_high"] == {0: entry["metrics"]["pass@1"]["ci_high"]}
    assert expected["math500/truncation_rate"] == {0: entry["truncation_rate"]}
    assert expected["overall/pass@1"] == {0: metrics["overall"]["metrics"]["pass@1"]["value"]}

    root = out / "tracking"
    tb = readers.tensorboard_scalars(root / "tensorboard")
    assert tb.keys() == expected.keys()
    for key, points in expected.items():
        assert tb[key] == pytest.approx(points)  # TensorBoard stores float32
    texts = readers.tensorboard_texts(root / "tensorboard")
    assert "math500" in texts["report"] and str(tiny_model_dir) in texts["config"]

    assert readers.wandb_history(root / "wandb") == expected
    assert len(readers.wandb_run_ids(root / "wandb")) == 1
    assert {"metrics.json", "report.md", "report.html"} <= readers.wandb_files(root / "wandb")

    history, params, artifacts = readers.mlflow_history((root / "mlruns").resolve().as_uri(), run_name="run")
    assert history == {k.replace("@", "_at_"): v for k, v in expected.items()}
    assert params["sampling.n"] == "1" and params["model.name_or_path"] == str(tiny_model_dir)
    assert artifacts == {"metrics.json", "report.md", "report.html"}


def test_score_run_logs_its_metrics(tmp_path, offline_trackers):
    require_trackers("tensorboard")
    rows = [{"id": "a", "gold": "\\frac{3}{8}", "completions": ["so \\boxed{\\frac{3}{8}}", "\\boxed{1}"]},
            {"id": "b", "gold": "2", "completions": ["\\boxed{2}", "\\boxed{2}"]}]
    data = tmp_path / "completions.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "scored"
    assert main(["score", str(data), "--output-dir", str(out), "--report-to", "tensorboard"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    logged = readers.tensorboard_scalars(out / "tracking" / "tensorboard")
    assert logged["completions/avg@2"] == {0: pytest.approx(0.75)}  # 3 of 4 completions right
    assert logged.keys() == flat_metrics(metrics).keys() and "completions/truncation_rate" not in logged


@pytest.mark.parametrize("state", ["{not json", "[]", '{"tensorboard": ["x"]}', '{"tensorboard": {"steps": {"first": "h"}}}'])
def test_a_corrupt_tracking_state_is_an_error_note_not_a_crash(tmp_path, state):
    """tracking/state.json is read before each backend logs; a damaged one (a kill during a copy, a hand edit)
    raised out of `log` after the evaluation was done. Now it is a tracker error naming the file, and nothing
    is logged on top of a history we cannot read (a second step 0 would follow)."""
    require_trackers("tensorboard")
    from stepkto_eval.tracking import TrackedRun

    root = tmp_path / "tracking"
    root.mkdir()
    (root / "state.json").write_text(state)
    tracked = TrackedRun(root, ["tensorboard"], "run")
    notes = tracked.log(METRICS, {"model": "m"})
    assert [n["status"] for n in notes] == ["error"]
    assert "state.json" in notes[0]["error"] and tracked.errors
    assert (root / "state.json").read_text() == state  # left for a person to look at
    assert not (root / "tensorboard").exists()


KILLED_WHILE_LOGGING = """
import json, os, signal, sys
from pathlib import Path
from stepkto_eval import tracking

if sys.argv[2] == "kill":  # the fault: SIGKILL after the metrics went out, while the files are uploaded
    tracking.MlflowTracker.log_files = lambda self, folder, names, step: os.kill(os.getpid(), signal.SIGKILL)
tracked = tracking.TrackedRun(Path(sys.argv[1]), ["mlflow"], "killed-run")
print(json.dumps(tracked.log(json.loads(sys.argv[3]), {"model": "m"}, files_from=Path(sys.argv[1]))))
"""


def test_a_rerun_after_kill_9_while_logging_resumes_the_same_mlflow_run(tmp_path, offline_trackers):
    """kill -9 between a tracker's start and the state file's update left no run id in state.json: the rerun
    opened a second MLflow run (the first stays RUNNING forever) and logged step 0 again. The id is kept as soon
    as the run starts, and a resumed MLflow run does not log a step twice."""
    require_trackers("mlflow")
    import os
    import signal
    import subprocess
    import sys

    root = tmp_path / "tracking"
    root.mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    argv = [sys.executable, "-c", KILLED_WHILE_LOGGING, str(root)]
    first = subprocess.run([*argv, "kill", json.dumps(METRICS)], env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
    second = subprocess.run([*argv, "ok", json.dumps(METRICS)], env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert [n["status"] for n in json.loads(second.stdout.splitlines()[-1])] == ["logged"]
    history, _, _ = readers.mlflow_history((root / "mlruns").resolve().as_uri(), "killed-run")  # one run, no step twice
    assert history["math500/pass_at_1"] == {0: 0.5}
