"""Union ensemble of step judges: a step is flagged when any member flags it; the earliest flag wins.

Typical use is `arith+critic:...`: the arithmetic checker is a cheap, high-precision first pass and the
critic adds recall. Combination rule per item, over the members' first_error values:

* any member flagged a step (first_error >= 0) -> the smallest such index;
* otherwise, every member said "no error" (-1) -> -1;
* otherwise (some member gave no verdict and nobody flagged) -> None: an unjudged member may have found an
  error, so the item is not counted as clean.

Labels follow `labels_from_first_error`. The members' own judgements are kept in evidence["members"].
"""
from __future__ import annotations

from typing import Sequence

from stepkto_eval.audit.base import Judge, JudgeInput, StepJudgement, labels_from_first_error


def combine_first_errors(first_errors: Sequence[int | None]) -> int | None:
    flagged = [f for f in first_errors if f is not None and f >= 0]
    if flagged:
        return min(flagged)
    if first_errors and all(f == -1 for f in first_errors):
        return -1
    return None


class EnsembleJudge:
    kind = "ensemble"

    def __init__(self, members: Sequence[Judge], *, name: str | None = None) -> None:
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two judges")
        self.members = list(members)
        self.name = name or "+".join(m.name for m in self.members)

    def close(self) -> None:
        for member in self.members:
            if callable(getattr(member, "close", None)):
                member.close()

    def judge(self, items: Sequence[JudgeInput]) -> list[StepJudgement]:
        per_member = [m.judge(items) for m in self.members]
        out = []
        for i, item in enumerate(items):
            verdicts = [judgements[i] for judgements in per_member]
            first_error = combine_first_errors([v.first_error for v in verdicts])
            evidence = {"members": [{"judge": v.judge, "first_error": v.first_error, "evidence": v.evidence}
                                    for v in verdicts]}
            out.append(StepJudgement(labels_from_first_error(len(item.steps), first_error), first_error,
                                     self.name, evidence))
        return out
