"""Union ensemble: flag if any member flags, earliest flag wins, no verdict is never counted as clean."""
from __future__ import annotations

import pytest

from stepkto_eval.audit.arith import ArithJudge
from stepkto_eval.audit.base import JudgeInput
from stepkto_eval.audit.ensemble import EnsembleJudge, combine_first_errors


@pytest.mark.parametrize(
    "first_errors, expected",
    [
        ([-1, -1], -1),  # both clean
        ([2, -1], 2),  # either flags
        ([3, 1], 1),  # earliest wins
        ([None, 2], 2),  # a flag counts even when the other member has no verdict
        ([None, -1], None),  # the unjudged member might have found an error
        ([None, None], None),
    ],
)
def test_combine_first_errors(first_errors, expected):
    assert combine_first_errors(first_errors) == expected


def test_ensemble_of_real_judges_keeps_member_evidence():
    ens = EnsembleJudge([ArithJudge(), ArithJudge(name="arith-2")])
    assert ens.name == "arith+arith-2" and ens.kind == "ensemble"
    items = [JudgeInput("p", ("2 + 2 = 4.", "4 * 3 = 13.", "Done.")), JudgeInput("p", ("1 + 1 = 2.",))]
    flagged, clean = ens.judge(items)
    assert (flagged.first_error, flagged.step_labels) == (1, [1, 0, None])
    assert (clean.first_error, clean.step_labels) == (-1, [1])
    assert [m["judge"] for m in flagged.evidence["members"]] == ["arith", "arith-2"]


def test_ensemble_needs_two_members():
    with pytest.raises(ValueError, match="at least two"):
        EnsembleJudge([ArithJudge()])
