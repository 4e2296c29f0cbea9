"""α = 0 must reproduce TRL's KTOTrainer: same loss, rewards and KL on the same model, data and batch.

The models are loaded in float64: TRL scores tokens with a chunked fused LM head, we with our own head, and in
float32 two summation orders over ~80 tokens of log-prob ≈ −300 already differ by ~3e-5. In float64 the
measured gaps (loss ≤ 4e-7, KL ≤ 6e-6, rewards ≤ 3e-6; TRL's head keeps some float32 arithmetic) sit well
inside the 1e-5 tolerance, which therefore tests the loss formula, not the kernels.
"""
from __future__ import annotations

import pytest
import torch
from helpers.tiny_model import build_tiny_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from stepkto_train.data import load_labeled, render_prompt
from stepkto_train.trainer import StepKTOConfig, StepKTOTrainer

from .labeled_data import make_rows, write_jsonl

B = 4


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("parity")
    data = write_jsonl(make_rows(n_problems=4, per_problem=2, seed=3), root / "labeled.jsonl")
    return root, {seed: build_tiny_model(root / f"m{seed}", seed=seed) for seed in (0, 1, 2)}, data


def trl_batch_metrics(root, policy_dir, ref_dir, data, weights):
    trl = pytest.importorskip("trl")
    import datasets

    tok = AutoTokenizer.from_pretrained(policy_dir)
    rows = load_labeled(data)
    # TRL's plain-text format: the prompt already rendered by the chat template, the completion as text
    ds = datasets.Dataset.from_list([{"prompt": render_prompt(tok, r["prompt"]), "completion": r["completion"],
                                      "label": bool(r["outcome_label"])} for r in rows])
    args = trl.KTOConfig(output_dir=str(root / "trl"), per_device_train_batch_size=B, beta=0.1,
                         desirable_weight=weights[0], undesirable_weight=weights[1], use_cpu=True,
                         report_to="none", max_length=None, bf16=False)  # TRL defaults to bf16 autocast
    trainer = trl.KTOTrainer(model=AutoModelForCausalLM.from_pretrained(policy_dir, dtype=torch.float64),
                             ref_model=AutoModelForCausalLM.from_pretrained(ref_dir, dtype=torch.float64), args=args,
                             train_dataset=ds, processing_class=tok)
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.train()
    loss = trainer.compute_loss(trainer.model, batch)
    m = trainer._metrics["train"]
    ids = [list(map(int, r["prompt_ids"] + r["completion_ids"])) for r in trainer.train_dataset.select(range(B))]
    return float(loss.detach()), {k: m[k][-1] for k in ("kl", "rewards/chosen", "rewards/rejected")}, ids


def stepkto_batch_metrics(root, policy_dir, ref_dir, data, weights, reference):
    tok = AutoTokenizer.from_pretrained(policy_dir)
    args = StepKTOConfig(output_dir=str(root / f"ours_{reference}"), per_device_train_batch_size=B, alpha=0.0,
                         beta=0.1, desirable_weight=weights[0], undesirable_weight=weights[1], use_cpu=True,
                         report_to="none", kl_pairing="roll", reference=reference, ref_model=str(ref_dir),
                         ref_cache_dir=str(root / "refcache"))
    policy = AutoModelForCausalLM.from_pretrained(policy_dir, dtype=torch.float64)
    trainer = StepKTOTrainer(policy, args, load_labeled(data), tok)
    rows = [trainer.train_dataset[i] for i in range(B)]
    batch = trainer.data_collator(rows)
    trainer.model.train()
    loss = trainer.compute_loss(trainer.model, batch)
    m = trainer._metrics
    ids = [r["prompt_ids"] + r["completion_ids"] for r in rows]
    return float(loss), {k: m[f"train/{k}"][-1] for k in ("kl", "rewards/chosen", "rewards/rejected")}, ids


# (policy seed, reference seed): two different random models so the log-ratios are not zero; on this batch
# (0, 1) gives z > 0 and (1, 0) a negative mean log-ratio that both clamp to z = 0.
@pytest.mark.parametrize("seeds, z_positive", [((0, 1), True), ((1, 0), False)])
@pytest.mark.parametrize("reference", ["model", "precompute"])
@pytest.mark.parametrize("weights", [(1.0, 1.0), (1.33, 0.7)])
def test_alpha_zero_matches_trl_kto(models, seeds, z_positive, reference, weights):
    root, dirs, data = models
    setup = (root, dirs[seeds[0]], dirs[seeds[1]], data)
    theirs_loss, theirs, theirs_ids = trl_batch_metrics(*setup, weights)
    ours_loss, ours, ours_ids = stepkto_batch_metrics(*setup, weights, reference)
    assert (theirs["kl"] > 0) == z_positive
    assert ours_ids == theirs_ids  # same tokens, so the comparison is about the loss alone
    assert ours_loss == pytest.approx(theirs_loss, abs=1e-5)
    for key in theirs:
        assert ours[key] == pytest.approx(theirs[key], abs=1e-5), key
