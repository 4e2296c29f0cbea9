"""Log-probabilities of token sequences under a causal LM, per token, per completion and per step.

Memory: a plain forward materialises logits [B, T, V] (and their gradient) — with V = 128k and T = 4k that is
gigabytes per sequence. `add_logp_head` gives the model a second forward mode that runs the backbone, then
scores only the requested positions through the LM head in chunks under activation checkpointing, so only
[N, hidden] activations are kept and each chunk's logits are rebuilt during backward. The mode is selected
by a keyword of the model's own forward, so DDP and DeepSpeed wrappers (which call `module.forward`) keep
their gradient hooks. Models without a separate backbone/head fall back to the plain forward.
"""
from __future__ import annotations

import types

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

CHUNK = 1024  # positions scored per LM-head call


def _chunk_logps(head: torch.nn.Module, hidden: Tensor, targets: Tensor) -> Tensor:
    logits = head(hidden)  # [n, V]
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()
    return logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)


def add_logp_head(model: torch.nn.Module) -> torch.nn.Module:
    """Patch `model.forward` to accept `logp_mask` ([B, T], 1 where log p(token_t | <t) is wanted) and then
    return per-token log-probs [B, T] instead of a ModelOutput. Idempotent; returns the model."""
    if getattr(model, "_stepkto_logp_head", False) or model.get_output_embeddings() is None:
        return model
    original = model.forward

    def forward(self, *args, logp_mask: Tensor | None = None, **kwargs):
        if logp_mask is None:
            return original(*args, **kwargs)
        input_ids = kwargs["input_ids"]
        hidden = self.get_decoder()(*args, **kwargs).last_hidden_state  # [B, T, H]
        select = logp_mask[:, 1:].bool()  # position t-1 predicts token t
        states, targets = hidden[:, :-1][select], input_ids[:, 1:][select]  # [N, H], [N]
        head = self.get_output_embeddings()
        parts = [checkpoint(_chunk_logps, head, states[i:i + CHUNK], targets[i:i + CHUNK], use_reentrant=False)
                 if torch.is_grad_enabled() else _chunk_logps(head, states[i:i + CHUNK], targets[i:i + CHUNK])
                 for i in range(0, states.shape[0], CHUNK)]
        flat = torch.cat(parts) if parts else hidden.new_zeros(0, dtype=torch.float32)
        per_token = torch.zeros(select.shape, dtype=flat.dtype, device=flat.device).masked_scatter(select, flat)
        return F.pad(per_token, (1, 0))  # [B, T]

    model.forward = types.MethodType(forward, model)
    model._stepkto_logp_head = True
    return model


def _plain_token_logps(model, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    logits = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits  # [B, T, V]
    rows = []
    for row_logits, row_ids in zip(logits[:, :-1], input_ids[:, 1:], strict=True):  # [T-1, V], [T-1]
        rows.append(_chunk_logps(lambda x: x, row_logits, row_ids))
    return F.pad(torch.stack(rows), (1, 0))  # [B, T]


def token_logps(model, input_ids: Tensor, attention_mask: Tensor, logp_mask: Tensor | None = None) -> Tensor:
    """log p(token_t | tokens_<t) at each position t, [B, T]; 0 at position 0 and (with the lean head) wherever
    `logp_mask` is 0 (default: every attended position)."""
    inner = getattr(model, "module", model)  # DDP / DeepSpeed engine
    if getattr(inner, "_stepkto_logp_head", False):
        mask = attention_mask if logp_mask is None else logp_mask
        return model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False, logp_mask=mask)
    return _plain_token_logps(model, input_ids, attention_mask)


def sequence_logps(per_token: Tensor, completion_mask: Tensor) -> Tensor:
    """Σ over completion tokens, [B]."""
    return (per_token * completion_mask).sum(-1)


def step_logps(per_token: Tensor, token_step: Tensor, n_steps: int) -> Tensor:
    """Σ over the tokens of each step, [B, H]; token_step [B, T] holds the step index or -1.

    H = 0 (every row of the batch without steps: an empty or whitespace completion) gives [B, 0]; such rows
    train on the outcome term alone."""
    out = torch.zeros(per_token.shape[0], n_steps, dtype=per_token.dtype, device=per_token.device)
    if n_steps == 0:  # nothing to scatter into (index 0 would be out of bounds)
        return out
    owned = token_step >= 0
    return out.scatter_add(1, token_step.clamp(min=0), per_token * owned)
