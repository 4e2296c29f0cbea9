"""`stepkto-train iterate --report-to`: each round's evaluation is one step (round k = step k, M0 = step 0) of
one tracker run for the whole loop, across reruns of the loop; the trainer is handed the same trackers."""
from __future__ import annotations

import importlib.util
import json

import pytest
from conftest import require
from helpers import tracker_readers as readers

from stepkto_eval.tracking import flat_metrics
from stepkto_train.iterate import Loop, Recipe

from .test_iterate import demo_recipe

ALL = ["tensorboard", "wandb", "mlflow"]


@pytest.fixture
def offline_trackers(monkeypatch, tmp_path):
    for name in ALL:
        require(importlib.util.find_spec(name) is not None, f"{name} not installed (pip install 'stepkto[track]')")
    readers.use_offline_trackers(monkeypatch, tmp_path / "wandb-home")


def round_metrics(k: int) -> dict:
    """A metrics.json as `stepkto-eval` writes it (docs/run-folder.md), a different accuracy per round."""
    value = 0.25 * k
    return {"settings_hash": f"h{k}", "model": f"M{k}", "round": None, "overall": {"metrics": {}, "n_problems": 4},
            "tasks": {"math500": {"n_problems": 4, "n_samples_per_problem": 1, "truncation_rate": 0.0,
                                  "error_rate": 0.0, "greedy": True,
                                  "metrics": {"pass@1": {"value": value, "ci_low": value / 2, "ci_high": 0.9}}}}}


def finish_eval(loop: Loop, k: int) -> str:
    folder = loop.recipe.run_dir / f"round_{k}" / "eval"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(round_metrics(k)))
    (folder / "report.md").write_text(f"# round {k}\n")
    return f"round_{k}/eval"


def test_rounds_are_steps_of_one_run_across_reruns(tmp_path, offline_trackers):
    path = demo_recipe(tmp_path, "M0", rounds=2)
    loop = Loop(Recipe.load(path), report_to=ALL)
    done = [finish_eval(loop, 0), "round_1/label", "round_1/train", finish_eval(loop, 1)]
    loop.track_rounds(done)
    loop.track_rounds(done)  # nothing new: nothing logged twice
    rerun = Loop(Recipe.load(path), report_to=ALL)  # a later process: the loop was stopped and rerun
    rerun.track_rounds([*done, "round_2/label", "round_2/train", finish_eval(rerun, 2)])
    assert not loop.tracking_errors and not rerun.tracking_errors

    expected = {}
    for k in range(3):
        for key, value in flat_metrics(round_metrics(k)).items():
            expected.setdefault(key, {})[k] = value
    assert expected["math500/pass@1"] == {0: 0.0, 1: 0.25, 2: 0.5}
    root = loop.recipe.run_dir / "tracking"
    state = json.loads((root / "state.json").read_text())
    tb = readers.tensorboard_scalars(root / "tensorboard")
    assert tb.keys() == expected.keys() and all(tb[k] == pytest.approx(v) for k, v in expected.items())  # float32
    assert readers.wandb_history(root / "wandb", state["wandb"]["id"]) == expected
    assert readers.wandb_run_ids(root / "wandb") == {state["wandb"]["id"]}  # resumed, not a second run
    history, params, artifacts = readers.mlflow_history((root / "mlruns").resolve().as_uri(), run_name="run")
    assert history == {k.replace("@", "_at_"): v for k, v in expected.items()}
    assert params["rounds"] == "2" and params["eval.tasks"] == "math500"
    assert {"metrics.json", "report.md"} <= artifacts


def test_trainer_gets_the_same_trackers_unless_the_recipe_names_its_own(tmp_path, offline_trackers):
    loop = Loop(Recipe.load(demo_recipe(tmp_path, "M0", rounds=1)), report_to=["tensorboard", "mlflow"])
    assert loop.recipe.train["report_to"] == "none"  # the CPU recipe's default
    options, env = loop.train_tracking("round_1")
    root = (loop.recipe.run_dir / "tracking").resolve()
    assert options["report_to"] == ["tensorboard", "mlflow"] and options["run_name"] == "run-round_1-train"
    assert env["TENSORBOARD_LOGGING_DIR"] == str(root / "tensorboard" / "round_1-train")
    assert env["MLFLOW_TRACKING_URI"] == (root / "mlruns").as_uri() and env["WANDB_DIR"] == str(root)

    loop.recipe.train["report_to"] = "wandb"
    assert loop.train_tracking("round_1") == (loop.recipe.train, None)
    assert Loop(loop.recipe).train_tracking("round_1") == (loop.recipe.train, None)  # no --report-to


def test_unknown_tracker_stops_the_loop_before_any_stage(tmp_path, capsys):
    from stepkto_train.iterate import main

    path = demo_recipe(tmp_path, "M0", rounds=1)
    assert main(["--config", str(path), "--report-to", "tensorboard,neptune"]) == 2
    assert "unknown tracker(s) ['neptune']" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
