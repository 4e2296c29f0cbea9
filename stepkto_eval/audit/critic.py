"""LLM critic: a generative model reads the numbered steps and names the earliest wrong one.

The setting follows ProcessBench (Zheng et al., 2024, "ProcessBench: Identifying Process Errors in Mathematical
Reasoning"): the solution is shown as numbered paragraphs `<paragraph_i>` (0-based), the critic reviews them in
order and writes the index of the earliest incorrect paragraph, or -1 when all are correct, inside `\\boxed{}`.
The prompt below is our own wording. Options:

* reference: show the reference solution (or, without one, the gold answer) to the critic — the Step-KTO
  setting, where the labeling judge sees the ground truth;
* votes k at temperature > 0: the verdict is the plurality of the parsed votes. Ties are broken towards the
  earliest error, with -1 ("no error") ordered after every step — so a tie between "error at 2" and "no error"
  yields 2: a labeler should rather mark a doubtful step than miss an error.

Reasoning judges (QwQ, DeepSeek-R1 distills) think before they answer, often for thousands of tokens, and
their chat templates may open `<think>` in the *prompt*, so the output holds only the closing `</think>`.
Only the text after the thinking counts: after the last `</think>` when there is one; an output whose
thinking was opened (in the output, or at the end of the rendered prompt) but never closed has no review,
so no vote — a `\\boxed{}` met mid-thought is not a verdict. A review stopped by the length limit
(finish_reason "length") is no vote either, whatever it holds, and is counted (evidence "n_truncated",
"truncated"; ProcessBench and `--audit` metrics report the judge's truncation rate).

Sampling: temperature, top_p, top_k, min_p, repetition_penalty and max_tokens left unset take the judge
checkpoint's generation_config.json (the sampling its card asks for, e.g. QwQ's temperature 0.6 / top_p 0.95;
greedy when it says do_sample=false or has no temperature; the filters only when it samples, the repetition
penalty either way, as transformers applies them); spec values win. Every backend applies all five (hf in its
own sampler, vLLM natively, an OpenAI-compatible server only in `sampling_fields=vllm` mode — a plain OpenAI
server has no such fields, and a request that needs them is refused there rather than sampled otherwise). max_tokens defaults to 32768, bounded by the
model's context minus room for the prompt (`default_max_tokens`), since reasoning judges think at length.

Model output is untrusted: the boxed content must be a bare integer in [-1, n_steps); anything else (no box,
text, out of range, a failed request) is a None vote, recorded with the raw output. An item with no parsed
vote gets first_error None ("no verdict"), never counted as correct. All items x votes go to the backend in
one `generate` call, so batching engines (vLLM, servers) see the whole workload at once.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from stepkto_eval.audit.base import JudgeInput, StepJudgement, labels_from_first_error
from stepkto_eval.backends.base import Backend, GenerationRequest, SamplingSettings

_INSTRUCTIONS = (
    "Below is a math problem and a proposed step-by-step solution, split into numbered paragraphs. "
    "Check the paragraphs one at a time, in order: is the arithmetic right, is the algebra right, does the "
    "reasoning follow from the problem and from the earlier paragraphs? Stop at the first paragraph that "
    "contains a mistake.\n\n"
    "End your review with the index of that paragraph inside \\boxed{}, for example \\boxed{3}. "
    "If every paragraph is correct, end with \\boxed{-1}."
)
_INT = re.compile(r"^[+-]?\d{1,6}$")


MAX_TOKENS_CAP = 32768  # reasoning judges think for thousands of tokens before the verdict
PROMPT_ROOM = 4096  # tokens kept free for the critic prompt when the context bounds max_tokens


@dataclass(frozen=True)
class CriticConfig:
    votes: int = 1
    # None = from the judge checkpoint's generation_config.json (module docstring); 0 = greedy.
    temperature: float | None = None  # must be > 0 when votes > 1 (identical votes are no vote)
    top_p: float | None = None
    top_k: int | None = None  # 0 = off
    min_p: float | None = None  # 0 = off
    repetition_penalty: float | None = None  # 1 = off
    max_tokens: int | None = None  # None = default_max_tokens(the model's context)
    reference: bool = False  # show the reference solution / gold answer (Step-KTO labeling setting)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.votes < 1:
            raise ValueError(f"critic votes must be >= 1, got {self.votes}")
        if self.votes > 1 and self.temperature is not None and self.temperature <= 0:
            raise ValueError(f"critic votes={self.votes} needs temperature > 0 (greedy votes would all be equal)")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"critic max_tokens must be >= 1, got {self.max_tokens}")
        if self.top_k is not None and self.top_k < 0:
            raise ValueError(f"critic top_k must be >= 0 (0 = off), got {self.top_k}")
        if self.min_p is not None and not 0 <= self.min_p < 1:
            raise ValueError(f"critic min_p must be in [0, 1), got {self.min_p}")
        if self.repetition_penalty is not None and self.repetition_penalty <= 0:
            raise ValueError(f"critic repetition_penalty must be > 0 (1 = off), got {self.repetition_penalty}")


def default_max_tokens(context: int | None) -> int:
    """MAX_TOKENS_CAP, bounded by the context length less room for the prompt (half the context if small)."""
    if not context:
        return MAX_TOKENS_CAP
    return max(1, min(MAX_TOKENS_CAP, context - min(PROMPT_ROOM, context // 2)))


def checkpoint_defaults(model: str | None) -> dict:
    """Sampling defaults from a judge checkpoint (local folder or cached hub id): temperature / top_p from
    generation_config.json, the context length from config.json. Empty when there is no such checkpoint
    (e.g. a served model name behind the openai backend)."""
    from pathlib import Path

    if not model:
        return {}
    folder = Path(model).parent if model.endswith(".gguf") else Path(model)
    found: dict = {}

    def read(name: str) -> dict:
        path = folder / name
        if not path.is_file():
            try:
                from transformers.utils.hub import cached_file

                # the backend has fetched the checkpoint already: the local cache is enough (and a served
                # model name behind the openai backend must not send us to the hub)
                hit = cached_file(model, name, local_files_only=True, _raise_exceptions_for_missing_entries=False,
                                  _raise_exceptions_for_connection_errors=False)
            except (OSError, ValueError):
                hit = None
            if not hit:
                return {}
            path = Path(hit)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    gen, cfg = read("generation_config.json"), read("config.json")
    if gen:
        if gen.get("do_sample") is False or gen.get("temperature") is None:
            found["temperature"] = 0.0  # the checkpoint asks for greedy decoding
        elif isinstance(gen["temperature"], (int, float)):
            found["temperature"] = float(gen["temperature"])
            # the filters only shape sampling; transformers ignores them when decoding greedily
            for key, kind in (("top_p", float), ("top_k", int), ("min_p", float)):
                if isinstance(gen.get(key), (int, float)) and not isinstance(gen.get(key), bool):
                    found[key] = kind(gen[key])
        # a repetition penalty changes greedy decoding too (transformers and vLLM apply it either way)
        if isinstance(gen.get("repetition_penalty"), (int, float)) and gen["repetition_penalty"] > 0:
            found["repetition_penalty"] = float(gen["repetition_penalty"])
    text_cfg = cfg.get("text_config") if isinstance(cfg.get("text_config"), dict) else cfg
    context = text_cfg.get("max_position_embeddings")
    if isinstance(context, int) and context > 0:
        found["context"] = context
    return found


def resolve_config(config: CriticConfig, model: str | None) -> tuple[CriticConfig, dict]:
    """Fill the unset sampling fields from the checkpoint; returns the config and where each value came from."""
    found = checkpoint_defaults(model)
    values, source = {}, {}
    for key, fallback in (("temperature", 0.0), ("top_p", 1.0), ("top_k", 0), ("min_p", 0.0),
                          ("repetition_penalty", 1.0)):
        given = getattr(config, key)
        values[key] = given if given is not None else found.get(key, fallback)
        source[key] = "spec" if given is not None else "generation_config.json" if key in found else "default"
    if config.max_tokens is not None:
        values["max_tokens"], source["max_tokens"] = config.max_tokens, "spec"
    else:
        values["max_tokens"] = default_max_tokens(found.get("context"))
        source["max_tokens"] = f"default (context {found['context']})" if "context" in found else "default"
    if config.votes > 1 and values["temperature"] <= 0:
        raise ValueError(f"critic votes={config.votes} needs temperature > 0, and the checkpoint's generation "
                         f"config gives {values['temperature']} (greedy votes would all be equal); set temperature=")
    return dataclasses.replace(config, **values), source


def build_prompt(item: JudgeInput, *, reference: bool) -> str:
    """The critic's user message for one item (problem, optional ground truth, numbered paragraphs)."""
    parts = [_INSTRUCTIONS, f"Problem:\n{item.problem.strip()}"]
    if reference and item.reference_solution:
        parts.append(
            "A correct reference solution (use it to check the paragraphs; a different but valid route "
            f"is not a mistake):\n{item.reference_solution.strip()}"
        )
    elif reference and item.gold_answer is not None:
        parts.append(f"The correct final answer is: {item.gold_answer}")
    paragraphs = "\n\n".join(
        f"<paragraph_{i}>\n{step.strip()}\n</paragraph_{i}>" for i, step in enumerate(item.steps)
    )
    parts.append(f"Proposed solution:\n{paragraphs}")
    return "\n\n".join(parts)


