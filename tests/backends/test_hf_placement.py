"""hf backend placement options (`device_map`, `attn_implementation`) on the tiny model, and the same options
through a `critic:hf:` judge. On CPU this checks the plumbing: what transformers' loader receives, that the
loaded model has the requested attention, that it generates as the default load does, and that bad values are
refused before anything loads. Multi-GPU spreading itself needs GPUs (the GPU check covers one)."""
from __future__ import annotations

import pytest

from stepkto_eval.audit.registry import JudgeSpecError, make_judge
from stepkto_eval.backends import make_backend
from stepkto_eval.backends.base import GenerationRequest, SamplingSettings


@pytest.fixture
def loads(monkeypatch) -> list[dict]:
    """Records the keyword arguments of every AutoModelForCausalLM.from_pretrained call (the real load runs)."""
    from transformers import AutoModelForCausalLM

    calls: list[dict] = []
    original = AutoModelForCausalLM.from_pretrained

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", spy)
    return calls


def greedy(backend) -> str:
    request = GenerationRequest(key="k", messages=({"role": "user", "content": "What is 2 + 2?"},),
                                sampling=SamplingSettings(max_tokens=8))
    return backend.generate([request])[0].text


def test_default_load_goes_straight_to_the_device(tiny_model_dir, loads):
    backend = make_backend("hf", str(tiny_model_dir), device="cpu")
    assert loads[-1]["device_map"] == "cpu" and "attn_implementation" not in loads[-1]
    assert backend.device == "cpu" and backend.describe()["device"] == "cpu"
    backend.close()


@pytest.mark.parametrize("options", [
    {"device_map": "auto", "attn_implementation": "eager"},
    {"device_map": "balanced", "attn_implementation": "sdpa"},
    {"device_map": "cpu"},
])
def test_placement_options_reach_the_loader_and_change_nothing_else(tiny_model_dir, loads, options):
    reference = make_backend("hf", str(tiny_model_dir), device="cpu")
    expected = greedy(reference)
    reference.close()
    backend = make_backend("hf", str(tiny_model_dir), **options)
    kwargs = loads[-1]
    assert kwargs["device_map"] == options["device_map"]
    assert kwargs.get("attn_implementation") == options.get("attn_implementation")
    info = backend.describe()
    if "attn_implementation" in options:
        assert backend.model.config._attn_implementation == options["attn_implementation"]
        assert info["attn_implementation"] == options["attn_implementation"]
    assert info["placement"] == options["device_map"]
    assert {p.device.type for p in backend.model.parameters()} == {"cpu"}  # no GPU here: all lands on the CPU
    assert backend.device == "cpu" and greedy(backend) == expected
    backend.close()


@pytest.mark.parametrize("options, message", [
    ({"device_map": "everywhere"}, "-O device_map='everywhere': must be one of auto, balanced"),
    ({"device_map": "gpu9"}, "-O device_map='gpu9'"),
    ({"device_map": -1}, "-O device_map=-1"),
    ({"device_map": "auto", "device": "cpu"}, "give one of them"),
    ({"attn_implementation": "fastest"}, "-O attn_implementation='fastest': must be one of eager, "),
])
def test_bad_placement_options_are_refused_before_loading(tiny_model_dir, loads, options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make_backend("hf", str(tiny_model_dir), **options)
    assert loads == []


def test_hf_critic_takes_the_same_options(tiny_model_dir, loads):
    judge = make_judge(f"critic:hf:{tiny_model_dir}?device_map=auto&attn_implementation=eager")
    assert loads[-1]["device_map"] == "auto" and loads[-1]["attn_implementation"] == "eager"
    assert judge.backend.model.config._attn_implementation == "eager"
    judge.backend.close()
    with pytest.raises(JudgeSpecError, match="device_map='gpu9'"):
        make_judge(f"critic:hf:{tiny_model_dir}?device_map=gpu9")
    assert len(loads) == 1  # the bad spec loaded nothing
