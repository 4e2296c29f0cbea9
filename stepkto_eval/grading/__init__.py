"""Answer extraction and equivalence checking.

`extract_answer(text)` finds a completion's final answer; `grade(gold, candidate)` decides whether it
is the same mathematical answer as the gold and explains why (a `Verdict`).  The policy is in the
README ("Grading policy") and in the docstrings of `structure_equality.py` and `values.py`.
"""
from .equivalence import CHECKER_VERSION, grade, is_equivalent
from .extract import extract_answer
from .verdict import Verdict

__all__ = ["CHECKER_VERSION", "Verdict", "extract_answer", "grade", "is_equivalent"]
