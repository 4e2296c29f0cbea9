"""Bounds on the work one `grade` call may do.

Model output is untrusted, so every expensive step is bounded *by construction* rather than by a
signal: SIGALRM only works in the main thread, and `grade` must stay bounded inside threads, thread
pools and worker processes.  Two mechanisms do it:

* size limits checked *before* computing (input length, nesting depth, the bit length an exact
  power or factorial would have), so no single arithmetic operation can run long;
* a cooperative deadline (`Budget.check`) polled by the parser and the evaluators at every node,
  so the sum of many cheap steps cannot run long either.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

MAX_INPUT_CHARS = 20_000  # longer answers are refused before parsing ("too-large")
MAX_NESTING = 60  # brackets/braces deeper than this are not a plausible final answer
MAX_EXACT_BITS = 40_000  # ~12k decimal digits: beyond this exact rationals give way to mpmath
MAX_LITERAL_DIGITS = 4_000  # Python refuses int(str) above 4,300 digits by default
MAX_EXACT_FACTORIAL = 3_000  # 3000! has ~9,100 digits
MAX_APPROX_FACTORIAL = 10**7  # mpmath evaluates n! through the gamma function; beyond: too large
MAX_TRIG_ARGUMENT_BITS = 10_000  # sin(2^k) needs ~k extra bits of argument reduction
MAX_APPROX_LOG2 = 10**12  # |log2(value)| beyond this (e.g. 10^(10^(10^10))) is refused


class GradingError(Exception):
    """Base class of the bounded-failure signals raised inside the checker."""


class Timeout(GradingError):
    """The cooperative deadline passed."""


class TooLarge(GradingError):
    """A size limit would be exceeded by computing this exactly."""


@dataclass
class Budget:
    """A deadline shared by all steps of one `grade` call."""

    seconds: float = 1.0
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + max(self.seconds, 0.0)

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise Timeout(f"exceeded the {self.seconds:g} s budget")

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


def check_exact_bits(bits: int, what: str) -> None:
    """Refuse an exact result whose size estimate exceeds MAX_EXACT_BITS."""
    if bits > MAX_EXACT_BITS:
        raise TooLarge(f"{what} would need about {bits:,} bits")
