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


# -- float32: gradients and a short train() ------------------------------------------------------------
# In float32 the two implementations sum log-probs in different orders (TRL's fused head, our chunked head), so
# they agree to float32 noise, not bit for bit; the tolerances below are a few times the measured gaps.
# Both read the data in order (train_sampling_strategy="sequential"): the random order would depend on how much
# of the global RNG each trainer used before building its dataloader, which is not what is compared here.
def trl_trainer(root, policy_dir, ref_dir, data, **overrides):
    trl = pytest.importorskip("trl")
    import datasets

    tok = AutoTokenizer.from_pretrained(policy_dir)
    ds = datasets.Dataset.from_list([{"prompt": render_prompt(tok, r["prompt"]), "completion": r["completion"],
                                      "label": bool(r["outcome_label"])} for r in load_labeled(data)])
    args = trl.KTOConfig(**{**dict(output_dir=str(root / "trl32"), per_device_train_batch_size=B, beta=0.1,
                                   use_cpu=True, report_to="none", max_length=None, bf16=False, seed=0,
                                   disable_tqdm=True, train_sampling_strategy="sequential"), **overrides})
    return trl.KTOTrainer(model=AutoModelForCausalLM.from_pretrained(policy_dir, dtype=torch.float32),
                          ref_model=AutoModelForCausalLM.from_pretrained(ref_dir, dtype=torch.float32), args=args,
                          train_dataset=ds, processing_class=tok)


def our_trainer(root, policy_dir, ref_dir, data, reference, **overrides):
    tok = AutoTokenizer.from_pretrained(policy_dir)
    args = StepKTOConfig(**{**dict(output_dir=str(root / f"ours32_{reference}"), per_device_train_batch_size=B,
                                   alpha=0.0, beta=0.1, use_cpu=True, report_to="none", kl_pairing="roll",
                                   reference=reference, ref_model=str(ref_dir), seed=0, disable_tqdm=True,
                                   train_sampling_strategy="sequential", ref_cache_dir=str(root / "refcache32")),
                            **overrides})
    policy = AutoModelForCausalLM.from_pretrained(policy_dir, dtype=torch.float32)
    return StepKTOTrainer(policy, args, load_labeled(data), tok)


def first_batch_grads(trainer) -> tuple[float, dict[str, torch.Tensor]]:
    batch = trainer._prepare_inputs(next(iter(trainer.get_train_dataloader())))
    trainer.model.train()
    loss = trainer.compute_loss(trainer.model, batch)
    loss.backward()
    return float(loss.detach()), {n: p.grad.clone() for n, p in trainer.model.named_parameters()}


@pytest.mark.parametrize("reference", ["model", "precompute"])
def test_alpha_zero_gradients_match_trl_kto_in_float32(models, reference):
    root, dirs, data = models
    theirs_loss, theirs = first_batch_grads(trl_trainer(root, dirs[0], dirs[1], data))
    ours_loss, ours = first_batch_grads(our_trainer(root, dirs[0], dirs[1], data, reference))
    assert ours_loss == pytest.approx(theirs_loss, abs=1e-5)
    assert ours.keys() == theirs.keys()
    scale = max(g.abs().max().item() for g in theirs.values())
    assert scale > 0
    for name, g in theirs.items():
        assert torch.allclose(ours[name], g, atol=1e-4 * scale, rtol=1e-3), name


@pytest.mark.parametrize("reference", ["model", "precompute"])
def test_alpha_zero_short_training_matches_trl_kto_in_float32(models, reference):
    root, dirs, data = models
    common = dict(max_steps=3, learning_rate=1e-3, logging_steps=1, save_strategy="no")
    theirs = trl_trainer(root, dirs[0], dirs[1], data, **common)
    theirs.train()
    ours = our_trainer(root, dirs[0], dirs[1], data, reference, **common)
    ours.train()

    def logged(trainer, key):
        return [h[key] for h in trainer.state.log_history if key in h]

    assert len(logged(ours, "loss")) == 3
    assert logged(ours, "loss") == pytest.approx(logged(theirs, "loss"), abs=1e-4)
    assert logged(ours, "kl") == pytest.approx(logged(theirs, "kl"), abs=1e-3)
    # Adam divides by √v, so an element whose gradient is ~0 turns float32 noise into a visible update: the
    # largest elementwise gap (measured 1.8e-5) is bounded relative to how far the weights moved (≈ 2e-3 after
    # three steps of lr 1e-3), and the mean gap (measured ≤ 5e-9) must be tiny.
    start = AutoModelForCausalLM.from_pretrained(dirs[0], dtype=torch.float32)
    for (name, a), b, s in zip(ours.model.named_parameters(), theirs.model.parameters(), start.parameters(),
                               strict=True):
        moved = (b - s).abs()
        assert moved.mean() > 1e-4, name  # the three steps did move the weights
        gap = (a - b).abs()
        assert gap.max() < 0.05 * moved.max() and gap.mean() < 1e-4 * moved.mean(), name


