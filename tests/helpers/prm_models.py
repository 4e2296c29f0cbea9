"""Tiny random PRMs of both families, built in-process (seconds, offline) as from_pretrained folders.

* qwen-prm: a tiny Llama with a 2-label token-classification head and the `<extra_0>` separator token;
* step-tag: a tiny causal LM whose tokenizer has the `ки` tag as one token (good/bad are `+` and `-`).
Their scores are meaningless; tests use them for plumbing.
"""
from __future__ import annotations

from pathlib import Path

from helpers.tiny_model import build_tiny_model

SEP, TAG = "<extra_0>", "ки"


def build_qwen_prm(folder: str | Path) -> Path:
    """Tiny Llama with a 2-label token-classification head and a separator special token."""
    from transformers import AutoConfig, LlamaForTokenClassification

    folder = build_tiny_model(folder, extra_special_tokens=[SEP])
    config = AutoConfig.from_pretrained(folder)
    config.num_labels = 2
    config.architectures = ["LlamaForTokenClassification"]
    LlamaForTokenClassification(config).save_pretrained(folder)
    return folder


def build_step_tag(folder: str | Path) -> Path:
    """Tiny causal LM whose tokenizer has the step tag as one token (good/bad are '+' and '-')."""
    return build_tiny_model(folder, extra_special_tokens=[TAG])
