"""The iterative loop: stage plan, recipe checks, one real round of the CPU recipe on the tiny model, and a
run killed during training that resumes and finishes."""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import REPO, require

from stepkto_train.cli import last_complete_checkpoint
from stepkto_train.iterate import Loop, Recipe, RecipeChanged, cli_options

CPU_DEMO = REPO / "stepkto_train" / "configs" / "cpu_demo.yaml"


@pytest.mark.parametrize("options, expected", [
    ({"max_tokens": 64, "use_cpu": True, "skip": False}, ["--max-tokens", "64", "--use-cpu"]),
    ({"backend_option": ["a=1", "b=2"]}, ["--backend-option", "a=1", "--backend-option", "b=2"]),
    ({"audit": None}, []),
])
def test_cli_options(options, expected):
    assert cli_options(options) == expected


def demo_recipe(tmp_path: Path, model: str | Path, rounds: int = 2, **train) -> Path:
    recipe = yaml.safe_load(CPU_DEMO.read_text())
    recipe.update(run_dir=str(tmp_path / "run"), model=str(model), rounds=rounds)
    recipe["label"].update(limit=2, max_tokens=40, n=2)
    recipe["eval"].update(limit=2, max_tokens=40)
    recipe["train"].update(ref_cache_dir=str(tmp_path / "refcache"), **train)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_stage_plan_chains_models_and_uses_the_launcher(tmp_path):
    recipe = Recipe.load(demo_recipe(tmp_path, "M0", rounds=2))
    recipe.launcher = ["torchrun", "--nproc_per_node", "8"]
    plan = dict(Loop(recipe).stages())
    assert list(plan) == ["round_0/eval", "round_1/label", "round_1/train", "round_1/eval", "round_2/label",
                          "round_2/train", "round_2/eval"]
    model_of = lambda cmd: cmd[cmd.index("--model") + 1]  # noqa: E731
    assert model_of(plan["round_1/label"]) == model_of(plan["round_1/train"]) == "M0"
    assert model_of(plan["round_2/train"]) == model_of(plan["round_1/eval"]) == str(tmp_path / "run/round_1/model")
    assert plan["round_1/train"][:3] == ["torchrun", "--nproc_per_node", "8"]
    assert "auto" == plan["round_2/train"][plan["round_2/train"].index("--resume-from-checkpoint") + 1]


def test_changed_recipe_is_refused(tmp_path):
    path = demo_recipe(tmp_path, "M0")
    loop = Loop(Recipe.load(path))
    loop.recipe.run_dir.mkdir(parents=True)
    loop.state_path.write_text(json.dumps({"recipe": {**loop.recipe.identity(), "model": "other"}, "done": []}))
    with pytest.raises(RecipeChanged):
        Loop(Recipe.load(path)).load_state()


def test_recipes_ship_with_launch_commands():
    for path in sorted((REPO / "stepkto_train" / "configs").glob("*.yaml")):
        if path.name.startswith("accelerate"):
            continue
        assert Recipe.load(path).rounds >= 1
        assert "stepkto-train iterate --config" in path.read_text().split("\nrun_dir")[0], path.name


