"""Step-KTO loss: hand-worked values, α = 0 is KTO, where gradients flow, masked steps, the reference point."""
from __future__ import annotations

import math

import pytest
import torch

from stepkto_train.loss import FALLBACK_Z, kto_value_loss, reference_point, step_kto_loss


def sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def t(*rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


# Two completions: r = policy − ref = [0.5, −1.0]; labels [1, 0]; z = 0.2; β = 0.5; λ_D = 1, λ_U = 2.
# Steps (H = 2): r_h = [[0.2, 0.0], [−0.2, 0.4]], labels [[1, 0], [0, 1]], mask [[1, 1], [1, 0]],
# tokens [[2, 3], [1, 4]], z_tok = 0.1 → z_h = [[0.2, 0.3], [0.1, 0.4]].
CASE = dict(policy_logps=t(-1.0, -2.0), ref_logps=t(-1.5, -1.0), labels=t(1, 0), kl=torch.tensor(0.2, dtype=torch.float64),
            kl_per_token=torch.tensor(0.1, dtype=torch.float64), policy_step_logps=t([-0.2, -0.3], [-0.4, -0.1]),
            ref_step_logps=t([-0.4, -0.3], [-0.2, -0.5]), step_labels=t([1, 0], [0, 1]),
            step_mask=t([1, 1], [1, 0]), step_tokens=t([2, 3], [1, 4]), beta=0.5, desirable_weight=1.0,
            undesirable_weight=2.0)
OUT0 = 1 - sig(0.5 * (0.5 - 0.2))  # desirable: 1 − σ(β(r − z)) = 0.46257
OUT1 = 2 * (1 - sig(0.5 * (0.2 + 1.0)))  # undesirable: λ_U(1 − σ(β(z − r))) = 0.70869
STEP0 = (1 * (1 - sig(0.5 * (0.2 - 0.2))) + 2 * (1 - sig(0.5 * (0.3 - 0.0)))) / 2  # mean of two judged steps
STEP1 = 2 * (1 - sig(0.5 * (0.1 + 0.2)))  # one judged step; the masked step 2 is ignored


# -- hand-worked values -------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_hand_computed_losses(alpha):
    out = step_kto_loss(**CASE, alpha=alpha)
    assert out.outcome_losses.tolist() == pytest.approx([OUT0, OUT1], abs=1e-12)
    assert out.losses.tolist() == pytest.approx([OUT0 + alpha * STEP0, OUT1 + alpha * STEP1], abs=1e-12)
    assert out.rewards.tolist() == pytest.approx([0.25, -0.5])
    assert [OUT0, OUT1, STEP0, STEP1] == pytest.approx([0.462570, 0.708687, 0.712570, 0.925140], abs=1e-6)


def test_step_rewards_are_beta_times_step_logratio_on_judged_steps():
    out = step_kto_loss(**CASE, alpha=1.0)
    assert out.step_rewards.flatten().tolist() == pytest.approx([0.1, 0.0, -0.1, 0.0])


# -- α = 0 is KTO ------------------------------------------------------------------------------------
def kto_reference(policy, ref, labels, z, beta, wd, wu):
    """KTO eq. 7 written independently: chosen 1 − σ(β(r − z)), rejected 1 − σ(β(z − r))."""
    r = policy - ref
    return torch.where(labels > 0.5, wd * (1 - torch.sigmoid(beta * (r - z))), wu * (1 - torch.sigmoid(beta * (z - r))))


@pytest.mark.parametrize("seed", range(5))
def test_alpha_zero_is_exactly_kto(seed):
    g = torch.Generator().manual_seed(seed)
    b, h = 7, 5
    case = dict(CASE, policy_logps=torch.randn(b, generator=g) * 10, ref_logps=torch.randn(b, generator=g) * 10,
                labels=(torch.rand(b, generator=g) > 0.5).float(), kl=torch.rand((), generator=g),
                policy_step_logps=torch.randn(b, h, generator=g), ref_step_logps=torch.randn(b, h, generator=g),
                step_labels=(torch.rand(b, h, generator=g) > 0.5).float(), step_mask=torch.ones(b, h),
                step_tokens=torch.ones(b, h))
    out = step_kto_loss(**case, alpha=0.0)
    expected = kto_reference(case["policy_logps"], case["ref_logps"], case["labels"], case["kl"], 0.5, 1.0, 2.0)
    assert torch.equal(out.losses, expected)
    assert torch.equal(out.losses, out.outcome_losses)


# -- gradients ----------------------------------------------------------------------------------------
def test_gradient_reaches_policy_only_and_z_is_detached():
    policy = CASE["policy_logps"].clone().requires_grad_()
    policy_steps = CASE["policy_step_logps"].clone().requires_grad_()
    kl_policy = t(-1.0, -3.0).requires_grad_()  # policy log-probs of the mismatched pairs
    kl, kl_tok = reference_point(kl_policy - t(-1.4, -3.2), t(4, 6), t(1, 1))
    assert not kl.requires_grad and not kl_tok.requires_grad
    assert kl.item() == pytest.approx(0.3) and kl_tok.item() == pytest.approx(0.06)
    out = step_kto_loss(**dict(CASE, policy_logps=policy, policy_step_logps=policy_steps, kl=kl,
                               kl_per_token=kl_tok), alpha=1.0)
    out.losses.sum().backward()
    assert kl_policy.grad is None  # nothing flows back through z
    assert policy.grad is not None and torch.all(policy.grad != 0)
    assert policy_steps.grad[1, 1] == 0  # masked step
    assert torch.all(policy_steps.grad[0] != 0) and policy_steps.grad[1, 0] != 0
    # desirable: raising log π increases the value → negative gradient; undesirable: positive
    assert policy.grad[0] < 0 < policy.grad[1]


def test_alpha_zero_gives_no_step_gradient():
    policy_steps = CASE["policy_step_logps"].clone().requires_grad_()
    policy = CASE["policy_logps"].clone().requires_grad_()
    out = step_kto_loss(**dict(CASE, policy_logps=policy, policy_step_logps=policy_steps), alpha=0.0)
    out.losses.sum().backward()
    assert policy_steps.grad is None


# -- masks --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("masked_value", [-1e4, 0.0, 123.0])
def test_masked_steps_contribute_nothing(masked_value):
    base = step_kto_loss(**CASE, alpha=1.0)
    changed = CASE["policy_step_logps"].clone()
    changed[1, 1] = masked_value
    out = step_kto_loss(**dict(CASE, policy_step_logps=changed), alpha=1.0)
    assert torch.equal(out.losses, base.losses)


def test_example_without_judged_steps_has_zero_step_loss():
    out = step_kto_loss(**dict(CASE, step_mask=t([0, 0], [1, 0])), alpha=1.0)
    assert out.step_losses[0] == 0 and out.losses[0] == pytest.approx(OUT0)


def test_outcome_mask_drops_the_outcome_term_of_a_cut_completion():
    out = step_kto_loss(**CASE, outcome_mask=t(1, 0), alpha=1.0)
    assert out.losses.tolist() == pytest.approx([OUT0 + STEP0, STEP1])


# -- reference point ---------------------------------------------------------------------------------
@pytest.mark.parametrize("ratios, tokens, valid, z, z_tok", [
    ((0.3, -0.1, 5.0), (3, 1, 10), (1, 1, 0), 0.1, 0.05),  # invalid row (no partner) ignored
    ((-0.3, -0.1), (3, 1), (1, 1), 0.0, 0.0),  # negative mean clamps at 0
    ((0.4,), (2,), (0,), FALLBACK_Z, FALLBACK_Z),  # no mismatched pair at all: documented fallback
])
def test_reference_point(ratios, tokens, valid, z, z_tok):
    kl, kl_tok = reference_point(t(*ratios), t(*tokens), t(*valid))
    assert (kl.item(), kl_tok.item()) == pytest.approx((z, z_tok))


def test_reference_point_reduces_sum_and_count_across_processes():
    # another process holding 3 pairs with log-ratio sum 0.9 over 9 tokens; a mean of means would give
    # (0.1 + 0.3) / 2 = 0.2, the pooled mean is (0.2 + 0.9) / (2 + 3) = 0.22
    other = torch.tensor([0.9, 3.0, 9.0])
    kl, kl_tok = reference_point(t(0.3, -0.1), t(3, 1), t(1, 1), all_reduce_sum=lambda s: s + other)
    assert kl.item() == pytest.approx(0.22) and kl_tok.item() == pytest.approx(1.1 / 13)


def test_value_loss_is_bounded_by_its_weight():
    r = torch.linspace(-50, 50, 11)
    for label, weight in [(1.0, 1.5), (0.0, 0.7)]:
        loss = kto_value_loss(r, torch.full_like(r, label), torch.tensor(0.0), 0.1, 1.5, 0.7)
        assert torch.all((loss >= 0) & (loss <= weight))