def parse_vote(text: str | None, n_steps: int) -> int | None:
    """The boxed paragraph index in a critic review, or None when absent, not an integer or out of range."""
    from stepkto_eval.grading import extract_answer

    if not text:
        return None
    boxed = extract_answer(text)
    if boxed is None:
        return None
    cleaned = boxed.strip().strip("$").strip()
    if not _INT.match(cleaned):
        return None
    index = int(cleaned)
    return index if -1 <= index < n_steps else None


def prompt_opens_think(prompt_text: str | None) -> bool:
    """True when the rendered prompt leaves a `<think>` block open (the template starts the thinking)."""
    return bool(prompt_text) and prompt_text.rfind("<think>") > prompt_text.rfind("</think>")


def review_part(text: str | None, prompt_text: str | None = None) -> tuple[str | None, str]:
    """The part of a critic output that counts (module docstring) and how it was found."""
    if not text:
        return None, "no output"
    if "</think>" in text:
        return text.rsplit("</think>", 1)[1], "after </think>"
    if "<think>" in text:
        return None, "thinking never closed"
    if prompt_opens_think(prompt_text):
        return None, "thinking opened by the prompt never closed"
    return text, "whole output"


def majority(votes: Sequence[int | None], n_steps: int) -> int | None:
    """Plurality of the parsed votes; ties go to the earliest error (-1 sorts after every step)."""
    counts = Counter(v for v in votes if v is not None)
    if not counts:
        return None
    best = max(counts.values())
    return min((v for v, c in counts.items() if c == best), key=lambda v: n_steps if v < 0 else v)


