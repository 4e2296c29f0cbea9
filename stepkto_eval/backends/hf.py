"""Backend `hf`: transformers `generate`, batched with left padding, on CPU or GPU.

Prompts: chat requests are rendered with the tokenizer's own chat template (`add_generation_prompt=True`)
and tokenised without adding special tokens again (the template already holds them); plain prompts are
tokenised as they are, with the tokenizer's usual special tokens (as vLLM does for text prompts). The rule is
`base.prompt_special_tokens`, which the trainer uses too, so it trains on the sequence that was sampled.

Stopping: the EOS ids of the model's generation config (falling back to the tokenizer's EOS), plus the
request's extra stop strings, which are cut from the returned text (the OpenAI/vLLM convention).
finish_reason is "stop" for EOS or a stop string, "length" when `max_tokens` ran out.

Sampling settings come only from the request (temperature, top_p, and the top_k / min_p / repetition
penalty a judge may ask for); sampling defaults stored in a checkpoint's generation config are ignored so
that hf, vllm and openai runs of one configuration mean the same thing.

Seeds (what is guaranteed): a sampled completion depends only on its prompt, settings and seed, never
on which other requests share its batch. Each row draws its tokens from its own `torch.Generator`
(seeded with the request's seed) inside a logits processor, and `generate` then runs greedily on the
one-hot result. The only batch effect left is floating-point noise between padded and unpadded forward
passes, which can flip a draw only when a random number lands within ~1e-7 of a bucket edge. Requests
without a seed draw from a generator seeded by torch's global RNG. Greedy requests are deterministic.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..weight_provenance import WeightsNotProvided, check_loading_report
from .base import Completion, GenerationRequest, SamplingSettings, prompt_special_tokens
from .fingerprint import describe_model

log = logging.getLogger(__name__)


# accelerate's placement strategies (transformers' `device_map` strings); "auto" fills GPUs in order, "balanced"
# evens the layers out, "balanced_low_0" keeps GPU 0 lighter (it also holds the generation's activations)
PLACEMENTS = ("auto", "balanced", "balanced_low_0", "sequential")
_DEVICE = re.compile(r"^(cpu|mps|(cuda|xpu|npu|hpu|mlu|musa)(:\d+)?)$")


@dataclass
class HFOptions:
    device: str = "auto"  # "auto" = cuda when available, else cpu; or "cpu", "cuda", "cuda:1", ...
    dtype: str = "auto"  # "auto" = the checkpoint's dtype on GPU, float32 on CPU; or float32/bfloat16/float16
    batch_size: int = 8
    revision: str | None = None  # hub revision (ignored for local paths)
    trust_remote_code: bool = False
    # Placement of a model too big for one device: auto | balanced | balanced_low_0 | sequential | a device
    # ("cuda:1", an int = that GPU). The weights load straight onto their devices (never whole into host RAM first).
    device_map: str | int | None = None
    attn_implementation: str | None = None  # eager | sdpa | flash_attention_2 | ... (None = transformers' choice)

    def __post_init__(self) -> None:
        dm = self.device_map
        if dm is not None:
            valid = (isinstance(dm, int) and not isinstance(dm, bool) and dm >= 0) or \
                (isinstance(dm, str) and (dm in PLACEMENTS or _DEVICE.match(dm)))
            if not valid:
                raise ValueError(f"backend option -O device_map={dm!r}: must be one of {', '.join(PLACEMENTS)}, "
                                 "a device (cpu, cuda, cuda:1, ...) or a GPU index")
            if self.device != "auto":
                raise ValueError(f"backend options -O device={self.device} and -O device_map={dm} both place the "
                                 "model: give one of them")
        if self.attn_implementation is not None:
            choices = attention_implementations()
            name = self.attn_implementation
            # a hub kernel ("kernels-community/flash-attn") is checked by transformers when it loads
            if not isinstance(name, str) or (name not in choices and "/" not in name):
                raise ValueError(f"backend option -O attn_implementation={name!r}: must be one of "
                                 f"{', '.join(choices)} (or a hub kernel repo id)")


def attention_implementations() -> list[str]:
    """The attention implementations this transformers knows (its registry, which the loader checks against)."""
    from transformers import AttentionInterface

    return ["eager", *sorted(AttentionInterface._global_mapping)]


class SeededSampler:
    """Logits processor that samples each row with its own generator and returns a one-hot score.

    Row i at decoding step t has drawn exactly t numbers from generator i, whatever the batch holds.
    Temperature scaling and the filters follow the usual definitions, in vLLM's order:
    p = softmax(logits / T); top-k keeps the k most probable tokens (renormalised); top-p keeps the smallest
    set of those whose mass reaches top_p; min-p drops tokens below min_p x the top token's probability.
    """

    def __init__(self, generators: list, temperature: float, top_p: float, top_k: int = 0, min_p: float = 0.0):
        self.generators = generators
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k
        self.min_p = min_p

    def __call__(self, input_ids, scores):
        import torch

        probs = torch.softmax(scores.float() / self.temperature, dim=-1)  # (batch, vocab)
        if 0 < self.top_k < probs.shape[-1]:
            kth = probs.topk(self.top_k, dim=-1).values[:, -1:]
            probs = probs.masked_fill(probs < kth, 0.0)
            probs = probs / probs.sum(dim=-1, keepdim=True)
        if self.min_p > 0:  # before top-p, which selects the same set: both only cut the tail
            probs = probs.masked_fill(probs < self.min_p * probs.max(dim=-1, keepdim=True).values, 0.0)
        if self.top_p < 1.0:
            sorted_probs, order = probs.sort(dim=-1, descending=True)
            # drop a token when the mass strictly before it already reaches top_p (the top token always stays)
            drop = (sorted_probs.cumsum(dim=-1) - sorted_probs) >= self.top_p
            sorted_probs = sorted_probs.masked_fill(drop, 0.0)
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
        chosen = [torch.multinomial(probs[i], 1, generator=g) for i, g in enumerate(self.generators)]
        out = torch.full_like(scores, float("-inf"))
        return out.scatter(-1, torch.stack(chosen), 0.0)


class StopOnText:
    """Stopping criterion: a row is done once its *generated* text contains a stop string.

    transformers' own `stop_strings` also match across the prompt boundary (a prompt ending in "\\n" plus
    a generated "\\n" matches "\\n\\n"); vLLM and OpenAI servers look only at generated text, and so
    do we. Only a tail window is decoded each step: a stop string that just completed lies within the
    last few tokens (a token can be a partial UTF-8 byte, hence the factor 4).
    """

    def __init__(self, tokenizer, stops: tuple[str, ...], prompt_width: int):
        self.tokenizer = tokenizer
        self.stops = stops
        self.width = prompt_width
        self.window = 4 * max(len(s) for s in stops) + 8

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        tails = input_ids[:, self.width:][:, -self.window:].tolist()
        texts = self.tokenizer.batch_decode(tails, skip_special_tokens=True)
        return torch.tensor([any(s in t for s in self.stops) for t in texts], device=input_ids.device)


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _resolve_dtype(dtype: str, device: str):
    import torch

    if dtype == "auto":
        return torch.float32 if device == "cpu" else "auto"
    return getattr(torch, dtype)


# A generous bound on characters per token: real vocabularies average 3-5 characters per token and their
# longest tokens are runs of a few dozen spaces or dashes, so text over this many characters per context
# position cannot fit whatever it holds.
MAX_CHARS_PER_TOKEN = 64


class PromptTooLong(ValueError):
    """The prompt is longer than the model's context window."""


