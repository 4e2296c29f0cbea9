"""StepKTOConfig and StepKTOTrainer: a transformers.Trainer that runs the forwards and calls loss.py.

Per micro-batch: one no-grad policy forward on the mismatched KL sequences (for z), one policy
forward/backward on the training sequences, and — only with `reference="model"` — two reference forwards.
With `reference="precompute"` (default) the reference log-probs come from refcache.py, so training runs
the policy only. Checkpointing, resume, DDP and DeepSpeed are the Trainer's own mechanisms.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

from stepkto_eval.weight_provenance import check_loading_report, unused_tensors

from . import data as data_mod
from .collate import StepKTOCollator
from .logps import add_logp_head, sequence_logps, step_logps, token_logps
from .loss import reference_point, step_kto_loss
from .refcache import (
    Collective,
    Precision,
    RefCache,
    attach_reference,
    expand_cache_dir,
    model_fingerprint,
    without_zero3_init,
)

log = logging.getLogger(__name__)


def load_causal_lm(path: str, dtype, role: str) -> torch.nn.Module:
    """A policy or reference model, refused when any of its weights would not come from the checkpoint at
    `path` (a missing or resized tensor is randomly initialised by transformers, which then trains or scores
    silently from noise). Checkpoint tensors the causal LM does not use (a value head beside the LM, say) are
    only logged: training the LM part of such a checkpoint is legitimate."""
    # ignore_mismatched_sizes: transformers reports a resized tensor in `info` (refused below, by name) instead
    # of raising a RuntimeError that names none
    model, info = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, output_loading_info=True,
                                                       ignore_mismatched_sizes=True)
    check_loading_report(f"{role} {path}", info, purpose=f"use it as the {role}", refuse_unused=False)
    if unused := unused_tensors(info):
        log.warning("%s %s: checkpoint tensors not used by the causal LM: %s", role, path, unused)
    return model


@dataclass
class StepKTOConfig(TrainingArguments):
    """Training arguments plus Step-KTO's own. Defaults that differ from transformers: learning_rate 1e-6
    (KTO's range for full fine-tuning, transformers: 5e-5), remove_unused_columns False (the collator
    needs the step columns), logging_steps 1, save_only_model False kept, report_to "none"."""

    alpha: float = field(default=1.0, metadata={"help": "Weight α of the step term; 0 = plain KTO."})
    beta: float = field(default=0.1, metadata={"help": "KTO β: scale of the implied reward β·log-ratio."})
    desirable_weight: float = field(default=1.0, metadata={"help": "λ_D, loss weight of desirable labels."})
    undesirable_weight: float = field(default=1.0, metadata={"help": "λ_U, loss weight of undesirable labels."})
    auto_weights: bool = field(default=False, metadata={
        "help": "Set λ_D/λ_U from the class balance so λ_D·n_D / λ_U·n_U = desirable_ratio (KTO's recommended range "
                "[1, 4/3])."})
    desirable_ratio: float = field(default=1.0, metadata={
        "help": "With auto_weights: the target λ_D·n_D / λ_U·n_U (above 1 weighs desirable rows above the balance)."})
    step_logratio: str = field(default="step", metadata={
        "help": "'step': r_h over step h's tokens; 'prefix': r_≤h over steps 1..h."})
    after_error: str = field(default="mask", metadata={
        "help": "Steps after the first error: 'mask' (default: judges stop at the first error, so they carry "
                "no verdict) or 'negative' (labeled 0)."})
    max_length: int = field(default=2048, metadata={"help": "Max prompt + completion tokens."})
    overlong: str = field(default="drop", metadata={
        "help": "Rows longer than max_length: 'drop', or 'restrict_steps' (cut; train only steps that fit, no "
                "outcome term)."})
    text_prompt: str = field(default="raw", metadata={
        "help": "Plain-text prompts: 'raw' (as the eval backends sent them) or 'chat' (wrap as a user message)."})
    kl_pairing: str = field(default="other_problem", metadata={
        "help": "Mismatched pairs for z: 'other_problem' (seeded, different problem) or 'roll' (TRL's scheme)."})
    reference: str = field(default="precompute", metadata={
        "help": "'precompute': cached reference log-probs (refcache); 'model': a frozen reference copy."})
    ref_model: str | None = field(default=None, metadata={
        "help": "Reference checkpoint folder (default: the policy's starting checkpoint)."})
    ref_cache_dir: str | None = field(default=None, metadata={
        "help": "Reference log-prob cache folder (default: ~/.cache/stepkto/refcache)."})
    ref_batch_size: int = field(default=8, metadata={"help": "Batch size of the reference precompute."})
    lora_r: int = field(default=0, metadata={
        "help": "LoRA rank (0 = full fine-tuning). With LoRA the reference is the base model with the adapters "
                "disabled: no reference copy, no precompute."})
    lora_alpha: float = field(default=16.0, metadata={"help": "LoRA scaling numerator (scale = alpha / r)."})
    lora_dropout: float = field(default=0.0, metadata={"help": "Dropout on the LoRA input."})
    lora_target_modules: list[str] = field(default_factory=lambda: ["all-linear"], metadata={
        "help": "Module names (or suffixes) to adapt; 'all-linear' = every linear layer but the LM head."})
    learning_rate: float = field(default=1e-6, metadata={"help": "AdamW learning rate."})
    remove_unused_columns: bool = field(default=False, metadata={"help": "Must stay False for Step-KTO."})
    logging_steps: float = field(default=1, metadata={"help": "Log every N steps."})

    def __post_init__(self):
        for name, allowed in [("step_logratio", ("step", "prefix")), ("after_error", ("mask", "negative")),
                              ("overlong", ("drop", "restrict_steps")), ("text_prompt", ("raw", "chat")),
                              ("kl_pairing", ("other_problem", "roll")), ("reference", ("precompute", "model"))]:
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.lora_r < 0:
            raise ValueError(f"lora_r must be >= 0, got {self.lora_r}")
        if self.lora_r and _zero_stage(self.deepspeed) == 3:  # before any process group or DeepSpeed op exists
            raise ValueError(LORA_ZERO3)
        if self.deepspeed and not torch.cuda.is_available():
            _configure_cpu_deepspeed_state(self)
        elif launcher_world_size() > 1 and not torch.cuda.is_available():
            # Without use_cpu, accelerate sees no accelerator, falls back to a single process and every rank
            # trains alone into the same output folder: on a CPU-only machine a multi-process launch means CPU DDP.
            if not self.use_cpu or self.ddp_backend is None:
                log.info("launched with %d processes on a machine without CUDA: CPU DDP with the gloo backend",
                         launcher_world_size())
            self.use_cpu = True
            self.ddp_backend = self.ddp_backend or "gloo"
        super().__post_init__()


def _configure_cpu_deepspeed_state(args: TrainingArguments) -> None:
    """DeepSpeed on CPU (tests, CI): with `deepspeed=` transformers drops `ddp_backend`, sees world size 1 and
    DeepSpeed then fails on a batch-size mismatch. Creating the accelerate state ourselves with the gloo
    backend and telling TrainingArguments to use it avoids that (measured: ../shared/ENVIRONMENT.md).
    GPU runs never take this path."""
    from accelerate import PartialState

    if "RANK" not in os.environ:
        raise ValueError("DeepSpeed on CPU needs a torchrun launch, even for one process: "
                         "torchrun --nproc_per_node N -m stepkto_train.cli train ... --deepspeed CONFIG")
    os.environ["ACCELERATE_USE_DEEPSPEED"] = "true"
    try:
        PartialState(backend="gloo")
    finally:
        del os.environ["ACCELERATE_USE_DEEPSPEED"]
    base = args.accelerator_config if isinstance(args.accelerator_config, dict) else {}
    args.accelerator_config = {**base, "use_configured_state": True}


LORA_ZERO3 = ("LoRA under DeepSpeed ZeRO-3 is not supported; use DDP or ZeRO-2 (stepkto_train/configs/ds_zero2.json)"
              ": the base weights are frozen, so ZeRO-3 saves little with LoRA")


def _zero_stage(deepspeed) -> int | None:
    """ZeRO stage of a --deepspeed value (JSON file path, JSON text or dict); None without DeepSpeed."""
    if not deepspeed:
        return None
    if isinstance(deepspeed, str):
        deepspeed = json.loads(Path(deepspeed).read_text() if Path(deepspeed).is_file() else deepspeed)
    return (deepspeed.get("zero_optimization") or {}).get("stage")


def lora_config(args: "StepKTOConfig"):
    """peft.LoraConfig from --lora-* (None when lora_r == 0)."""
    if args.lora_r == 0:
        return None
    from peft import LoraConfig

    targets = args.lora_target_modules
    return LoraConfig(r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout, task_type="CAUSAL_LM",
                      target_modules=targets[0] if targets == ["all-linear"] else list(targets))


def launcher_world_size() -> int:
    """Processes the launcher started (torchrun / accelerate / deepspeed set WORLD_SIZE; 1 without one)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def check_world_size(args: TrainingArguments) -> None:
    """Refuse to train when the launcher started N processes but the Trainer sees another number: each
    process would then train alone and all would write one output folder."""
    launched = launcher_world_size()
    if args.world_size != launched:
        raise RuntimeError(
            f"the launcher started {launched} processes but the Trainer runs with world size {args.world_size}; "
            "every process would train alone into the same output folder. On CPU pass --use-cpu --ddp-backend "
            "gloo; on GPUs check that each process sees its GPU (CUDA_VISIBLE_DEVICES) and the launcher's "
            "--nproc_per_node / --num_processes.")


