"""`stepkto-train`: one training stage (`train`) or the iterative loop (`iterate`).

    stepkto-train train --data labeled.jsonl --model CKPT --output-dir DIR [--config FILE.yaml]
        [any TrainingArguments option in dashed form: --max-steps 100 --per-device-train-batch-size 4 ...]
        [Step-KTO options: --alpha 1 --beta 0.1 --desirable-weight 1 --undesirable-weight 1 --auto-weights ...]
    stepkto-train iterate --config stepkto_train/configs/cpu_demo.yaml [--limit N]

Options given on the command line override the YAML file. The final model (weights + tokenizer) is written
to DIR itself, loadable by `transformers`, `stepkto-eval --model DIR` and vLLM; checkpoints go to
DIR/checkpoint-N, and `--resume-from-checkpoint auto` continues from the newest one. With LoRA
(`--lora-r 16 --lora-alpha 32 [--lora-dropout 0.05] [--lora-target-modules q_proj v_proj]`) DIR holds the
merged weights and DIR/adapter the adapter alone; the reference is the base model with the adapters disabled.
Launch on several GPUs with torchrun / accelerate / deepspeed: see stepkto_train/configs/*.yaml headers.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml


@dataclass
class TrainInputs:
    data: str | None = field(default=None, metadata={"help": "Labeled JSONL/Parquet file (the labeled-data contract)."})
    model: str | None = field(default=None, metadata={"help": "Starting checkpoint folder (also the reference)."})
    config: str | None = field(default=None, metadata={"help": "YAML file with any of these options."})
    model_dtype: str = field(default="float32", metadata={
        "help": "dtype the policy is loaded in: float32 (default; mixed precision via --bf16) or bfloat16."})
    limit: int | None = field(default=None, metadata={"help": "Smoke mode: train on the first N rows only."})


def parse_train_args(argv: list[str]):
    from transformers import HfArgumentParser

    from .trainer import StepKTOConfig

    parser = HfArgumentParser((TrainInputs, StepKTOConfig), prog="stepkto-train train")
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(argv)
    if known.config:
        values = yaml.safe_load(Path(known.config).read_text()) or {}
        names = {f.name for dc in (TrainInputs, StepKTOConfig) for f in fields(dc)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise SystemExit(f"stepkto-train: {known.config}: unknown option(s) {unknown}")
        parser.set_defaults(**values)
    inputs, args = parser.parse_args_into_dataclasses(argv)
    for name in ("data", "model"):
        if not getattr(inputs, name):
            raise SystemExit(f"stepkto-train train: --{name} is required (command line or --config)")
    return inputs, args


def resolve_model_dir(model: str) -> str:
    """A local folder as is; a hub id → its local snapshot (downloaded once): the reference cache
    fingerprints the model's files, so training needs them on disk."""
    if Path(model).is_dir():
        return model
    from huggingface_hub import snapshot_download

    return snapshot_download(model)


def last_complete_checkpoint(folder: Path) -> str | None:
    """Newest checkpoint-N whose trainer_state.json (written last by the Trainer) exists and parses: a run
    killed while writing a checkpoint, even halfway through that file, resumes from the previous complete one."""
    def complete(path: Path) -> bool:
        try:
            return isinstance(json.loads((path / "trainer_state.json").read_text()).get("global_step"), int)
        except (OSError, ValueError, AttributeError):
            return False

    done = [p for p in folder.glob("checkpoint-*") if p.name.split("-")[-1].isdigit() and complete(p)]
    return str(max(done, key=lambda p: int(p.name.split("-")[-1]))) if done else None


ADAPTER_DIR = "adapter"  # with LoRA: the adapter alone (peft format), beside the merged model in the output folder


def merge_adapter(base: str, adapter: Path, out: Path, dtype) -> None:
    """Base weights + the trained LoRA adapter → one plain checkpoint in `out` (what stepkto-eval --model and vLLM
    load). Built from the checkpoint files, not the training process's wrapped model, so DDP/DeepSpeed wrappers
    and the lean log-prob head never reach the saved model."""
    from peft import PeftModel
    from transformers import AutoTokenizer

    from .trainer import load_causal_lm

    merged = PeftModel.from_pretrained(load_causal_lm(base, dtype, "base model"), str(adapter))
    merged = merged.merge_and_unload()
    merged.save_pretrained(out)
    AutoTokenizer.from_pretrained(adapter).save_pretrained(out)


