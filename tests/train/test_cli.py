"""`stepkto-train train`: dashed TrainingArguments + Step-KTO options, YAML config, a real run of the script."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import REPO, require
from helpers.tiny_model import checkpoint_without
from transformers import AutoModelForCausalLM, AutoTokenizer

from stepkto_train.cli import last_complete_checkpoint, parse_train_args

from .labeled_data import make_rows, write_jsonl

CONFIGS = REPO / "stepkto_train" / "configs"


def test_dashed_options_reach_the_config(tmp_path):
    inputs, args = parse_train_args([
        "--data", "d.jsonl", "--model", "m", "--output-dir", str(tmp_path), "--max-steps", "5",
        "--per-device-train-batch-size", "3", "--alpha", "0.5", "--desirable-weight", "1.2", "--after-error",
        "negative", "--use-cpu", "--limit", "7"])
    assert (inputs.data, inputs.model, inputs.limit) == ("d.jsonl", "m", 7)
    assert (args.max_steps, args.per_device_train_batch_size, args.alpha, args.desirable_weight) == (5, 3, 0.5, 1.2)
    assert args.after_error == "negative" and args.remove_unused_columns is False


def test_yaml_config_with_command_line_override(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"data: d.jsonl\nmodel: m\noutput_dir: {tmp_path}\nalpha: 0.25\nbeta: 0.3\nmax_steps: 9\n")
    inputs, args = parse_train_args(["--config", str(cfg), "--beta", "0.05"])
    assert inputs.data == "d.jsonl" and (args.alpha, args.beta, args.max_steps) == (0.25, 0.05, 9)


@pytest.mark.parametrize("argv, message", [
    (["--model", "m"], "--data is required"),
    (["--data", "d", "--model", "m", "--alpha", "x"], "invalid float"),
])
def test_bad_command_lines_fail_clearly(tmp_path, argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_train_args([*argv, "--output-dir", str(tmp_path)])
    assert message in str(exc.value) + capsys.readouterr().err


def test_unknown_yaml_key_is_named(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("data: d\nmodel: m\nalpah: 1.0\n")
    with pytest.raises(SystemExit, match="alpah"):
        parse_train_args(["--config", str(cfg)])


def test_invalid_choice_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="step_logratio"):
        parse_train_args(["--data", "d", "--model", "m", "--output-dir", str(tmp_path), "--step-logratio", "token"])


def test_shipped_deepspeed_and_accelerate_configs_parse():
    import yaml

    found = sorted(p.name for p in CONFIGS.iterdir() if p.suffix in (".json", ".yaml"))
    assert found == ["accelerate_ddp.yaml", "accelerate_zero3.yaml", "cpu_demo.yaml", "ds_zero2.json",
                     "ds_zero3.json", "llama31_8b_8xh100.yaml"]
    for name in ("ds_zero2.json", "ds_zero3.json"):
        assert json.loads((CONFIGS / name).read_text())["zero_optimization"]["stage"] == int(name[7])
    for name in ("accelerate_ddp.yaml", "accelerate_zero3.yaml"):
        assert yaml.safe_load((CONFIGS / name).read_text())["num_processes"] == 8


def test_console_script_trains_and_saves_a_loadable_model(tiny_model_dir, tmp_path):
    script = shutil.which("stepkto-train", path=str(Path(sys.executable).parent))
    require(script is not None, "stepkto-train console script not installed (pip install -e .)")
    data = write_jsonl(make_rows(3, 2, seed=4, chat=False), tmp_path / "labeled.jsonl")
    out = tmp_path / "out"
    proc = subprocess.run([script, "train", "--data", str(data), "--model", str(tiny_model_dir), "--output-dir",
                           str(out), "--use-cpu", "--max-steps", "2", "--per-device-train-batch-size", "2",
                           "--limit", "4", "--ref-cache-dir", str(tmp_path / "rc"), "--report-to", "none",
                           "--text-prompt", "chat"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "stepkto_train.json").read_text())
    assert summary["prep"]["rows"] == 4 and summary["metrics"]["train_loss"] > 0
    model, tok = AutoModelForCausalLM.from_pretrained(out), AutoTokenizer.from_pretrained(out)
    assert model.config.vocab_size == len(tok)
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()


def test_resume_skips_checkpoints_killed_mid_write(tmp_path):
    def checkpoint(step: int, state: str | None) -> None:
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if state is not None:
            (folder / "trainer_state.json").write_text(state)

    assert last_complete_checkpoint(tmp_path) is None
    checkpoint(2, '{"global_step": 2}')
    checkpoint(10, '{"global_step": 10}')  # numeric order, not string order: 10 > 4
    checkpoint(4, '{"global_step": 4}')
    checkpoint(12, None)  # killed before the state file
    checkpoint(14, '{"global_st')  # killed while writing it
    (tmp_path / "checkpoint-final").mkdir()
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-10")


def test_lora_run_writes_merged_weights_and_the_adapter_beside_them(tiny_model_dir, tmp_path):
    """`stepkto-train train --lora-r ...` (options from a YAML file, as an iterate recipe's train section
    passes them): no reference precompute; DIR loads as a plain checkpoint equal to base + adapter, and
    DIR/adapter holds the adapter alone."""
    pytest.importorskip("peft")
    from peft import PeftModel

    from stepkto_train.cli import main

    data = write_jsonl(make_rows(4, 2, seed=7), tmp_path / "labeled.jsonl")
    cfg = tmp_path / "train.yaml"
    cfg.write_text("lora_r: 4\nlora_alpha: 8\nlora_dropout: 0.1\nlora_target_modules: [q_proj, v_proj]\n"
                   "learning_rate: 0.01\nmax_steps: 2\nper_device_train_batch_size: 2\nuse_cpu: true\n"
                   "save_strategy: 'no'\nreport_to: none\nseed: 0\n")
    out = tmp_path / "out"
    assert main(["train", "--config", str(cfg), "--data", str(data), "--model", str(tiny_model_dir),
                 "--output-dir", str(out), "--ref-cache-dir", str(tmp_path / "refcache")]) == 0
    summary = json.loads((out / "stepkto_train.json").read_text())
    assert summary["reference"] == "base model, adapters disabled" and summary["lora"]["r"] == 4
    assert not (tmp_path / "refcache").exists()  # no reference precompute, no reference copy
    assert not (out / "adapter_config.json").exists() and (out / "adapter" / "adapter_config.json").is_file()
    assert json.loads((out / "adapter" / "adapter_config.json").read_text())["target_modules"] in (
        ["q_proj", "v_proj"], ["v_proj", "q_proj"])
    merged = AutoModelForCausalLM.from_pretrained(out)  # what `stepkto-eval --model` and vLLM load
    assert AutoTokenizer.from_pretrained(out).chat_template
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), out / "adapter").eval()
    ids = torch.tensor([[5, 17, 42, 9, 77, 3]])
    with torch.no_grad():
        got, want, start = merged(ids).logits, adapted(ids).logits, base(ids).logits
    assert torch.allclose(got, want, atol=1e-5)
    assert not torch.allclose(got, start, atol=1e-4)  # training moved the adapter off its zero start


def test_lora_under_zero3_is_refused_before_anything_starts(tmp_path):
    """Checked when the options are parsed: no process group, no DeepSpeed op build, no model load."""
    with pytest.raises(ValueError, match="LoRA under DeepSpeed ZeRO-3 is not supported"):
        parse_train_args(["--data", "d", "--model", "m", "--output-dir", str(tmp_path), "--lora-r", "4",
                          "--deepspeed", str(CONFIGS / "ds_zero3.json")])


DROPPED = "model.layers.0.mlp.up_proj.weight"


@pytest.mark.parametrize("role", ["policy", "reference"])
def test_a_checkpoint_missing_a_tensor_is_refused_before_training(tiny_model_dir, tmp_path, role):
    # transformers would fill the missing tensor with random numbers and train (or score the reference) anyway
    broken = checkpoint_without(tiny_model_dir, tmp_path / "broken", DROPPED)
    data = write_jsonl(make_rows(2, 2, seed=4, chat=False), tmp_path / "labeled.jsonl")
    policy, reference = (broken, tiny_model_dir) if role == "policy" else (tiny_model_dir, broken)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "stepkto_train.cli", "train", "--data", str(data), "--model",
                           str(policy), "--ref-model", str(reference), "--output-dir", str(out), "--use-cpu",
                           "--max-steps", "1", "--per-device-train-batch-size", "2", "--limit", "2",
                           "--ref-cache-dir", str(tmp_path / "rc"), "--report-to", "none"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 2, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"stepkto-train: {role} {broken}: refusing to use it as the {role}"), last
    assert DROPPED in last and "missing from the checkpoint" in last
    assert not (out / "model.safetensors").exists() and not (out / "stepkto_train.json").exists()


def test_unused_checkpoint_tensors_load_with_a_warning(tiny_model_dir, tmp_path, caplog):
    # A policy checkpoint may carry tensors the causal LM does not read (e.g. an RL value head); its LM weights
    # are all there, so it loads, and the log names what was left out.
    from safetensors.torch import load_file, save_file

    from stepkto_train.trainer import load_causal_lm

    folder = shutil.copytree(tiny_model_dir, tmp_path / "with-head")
    tensors = load_file(folder / "model.safetensors")
    tensors["v_head.summary.weight"] = torch.zeros(1, 8)
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    with caplog.at_level("WARNING"):
        model = load_causal_lm(str(folder), torch.float32, "policy")
    assert "v_head.summary.weight" in caplog.text
    reference = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert torch.equal(model.state_dict()[DROPPED], reference.state_dict()[DROPPED])


def test_a_policy_with_a_resized_tensor_is_refused_by_name(tiny_model_dir, tmp_path):
    """transformers raises its own RuntimeError on a resized tensor, naming none of them and not caught by
    `stepkto-train train` (a traceback instead of exit 2); the trainer now asks for the report and refuses by name."""
    from safetensors.torch import load_file, save_file

    from stepkto_eval.weight_provenance import WeightsNotProvided
    from stepkto_train.trainer import load_causal_lm

    broken = tmp_path / "resized"
    shutil.copytree(tiny_model_dir, broken)
    tensors = load_file(broken / "model.safetensors")
    tensors[DROPPED] = tensors[DROPPED][:-1]
    save_file(tensors, broken / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(WeightsNotProvided, match=rf"policy {broken}: .*shape differs.*{re.escape(DROPPED)}"):
        load_causal_lm(str(broken), torch.float32, "policy")
