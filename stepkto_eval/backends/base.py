"""The one interface every generation backend implements: a list of requests in, the same-length
list of completions out, in the same order. Backends know nothing about tasks or grading."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol, Sequence


def prompt_special_tokens(chat_rendered: bool) -> bool:
    """The one rule for a prompt's special tokens, shared by the hf backend and the trainer (which must train
    on the very sequence that was sampled): a prompt rendered by a chat template already holds them (add
    none); a plain-text prompt gets the tokenizer's usual ones (BOS for Llama-style tokenizers). vLLM does the
    same: text prompts are tokenised with add_special_tokens=True, chat-rendered ones with False (read in
    vllm/renderers/base.py, `default_tok_params` / `default_chat_tok_params`, of the vLLM installed here)."""
    return not chat_rendered


def encode_prompt(tokenizer, text: str, chat_rendered: bool) -> list[int]:
    """Token ids of a prompt text under `prompt_special_tokens`."""
    return list(tokenizer(text, add_special_tokens=prompt_special_tokens(chat_rendered))["input_ids"])


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    max_tokens: int = 4096  # chain-of-thought needs room; never a silent 256
    stop: tuple[str, ...] = ()  # extra stop strings; EOS handling comes from the tokenizer/generation config
    # Filters and penalty beyond the OpenAI set, with vLLM's meaning. Evaluation leaves them off (the same run
    # means the same thing on every backend); a judge takes them from its checkpoint's generation config.
    top_k: int = 0  # keep the k most probable tokens; 0 = off
    min_p: float = 0.0  # drop tokens below min_p x the top token's probability; 0 = off
    repetition_penalty: float = 1.0  # > 1 discourages tokens already in the prompt or output; 1 = off

    @property
    def has_extras(self) -> bool:
        """True when a filter or penalty outside the OpenAI API's fields is on."""
        return self.top_k > 0 or self.min_p > 0 or self.repetition_penalty != 1.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GenerationRequest:
    """One completion to produce. Exactly one of `messages` (chat) or `prompt` (plain text) is set."""

    key: str  # caller's identifier, echoed back (e.g. "math500|test/algebra/1.json|3")
    messages: tuple[dict, ...] | None = None
    prompt: str | None = None
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    seed: int | None = None  # per-request seed: a resumed run regenerates the same sample


@dataclass
class Completion:
    key: str
    text: str | None  # None only when finish_reason == "error"
    finish_reason: str  # "stop" | "length" | "error"
    prompt_text: str | None = None  # the prompt as sent, when the backend rendered it
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None  # why the request failed, after bounded retries
    server: str | None = None  # which server answered (openai backend; several servers may share a run)

    def to_dict(self) -> dict:
        return asdict(self)


class Backend(Protocol):
    name: str  # "hf" | "vllm" | "openai"
    # True when the backend renders `messages` itself (the model's chat template, or a server's chat endpoint).
    # False for base models without a chat template and for a completions endpoint: callers then send `prompt`.
    uses_chat: bool

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        """Same length and order as `requests`. A failed request is a Completion with
        finish_reason="error" and `error` set, never fake text and never a raised exception for one bad item."""
        ...

    def describe(self) -> dict:
        """What the run manifest records about the model and engine (path/id, revision or hash, versions)."""
        ...

    def close(self) -> None: ...