def iterate(recipe: Path, *options: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stepkto_train.cli", "iterate", "--config", str(recipe), *options],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, **popen)


@pytest.mark.slow
def test_one_round_end_to_end_then_resume_after_kill_in_training(tiny_model_dir, shared_data, tmp_path):
    # enough steps that the kill lands inside the training stage, checkpoints every 2 steps
    recipe = demo_recipe(tmp_path, tiny_model_dir, rounds=1, max_steps=30, save_steps=2, num_train_epochs=50,
                         per_device_train_batch_size=1, gradient_accumulation_steps=1)
    run = tmp_path / "run"
    # with every tracker (offline): the loop's run survives the kill, and the trainer reports to them too
    from helpers.tracker_readers import UNSET, offline_env

    require_trackers = [n for n in ("tensorboard", "wandb", "mlflow") if importlib.util.find_spec(n) is None]
    require(not require_trackers, f"{require_trackers} not installed (pip install 'stepkto[track]')")
    env = {**{k: v for k, v in os.environ.items() if k not in UNSET}, **offline_env(tmp_path / "wandb-home")}
    tracked = ("--report-to", "tensorboard,wandb,mlflow")
    proc = iterate(recipe, *tracked, env=env)
    deadline = time.time() + 900
    # wait for a *complete* checkpoint: a bare checkpoint-N folder may still be mid-write, and resuming
    # rightly ignores it (the race that made this test flaky before)
    while last_complete_checkpoint(run / "round_1" / "model") is None:
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.time() < deadline
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole stage tree, as a crash would
    proc.wait()
    state = json.loads((run / "state.json").read_text())
    assert state["done"] == ["round_0/eval", "round_1/label"]  # killed inside round_1/train

    proc = iterate(recipe, *tracked, env=env)
    output, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, output[-3000:]
    assert "round_1/label: done, skipped" in output
    state = json.loads((run / "state.json").read_text())
    assert state["done"] == ["round_0/eval", "round_1/label", "round_1/train", "round_1/eval"]
    summary = json.loads((run / "round_1" / "model" / "stepkto_train.json").read_text())
    assert summary["resumed_from"] and "checkpoint-" in summary["resumed_from"]
    assert summary["metrics"]["train_loss"] > 0
    rows = json.loads((run / "rounds.json").read_text())
    assert [r["round"] for r in rows] == [0, 1]
    assert "math500" in rows[0]["eval"] and "math500" in rows[1]["eval"] and rows[1]["labeled_rows"] > 0
    table = (run / "rounds.md").read_text()
    assert "| 1 |" in table and "math500: pass@1 0.0%" in table and "None" not in table
    check_tracked_rounds(run, rounds=1)


def check_tracked_rounds(run: Path, rounds: int) -> None:
    """Round k's evaluation at step k of one tracker run per backend; the trainer's curves beside it."""
    from helpers import tracker_readers as readers

    from stepkto_eval.tracking import flat_metrics

    expected: dict[str, dict[int, float]] = {}
    for k in range(rounds + 1):
        for key, value in flat_metrics(json.loads((run / f"round_{k}" / "eval" / "metrics.json").read_text())).items():
            expected.setdefault(key, {})[k] = value
    assert set(expected["math500/pass@1"]) == set(range(rounds + 1))
    root = run / "tracking"
    tb = readers.tensorboard_scalars(root / "tensorboard")
    assert tb.keys() == expected.keys() and all(tb[k] == pytest.approx(v) for k, v in expected.items())
    state = json.loads((root / "state.json").read_text())
    assert readers.wandb_history(root / "wandb", state["wandb"]["id"]) == expected
    history, _, _ = readers.mlflow_history((root / "mlruns").resolve().as_uri(), run_name="run")
    assert history == {k.replace("@", "_at_"): v for k, v in expected.items()}
    train_curves = readers.tensorboard_scalars(root / "tensorboard" / "round_1-train", unique=False)
    assert any(tag.endswith("loss") for tag in train_curves), sorted(train_curves)


@pytest.mark.parametrize("first, second", [(4, 8), (4, None), (None, 4)])
def test_rerun_with_another_limit_is_refused(tmp_path, first, second):
    path = demo_recipe(tmp_path, "M0")
    loop = Loop(Recipe.load(path), limit=first)
    loop.recipe.run_dir.mkdir(parents=True)
    loop.save_state({**loop.load_state(), "done": ["round_0/eval"]})
    assert Loop(Recipe.load(path), limit=first).load_state()["done"] == ["round_0/eval"]  # same limit resumes
    with pytest.raises(RecipeChanged, match="limit"):
        Loop(Recipe.load(path), limit=second).load_state()


def test_command_line_limit_replaces_the_recipe_limit(tmp_path):
    plan = dict(Loop(Recipe.load(demo_recipe(tmp_path, "M0", rounds=1)), limit=1).stages())
    for name in ("round_0/eval", "round_1/label", "round_1/eval"):
        cmd = plan[name]
        assert cmd.count("--limit") == 1 and cmd[cmd.index("--limit") + 1] == "1"


def test_every_shipped_recipe_option_is_one_the_stages_accept():
    """Each stage's options parse as its CLI parses them (transformers 5 has no warmup_ratio, for instance)."""
    for path in sorted((REPO / "stepkto_train" / "configs").glob("*.yaml")):
        if not path.name.startswith("accelerate"):
            Loop(Recipe.load(path)).check()
    recipe = Recipe.load(REPO / "stepkto_train" / "configs" / "llama31_8b_8xh100.yaml")
    recipe.train["warmup_ratio"] = 0.1
    with pytest.raises(ValueError, match=r"round_1/train: `train` has unknown option\(s\) \['warmup_ratio'\]"):
        Loop(recipe).check()
    recipe = Recipe.load(CPU_DEMO)
    recipe.eval["audit"] = "critic:vllm"
    with pytest.raises(ValueError, match="round_0/eval.*critic:BACKEND:MODEL"):
        Loop(recipe).check()
    recipe = Recipe.load(CPU_DEMO)
    recipe.label["temprature"] = 0.5
    with pytest.raises(ValueError, match=r"round_1/label: `stepkto-eval label` has no option\(s\) \['--temprature'"):
        Loop(recipe).check()


def test_recipe_points_its_judge_stages_at_a_fleet_of_servers(tmp_path):
    """A big judge served by several `vllm serve` replicas: the recipe's judge spec lists their URLs, and every
    label and audited-eval stage passes that spec on unchanged (the openai backend spreads the requests)."""
    fleet = "critic:openai:Qwen/QwQ-32B@http://judge-0:8000/v1,http://judge-1:8000/v1"
    recipe = Recipe.load(demo_recipe(tmp_path, "M0", rounds=2))
    recipe.label["judge"] = fleet
    recipe.eval["audit"] = fleet
    loop = Loop(recipe)
    loop.check()  # the spec parses as the stages' CLIs parse it
    plan = dict(loop.stages())
    for name in ("round_1/label", "round_2/label"):
        assert plan[name][plan[name].index("--judge") + 1] == fleet
    for name in ("round_0/eval", "round_1/eval", "round_2/eval"):
        assert plan[name][plan[name].index("--audit") + 1] == fleet
    from stepkto_eval.audit.registry import parse_spec
    from stepkto_eval.backends.openai import split_urls

    (member,) = parse_spec(fleet)
    assert (member.backend_name, member.model) == ("openai", "Qwen/QwQ-32B")
    assert split_urls(member.base_url) == ["http://judge-0:8000/v1", "http://judge-1:8000/v1"]