def _seed(base: int, prompt: str, vote: int) -> int:
    # Derived from the content, not the batch position: a resumed or re-batched run asks for the same votes.
    digest = hashlib.sha256(f"{base}|{vote}|{prompt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class CriticJudge:
    kind = "critic"

    def __init__(self, backend: Backend, config: CriticConfig | None = None, *, name: str = "critic",
                 model: str | None = None, owns_backend: bool = False) -> None:
        self.backend = backend
        loading_info = getattr(backend, "loading_info", None)
        if loading_info is not None:  # a judge never reviews with weights its checkpoint did not provide
            from stepkto_eval.audit.prm import check_provenance

            check_provenance(str(model or getattr(backend, "model_path", "critic")), loading_info)
        self.config, self.sampling_source = resolve_config(config or CriticConfig(),
                                                           model or getattr(backend, "model_path", None))
        self.name = name
        self.owns_backend = owns_backend  # built for this judge (registry.py): close() releases it

    def close(self) -> None:
        """Release the critic's engine (and its GPU memory) when this judge created it."""
        if self.owns_backend and self.backend is not None:
            self.backend.close()
            self.backend = None

    def _request(self, key: str, prompt: str, vote: int) -> GenerationRequest:
        cfg = self.config
        sampling = SamplingSettings(temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_tokens,
                                    top_k=cfg.top_k, min_p=cfg.min_p, repetition_penalty=cfg.repetition_penalty)
        seed = _seed(cfg.seed, prompt, vote)
        if self.backend.uses_chat:
            messages = ({"role": "user", "content": prompt},)
            return GenerationRequest(key=key, messages=messages, sampling=sampling, seed=seed)
        # Base models without a chat template get the same text and an explicit cue to start the review.
        return GenerationRequest(key=key, prompt=f"{prompt}\n\nReview:\n", sampling=sampling, seed=seed)

    def judge(self, items: Sequence[JudgeInput]) -> list[StepJudgement]:
        prompts = [build_prompt(item, reference=self.config.reference) for item in items]
        requests = [
            self._request(f"{i}|{v}", prompt, v)
            for i, prompt in enumerate(prompts)
            for v in range(self.config.votes)
        ]
        completions = self.backend.generate(requests) if requests else []
        if len(completions) != len(requests):
            raise RuntimeError(f"backend returned {len(completions)} completions for {len(requests)} requests")
        k = self.config.votes
        return [self._verdict(item, completions[i * k:(i + 1) * k]) for i, item in enumerate(items)]

    def _verdict(self, item: JudgeInput, completions) -> StepJudgement:
        n = len(item.steps)
        votes, how = [], []
        for c in completions:
            vote, found = None, "request failed"
            if c.finish_reason == "length":  # cut mid-review: whatever it holds is not a verdict
                found = "cut by the length limit"
            elif c.finish_reason != "error":
                review, found = review_part(c.text, c.prompt_text)
                vote = parse_vote(review, n)
            votes.append(vote)
            how.append(found)
        first_error = majority(votes, n) if n else None
        truncated = [c.finish_reason == "length" for c in completions]
        evidence = {
            "votes": votes,
            "raw_outputs": [c.text for c in completions],
            "finish_reasons": [c.finish_reason for c in completions],
            "review_parts": how,
            "errors": [c.error for c in completions if c.error],
            "n_parsed_votes": sum(v is not None for v in votes),
            "n_truncated": sum(truncated),
            "truncated": any(truncated),
            "sampling": {"temperature": self.config.temperature, "top_p": self.config.top_p,
                         "top_k": self.config.top_k, "min_p": self.config.min_p,
                         "repetition_penalty": self.config.repetition_penalty,
                         "max_tokens": self.config.max_tokens, "source": self.sampling_source},
        }
        if first_error is None:
            if n == 0:
                reason = "no steps"
            elif truncated and all(truncated):
                reason = "review cut by the length limit"
            elif any(h.startswith("thinking") for h in how):
                reason = "thinking never finished"
            else:
                reason = "no parsable vote"
            evidence["no_verdict_reason"] = reason
        return StepJudgement(labels_from_first_error(n, first_error), first_error, self.name, evidence)