def lora(init_random: bool):
    from peft import LoraConfig

    # init_lora_weights=False: B is random too, so the adapted policy differs from the reference (the base
    # model) at the first step and the comparison covers non-zero rewards, not only the trivial σ(0) loss.
    return LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj", "down_proj"],
                      task_type="CAUSAL_LM", init_lora_weights=not init_random)


@pytest.mark.parametrize("init_random", [False, True])
def test_alpha_zero_with_lora_matches_trl_kto_with_the_same_peft_config(models, init_random):
    """Issue 14 §4: TRL's KTOTrainer with a peft_config (reference = the base model with the adapter
    disabled) and ours with the same LoRA config agree on the first batch's loss, KL and rewards."""
    trl = pytest.importorskip("trl")
    pytest.importorskip("peft")
    import datasets

    root, dirs, data = models
    tok = AutoTokenizer.from_pretrained(dirs[0])
    rows = load_labeled(data)
    ds = datasets.Dataset.from_list([{"prompt": render_prompt(tok, r["prompt"]), "completion": r["completion"],
                                      "label": bool(r["outcome_label"])} for r in rows])
    theirs_trainer = trl.KTOTrainer(
        model=AutoModelForCausalLM.from_pretrained(dirs[0], dtype=torch.float64),
        args=trl.KTOConfig(output_dir=str(root / "trl_lora"), per_device_train_batch_size=B, beta=0.1, use_cpu=True,
                           report_to="none", max_length=None, bf16=False),
        train_dataset=ds, processing_class=tok, peft_config=lora(init_random))
    theirs_batch = next(iter(theirs_trainer.get_train_dataloader()))
    theirs_trainer.model.train()
    theirs_loss = float(theirs_trainer.compute_loss(theirs_trainer.model, theirs_batch).detach())
    theirs = {k: theirs_trainer._metrics["train"][k][-1] for k in ("kl", "rewards/chosen", "rewards/rejected")}

    args = StepKTOConfig(output_dir=str(root / "ours_lora"), per_device_train_batch_size=B, alpha=0.0, beta=0.1,
                         use_cpu=True, report_to="none", kl_pairing="roll", ref_cache_dir=str(root / "no_cache"))
    ours_trainer = StepKTOTrainer(AutoModelForCausalLM.from_pretrained(dirs[0], dtype=torch.float64), args,
                                  load_labeled(data), tok, peft_config=lora(init_random))
    assert ours_trainer.lora and ours_trainer.ref_stats is None and not (root / "no_cache").exists()  # no precompute
    adapters = lambda m: {k: v for k, v in m.state_dict().items() if "lora_" in k}  # noqa: E731
    theirs_w = adapters(theirs_trainer.model)
    assert adapters(ours_trainer.model).keys() == theirs_w.keys()  # same layers adapted
    ours_trainer.model.load_state_dict(theirs_w, strict=False)  # same (random) adapter weights on both sides
    batch = ours_trainer.data_collator([ours_trainer.train_dataset[i] for i in range(B)])
    ours_trainer.model.train()
    ours_loss = float(ours_trainer.compute_loss(ours_trainer.model, batch))
    ours = {k: ours_trainer._metrics[f"train/{k}"][-1] for k in ("kl", "rewards/chosen", "rewards/rejected")}
    if init_random:
        assert abs(theirs["rewards/chosen"]) > 1e-3  # the adapter really moved the policy off the reference
    assert ours_loss == pytest.approx(theirs_loss, abs=1e-5)
    for key in theirs:
        assert ours[key] == pytest.approx(theirs[key], abs=1e-5), key
