"""Log-probabilities of token sequences under a causal LM, per token, per completion and per step.

Memory: a plain forward materialises logits [B, T, V] (and their gradient) — with V = 128k and T = 4k that is
gigabytes per sequence. `add_logp_head` gives the model a second forward mode that runs the backbone, then
scores only the requested positions through the LM head in chunks under activation checkpointing, so only
[N, hidden] activations are kept and each chunk's logits are rebuilt during backward. The mode is selected
by a keyword of the model's own forward, so DDP and DeepSpeed wrappers (which call `module.forward`) keep
their gradient hooks. Logit post-processing of the model's own forward (Cohere's logit_scale, Granite's
logits_scaling, Gemma-2's final soft-capping) is replayed on each chunk; models without a separate
backbone/head, or whose forward post-processes logits in any other way, fall back to the plain forward.
"""
from __future__ import annotations

import inspect
import logging
import types
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

CHUNK = 1024  # positions scored per LM-head call
log = logging.getLogger(__name__)

# What a transformers *ForCausalLM.forward does between its backbone and its returned logits, read from the
# modeling files of transformers 5.x (llama, cohere, granite, gemma2, ...): the backbone's last hidden state,
# one LM-head call, then (for some families) a post-processing of the logits. The lean head replays exactly the
# post-processing lines it recognises; a forward with any other line there keeps the model's own head.
_HIDDEN_LINE = "hidden_states = outputs.last_hidden_state"
_HEAD_LINE = "logits = self.lm_head(hidden_states[:, slice_indices, :])"
_SLICE_PREFIX = "slice_indices = "
_SOFTCAP_IF = "if self.config.final_logit_softcapping is not None:"
_SOFTCAP_LINES = ("logits = logits / self.config.final_logit_softcapping", "logits = torch.tanh(logits)",
                  "logits = logits * self.config.final_logit_softcapping")
_SCALE_LINE = "logits = logits * self.logit_scale"  # Cohere, Cohere2: logits × logit_scale
_DIVIDE_LINE = "logits = logits / self.config.logits_scaling"  # Granite family: logits ÷ logits_scaling


def _code_lines(fn) -> list[str] | None:
    try:
        source = inspect.getsource(inspect.unwrap(fn))
    except (OSError, TypeError):
        return None
    return [line.split("#", 1)[0].strip() for line in source.splitlines()]


def logit_postprocess(model: torch.nn.Module) -> Callable[[Tensor], Tensor] | None:
    """The function the model's own forward applies to `lm_head(hidden)` (identity for Llama, Qwen, ...),
    or None when its forward does anything the lean head does not replay (then the model's own head is used).

    Recognised: Cohere's `logits * logit_scale`, Granite's `logits / logits_scaling`, Gemma-2/3's final
    soft-capping `cap · tanh(logits / cap)` (lines as written in transformers' modeling files)."""
    if callable(getattr(model, "get_base_model", None)):  # a PEFT wrapper: the causal LM inside it decides
        model = model.get_base_model()
    lines = _code_lines(type(model).forward)
    if lines is None or lines.count(_HEAD_LINE) != 1 or _HIDDEN_LINE not in lines:
        return None
    between = lines[lines.index(_HIDDEN_LINE) + 1:lines.index(_HEAD_LINE)]
    if any(line and not line.startswith(_SLICE_PREFIX) for line in between):
        return None  # the hidden state is changed before the head (e.g. a multiplier)
    after = []
    for line in lines[lines.index(_HEAD_LINE) + 1:]:
        if line.startswith(("loss", "if labels", "return")):
            break
        if line:
            after.append(line)
    ops: list[Callable[[Tensor], Tensor]] = []
    i = 0
    while i < len(after):
        if after[i] == _SCALE_LINE:
            scale = model.logit_scale
            ops.append(lambda x, s=scale: x * s)
            i += 1
        elif after[i] == _DIVIDE_LINE:
            ops.append(lambda x, d=model.config.logits_scaling: x / d)
            i += 1
        elif after[i] == _SOFTCAP_IF and tuple(after[i + 1:i + 4]) == _SOFTCAP_LINES:
            cap = model.config.final_logit_softcapping
            if cap is not None:
                ops.append(lambda x, c=cap: torch.tanh(x / c) * c)
            i += 4
        else:
            return None

    def apply(logits: Tensor) -> Tensor:
        for op in ops:
            logits = op(logits)
        return logits

    return apply


def _chunk_logps(head: torch.nn.Module, hidden: Tensor, targets: Tensor,
                 post: Callable[[Tensor], Tensor] | None = None) -> Tensor:
    logits = head(hidden)  # [n, V]
    if post is not None:  # in the head's dtype, as the model's own forward does
        logits = post(logits)
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()
    return logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)


def add_logp_head(model: torch.nn.Module) -> torch.nn.Module:
    """Patch `model.forward` to accept `logp_mask` ([B, T], 1 where log p(token_t | <t) is wanted) and then
    return per-token log-probs [B, T] instead of a ModelOutput. Idempotent; returns the model."""
    if getattr(model, "_stepkto_logp_head", False) or model.get_output_embeddings() is None:
        return model
    post = logit_postprocess(model)
    if post is None:
        log.warning("%s post-processes its logits in a way the lean log-prob head does not replay: using the "
                    "model's own forward ([B, T, V] logits, more memory)", type(model).__name__)
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
        parts = [checkpoint(_chunk_logps, head, states[i:i + CHUNK], targets[i:i + CHUNK], post,
                            use_reentrant=False)
                 if torch.is_grad_enabled() else _chunk_logps(head, states[i:i + CHUNK], targets[i:i + CHUNK], post)
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
