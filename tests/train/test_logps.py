"""The memory-lean log-prob head must give the plain forward's log-probs and gradients."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM
from transformers.modeling_outputs import CausalLMOutput

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


def _tiny(family: str):
    """A tiny random model of a family whose forward post-processes its logits (float64, seeded)."""
    import transformers as tf

    common = dict(vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, head_dim=8, pad_token_id=0, bos_token_id=1, eos_token_id=2)
    config = {
        "cohere": lambda: tf.CohereConfig(**common, logit_scale=3.0),  # logits × 3
        "granite": lambda: tf.GraniteConfig(**common, logits_scaling=0.25),  # logits ÷ 0.25
        "gemma2": lambda: tf.Gemma2Config(**common, final_logit_softcapping=0.5),  # 0.5 · tanh(logits / 0.5)
    }[family]()
    torch.manual_seed(0)
    model = tf.AutoModelForCausalLM.from_config(config, dtype=torch.float64, attn_implementation="eager")
    with torch.no_grad():  # random init gives tiny logits; scale the head so the post-processing matters
        model.get_output_embeddings().weight.mul_(30.0)
    return model


@pytest.mark.parametrize("family", ["cohere", "granite", "gemma2"])
def test_lean_head_applies_the_models_logit_postprocessing(family):
    plain, lean = _tiny(family), add_logp_head(_tiny(family))
    assert lean._stepkto_logp_head  # the lean head is used, not the fallback
    ids = torch.randint(3, 300, (2, 10), generator=torch.Generator().manual_seed(1))
    att = torch.ones_like(ids)
    want = torch.zeros_like(ids)
    want[:, 3:] = 1
    expected = token_logps(plain, ids, att) * want  # from the model's own logits
    got = token_logps(lean, ids, att, want)
    assert torch.allclose(expected, got, atol=1e-10)
    # the post-processing is not a no-op here: the raw head's log-probs are far off
    with torch.no_grad():
        raw = torch.log_softmax(plain.lm_head(plain.get_decoder()(input_ids=ids).last_hidden_state), -1)
    raw_tok = F.pad(raw[:, :-1].gather(-1, ids[:, 1:, None])[..., 0], (1, 0)) * want
    assert (raw_tok - expected).abs().max() > 1e-2
    expected.sum().backward()
    got.sum().backward()
    for pa, pb in zip(plain.parameters(), lean.parameters(), strict=True):
        if pa.grad is not None:
            assert torch.allclose(pa.grad, pb.grad, atol=1e-8)


def test_unrecognised_logit_postprocessing_keeps_the_models_own_head(tiny_model_dir):
    from transformers import LlamaForCausalLM

    class Shifted(LlamaForCausalLM):
        """A real Llama whose forward changes its logits after the head in a way the lean head does not know."""

        def forward(self, input_ids=None, attention_mask=None, **kwargs):
            outputs = self.model(input_ids=input_ids, attention_mask=attention_mask)
            hidden_states = outputs.last_hidden_state
            slice_indices = slice(0, None)
            logits = self.lm_head(hidden_states[:, slice_indices, :])
            logits = logits * torch.linspace(0.5, 2.0, logits.shape[-1], dtype=logits.dtype)
            return CausalLMOutput(logits=logits)

    model = add_logp_head(Shifted.from_pretrained(tiny_model_dir, dtype=torch.float64))
    assert not getattr(model, "_stepkto_logp_head", False)
    ids = torch.randint(5, 300, (1, 8), generator=torch.Generator().manual_seed(0))
    logits = model(input_ids=ids).logits
    expected = torch.log_softmax(logits[0, :-1], -1).gather(-1, ids[0, 1:, None])[:, 0]
    assert torch.allclose(token_logps(model, ids, torch.ones_like(ids))[0, 1:], expected, atol=1e-12)
