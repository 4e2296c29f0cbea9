"""A `.gguf` file as the model of the hf backend (transformers' GGUF loader), on SmolLM2-135M-Instruct Q4_1."""
from __future__ import annotations

import pytest

from stepkto_eval.backends import make_backend
from stepkto_eval.backends.base import GenerationRequest, SamplingSettings
from stepkto_eval.backends.hf import HFBackend

pytestmark = [pytest.mark.slow, pytest.mark.smollm2]


def test_gguf_file_generates_with_its_own_tokenizer_and_template(smollm2_gguf):
    backend = make_backend("auto", str(smollm2_gguf))  # auto sends a .gguf file to transformers
    assert isinstance(backend, HFBackend)
    try:
        assert backend.uses_chat  # the chat template travels inside the .gguf
        out = backend.generate([
            GenerationRequest(key="chat", messages=({"role": "user", "content": "What is 3 + 4?"},),
                              sampling=SamplingSettings(max_tokens=16)),
            GenerationRequest(key="plain", prompt="The capital of France is", sampling=SamplingSettings(max_tokens=4)),
        ])
        info = backend.describe()
    finally:
        backend.close()
    chat, plain = out
    assert chat.text and chat.text.strip() and chat.finish_reason in ("stop", "length")
    assert 0 < chat.completion_tokens <= 16 and chat.prompt_text.startswith("<|im_start|>system")
    assert (plain.finish_reason, plain.completion_tokens) == ("length", 4) and plain.text
    assert info["model"].endswith(".gguf") and info["fingerprint"].startswith("sha256:")
