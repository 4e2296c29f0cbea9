"""StepKTOTrainer on the tiny model: logged keys, saved model, reference modes, cache hits, resume."""
from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

from stepkto_train.data import load_labeled
from stepkto_train.trainer import StepKTOConfig, StepKTOTrainer

from .labeled_data import make_rows, write_jsonl


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_jsonl(make_rows(4, 2, seed=7), tmp_path_factory.mktemp("data") / "labeled.jsonl")


def run(model_dir, data, out, steps=3, resume=None, callbacks=None, eval_dataset=None, **overrides):
    args = StepKTOConfig(**{**dict(output_dir=str(out), max_steps=steps, per_device_train_batch_size=2,
                                   learning_rate=1e-3, use_cpu=True, report_to="none", save_strategy="no",
                                   ref_cache_dir=str(out.parent / "refcache"), seed=0, disable_tqdm=True),
                            **overrides})
    trainer = StepKTOTrainer(AutoModelForCausalLM.from_pretrained(model_dir), args, load_labeled(data),
                             AutoTokenizer.from_pretrained(model_dir), callbacks=callbacks,
                             eval_dataset=eval_dataset)
    trainer.train(resume_from_checkpoint=resume)
    return trainer, [h["loss"] for h in trainer.state.log_history if "loss" in h]


def test_logs_trl_style_keys_and_saves_a_loadable_model(tiny_model_dir, data, tmp_path):
    trainer, losses = run(tiny_model_dir, data, tmp_path / "out", steps=4)
    trainer.save_model(str(tmp_path / "final"))
    logged = {k for h in trainer.state.log_history for k in h}
    assert {"loss", "kl", "loss/outcome", "loss/step", "rewards/chosen", "rewards/rejected", "rewards/margins",
            "accuracy/desirable", "accuracy/undesirable"} <= logged
    assert len(losses) == 4 and all(torch.isfinite(torch.tensor(losses)))
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "final")
    start = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert AutoTokenizer.from_pretrained(tmp_path / "final").chat_template
    moved = [not torch.equal(a, b) for a, b in zip(reloaded.parameters(), start.parameters(), strict=True)]
    assert any(moved)  # trained weights, not the starting checkpoint


def test_alpha_zero_loss_is_the_outcome_loss(tiny_model_dir, data, tmp_path):
    trainer, _ = run(tiny_model_dir, data, tmp_path / "out", steps=2, alpha=0.0)
    for h in trainer.state.log_history:
        if "loss" in h:
            assert h["loss"] == pytest.approx(h["loss/outcome"], abs=1e-6)


@pytest.mark.parametrize("overrides", [dict(step_logratio="prefix"), dict(after_error="negative"),
                                       dict(alpha=3.0)])
def test_step_options_change_the_step_term(tiny_model_dir, data, tmp_path, overrides):
    _, base = run(tiny_model_dir, data, tmp_path / "base", steps=2)
    _, other = run(tiny_model_dir, data, tmp_path / "other", steps=2, **overrides)
    # step 1 has policy = reference, where every value is σ(0); the options show from step 2 on
    assert base[1] != pytest.approx(other[1], abs=1e-6)


def test_frozen_reference_and_precomputed_reference_agree(tiny_model_dir, data, tmp_path):
    _, pre = run(tiny_model_dir, data, tmp_path / "pre", steps=3, reference="precompute")
    _, frozen = run(tiny_model_dir, data, tmp_path / "frozen", steps=3, reference="model")
    assert pre == pytest.approx(frozen, abs=1e-5)


def test_second_run_uses_the_cache(tiny_model_dir, data, tmp_path):
    first, l1 = run(tiny_model_dir, data, tmp_path / "a", steps=2)
    second, l2 = run(tiny_model_dir, data, tmp_path / "b", steps=2)
    assert first.ref_stats.computed > 0 and second.ref_stats.computed == 0
    assert second.ref_stats.hits == first.ref_stats.computed and l1 == l2


class StopAt(TrainerCallback):
    """Simulates a killed run: stop right after the checkpoint of step `n` is written."""

    def __init__(self, n):
        self.n = n

    def on_save(self, args, state, control, **kwargs):
        if state.global_step >= self.n:
            control.should_training_stop = True