def _context_length(config) -> int | None:
    """The number of positions the model was built for (None when the config does not say)."""
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    text_config = getattr(config, "text_config", None)
    return _context_length(text_config) if text_config is not None and text_config is not config else None


class HFBackend:
    name = "hf"

    def __init__(self, model: str, **options):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

        self.model_path = str(model)
        self.options = HFOptions(**options)
        # where the weights go: the placement strategy, else the one device
        placement = self.options.device_map if self.options.device_map is not None else \
            _resolve_device(self.options.device)
        self.placement = placement
        on_cpu = placement == "cpu" or (placement in PLACEMENTS and not torch.cuda.is_available())
        path = Path(self.model_path)
        # A local .gguf file: transformers dequantises it; the tokenizer comes from the same file.
        source, extra = (str(path.parent), {"gguf_file": path.name}) if path.suffix == ".gguf" and path.is_file() \
            else (self.model_path, {})
        common = dict(revision=self.options.revision, trust_remote_code=self.options.trust_remote_code, **extra)
        self.tokenizer = AutoTokenizer.from_pretrained(source, **common)
        attention = {"attn_implementation": self.options.attn_implementation} \
            if self.options.attn_implementation else {}
        # device_map loads each tensor straight onto its device (no full copy in host RAM first).
        # loading_info (missing / unexpected / mismatched keys): a model with a missing or resized tensor would
        # generate with random weights, so it is refused here (ignore_mismatched_sizes: transformers then reports
        # a resized tensor by name instead of raising a RuntimeError that names none); a critic also refuses unused tensors
        # (audit/critic.py, check_provenance).
        from ..engines import EngineHandle

        self._handle = EngineHandle("hf", self.model_path, on_gpu=not on_cpu).start()
        try:
            self.model, self.loading_info = AutoModelForCausalLM.from_pretrained(
                source, dtype=_resolve_dtype(self.options.dtype, "cpu" if on_cpu else "cuda"), device_map=placement,
                output_loading_info=True, ignore_mismatched_sizes=True, **attention, **common)
            check_loading_report(self.model_path, self.loading_info, purpose="generate", refuse_unused=False)
        except FileNotFoundError as exc:  # a shard named by the index is absent (an interrupted download)
            self._handle.stop(wait=0)
            raise WeightsNotProvided(f"{self.model_path}: a weights file of the checkpoint is missing ({exc}); "
                                     "download the checkpoint again") from None
        except BaseException:
            self._handle.stop(wait=0)
            raise
        self._handle.ready()
        self.model.eval()
        # inputs go where the embeddings are, and each row's sampler lives where the logits come out
        self.device = str(self.model.get_input_embeddings().weight.device)
        self.logits_device = str(self.model.get_output_embeddings().weight.device)
        self.tokenizer.padding_side = "left"  # generated tokens must follow every prompt directly
        self.eos_ids = self._eos_ids()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token_id = self.eos_ids[0]
        # Keep only the special token ids of the checkpoint's generation config: its sampling and penalty
        # defaults (top_k, repetition_penalty, no_repeat_ngram_size, ...) would otherwise leak into generate.
        self.model.generation_config = GenerationConfig(
            eos_token_id=self.eos_ids, pad_token_id=self.tokenizer.pad_token_id,
            bos_token_id=self.model.generation_config.bos_token_id,
        )
        self.uses_chat = bool(getattr(self.tokenizer, "chat_template", None))
        self.context_length = _context_length(self.model.config)
        self._torch = torch

    def _eos_ids(self) -> list[int]:
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        ids = [eos] if isinstance(eos, int) else list(eos or [])
        if not ids:
            raise ValueError(f"{self.model_path}: neither generation config nor tokenizer defines an EOS token")
        return ids

    # ---- prompts -------------------------------------------------------------------------------
    def render(self, request: GenerationRequest) -> tuple[str, bool]:
        """(prompt text, whether the tokenizer should add its special tokens)."""
        if request.messages is not None:
            if not self.uses_chat:
                raise ValueError("the tokenizer has no chat template: send a plain `prompt` instead of `messages`")
            text = self.tokenizer.apply_chat_template(
                list(request.messages), tokenize=False, add_generation_prompt=True
            )
            return text, prompt_special_tokens(chat_rendered=True)
        if request.prompt is None:
            raise ValueError("request has neither `messages` nor `prompt`")
        return request.prompt, prompt_special_tokens(chat_rendered=False)

    def check_length(self, text: str, add_special_tokens: bool) -> None:
        """Refuse a prompt that does not fit the model's context (a per-sample error, as vLLM reports it with
        `max_model_len`): sent whole, a huge prompt would make `generate` allocate without bound. Text far
        longer than any tokenisation of `context` tokens could be is refused without tokenising it."""
        limit = self.context_length
        if limit is None:
            return
        if len(text) > limit * MAX_CHARS_PER_TOKEN:
            raise PromptTooLong(f"prompt of {len(text):,} characters cannot fit the model's context of "
                                f"{limit:,} tokens")
        n_tokens = len(self.tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"])
        if n_tokens >= limit:
            raise PromptTooLong(f"prompt of {n_tokens:,} tokens does not fit the model's context of {limit:,} "
                                "tokens (no room for the completion)")

    # ---- generation ----------------------------------------------------------------------------
    def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        results: list[Completion | None] = [None] * len(requests)
        rendered: dict[int, tuple[str, bool]] = {}
        for i, request in enumerate(requests):
            try:
                text, special = self.render(request)
                self.check_length(text, special)
                rendered[i] = (text, special)
            except Exception as exc:  # one bad request is recorded, the rest still run
                results[i] = Completion(request.key, None, "error", error=f"{type(exc).__name__}: {exc}")
        # Group by settings (one sampler per batch) and sort by prompt length so batches pad little;
        # order is restored through the indices.
        groups: dict[tuple, list[int]] = {}
        for i in rendered:
            groups.setdefault((requests[i].sampling, rendered[i][1]), []).append(i)
        for (sampling, special), indices in groups.items():
            indices.sort(key=lambda i: len(rendered[i][0]))
            for start in range(0, len(indices), self.options.batch_size):
                chunk = indices[start:start + self.options.batch_size]
                done = self._run_isolated(requests, rendered, chunk, sampling, special)
                for i, completion in zip(chunk, done, strict=True):
                    results[i] = completion
        return results  # type: ignore[return-value]

    def _run_isolated(self, requests, rendered, chunk, sampling, special) -> list[Completion]:
        """Run a batch; if it fails, rerun its requests one by one so only the bad one is an error."""
        try:
            return self._run_batch([requests[i] for i in chunk], [rendered[i][0] for i in chunk], sampling, special)
        except Exception as exc:
            if len(chunk) == 1:
                log.warning("hf generation failed for %s: %s", requests[chunk[0]].key, exc)
                return [Completion(requests[chunk[0]].key, None, "error", error=f"{type(exc).__name__}: {exc}")]
            return [c for i in chunk for c in self._run_isolated(requests, rendered, [i], sampling, special)]

    def _run_batch(self, requests: list[GenerationRequest], prompts: list[str], sampling: SamplingSettings,
                   add_special_tokens: bool) -> list[Completion]:
        torch = self._torch
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=add_special_tokens)
        batch = batch.to(self.device)
        kwargs: dict = dict(
            max_new_tokens=sampling.max_tokens, do_sample=False, eos_token_id=self.eos_ids,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        processors = []
        if sampling.repetition_penalty != 1.0:  # before temperature, as transformers and vLLM apply it
            from transformers import RepetitionPenaltyLogitsProcessor

            processors.append(RepetitionPenaltyLogitsProcessor(sampling.repetition_penalty))
        if sampling.temperature > 0:
            processors.append(SeededSampler([self._generator(r.seed) for r in requests], sampling.temperature,
                                            sampling.top_p, sampling.top_k, sampling.min_p))
        if processors:
            kwargs["logits_processor"] = processors
        if sampling.stop:
            kwargs["stopping_criteria"] = [StopOnText(self.tokenizer, sampling.stop, batch["input_ids"].shape[1])]
        with torch.inference_mode():
            output = self.model.generate(**batch, **kwargs)
        width = batch["input_ids"].shape[1]  # output = (batch, width + generated), prompts left-padded
        prompt_counts = batch["attention_mask"].sum(dim=1).tolist()
        return [
            self._finish(r, p, int(n), output[row, width:].tolist(), sampling)
            for row, (r, p, n) in enumerate(zip(requests, prompts, prompt_counts, strict=True))
        ]

    def _generator(self, seed: int | None):
        torch = self._torch
        generator = torch.Generator(device=self.logits_device)
        generator.manual_seed(seed if seed is not None else int(torch.randint(0, 2**62, (1,)).item()))
        return generator

    def _finish(self, request: GenerationRequest, prompt: str, prompt_tokens: int, tokens: list[int],
                sampling: SamplingSettings) -> Completion:
        """Cut a generated row at EOS or the first stop string and classify how it ended."""
        eos_at = next((k for k, t in enumerate(tokens) if t in self.eos_ids), None)
        body = tokens if eos_at is None else tokens[:eos_at]
        text = self._decode(body)
        hits = [text.find(s) for s in sampling.stop if s in text]
        if hits:
            text = text[:min(hits)]
            used, reason = self._tokens_until_stop(body, sampling.stop), "stop"
        elif eos_at is not None:
            used, reason = eos_at + 1, "stop"
        else:
            used, reason = len(tokens), "length"
        return Completion(request.key, text, reason, prompt_text=prompt, prompt_tokens=prompt_tokens,
                          completion_tokens=used)

    def _decode(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=True)

    def _tokens_until_stop(self, tokens: list[int], stops: tuple[str, ...]) -> int:
        """Fewest leading tokens whose text contains a stop string (monotone in k: binary search)."""
        low, high = 1, len(tokens)
        while low < high:
            mid = (low + high) // 2
            if any(s in self._decode(tokens[:mid]) for s in stops):
                high = mid
            else:
                low = mid + 1
        return high

    def describe(self) -> dict:
        import transformers

        entry = describe_model(self.model_path, self.options.revision)
        commit = getattr(self.model.config, "_commit_hash", None)
        if commit and "fingerprint" not in entry:
            entry["revision"] = commit
        return {
            "backend": self.name, **entry, "device": self.device, "dtype": str(self.model.dtype),
            "placement": self.placement,  # device_map as asked; hf_device_map: where modules went when split
            "hf_device_map": {k: str(v) for k, v in (getattr(self.model, "hf_device_map", None) or {}).items()},
            "attn_implementation": getattr(self.model.config, "_attn_implementation", None),
            "batch_size": self.options.batch_size, "eos_token_ids": self.eos_ids, "uses_chat": self.uses_chat,
            "transformers": transformers.__version__, "torch": self._torch.__version__,
        }

    def close(self) -> None:
        from ..engines import free_accelerator_memory

        self.model = None
        free_accelerator_memory()  # gc first: a reference cycle would keep the weights on the device
        if getattr(self, "_handle", None) is not None:
            self._handle.stop(wait=0)
            self._handle = None