def run_train(inputs: TrainInputs, args) -> Path:
    """Train one stage and save the final model to args.output_dir; returns that folder."""
    import torch
    from transformers import AutoTokenizer

    from .data import load_labeled
    from .trainer import StepKTOTrainer, load_causal_lm

    out = Path(args.output_dir)
    inputs.model = resolve_model_dir(inputs.model)
    tokenizer = AutoTokenizer.from_pretrained(inputs.model)
    model = load_causal_lm(inputs.model, getattr(torch, inputs.model_dtype), "policy")
    if not args.lora_r:
        args.ref_model = args.ref_model or inputs.model
    trainer = StepKTOTrainer(model, args, load_labeled(inputs.data, limit=inputs.limit), tokenizer)
    resume = args.resume_from_checkpoint
    if resume == "auto":
        resume = last_complete_checkpoint(out)
    result = trainer.train(resume_from_checkpoint=resume)
    if trainer.lora:
        trainer.save_model(str(out / ADAPTER_DIR))
        if trainer.is_world_process_zero():
            merge_adapter(inputs.model, out / ADAPTER_DIR, out, getattr(torch, inputs.model_dtype))
        trainer.accelerator.wait_for_everyone()
    else:
        trainer.save_model(str(out))
    if trainer.is_world_process_zero():
        summary = {"data": str(inputs.data), "model": str(inputs.model), "resumed_from": resume,
                   "prep": {k: v for k, v in asdict(trainer.prep_stats).items() if k != "judged_steps"},
                   "judged_steps": {str(k): v for k, v in trainer.prep_stats.judged_steps.items()},
                   "reference": (asdict(trainer.ref_stats) if trainer.ref_stats else
                                 "base model, adapters disabled" if trainer.lora else "frozen model"),
                   "lora": ({"r": args.lora_r, "alpha": args.lora_alpha, "dropout": args.lora_dropout,
                             "target_modules": args.lora_target_modules, "adapter": ADAPTER_DIR}
                            if trainer.lora else None),
                   "weights": [args.desirable_weight, args.undesirable_weight],
                   "world_size": trainer.accelerator.num_processes,
                   "deepspeed_zero_stage": (trainer.accelerator.state.deepspeed_plugin.zero_stage
                                            if trainer.is_deepspeed_enabled else None),
                   "metrics": result.metrics, "log_history": trainer.state.log_history}
        (out / "stepkto_train.json").write_text(json.dumps(summary, indent=1, default=str))
    return out


def _leave_process_group() -> None:
    """All ranks leave the process group together once the model is saved. A rank that reaches interpreter exit
    while a peer's gloo/DeepSpeed threads still talk to it can abort there ("terminate called without an active
    exception", exit -6; seen once under ZeRO-3 with the precomputed reference on 2 CPU processes)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def main(argv: list[str] | None = None) -> int:
    """Run a command; SIGINT exits 130 and SIGTERM 143 with one line (stepkto_eval/signals.py)."""
    from stepkto_eval.signals import run_cli

    return run_cli("stepkto-train", lambda: _main(argv))


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "train":
        from stepkto_eval.weight_provenance import WeightsNotProvided

        from .data import LabeledDataError

        inputs, args = parse_train_args(rest)
        try:
            out = run_train(inputs, args)
        except (WeightsNotProvided, LabeledDataError, FileNotFoundError) as exc:
            # refused inputs (a checkpoint with missing/resized tensors, unreadable labeled data): one line
            # naming the file and what is wrong, exit 2 like every other input error; nothing was trained
            print(f"stepkto-train: {exc}", file=sys.stderr)
            return 2
        _leave_process_group()
        if args.process_index == 0:
            print(f"final model: {out}")
        return 0
    if command == "iterate":
        from .iterate import main as iterate_main

        return iterate_main(rest)
    print(f"stepkto-train: unknown command {command!r} (train | iterate)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
