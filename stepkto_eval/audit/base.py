"""The one interface every step judge implements (LLM critic, discriminative PRM, arithmetic checker).

A judge sees a problem and the steps of a solution and returns per-step labels and the index of the
earliest wrong step. Label convention (shared with the labeled-data contract and the trainer):
steps before the earliest error are 1, the earliest error is 0, and steps after it are None ("not
judged") unless the judge really judged them; first_error = -1 means every step was judged right and
first_error = None means the judge gave no usable verdict (never counted as "all right").
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence


@dataclass(frozen=True)
class JudgeInput:
    problem: str
    steps: tuple[str, ...]
    reference_solution: str | None = None
    gold_answer: str | None = None


@dataclass
class StepJudgement:
    step_labels: list[int | None]
    first_error: int | None  # -1: no error found; None: no verdict
    judge: str  # the judge spec that produced it, e.g. "arith" or "critic:hf:/models/x"
    evidence: dict[str, Any] = field(default_factory=dict)  # raw model output, scores, failed claims...

    def to_dict(self) -> dict:
        return asdict(self)


def labels_from_first_error(n_steps: int, first_error: int | None) -> list[int | None]:
    """Per-step labels implied by an earliest-error index under the convention above."""
    if first_error is None:
        return [None] * n_steps
    if first_error < 0:
        return [1] * n_steps
    return [1] * first_error + [0] + [None] * (n_steps - first_error - 1)


class Judge(Protocol):
    name: str  # spec string
    kind: str  # "critic" | "prm" | "arith" | "ensemble"

    def judge(self, items: Sequence[JudgeInput]) -> list[StepJudgement]:
        """Same length and order as `items`; a failure on one item is a None verdict, not an exception."""
        ...


def judge_truncated(evidence: Any) -> bool:
    """Whether a length limit cut a judge's work on an item (a critic review stopped by max_tokens, a PRM input
    cut at max_length): evidence["truncated"]; for an ensemble, any member's."""
    if not isinstance(evidence, dict):
        return False
    if evidence.get("truncated") is True:
        return True
    return any(isinstance(m, dict) and judge_truncated(m.get("evidence")) for m in evidence.get("members") or [])
