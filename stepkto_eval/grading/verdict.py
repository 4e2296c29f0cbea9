"""The result of comparing a gold answer with a candidate answer."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Verdict:
    """Why the checker decided what it decided.

    equal:      the decision.
    rule:       short machine-readable name of the rule that decided (e.g. "numeric-exact",
                "set-unordered", "no-answer", "timeout", "too-large").
    reason:     one human-readable sentence a user can audit.
    gold_norm / candidate_norm: the normalised forms the rule compared (strings, for display).
    """

    equal: bool
    rule: str
    reason: str
    gold_norm: str | None = None
    candidate_norm: str | None = None

    def __bool__(self) -> bool:  # lets callers write `if grade(g, c):`
        return self.equal

    def to_dict(self) -> dict:
        return asdict(self)