def _inference_ds_config(config: dict) -> dict:
    """A copy of the training DeepSpeed config for an engine that only runs forwards: no optimizer or scheduler,
    and the size options transformers fills from the model later ("auto") left to DeepSpeed's defaults."""
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v != "auto"}
        return value

    out = clean(config)
    out.pop("optimizer", None), out.pop("scheduler", None)
    return out


def _all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


class StepKTOTrainer(Trainer):
    """Trainer whose `train_dataset` is a labeled dataset (the contract); it is tokenized and paired here."""

    loss_is_scaled_for_ga = False  # our loss is a per-micro-batch mean: the Trainer divides by GA steps

    def __init__(self, model, args: StepKTOConfig, train_dataset, processing_class, peft_config=None, **kwargs):
        """`peft_config` (or --lora-r > 0, or a PeftModel as `model`): train adapters only, against the base model
        with the adapters disabled as the reference (TRL's KTOTrainer does the same)."""
        check_world_size(args)  # also sets up the distributed state, before anything collective
        model, self.lora = self._wrap_lora(model, args, peft_config)
        self.ref_path = args.ref_model or getattr(model.config, "_name_or_path", None)
        prepared, self.prep_stats = data_mod.prepare(
            train_dataset, processing_class, max_length=args.max_length, text_prompt=args.text_prompt,
            after_error=args.after_error, overlong=args.overlong, kl_pairing=args.kl_pairing,
            pair_block=args.per_device_train_batch_size, seed=args.seed)
        if args.auto_weights:
            args.desirable_weight, args.undesirable_weight = data_mod.balance_weights(
                self.prep_stats.desirable, self.prep_stats.undesirable, args.desirable_ratio)
        log.info("λ_D = %.3f, λ_U = %.3f", args.desirable_weight, args.undesirable_weight)
        self.ref_stats = None
        self.ref_model = None
        if args.reference == "precompute" and not self.lora:
            prepared = self._attach_reference(prepared, args, processing_class.pad_token_id, model)
        if kwargs.get("eval_dataset") is not None:
            kwargs["eval_dataset"] = self._prepare_eval(kwargs["eval_dataset"], args, processing_class, model)
        kwargs.setdefault("data_collator", StepKTOCollator(pad_token_id=processing_class.pad_token_id))
        add_logp_head(model)  # before the Trainer wraps it: scores completion tokens without [B, T, V] logits
        super().__init__(model=model, args=args, train_dataset=prepared, processing_class=processing_class, **kwargs)
        self.model_accepts_loss_kwargs = False
        self._metrics: dict[str, list[float]] = defaultdict(list)
        if args.reference == "model" and not self.lora:
            self.ref_model = self._frozen_reference(model)

    def _prepare_eval(self, eval_dataset, args: StepKTOConfig, tokenizer, model):
        """An eval_dataset is a labeled dataset too (or a dict of them, as the Trainer allows): tokenized, paired
        and given reference log-probs like the training set, so the collator finds the same columns."""
        if isinstance(eval_dataset, dict):
            return {name: self._prepare_eval(ds, args, tokenizer, model) for name, ds in eval_dataset.items()}
        prepared, self.eval_prep_stats = data_mod.prepare(
            eval_dataset, tokenizer, max_length=args.max_length, text_prompt=args.text_prompt,
            after_error=args.after_error, overlong=args.overlong, kl_pairing=args.kl_pairing,
            pair_block=args.per_device_eval_batch_size, seed=args.seed)
        if args.reference == "precompute" and not self.lora:
            train_stats = self.ref_stats  # the reported cache counts stay those of the training set
            prepared = self._attach_reference(prepared, args, tokenizer.pad_token_id, model)
            self.ref_stats = train_stats
        return prepared


    @staticmethod
    def _wrap_lora(model, args: StepKTOConfig, peft_config):
        from transformers.integrations import is_deepspeed_zero3_enabled

        config = peft_config or lora_config(args)
        is_peft = hasattr(model, "disable_adapter") and hasattr(model, "peft_config")
        if config is None and not is_peft:
            return model, False
        if args.ref_model:
            raise ValueError("with LoRA the reference is the base model with the adapters disabled; "
                             f"--ref-model {args.ref_model!r} cannot be used")
        if args.deepspeed and is_deepspeed_zero3_enabled():
            # not exercised by any test here (adapter + sharded base under one engine): refused, not guessed
            raise ValueError(LORA_ZERO3)
        if config is not None and not is_peft:
            from peft import get_peft_model
            from transformers import set_seed

            set_seed(args.seed)  # the adapters' random init (A) follows --seed: same start on 1 or N processes
            model = get_peft_model(model, config)
        return model, True

    # -- reference --------------------------------------------------------------------------------
    def _load_reference(self, dtype) -> torch.nn.Module:
        if not self.ref_path or not Path(self.ref_path).is_dir():
            raise ValueError(f"reference model folder not found: {self.ref_path!r} (set --ref-model)")
        with without_zero3_init():
            ref = load_causal_lm(self.ref_path, dtype, "reference")
        return ref.eval().requires_grad_(False)

    def reference_precision(self, args, model) -> Precision:
        """The precision the policy's forward will run in. DeepSpeed casts the weights to bf16/fp16 itself
        (no autocast); otherwise the Trainer keeps the weights' dtype and autocasts with --bf16/--fp16."""
        half = torch.bfloat16 if args.bf16 else torch.float16 if args.fp16 else None
        if args.deepspeed:
            return Precision(weights=half or model.dtype)
        return Precision(weights=model.dtype, autocast=half)

    def _attach_reference(self, prepared, args, pad_id: int, model):
        from transformers.integrations import is_deepspeed_zero3_enabled

        root = expand_cache_dir(args.ref_cache_dir or Path.home() / ".cache" / "stepkto" / "refcache")
        if not self.ref_path or not Path(self.ref_path).is_dir():
            raise ValueError(f"reference model folder not found: {self.ref_path!r} (set --ref-model)")
        precision = self.reference_precision(args, model)
        cache = RefCache(root, model_fingerprint(self.ref_path, root), precision.tag)
        device = args.device
        zero3 = bool(args.deepspeed) and is_deepspeed_zero3_enabled()
        loaded = []

        def load():
            loaded.append(zero3)
            if zero3:  # sharded over the ranks like the policy: no rank ever holds the whole reference
                return self._zero3_reference(args, precision.weights)
            return self._load_reference(precision.weights).to(device)

        rows, self.ref_stats = attach_reference(
            list(prepared), cache, load, pad_id=pad_id, batch_size=args.ref_batch_size,
            collective=Collective.from_torch(), precision=precision, lockstep=zero3)
        self.ref_stats.zero3_engine = any(loaded)
        cache.close()
        return type(prepared).from_list(rows)

    def _zero3_reference(self, args, dtype) -> torch.nn.Module:
        """The reference for the precompute under ZeRO-3: loaded under zero.Init (partitioned as it loads) and
        wrapped by an optimizer-less ZeRO-3 engine, as the frozen reference is; every rank must run it."""
        import deepspeed

        ref = add_logp_head(load_causal_lm(self.ref_path, dtype, "reference").eval())
        engine, *_ = deepspeed.initialize(model=ref, config=_inference_ds_config(args.hf_deepspeed_config.config))
        engine.eval()
        return engine

    def _frozen_reference(self, model) -> torch.nn.Module:
        from transformers.integrations import is_deepspeed_zero3_enabled

        if is_deepspeed_zero3_enabled():
            # sharded like the policy: loaded under zero.init, wrapped by an optimizer-less ZeRO-3 engine
            import deepspeed

            ref = add_logp_head(load_causal_lm(self.ref_path, model.dtype, "reference").eval())
            cfg = dict(self.accelerator.state.deepspeed_plugin.deepspeed_config)
            cfg.pop("optimizer", None), cfg.pop("scheduler", None)
            engine, *_ = deepspeed.initialize(model=ref, config=cfg)
            engine.eval()  # DeepSpeedEngine.eval() does not return the engine
            return engine
        ref = add_logp_head(self._load_reference(model.dtype))
        return self.accelerator.prepare_model(ref, evaluation_mode=True)

    def _reference_logps(self, inputs, n_steps: int, model=None):
        if "ref_logps" in inputs:
            return inputs["ref_logps"], inputs["ref_step_logps"], inputs["ref_kl_logps"]
        ref, adapters_off = self.ref_model, contextlib.nullcontext()
        if self.lora:  # the policy itself (DDP/DeepSpeed wrapper included) with its adapters switched off
            ref, adapters_off = model, self.accelerator.unwrap_model(model).disable_adapter()
        with torch.no_grad(), adapters_off:
            per_token = token_logps(ref, inputs["input_ids"], inputs["attention_mask"], inputs["completion_mask"])
            kl_tok = token_logps(ref, inputs["kl_input_ids"], inputs["kl_attention_mask"],
                                 inputs["kl_completion_mask"])
        return (sequence_logps(per_token, inputs["completion_mask"]),
                step_logps(per_token, inputs["token_step"], n_steps),
                sequence_logps(kl_tok, inputs["kl_completion_mask"]))

    # -- loss -------------------------------------------------------------------------------------
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        args = self.args
        n_steps = inputs["step_targets"].shape[1]
        with torch.no_grad():  # z is detached: no graph for the mismatched pairs
            kl_policy = sequence_logps(token_logps(model, inputs["kl_input_ids"], inputs["kl_attention_mask"],
                                                   inputs["kl_completion_mask"]), inputs["kl_completion_mask"])
        per_token = token_logps(model, inputs["input_ids"], inputs["attention_mask"], inputs["completion_mask"])
        policy = sequence_logps(per_token, inputs["completion_mask"])
        policy_steps = step_logps(per_token, inputs["token_step"], n_steps)  # [B, H]
        ref, ref_steps, ref_kl = self._reference_logps(inputs, n_steps, model)
        kl, kl_tok = reference_point(kl_policy - ref_kl, inputs["kl_completion_mask"].sum(-1),
                                     inputs["kl_valid"], _all_reduce_sum)
        step_tokens = inputs["step_tokens"]
        if args.step_logratio == "prefix":
            policy_steps, ref_steps = policy_steps.cumsum(-1), ref_steps.cumsum(-1)
            step_tokens = step_tokens.cumsum(-1)
        targets = inputs["step_targets"]
        out = step_kto_loss(
            policy, ref, inputs["labels"], kl, kl_tok, policy_step_logps=policy_steps, ref_step_logps=ref_steps,
            step_labels=targets.clamp(min=0).float(), step_mask=(targets >= 0).float(), step_tokens=step_tokens,
            outcome_mask=inputs["outcome_valid"], alpha=args.alpha, beta=args.beta,
            desirable_weight=args.desirable_weight, undesirable_weight=args.undesirable_weight)
        self._record(out, inputs, policy.detach() - ref)
        loss = out.losses.mean()
        return (loss, {"rewards": out.rewards}) if return_outputs else loss

    def _record(self, out, inputs, logratio: torch.Tensor) -> None:
        """TRL-style metrics, summed and counted across processes before dividing."""
        labels, valid = inputs["labels"], inputs["outcome_valid"]
        des, und = (labels > 0.5).float() * valid, (labels < 0.5).float() * valid
        margin = logratio - out.kl  # > 0: the implied reward is above the reference point
        sums = torch.stack([
            (out.rewards * des).sum(), des.sum(), (out.rewards * und).sum(), und.sum(),
            ((margin > 0).float() * des).sum(), ((margin < 0).float() * und).sum(),
            out.outcome_losses.detach().sum(), out.step_losses.detach().sum(), labels.new_tensor(float(len(labels))),
        ]).float()
        sums = _all_reduce_sum(sums.to(out.kl.device))
        s = sums.tolist()
        mode = "train" if self.model.training else "eval"
        m = self._metrics
        if s[1] > 0:
            m[f"{mode}/rewards/chosen"].append(s[0] / s[1])
            m[f"{mode}/accuracy/desirable"].append(s[4] / s[1])
        if s[3] > 0:
            m[f"{mode}/rewards/rejected"].append(s[2] / s[3])
            m[f"{mode}/accuracy/undesirable"].append(s[5] / s[3])
        if s[1] > 0 and s[3] > 0:
            m[f"{mode}/rewards/margins"].append(s[0] / s[1] - s[2] / s[3])
        m[f"{mode}/kl"].append(float(out.kl))
        m[f"{mode}/loss/outcome"].append(s[6] / s[8])
        m[f"{mode}/loss/step"].append(s[7] / s[8])

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        mode = "eval" if any(k.startswith("eval_") for k in logs) else "train"
        prefix = "eval_" if mode == "eval" else ""
        for key, values in list(self._metrics.items()):
            if key.startswith(mode + "/") and values:
                logs[prefix + key.split("/", 1)[1]] = sum(values) / len(values)
                del self._metrics[key]
        super().log(logs, start_time)

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad():
            loss = self.compute_loss(model, inputs)
        return loss.detach(), None, None
