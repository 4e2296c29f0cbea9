"""M0 of the replica: SmolLM2-135M-Instruct after a short supervised warm-up on synthetic worked solutions.

The paper's M0 is an instruction-tuned model that already writes step-by-step solutions; SmolLM2-135M
restates the story instead of computing (issue 12), so nothing could improve. A few minutes of plain
supervised fine-tuning (transformers `Trainer`) on the generator's `warmup` split — worked solutions whose
steps are arithmetic claims, disjoint by text from every evaluated problem — teaches the format; the
number of steps is the knob that puts M0's accuracy in the middle (chosen on the validation split).

The prompt is rendered exactly as the eval backends render it (the task's instruction as the system turn,
the problem as the user turn, the tokenizer's chat template with the generation prompt), and the loss covers the solution tokens
and the closing EOS only.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from problems import INSTRUCTION


@dataclass
class WarmupConfig:
    base_model: str
    data: Path  # warmup.jsonl
    output_dir: Path
    max_steps: int = 60
    batch_size: int = 16
    learning_rate: float = 2e-4
    seed: int = 0


def _encode(tokenizer, problem: str, solution: str) -> dict:
    # Same rendering as stepkto_eval.prompts.build_messages (placement: system) + backends/hf.py render().
    messages = [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": problem}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    c_ids = tokenizer(solution, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return {"input_ids": p_ids + c_ids, "labels": [-100] * len(p_ids) + c_ids}


def warm_up(cfg: WarmupConfig) -> Path:
    """Fine-tune `base_model` on the warm-up solutions; writes and returns `output_dir` (skipped if done)."""
    done = cfg.output_dir / "warmup.json"
    if done.is_file():
        return cfg.output_dir
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

    torch.manual_seed(cfg.seed)
    tokenizer = AutoTokenizer.from_pretrained(cfg.base_model)
    model = AutoModelForCausalLM.from_pretrained(cfg.base_model, dtype=torch.float32)
    rows = [json.loads(line) for line in cfg.data.read_text().splitlines() if line.strip()]
    random.Random(cfg.seed).shuffle(rows)
    encoded = [_encode(tokenizer, r["problem"], r["solution"]) for r in rows]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def collate(batch: list[dict]) -> dict:
        width = max(len(b["input_ids"]) for b in batch)
        ids = [b["input_ids"] + [pad] * (width - len(b["input_ids"])) for b in batch]
        labels = [b["labels"] + [-100] * (width - len(b["labels"])) for b in batch]
        mask = [[1] * len(b["input_ids"]) + [0] * (width - len(b["input_ids"])) for b in batch]
        return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}

    args = TrainingArguments(
        output_dir=str(cfg.output_dir / "trainer"), max_steps=cfg.max_steps, per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate, lr_scheduler_type="cosine", warmup_steps=max(1, cfg.max_steps // 10),
        weight_decay=0.0, logging_steps=10, save_strategy="no", report_to="none", use_cpu=True, seed=cfg.seed,
        remove_unused_columns=False, dataloader_drop_last=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=encoded, data_collator=collate)
    result = trainer.train()
    cfg.output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(cfg.output_dir)
    tokenizer.save_pretrained(cfg.output_dir)
    # the base folder's generation config (EOS/pad ids) travels with the warmed-up model
    gen = Path(cfg.base_model) / "generation_config.json"
    if gen.is_file():
        (cfg.output_dir / "generation_config.json").write_text(gen.read_text())
    done.write_text(json.dumps({"base_model": cfg.base_model, "max_steps": cfg.max_steps, "batch_size": cfg.batch_size,
                                "learning_rate": cfg.learning_rate, "rows": len(encoded),
                                "train_loss": result.training_loss}, indent=1))
    return cfg.output_dir
