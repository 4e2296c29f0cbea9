"""Tiny random PRMs in the exact layouts their families ship, built in-process as from_pretrained folders,
plus a plain-torch decoder forward used as the independent reference in the tests.

Layouts (sources cited in stepkto_eval/audit/prm.py and the README's PRM table):

* Qwen2.5-Math-PRM: Qwen2 config with `architectures: ["Qwen2ForProcessRewardModel"]` and an auto_map to
  the remote class; weights `model.*` (body) + `score.0.*` Linear(h, h) + `score.2.*` Linear(h, 2); ChatML
  tokenizer with the `<extra_0>` separator token and no BOS.
* Skywork-o1-Open-PRM: a Qwen2 causal LM (`model.*`, `lm_head.weight`) plus `v_head.summary.*` Linear(h, 1);
  Qwen tokenizer with a BOS token (its prepare_input prepends tokenizer.bos_token). The config's
  architectures and the BOS token string are unverified (no hub access here); we write Qwen2ForCausalLM and
  `<|endoftext|>`.
* Math-Shepherd: a Mistral causal LM; the tokenizer adds a BOS `<s>` on encode and has `ки` as one token.
* RLHFlow: a Llama causal LM with a Llama-3.1 style chat template (headers, `<|eot_id|>`, BOS in the template).
Their scores are meaningless; tests check that the judge computes what the family's own code computes.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from helpers.tiny_model import _CORPUS

SEP, TAG = "<extra_0>", "ки"
HIDDEN = 32

# ChatML as Qwen2.5 ships it, reduced to the branches a PRM prompt uses (tool calling left out): a system
# turn is inserted when the conversation has none.
QWEN_CHATML = (
    "{%- if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{%- endif %}{%- for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{%- endfor %}{%- if add_generation_prompt %}<|im_start|>assistant\n{%- endif %}"
)
# Llama 3.1's template reduced likewise: BOS, a system header with the knowledge-cutoff lines, role headers.
LLAMA31 = (
    "{{- bos_token }}<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
    "Today Date: 26 Jul 2024\n\n<|eot_id|>{%- for message in messages %}<|start_header_id|>{{ message['role'] }}"
    "<|end_header_id|>\n\n{{ message['content'] | trim }}<|eot_id|>{%- endfor %}"
    "{%- if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{%- endif %}"
)


def _tokenizer(specials: list[str], *, bos: str | None, eos: str, pad: str | None, unk: str | None = None,
               added: list[str] = (), bos_on_encode: bool = False, chat_template: str | None = None):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in added])
    if bos_on_encode:  # like Mistral's tokenizer: encode() puts the BOS first
        tok.post_processor = processors.TemplateProcessing(single=f"{bos} $A", special_tokens=[(bos, tok.token_to_id(bos))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, eos_token=eos, pad_token=pad, unk_token=unk)
    fast.chat_template = chat_template
    return fast


def _body_config(kind: str, vocab: int, **extra):
    from transformers import LlamaConfig, MistralConfig, Qwen2Config

    cls = {"qwen2": Qwen2Config, "mistral": MistralConfig, "llama": LlamaConfig}[kind]
    return cls(vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=2 * HIDDEN, num_hidden_layers=2,
               num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048, **extra)


def _save(folder: Path, config, tokenizer, state: dict) -> Path:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder


def _body_state(config, *, seed: int) -> dict:
    import torch
    from transformers import AutoModel

    torch.manual_seed(seed)
    body = AutoModel.from_config(config)
    return {f"model.{k}": v for k, v in body.state_dict().items()}


def _linear(out_features: int, in_features: int, prefix: str) -> dict:
    import torch

    bound = 1 / math.sqrt(in_features)  # nn.Linear's own scale: scores spread over (0, 1), none saturate
    return {f"{prefix}.weight": torch.empty(out_features, in_features).uniform_(-bound, bound),
            f"{prefix}.bias": torch.empty(out_features).uniform_(-bound, bound)}


def build_qwen_prm(folder: str | Path, *, seed: int = 0) -> Path:
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", SEP]
    tok = _tokenizer(specials, bos=None, eos="<|im_end|>", pad="<|endoftext|>", chat_template=QWEN_CHATML)
    config = _body_config("qwen2", len(tok), pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    config.architectures = ["Qwen2ForProcessRewardModel"]
    config.auto_map = {"AutoModel": "modeling_qwen2_rm.Qwen2ForProcessRewardModel"}
    state = _body_state(config, seed=seed)
    state |= _linear(HIDDEN, HIDDEN, "score.0") | _linear(2, HIDDEN, "score.2")
    return _save(Path(folder), config, tok, state)


def build_skywork_prm(folder: str | Path, *, seed: int = 1) -> Path:
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = _tokenizer(specials, bos="<|endoftext|>", eos="<|im_end|>", pad="<|endoftext|>", chat_template=QWEN_CHATML)
    config = _body_config("qwen2", len(tok), tie_word_embeddings=False, pad_token_id=tok.pad_token_id)
    config.architectures = ["Qwen2ForCausalLM"]
    state = _body_state(config, seed=seed)
    state |= _linear(len(tok), HIDDEN, "lm_head")
    del state["lm_head.bias"]
    state |= _linear(1, HIDDEN, "v_head.summary")
    return _save(Path(folder), config, tok, state)


def build_math_shepherd(folder: str | Path, *, seed: int = 2) -> Path:
    tok = _tokenizer(["<unk>", "<s>", "</s>"], bos="<s>", eos="</s>", pad=None, unk="<unk>", added=[TAG],
                     bos_on_encode=True)
    config = _body_config("mistral", len(tok), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                          tie_word_embeddings=False)
    config.architectures = ["MistralForCausalLM"]
    state = _body_state(config, seed=seed) | _linear(len(tok), HIDDEN, "lm_head")
    del state["lm_head.bias"]
    return _save(Path(folder), config, tok, state)


def build_rlhflow(folder: str | Path, *, seed: int = 3) -> Path:
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    tok = _tokenizer(specials, bos="<|begin_of_text|>", eos="<|eot_id|>", pad=None, chat_template=LLAMA31)
    config = _body_config("llama", len(tok), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                          tie_word_embeddings=False)
    config.architectures = ["LlamaForCausalLM"]
    state = _body_state(config, seed=seed) | _linear(len(tok), HIDDEN, "lm_head")
    del state["lm_head.bias"]
    return _save(Path(folder), config, tok, state)


BUILDERS = {"qwen2.5-math-prm": build_qwen_prm, "skywork-o1-prm": build_skywork_prm,
            "math-shepherd": build_math_shepherd, "rlhflow-prm": build_rlhflow}


# ---------------------------------------------------------------- the independent reference
def load_state(folder: Path) -> tuple[dict, dict]:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors")), json.loads((folder / "config.json").read_text())


def reference_hidden(state: dict, config: dict, ids: list[int]):
    """Last hidden states of a Llama/Mistral/Qwen2 decoder written out in plain torch (RMSNorm, rotary
    embeddings with rotate-half, grouped-query causal attention, SwiGLU MLP) over the checkpoint's tensors."""
    import torch

    h, heads, kv = config["hidden_size"], config["num_attention_heads"], config["num_key_value_heads"]
    dim, eps = h // heads, config["rms_norm_eps"]
    theta = config.get("rope_theta") or (config.get("rope_parameters") or {}).get("rope_theta", 10000.0)
    n = len(ids)

    def norm(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def lin(x, prefix):
        y = x @ state[f"{prefix}.weight"].T
        return y + state[f"{prefix}.bias"] if f"{prefix}.bias" in state else y

    inv = 1.0 / theta ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    angles = torch.outer(torch.arange(n, dtype=torch.float32), inv)
    cos, sin = torch.cat([angles, angles], -1).cos(), torch.cat([angles, angles], -1).sin()

    def rope(x):  # (heads, n, dim)
        half = torch.cat([-x[..., dim // 2:], x[..., : dim // 2]], -1)
        return x * cos + half * sin

    x = state["model.embed_tokens.weight"][torch.tensor(ids)]
    causal = torch.full((n, n), float("-inf")).triu(1)
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}"
        a = norm(x, state[f"{p}.input_layernorm.weight"])
        q = rope(lin(a, f"{p}.self_attn.q_proj").view(n, heads, dim).transpose(0, 1))
        k = rope(lin(a, f"{p}.self_attn.k_proj").view(n, kv, dim).transpose(0, 1)).repeat_interleave(heads // kv, 0)
        v = lin(a, f"{p}.self_attn.v_proj").view(n, kv, dim).transpose(0, 1).repeat_interleave(heads // kv, 0)
        att = ((q @ k.transpose(1, 2)) / math.sqrt(dim) + causal).softmax(-1) @ v
        x = x + lin(att.transpose(0, 1).reshape(n, h), f"{p}.self_attn.o_proj")
        m = norm(x, state[f"{p}.post_attention_layernorm.weight"])
        gate = torch.nn.functional.silu(lin(m, f"{p}.mlp.gate_proj"))
        x = x + lin(gate * lin(m, f"{p}.mlp.up_proj"), f"{p}.mlp.down_proj")
    return norm(x, state["model.norm.weight"])


# Our own stand-in for the remote class Qwen2.5-Math-PRM ships (auto_map -> modeling_qwen2_rm), in the same
# module layout, so that the trust_remote_code=1 path runs for real on the tiny checkpoint.
REMOTE_CODE = '''
import torch
from transformers import Qwen2Model, Qwen2PreTrainedModel


class Qwen2ForProcessRewardModel(Qwen2PreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = Qwen2Model(config)
        hidden = config.hidden_size
        self.score = torch.nn.Sequential(torch.nn.Linear(hidden, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2))
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return (self.score(hidden),)
'''


def add_remote_code(folder: Path) -> Path:
    (Path(folder) / "modeling_qwen2_rm.py").write_text(REMOTE_CODE)
    return Path(folder)
