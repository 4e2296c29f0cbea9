"""Log-probabilities of token sequences under a causal LM, per token, per completion and per step."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def token_logps(model, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    """log p(token_t | tokens_<t) at each position t, [B, T] (position 0 has no context: 0).

    The log-softmax runs row by row, in fp32 for half-precision models, so a large vocabulary never needs a
    [B, T, V] fp32 copy.
    """
    logits = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits  # [B, T, V]
    rows = []
    for row_logits, row_ids in zip(logits[:, :-1], input_ids[:, 1:], strict=True):  # [T-1, V], [T-1]
        if row_logits.dtype in (torch.float16, torch.bfloat16):
            row_logits = row_logits.float()
        picked = row_logits.gather(-1, row_ids.unsqueeze(-1)).squeeze(-1)
        rows.append(picked - torch.logsumexp(row_logits, dim=-1))
    return F.pad(torch.stack(rows), (1, 0))  # [B, T]


def sequence_logps(per_token: Tensor, completion_mask: Tensor) -> Tensor:
    """Σ over completion tokens, [B]."""
    return (per_token * completion_mask).sum(-1)


def step_logps(per_token: Tensor, token_step: Tensor, n_steps: int) -> Tensor:
    """Σ over the tokens of each step, [B, H]; token_step [B, T] holds the step index or -1."""
    owned = token_step >= 0
    out = torch.zeros(per_token.shape[0], n_steps, dtype=per_token.dtype, device=per_token.device)
    return out.scatter_add(1, token_step.clamp(min=0), per_token * owned)
