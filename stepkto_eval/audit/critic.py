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

Model output is untrusted: the boxed content must be a bare integer in [-1, n_steps); anything else (no box,
text, out of range, a failed request) is a None vote, recorded with the raw output. An item with no parsed
vote gets first_error None ("no verdict"), never counted as correct. All items x votes go to the backend in
one `generate` call, so batching engines (vLLM, servers) see the whole workload at once.
"""
from __future__ import annotations

import hashlib
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


@dataclass(frozen=True)
class CriticConfig:
    votes: int = 1
    temperature: float = 0.0  # 0 = greedy; must be > 0 when votes > 1 (identical votes are no vote)
    top_p: float = 1.0
    max_tokens: int = 2048
    reference: bool = False  # show the reference solution / gold answer (Step-KTO labeling setting)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.votes < 1:
            raise ValueError(f"critic votes must be >= 1, got {self.votes}")
        if self.votes > 1 and self.temperature <= 0:
            raise ValueError(f"critic votes={self.votes} needs temperature > 0 (greedy votes would all be equal)")
        if self.max_tokens < 1:
            raise ValueError(f"critic max_tokens must be >= 1, got {self.max_tokens}")


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
    """The boxed paragraph index in a critic output, or None when absent, not an integer or out of range."""
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

    def __init__(self, backend: Backend, config: CriticConfig | None = None, *, name: str = "critic") -> None:
        self.backend = backend
        self.config = config or CriticConfig()
        self.name = name

    def _request(self, key: str, prompt: str, vote: int) -> GenerationRequest:
        cfg = self.config
        sampling = SamplingSettings(temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_tokens)
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
        votes = [parse_vote(c.text, n) if c.finish_reason != "error" else None for c in completions]
        first_error = majority(votes, n) if n else None
        evidence = {
            "votes": votes,
            "raw_outputs": [c.text for c in completions],
            "finish_reasons": [c.finish_reason for c in completions],
            "errors": [c.error for c in completions if c.error],
            "n_parsed_votes": sum(v is not None for v in votes),
        }
        if first_error is None:
            evidence["no_verdict_reason"] = "no steps" if n == 0 else "no parsable vote"
        return StepJudgement(labels_from_first_error(n, first_error), first_error, self.name, evidence)
