"""The Step-KTO loss: KTO on the outcome label plus α times KTO on each judged step.

Sources: KTO (Ethayarajh et al., 2024, "KTO: Model Alignment as Prospect Theoretic Optimization", eq. 7-8)
and Step-KTO's notation (outcome label c^o, step labels c^s_h). The Step-KTO paper's exact equations were
not available to us; the step term below applies KTO's value function to each step, as described in
../shared/DESIGN.md ("Method notes"). Everything here works on log-probability tensors; the Trainer runs the
forwards and calls these functions.

Notation (all log-probs summed over the tokens they cover, policy θ minus reference):
    r     = log π_θ(y|x)     - log π_ref(y|x)            completion log-ratio          [B]
    r_h   = log π_θ(s_h|x,s_<h) - log π_ref(s_h|x,s_<h)  step-h log-ratio (or prefix r_≤h) [B, H]
    z     = max(0, mean_{pairs} r(x_i, y_j)), j ≠ i      KTO reference point (detached)
    z_h   = z_tok · n_h,  z_tok = max(0, Σ_pairs r(x_i, y_j) / Σ_pairs |y_j|)   step reference point
    v(r, c; z) = σ(β(r − z)) if c = 1 else σ(β(z − r))   KTO value
    L_out = λ_c (1 − v(r, c^o; z))
    L_step = mean over judged h of λ_{c_h} (1 − v(r_h, c^s_h; z_h))   (0 when no step is judged)
    L = L_out + α · L_step                                α = 0 gives plain KTO, bit for bit

Why z_h is per-token-scaled: z estimates KL(π_θ‖π_ref) of a whole completion; a step covers n_h of its
tokens, so its share of the drift is the per-token rate times n_h (our choice; the paper does not say).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

# When no mismatched pair exists (one example on one process, or a one-row dataset) z falls back to 0:
# that is the exact KL at the start of training, where the policy equals the reference.
FALLBACK_Z = 0.0


@dataclass
class StepKTOLossOutput:
    losses: Tensor  # [B] L = L_out + α·L_step, with grad
    outcome_losses: Tensor  # [B]
    step_losses: Tensor  # [B] mean over judged steps, 0 where none
    rewards: Tensor  # [B] β·r, detached
    step_rewards: Tensor  # [B, H] β·r_h, detached (0 where masked)
    kl: Tensor  # scalar z
    kl_per_token: Tensor  # scalar z_tok


def reference_point(kl_logratios: Tensor, kl_tokens: Tensor, valid: Tensor,
                    all_reduce_sum: Callable[[Tensor], Tensor] | None = None) -> tuple[Tensor, Tensor]:
    """z and z_tok from mismatched pairs: detached, summed (and counted) across processes, clamped at 0.

    kl_logratios [B]: r(x_i, y_j) for the row's mismatched pair; valid [B]: 1 where the row has a pair
    (j ≠ i guaranteed by the data); kl_tokens [B]: |y_j|. `all_reduce_sum` sums a tensor over processes
    (sum and count, then divide, so unequal per-process counts are weighted correctly).
    """
    valid = valid.to(kl_logratios.dtype)
    stats = torch.stack([(kl_logratios * valid).sum(), valid.sum(), (kl_tokens.to(valid.dtype) * valid).sum()])
    stats = stats.detach().float()
    if all_reduce_sum is not None:
        stats = all_reduce_sum(stats)
    if stats[1] == 0:
        fallback = torch.tensor(FALLBACK_Z, device=stats.device)
        return fallback, fallback
    return (stats[0] / stats[1]).clamp(min=0), (stats[0] / stats[2]).clamp(min=0)


def kto_value_loss(logratio: Tensor, labels: Tensor, z: Tensor, beta: float,
                   desirable_weight: float, undesirable_weight: float) -> Tensor:
    """λ_c (1 − σ(β·s·(r − z))) with s = +1 for c = 1 and −1 for c = 0 (KTO eq. 7), elementwise."""
    desirable = labels > 0.5
    sign = torch.where(desirable, 1.0, -1.0).to(logratio.dtype)
    weight = torch.where(desirable, desirable_weight, undesirable_weight).to(logratio.dtype)
    return weight * (1 - F.sigmoid(beta * sign * (logratio - z)))


def step_kto_loss(policy_logps: Tensor, ref_logps: Tensor, labels: Tensor, kl: Tensor, kl_per_token: Tensor, *,
                  policy_step_logps: Tensor | None = None, ref_step_logps: Tensor | None = None,
                  step_labels: Tensor | None = None, step_mask: Tensor | None = None,
                  step_tokens: Tensor | None = None, outcome_mask: Tensor | None = None,
                  alpha: float = 0.0, beta: float = 0.1,
                  desirable_weight: float = 1.0, undesirable_weight: float = 1.0) -> StepKTOLossOutput:
    """Per-example Step-KTO losses (equations in the module docstring).

    policy_logps, ref_logps, labels: [B]; kl, kl_per_token: scalars from `reference_point`.
    policy_step_logps, ref_step_logps, step_labels, step_mask, step_tokens: [B, H] (per-step or prefix
    log-probs; step_mask 1 for judged steps). They are needed only when alpha != 0.
    outcome_mask [B]: 0 for a completion cut to fit max_length (its outcome label is not trained).
    """
    logratio = policy_logps - ref_logps  # [B]
    outcome = kto_value_loss(logratio, labels, kl, beta, desirable_weight, undesirable_weight)
    if outcome_mask is not None:
        outcome = torch.where(outcome_mask > 0, outcome, torch.zeros_like(outcome))
    step = torch.zeros_like(outcome)
    step_rewards = torch.zeros(outcome.shape[0], 0, dtype=outcome.dtype, device=outcome.device)
    if alpha != 0.0:
        step_logratio = policy_step_logps - ref_step_logps  # [B, H]
        step_z = kl_per_token * step_tokens.to(step_logratio.dtype)  # [B, H]
        mask = step_mask.to(step_logratio.dtype)
        per_step = kto_value_loss(step_logratio, step_labels, step_z, beta, desirable_weight, undesirable_weight)
        # where() rather than multiply: a masked step with an inf/nan log-ratio must not poison the sum
        per_step = torch.where(mask > 0, per_step, torch.zeros_like(per_step))
        step = per_step.sum(-1) / mask.sum(-1).clamp(min=1)  # [B]
        step_rewards = (beta * step_logratio * mask).detach()
    return StepKTOLossOutput(
        losses=outcome + alpha * step, outcome_losses=outcome, step_losses=step,
        rewards=(beta * logratio).detach(), step_rewards=step_rewards, kl=kl, kl_per_token=kl_per_token,
    )
