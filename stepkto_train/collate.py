"""Pad prepared rows (see data.prepare) into the tensors the trainer and the loss use."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


def _pad(seqs: list[list], value, dtype=torch.long) -> Tensor:
    width = max((len(s) for s in seqs), default=0)
    return torch.tensor([list(s) + [value] * (width - len(s)) for s in seqs], dtype=dtype)


@dataclass
class StepKTOCollator:
    """Right-padded batch: policy sequences (prompt + completion), the mismatched KL sequences
    (prompt_i + completion_partner(i)), step maps and, when attached, precomputed reference log-probs."""

    pad_token_id: int

    def __call__(self, rows: list[dict]) -> dict[str, Tensor]:
        seqs = [r["prompt_ids"] + r["completion_ids"] for r in rows]
        kl_seqs = [r["prompt_ids"] + r["kl_completion_ids"] for r in rows]
        batch = {
            "input_ids": _pad(seqs, self.pad_token_id),  # [B, T]
            "attention_mask": _pad([[1] * len(s) for s in seqs], 0),
            "completion_mask": _pad([[0] * len(r["prompt_ids"]) + [1] * len(r["completion_ids"]) for r in rows], 0),
            "token_step": _pad([[-1] * len(r["prompt_ids"]) + r["token_step"] for r in rows], -1),
            "kl_input_ids": _pad(kl_seqs, self.pad_token_id),  # [B, T']
            "kl_attention_mask": _pad([[1] * len(s) for s in kl_seqs], 0),
            "kl_completion_mask": _pad([[0] * len(r["prompt_ids"]) + [1] * len(r["kl_completion_ids"])
                                        for r in rows], 0),
            "kl_valid": torch.tensor([r["kl_valid"] for r in rows], dtype=torch.float32),
            "labels": torch.tensor([r["label"] for r in rows], dtype=torch.float32),
            "outcome_valid": torch.tensor([r["outcome_valid"] for r in rows], dtype=torch.float32),
            "step_targets": _pad([r["step_targets"] for r in rows], -1),  # [B, H], -1 = masked
            "step_tokens": _pad([r["step_tokens"] for r in rows], 0),
        }
        if "ref_logp" in rows[0]:
            batch["ref_logps"] = torch.tensor([r["ref_logp"] for r in rows], dtype=torch.float32)
            batch["ref_step_logps"] = _pad([r["ref_step_logps"] for r in rows], 0.0, torch.float32)
            batch["ref_kl_logps"] = torch.tensor([r["ref_kl_logp"] for r in rows], dtype=torch.float32)
        return batch
