"""StepKTO trainer vs TRL's KTOTrainer on CPU: seconds per step and peak memory, as ratios to TRL.

    .venv/bin/python benchmarks/bench_trainer.py [--steps 12] [--hidden 256] [--layers 4] [--vocab 32000]
        [--batch 4] [--repeats 3]

Same tiny random Llama, same labeled rows, same batch size, fp32, no gradient checkpointing, reference
log-probs precomputed on every side (TRL: precompute_ref_log_probs=True; ours: refcache). Each variant runs in
its own process; the first 2 steps are warm-up and not timed. Peak memory = the process's peak resident set
during `train()` minus its resident set just before (Linux VmHWM, reset through /proc/self/clear_refs), with
glibc's mmap threshold at 64 KiB so freed tensors leave the resident set.
The machine may be shared, so the variants run interleaved `--repeats` times: step time = the fastest
repeat's median step, peak memory = the median over repeats.
Target: α = 0 at ≤ 1.0× TRL's step time and peak memory; α = 1's cost is reported against α = 0.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ["trl_kto", "stepkto_alpha0", "stepkto_alpha1"]
WARMUP = 2


def _vm(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _step_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times: list[float] = []

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter())

    return StepTimer()


def _build(workdir: Path, hidden: int, layers: int, rows: int, vocab: int) -> tuple[Path, Path]:
    sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "train")]
    from helpers.tiny_model import build_tiny_model
    from labeled_data import make_rows, write_jsonl

    model = workdir / "model"
    if not model.is_dir():
        build_tiny_model(model, hidden_size=hidden, num_layers=layers)
        if vocab:  # a realistic vocabulary makes the [B, T, V] logits the memory they are in real models
            from transformers import AutoModelForCausalLM

            m = AutoModelForCausalLM.from_pretrained(model)
            m.resize_token_embeddings(vocab, mean_resizing=False)
            m.save_pretrained(model)
    data = workdir / "labeled.jsonl"
    write_jsonl(make_rows(n_problems=rows // 2, per_problem=2, seed=11), data)
    return model, data


def run_variant(variant: str, workdir: Path, steps: int, batch: int) -> dict:
    import datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from stepkto_train.data import load_labeled, render_prompt

    model_dir, data = workdir / "model", workdir / "labeled.jsonl"
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    timer = _step_timer()
    common = dict(output_dir=str(workdir / variant), max_steps=steps, per_device_train_batch_size=batch,
                  learning_rate=1e-5, use_cpu=True, report_to="none", save_strategy="no", logging_steps=1,
                  bf16=False, gradient_checkpointing=False, disable_tqdm=True, seed=0)
    if variant == "trl_kto":
        import trl

        rows = load_labeled(data)
        ds = datasets.Dataset.from_list([{"prompt": render_prompt(tok, r["prompt"]), "completion": r["completion"],
                                          "label": bool(r["outcome_label"])} for r in rows])
        args = trl.KTOConfig(**common, precompute_ref_log_probs=True, max_length=None)
        # TRL precomputes the reference log-probs in __init__, like our refcache: neither is timed
        trainer = trl.KTOTrainer(model=model, args=args, train_dataset=ds, processing_class=tok, callbacks=[timer])
    else:
        from stepkto_train.trainer import StepKTOConfig, StepKTOTrainer

        args = StepKTOConfig(**common, alpha=0.0 if variant.endswith("0") else 1.0,
                             ref_cache_dir=str(workdir / "refcache"), ref_model=str(model_dir))
        trainer = StepKTOTrainer(model, args, load_labeled(data), tok, callbacks=[timer])
    before = _vm("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    trainer.train()
    peak = _vm("VmHWM") - before
    dts = sorted(b - a for a, b in zip(timer.times[WARMUP - 1:], timer.times[WARMUP:], strict=False))
    return {"variant": variant, "sec_per_step": dts[len(dts) // 2], "peak_bytes": peak, "steps_timed": len(dts)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vocab", type=int, default=32000, help="LM-head size (the tokenizer uses its first ids)")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:  # child process: one variant, JSON on the last stdout line
        print(json.dumps(run_variant(args.variant, Path(args.workdir), args.steps, args.batch)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        _build(workdir, args.hidden, args.layers, args.rows, args.vocab)
        runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
        # glibc serves blocks >= 64 KiB by mmap and unmaps them on free, so resident memory tracks live
        # tensors instead of whatever the heap kept from earlier allocations
        env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
        for _ in range(args.repeats):
            for variant in VARIANTS:
                proc = subprocess.run([sys.executable, __file__, "--variant", variant, "--workdir", str(workdir),
                                       "--steps", str(args.steps), "--batch", str(args.batch)],
                                      capture_output=True, text=True, cwd=REPO, env=env)
                if proc.returncode != 0:
                    print(proc.stderr[-3000:], file=sys.stderr)
                    return 1
                runs[variant].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    results = {v: {"sec_per_step": min(r["sec_per_step"] for r in rs),
                   "peak_bytes": sorted(r["peak_bytes"] for r in rs)[len(rs) // 2]} for v, rs in runs.items()}
    anchor = results["trl_kto"]
    print(f"tiny Llama hidden={args.hidden} layers={args.layers} vocab={args.vocab}, batch {args.batch}, {args.steps} steps "
          f"({WARMUP} warm-up), {args.repeats} interleaved repeats, CPU fp32")
    print(f"{'variant':<16} {'s/step':>8} {'x TRL':>7} {'peak MiB':>9} {'x TRL':>7}")
    for name, r in results.items():
        print(f"{name:<16} {r['sec_per_step']:>8.4f} {r['sec_per_step'] / anchor['sec_per_step']:>7.2f} "
              f"{r['peak_bytes'] / 2**20:>9.1f} {r['peak_bytes'] / max(anchor['peak_bytes'], 1):>7.2f}")
    a0, a1 = results["stepkto_alpha0"], results["stepkto_alpha1"]
    print(f"alpha=1 over alpha=0: {a1['sec_per_step'] / a0['sec_per_step']:.2f}x time, "
          f"{a1['peak_bytes'] / max(a0['peak_bytes'], 1):.2f}x peak memory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
