"""The memory-lean log-prob head must give the plain forward's log-probs and gradients."""
from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM

from stepkto_train import logps
from stepkto_train.logps import add_logp_head, sequence_logps, step_logps, token_logps


@pytest.mark.parametrize("chunk", [3, 1024])  # several LM-head chunks, and one
def test_lean_head_matches_plain_forward(tiny_model_dir, monkeypatch, chunk):
    monkeypatch.setattr(logps, "CHUNK", chunk)
    plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float64)
    lean = add_logp_head(AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float64))
    ids = torch.randint(5, 300, (3, 12), generator=torch.Generator().manual_seed(0))
    att = torch.ones_like(ids)
    att[1, 9:] = 0
    wanted = torch.zeros_like(ids)
    wanted[:, 4:] = 1
    wanted = wanted * att
    a = token_logps(plain, ids, att) * wanted
    b = token_logps(lean, ids, att, wanted)
    assert torch.allclose(a, b, atol=1e-10) and torch.all(b[wanted == 0] == 0)
    a.sum().backward()
    b.sum().backward()
    for pa, pb in zip(plain.parameters(), lean.parameters(), strict=True):
        assert torch.allclose(pa.grad, pb.grad, atol=1e-9)


def test_plain_generation_forward_is_untouched(tiny_model_dir):
    model = add_logp_head(AutoModelForCausalLM.from_pretrained(tiny_model_dir))
    ids = torch.tensor([[5, 6, 7]])
    assert model(input_ids=ids).logits.shape == (1, 3, model.config.vocab_size)


def test_sequence_and_step_sums():
    per_token = torch.tensor([[0.0, -1.0, -2.0, -3.0, -4.0]])
    assert sequence_logps(per_token, torch.tensor([[0, 0, 1, 1, 1]])).item() == -9.0
    steps = step_logps(per_token, torch.tensor([[-1, -1, 0, 1, 1]]), 3)
    assert steps.tolist() == [[-2.0, -7.0, 0.0]]


def test_step_sums_without_steps():
    # a batch whose rows have no steps (empty completions) has H = 0: an empty [B, 0], not an index error
    per_token = torch.tensor([[0.0, -1.0, -2.0], [0.0, -3.0, 0.0]])
    assert step_logps(per_token, torch.full((2, 3), -1), 0).shape == (2, 0)
