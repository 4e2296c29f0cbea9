"""One rule for a prompt's special tokens in the hf eval backend and the trainer: the trainer must train on
the sequence that was sampled. Checked with a tokenizer that adds BOS (as Llama-family tokenizers do)."""
from __future__ import annotations

import datasets
import pytest
from tokenizers import processors
from transformers import AutoTokenizer

from stepkto_eval.backends.base import GenerationRequest, SamplingSettings
from stepkto_eval.backends.hf import HFBackend
from stepkto_train.data import prepare

from .labeled_data import make_rows

BOS = "<|endoftext|>"


@pytest.fixture(scope="module")
def bos_model_dir(tmp_path_factory):
    from helpers.tiny_model import build_tiny_model, build_tokenizer

    folder = build_tiny_model(tmp_path_factory.mktemp("bos_model"))
    tok = build_tokenizer()
    bos_id = tok.convert_tokens_to_ids(BOS)
    tok._tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)])
    tok.bos_token = BOS
    tok.save_pretrained(folder)
    reloaded = AutoTokenizer.from_pretrained(folder)
    assert reloaded("x")["input_ids"][0] == bos_id  # the saved tokenizer really adds BOS
    return folder


@pytest.mark.parametrize("chat", [False, True])
def test_trainer_prompt_ids_are_the_sampled_prompt_ids(bos_model_dir, chat):
    backend = HFBackend(str(bos_model_dir), device="cpu", batch_size=2)
    tok = backend.tokenizer
    row = make_rows(1, 1, seed=1, chat=chat)[0]
    prompt = row["prompt"]
    request = GenerationRequest("k", messages=tuple(prompt) if chat else None, prompt=None if chat else prompt,
                                sampling=SamplingSettings(max_tokens=3))
    out = backend.generate([request])[0]
    text, special = backend.render(request)
    sampled = tok(text, add_special_tokens=special)["input_ids"]  # exactly what _run_batch fed to generate
    prepared, _ = prepare(datasets.Dataset.from_list([{**row, "completion": out.text}]), tok)
    assert prepared[0]["prompt_ids"] == sampled and out.prompt_tokens == len(sampled)
    # plain text: the tokenizer's BOS, once; chat: the template's text only, no BOS added on top
    assert (prepared[0]["prompt_ids"][0] == tok.bos_token_id) is (not chat)
    assert prepared[0]["prompt_ids"].count(tok.bos_token_id) == (0 if chat else 1)