def test_resume_from_checkpoint_equals_uninterrupted(tiny_model_dir, data, tmp_path):
    common = dict(steps=4, save_strategy="steps", save_steps=2)
    full, full_losses = run(tiny_model_dir, data, tmp_path / "full", **common)
    _, first_half = run(tiny_model_dir, data, tmp_path / "cut", callbacks=[StopAt(2)], **common)
    assert len(first_half) == 2
    resumed, rest = run(tiny_model_dir, data, tmp_path / "cut", resume=str(tmp_path / "cut" / "checkpoint-2"),
                        **common)
    assert first_half + rest[-2:] == pytest.approx(full_losses, abs=1e-6)
    for a, b in zip(full.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def without_steps(row: dict, completion: str) -> dict:
    """A row as labeling exports it for an empty or whitespace completion: the splitter found no step."""
    return {**row, "completion": completion, "steps": [], "step_char_spans": [], "step_labels": [],
            "first_error": -1, "pred_answer": None}


@pytest.mark.parametrize("reference", ["precompute", "model"])
def test_rows_without_steps_train_on_the_outcome_term(tiny_model_dir, tmp_path, reference):
    rows = make_rows(4, 2, seed=7)
    rows[3] = without_steps(rows[3], "")
    rows[5] = without_steps(rows[5], "  \n\n ")
    mixed = write_jsonl(rows, tmp_path / "mixed.jsonl")
    _, losses = run(tiny_model_dir, mixed, tmp_path / "mixed", steps=4, reference=reference)
    assert len(losses) == 4 and all(torch.isfinite(torch.tensor(losses)))
    # a batch of only step-less rows: the step term is 0 and the loss is the outcome loss, at any α
    only = write_jsonl([without_steps(r, "" if i % 2 else " ") for i, r in enumerate(make_rows(2, 2, seed=3))],
                       tmp_path / "only.jsonl")
    trainer, losses = run(tiny_model_dir, only, tmp_path / "only", steps=2, reference=reference, alpha=1.0)
    assert len(losses) == 2
    for h in trainer.state.log_history:
        if "loss" in h:
            assert h["loss/step"] == 0.0 and h["loss"] == pytest.approx(h["loss/outcome"], abs=1e-6)


@pytest.mark.parametrize("reference", ["precompute", "model"])
def test_eval_dataset_through_the_python_api(tiny_model_dir, data, tmp_path, reference):
    held_out = load_labeled(write_jsonl(make_rows(2, 2, seed=11), tmp_path / "held_out.jsonl"))
    trainer, _ = run(tiny_model_dir, data, tmp_path / "out", steps=2, reference=reference,
                     eval_dataset={"held_out": held_out}, eval_strategy="steps", eval_steps=1,
                     per_device_eval_batch_size=2)
    evals = [h for h in trainer.state.log_history if "eval_held_out_loss" in h]
    assert len(evals) == 2 and all(torch.isfinite(torch.tensor(h["eval_held_out_loss"])) for h in evals)
    assert trainer.eval_prep_stats.kept == 4
    single = trainer.evaluate(eval_dataset=trainer.eval_dataset["held_out"])
    assert single["eval_loss"] == pytest.approx(evals[-1]["eval_held_out_loss"], abs=1e-6)


def test_launcher_and_trainer_world_sizes_must_agree(tmp_path, monkeypatch):
    """A launcher that started 2 processes while the Trainer runs alone (each rank would train by itself into
    one output folder) is refused. The env is what torchrun sets for rank 0 of 2; the args were built before,
    so they run with world size 1, which is the disagreement being guarded against."""
    from stepkto_train.trainer import check_world_size

    args = StepKTOConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    check_world_size(args)  # no launcher: fine
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RuntimeError, match="launcher started 2 processes but the Trainer runs with world size 1"):
        check_world_size(args)


def _zero_lr_extremes(trainer) -> tuple[float, float]:
    """max |reward| (chosen and rejected means) and max z over the logged steps of an lr = 0 run."""
    logs = [h for h in trainer.state.log_history if "loss" in h]
    rewards = [abs(h[k]) for h in logs for k in ("rewards/chosen", "rewards/rejected") if k in h]
    return max(rewards), max(h["kl"] for h in logs)


@pytest.mark.parametrize("bf16", [False, True])
def test_zero_learning_rate_gives_zero_rewards_with_the_precomputed_reference(tiny_model_dir, data, tmp_path,
                                                                               bf16):
    """Issue 12: policy = reference (lr = 0), so rewards and z must be 0 — also with --bf16, where the policy's
    forward runs under bf16 autocast and the precompute must too. Measured on this tiny model (max over 4
    steps): fp32 |reward| 1.5e-6, z 1.5e-5; bf16 |reward| 7.6e-6, z 1.7e-4 — batch shapes differ between the
    precompute and training, which moves float32/bf16 sums slightly. Before the fix (fp32 precompute) bf16 gave |reward| 7.9e-4, z 3.8e-3. The fp32 run after it shares the cache folder and must not reuse the bf16 entries."""
    trainer, _ = run(tiny_model_dir, data, tmp_path / "a", steps=4, learning_rate=0.0, bf16=bf16)
    reward, z = _zero_lr_extremes(trainer)
    print(f"bf16={bf16}: max |reward| {reward:.3g}, max z {z:.3g}")
    assert trainer.ref_stats.precision == ("float32+autocast:bfloat16" if bf16 else "float32")
    assert reward <= 1e-4 and z <= (1e-3 if bf16 else 1e-4)
    if bf16:
        fp32, _ = run(tiny_model_dir, data, tmp_path / "b", steps=4, learning_rate=0.0)
        assert fp32.ref_stats.hits == 0 and fp32.ref_stats.computed > 0  # the bf16 entries were not reused
        assert max(_zero_lr_extremes(fp32)) <= 1e-4
