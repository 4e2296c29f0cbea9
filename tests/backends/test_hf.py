"""hf backend on the tiny random Llama (fast) and on SmolLM2-135M-Instruct (a real instruct model)."""
from __future__ import annotations

import json
import shutil

import pytest

from stepkto_eval.backends.base import GenerationRequest, SamplingSettings
from stepkto_eval.backends.hf import HFBackend

GREEDY = SamplingSettings(temperature=0.0, max_tokens=12)
SAMPLED = SamplingSettings(temperature=1.0, top_p=0.95, max_tokens=12)
# Different lengths so that batched rows really get left padding.
QUESTIONS = ["What is 3 + 4?", "Solve 2x + 4 = 10 for x, step by step please.", "1/2 + 1/3?",
             "Find all real solutions of x^2 - x - 2 = 0 and give the final answer in a box."]


def chat(i: int, text: str, sampling=GREEDY, seed=None) -> GenerationRequest:
    return GenerationRequest(key=f"q{i}", messages=({"role": "user", "content": text},), sampling=sampling, seed=seed)


@pytest.fixture(scope="module")
def sharp_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model with larger random weights (std 0.3): its default init gives near-uniform logits, so
    every prompt yields the same greedy text and padding mistakes would go unnoticed. Sharp logits make
    the output depend on the prompt, which the batching and seed tests below need."""
    import torch
    from transformers import AutoModelForCausalLM

    folder = tmp_path_factory.mktemp("sharp")
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    torch.manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() >= 2:
                param.normal_(0.0, 0.3)
    model.save_pretrained(folder)
    for f in tiny_model_dir.iterdir():
        if f.name.startswith(("tokenizer", "chat_template")):
            shutil.copy(f, folder / f.name)
    return folder


@pytest.fixture(scope="module")
def tiny(sharp_dir):
    backend = HFBackend(str(sharp_dir), batch_size=4)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def tiny_unbatched(sharp_dir):
    return HFBackend(str(sharp_dir), batch_size=1)


# ---- batching ---------------------------------------------------------------------------------------------

def test_order_and_keys_preserved(tiny):
    requests = [chat(i, q) for i, q in enumerate(QUESTIONS)]
    out = tiny.generate(requests)
    assert [c.key for c in out] == [r.key for r in requests]
    # each completion carries its own rendered prompt, so a shuffled result would be caught here
    for request, completion in zip(requests, out, strict=True):
        assert request.messages[0]["content"] in completion.prompt_text
        assert completion.prompt_text.endswith("<|im_start|>assistant\n")


def test_left_padding_gives_the_unbatched_greedy_text(tiny, tiny_unbatched):
    requests = [chat(i, q) for i, q in enumerate(QUESTIONS)]
    batched = tiny.generate(requests)
    single = tiny_unbatched.generate(requests)
    assert len({c.prompt_tokens for c in batched}) > 1  # the batch really mixed prompt lengths
    assert len({c.text for c in batched}) == len(requests)  # outputs depend on the prompt
    assert [(c.text, c.completion_tokens) for c in batched] == [(c.text, c.completion_tokens) for c in single]


# ---- seeds ------------------------------------------------------------------------------------------------

def test_seeded_sample_does_not_depend_on_its_batch(tiny, tiny_unbatched):
    target = chat(0, QUESTIONS[0], SAMPLED, seed=1234)
    alone = tiny_unbatched.generate([target])[0]
    crowd = [chat(i, q, SAMPLED, seed=i) for i, q in enumerate(QUESTIONS[1:], 1)]
    in_batch = tiny.generate(crowd[:2] + [target] + crowd[2:])[2]
    assert in_batch.prompt_tokens < max(c.prompt_tokens for c in tiny.generate(crowd))  # it was left-padded
    assert in_batch.text == alone.text and in_batch.completion_tokens == alone.completion_tokens


@pytest.mark.parametrize("seeds, same", [((7, 7), True), ((7, 8), False)], ids=["same-seed", "other-seed"])
def test_seed_reproducibility(tiny, seeds, same):
    a, b = (tiny.generate([chat(0, QUESTIONS[1], SAMPLED, seed=s)])[0] for s in seeds)
    assert (a.text == b.text) is same


def test_sampling_differs_from_greedy(tiny):
    greedy = tiny.generate([chat(0, QUESTIONS[1])])[0]
    samples = tiny.generate([chat(0, QUESTIONS[1], SAMPLED, seed=s) for s in range(4)])
    assert any(s.text != greedy.text for s in samples)


# ---- a judge's filters and penalty (top_k, min_p, repetition_penalty) ----------------------------------------

@pytest.mark.parametrize("filters", [dict(top_k=1), dict(min_p=0.999)], ids=["top_k=1", "min_p=0.999"])
def test_filters_that_keep_only_the_top_token_sample_the_greedy_text(tiny, filters):
    # the samplers differ by seed (test_sampling_differs_from_greedy); a filter that leaves one candidate
    # makes every seed draw the argmax, so the sampled text must be the greedy text exactly
    greedy = tiny.generate([chat(0, QUESTIONS[1])])[0]
    narrowed = SamplingSettings(temperature=1.0, max_tokens=12, **filters)
    samples = tiny.generate([chat(0, QUESTIONS[1], narrowed, seed=s) for s in range(3)])
    assert [s.text for s in samples] == [greedy.text] * 3


def test_top_k_keeps_sampling_among_the_k_best(tiny):
    samples = tiny.generate([chat(0, QUESTIONS[1], SamplingSettings(temperature=1.0, max_tokens=12, top_k=5),
                                  seed=s) for s in range(4)])
    assert len({s.text for s in samples}) > 1  # still a sampler, not greedy


def test_repetition_penalty_matches_transformers_generate(tiny, sharp_dir):
    # reference: transformers' own greedy generate with the same penalty, on the same prompt tokens
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    penalised = SamplingSettings(max_tokens=12, repetition_penalty=1.3)
    ours = tiny.generate([chat(0, QUESTIONS[1], penalised)])[0]
    plain = tiny.generate([chat(0, QUESTIONS[1])])[0]
    tokenizer = AutoTokenizer.from_pretrained(sharp_dir)
    model = AutoModelForCausalLM.from_pretrained(sharp_dir).eval()
    ids = tokenizer(ours.prompt_text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=12, do_sample=False, repetition_penalty=1.3,
                             eos_token_id=tiny.eos_ids, pad_token_id=tokenizer.pad_token_id)
    reference = tokenizer.decode(out[0, ids.shape[1]:].tolist(), skip_special_tokens=True)
    assert ours.text == reference and ours.text
    assert ours.text != plain.text  # the control: the penalty changed this greedy text


# ---- stopping ---------------------------------------------------------------------------------------------

def test_max_tokens_gives_length(tiny):
    out = tiny.generate([chat(0, QUESTIONS[0], SamplingSettings(max_tokens=5))])[0]
    # a random tiny model almost never emits EOS within 5 tokens; if it does, the reason must say so
    assert (out.finish_reason, out.completion_tokens) == ("length", 5) or (
        out.finish_reason == "stop" and out.completion_tokens <= 5)
    assert out.finish_reason == "length", out


def test_extra_stop_string_cuts_text(tiny):
    free = tiny.generate([chat(0, QUESTIONS[2], SamplingSettings(max_tokens=12))])[0]
    assert free.finish_reason == "length" and len(free.text) > 3
    # a stop string the model is known to produce greedily (not at the very start, no partial UTF-8)
    stop = next(free.text[i:i + 2] for i in range(1, len(free.text)) if "\ufffd" not in free.text[i:i + 2])
    cut = tiny.generate([chat(0, QUESTIONS[2], SamplingSettings(max_tokens=12, stop=(stop,)))])[0]
    assert cut.finish_reason == "stop"
    assert cut.text == free.text[: free.text.find(stop)]
    assert 1 <= cut.completion_tokens < free.completion_tokens


def test_eos_from_generation_config_stops(tiny, sharp_dir, tmp_path):
    """Declare the greedy first token an EOS in generation_config.json: generation ends right there."""
    import torch

    prompt = tiny.generate([chat(0, QUESTIONS[0], SamplingSettings(max_tokens=1))])[0].prompt_text
    encoded = tiny.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        first_id = int(tiny.model(**encoded).logits[0, -1].argmax())
    folder = shutil.copytree(sharp_dir, tmp_path / "eos")
    config = json.loads((folder / "generation_config.json").read_text())
    config["eos_token_id"] = [tiny.tokenizer.eos_token_id, first_id]
    (folder / "generation_config.json").write_text(json.dumps(config))
    backend = HFBackend(str(folder))
    out = backend.generate([chat(0, QUESTIONS[0], SamplingSettings(max_tokens=8))])[0]
    assert backend.eos_ids == [tiny.tokenizer.eos_token_id, first_id]
    assert (out.text, out.finish_reason, out.completion_tokens) == ("", "stop", 1)


def test_checkpoint_sampling_defaults_are_ignored(tiny_model_dir, tmp_path):
    """Settings come from the request only: penalties or sampling stored in generation_config.json must not
    change a greedy completion. The stock tiny model repeats one token, so no_repeat_ngram_size=1 alone
    would change its output if it leaked through."""
    folder = shutil.copytree(tiny_model_dir, tmp_path / "opinionated")
    config = json.loads((folder / "generation_config.json").read_text())
    config.update(no_repeat_ngram_size=1, repetition_penalty=50.0, do_sample=True, temperature=3.0, top_k=3)
    (folder / "generation_config.json").write_text(json.dumps(config))
    request = [chat(0, QUESTIONS[0])]
    plain = HFBackend(str(tiny_model_dir)).generate(request)[0].text
    assert plain == plain[0] * len(plain)  # the repetition the leaked settings would break
    assert HFBackend(str(folder)).generate(request)[0].text == plain


# ---- prompts ----------------------------------------------------------------------------------------------

def test_plain_prompt_without_chat_template(sharp_dir, tmp_path):
    folder = shutil.copytree(sharp_dir, tmp_path / "base")
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    base = HFBackend(str(folder))
    assert base.uses_chat is False
    plain, via_chat = base.generate([
        GenerationRequest(key="p", prompt="Problem: 3 + 4 = ?\nSolution:", sampling=GREEDY),
        chat(1, "3 + 4?"),
    ])
    assert plain.prompt_text == "Problem: 3 + 4 = ?\nSolution:" and plain.text and plain.finish_reason == "length"
    assert via_chat.finish_reason == "error" and "chat template" in via_chat.error and via_chat.text is None


def test_bad_request_is_recorded_not_raised(tiny):
    out = tiny.generate([GenerationRequest(key="bad"), chat(1, QUESTIONS[0])])
    assert out[0].finish_reason == "error" and "neither" in out[0].error
    assert out[1].finish_reason in ("stop", "length") and out[1].text is not None


def test_describe_fingerprints_the_folder(tiny, sharp_dir, tiny_model_dir):
    info = tiny.describe()
    assert info["backend"] == "hf" and info["fingerprint"].startswith("sha256:")
    assert info["model"] == str(sharp_dir.resolve()) and info["uses_chat"] is True
    # same tokenizer and config, different weights: the fingerprint must tell them apart
    assert HFBackend(str(tiny_model_dir)).describe()["fingerprint"] != info["fingerprint"]


# ---- a real model -----------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.smollm2
def test_smollm2_folder_answers(smollm2_dir):
    backend = HFBackend(str(smollm2_dir), batch_size=2)
    try:
        out = backend.generate([chat(0, "What is 3 + 4?", SamplingSettings(max_tokens=24)),
                                chat(1, "Name a prime number.", SamplingSettings(max_tokens=24))])
    finally:
        backend.close()
    for c in out:
        assert c.text and c.text.strip() and c.finish_reason in ("stop", "length")
        assert 0 < c.completion_tokens <= 24 and c.prompt_tokens > 10
        assert c.prompt_text.startswith("<|im_start|>system")  # SmolLM2's own template adds its system turn
