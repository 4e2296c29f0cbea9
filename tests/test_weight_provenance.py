"""The header-only checkpoint check used before vLLM loads a model (weight_provenance.checkpoint_coverage)."""
from __future__ import annotations

import shutil

from helpers.tiny_model import checkpoint_without

from stepkto_eval.weight_provenance import checkpoint_coverage


def test_a_complete_checkpoint_has_nothing_missing(tiny_model_dir):
    assert checkpoint_coverage(str(tiny_model_dir)) == {"missing_keys": [], "mismatched_keys": [],
                                                        "unexpected_keys": []}


def test_a_missing_tensor_and_a_resized_one_are_named(tiny_model_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    broken = checkpoint_without(tiny_model_dir, tmp_path / "b", "model.layers.0.mlp.up_proj.weight")
    tensors = load_file(broken / "model.safetensors")
    tensors["model.norm.weight"] = tensors["model.norm.weight"][:-1].clone()
    save_file(tensors, broken / "model.safetensors", metadata={"format": "pt"})
    report = checkpoint_coverage(str(broken))
    assert report["missing_keys"] == ["model.layers.0.mlp.up_proj.weight"]
    assert [m[0] for m in report["mismatched_keys"]] == ["model.norm.weight"]


def test_layouts_a_name_comparison_cannot_follow_are_not_judged(tiny_model_dir, tmp_path):
    # a name the model lacks (a converted MoE layout, legacy names, quantisation scales) makes the comparison
    # unsound, so no verdict is given rather than a false refusal; so is a folder without safetensors
    from safetensors.torch import load_file, save_file

    folder = shutil.copytree(tiny_model_dir, tmp_path / "renamed")
    tensors = load_file(folder / "model.safetensors")
    tensors["model.layers.0.mlp.up_proj.weight_scale"] = tensors.pop("model.layers.0.mlp.up_proj.weight")[:1]
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    assert checkpoint_coverage(str(folder)) is None
    assert checkpoint_coverage(str(tmp_path / "no-such-folder")) is None
    assert checkpoint_coverage("org/hub-id") is None
