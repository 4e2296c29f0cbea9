"""A tiny random Llama with a real BPE tokenizer and a ChatML chat template, built in-process.

Fast (seconds), offline, and a real transformers model: the end-to-end tests run it through the same
code paths as a user's checkpoint (save_pretrained folder -> from_pretrained).
"""
from __future__ import annotations

from pathlib import Path

CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]
_CORPUS = [
    "Let's think step by step. The answer is \\boxed{42}.",
    "Compute 3 + 4 = 7, then 7 * 6 = 42. Therefore the final answer is \\boxed{7}.",
    "Solve for x: 2x + 4 = 10, so x = 3. Step 1: subtract. Step 2: divide.",
    "What is \\frac{1}{2} + \\frac{1}{3}? It is \\frac{5}{6}. The probability is 25%.",
    "Problem: find all real solutions. Solution: x = -1 or x = 2, i.e. \\{-1, 2\\}.",
    "0123456789 + - * / = ( ) [ ] { } ^ _ \\sqrt \\pi \\cdot \\times , . : ; ? !",
]


def build_tokenizer(extra_special_tokens: list[str] | None = None, vocab_size: int = 400):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = SPECIAL_TOKENS + list(extra_special_tokens or [])
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<pad>",
        unk_token=None,
        additional_special_tokens=specials[1:2] + list(extra_special_tokens or []),
    )
    fast.chat_template = CHATML
    return fast


def build_tiny_model(folder: str | Path, *, seed: int = 0, extra_special_tokens: list[str] | None = None,
                     hidden_size: int = 64, num_layers: int = 2) -> Path:
    """Write a tiny random LlamaForCausalLM + tokenizer to `folder` and return it."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    tokenizer = build_tokenizer(extra_special_tokens)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def checkpoint_without(source: Path, dest: Path, drop: str) -> Path:
    """A copy of a model folder whose weights file lacks the tensor `drop` (a truncated upload, a bad
    conversion): transformers would fill it with random numbers and carry on."""
    import shutil

    from safetensors.torch import load_file, save_file

    shutil.copytree(source, dest)
    tensors = load_file(dest / "model.safetensors")
    assert drop in tensors, sorted(tensors)[:5]
    del tensors[drop]
    save_file(tensors, dest / "model.safetensors", metadata={"format": "pt"})
    return dest
