"""LLM critic: prompt, vote parsing, majority, and a real run through the hf backend on ProcessBench items.

SmolLM2-135M's verdicts are junk: the end-to-end test checks plumbing (one batched generate call, raw outputs
recorded, votes parsed from them, labels consistent with the verdict), never the verdicts themselves.
"""
from __future__ import annotations

import json

import pytest

from stepkto_eval.audit.base import JudgeInput, labels_from_first_error
from stepkto_eval.audit.critic import CriticConfig, CriticJudge, build_prompt, majority, parse_vote
from stepkto_eval.backends.base import Completion

ITEM = JudgeInput(problem="What is 2 + 3 * 4?", steps=("3 * 4 = 12.", "2 + 12 = 15.", "The answer is \\boxed{15}."),
                  reference_solution="Multiply first: 12, then add 2: \\boxed{14}.", gold_answer="14")


# ---------------------------------------------------------------- prompt
def test_prompt_numbers_every_step_in_order():
    prompt = build_prompt(ITEM, reference=False)
    positions = [prompt.index(f"<paragraph_{i}>\n{step}\n</paragraph_{i}>") for i, step in enumerate(ITEM.steps)]
    assert positions == sorted(positions)
    assert "<paragraph_3>" not in prompt
    assert ITEM.problem in prompt and "\\boxed{-1}" in prompt


@pytest.mark.parametrize(
    "item, reference, shown, hidden",
    [
        (ITEM, False, [], ["Multiply first", "correct final answer"]),
        (ITEM, True, ["Multiply first"], ["correct final answer"]),  # the reference solution wins over the gold
        (JudgeInput("p", ("s",), None, "14"), True, ["The correct final answer is: 14"], []),
        (JudgeInput("p", ("s",), None, None), True, [], ["reference solution", "correct final answer"]),
    ],
)
def test_reference_option(item, reference, shown, hidden):
    prompt = build_prompt(item, reference=reference)
    assert all(s in prompt for s in shown)
    assert not any(h in prompt for h in hidden)


# ---------------------------------------------------------------- parsing and voting
@pytest.mark.parametrize(
    "text, n_steps, expected",
    [
        # well-formed verdicts
        ("Paragraph 1 is wrong. \\boxed{1}", 3, 1),
        ("All fine. \\boxed{-1}", 3, -1),
        ("\\boxed{ 2 }", 3, 2),
        ("$\\boxed{0}$", 3, 0),
        ("first \\boxed{2}, on reflection \\boxed{0}", 3, 0),  # the final box decides
        # no verdict: out of range, not an integer, no box, nothing
        ("\\boxed{3}", 3, None),
        ("\\boxed{-2}", 3, None),
        ("\\boxed{1.5}", 3, None),
        ("\\boxed{paragraph two}", 3, None),
        ("the second paragraph is wrong", 3, None),
        ("", 3, None),
        (None, 3, None),
    ],
)
def test_parse_vote(text, n_steps, expected):
    assert parse_vote(text, n_steps) == expected


@pytest.mark.parametrize(
    "votes, expected",
    [
        ([2, 2, 1], 2),  # plurality
        ([1, 2], 1),  # tie -> earliest error
        ([-1, 3], 3),  # "no error" ranks after every step in a tie
        ([-1, -1, 0], -1),
        ([None, None, 4], 4),  # unparsable votes do not vote
        ([None, None], None),  # no parsed vote -> no verdict
        ([], None),
    ],
)
def test_majority(votes, expected):
    assert majority(votes, n_steps=5) == expected


def test_verdict_from_completions_records_raw_outputs_and_failures():
    judge = CriticJudge(backend=None, config=CriticConfig(votes=3, temperature=0.7), name="critic:test")
    completions = [
        Completion("0|0", "Step 1 adds wrongly. \\boxed{1}", "stop"),
        Completion("0|1", None, "error", error="HTTP 500 after 3 retries"),
        Completion("0|2", "I think \\boxed{1}", "length"),
    ]
    verdict = judge._verdict(ITEM, completions)
    assert verdict.first_error == 1 and verdict.step_labels == [1, 0, None]
    assert verdict.evidence["votes"] == [1, None, 1]
    assert verdict.evidence["raw_outputs"] == [c.text for c in completions]
    assert verdict.evidence["errors"] == ["HTTP 500 after 3 retries"]
    junk = judge._verdict(ITEM, [Completion("0|0", "no idea", "stop")] * 3)
    assert junk.first_error is None and junk.step_labels == [None, None, None]
    assert junk.evidence["no_verdict_reason"] == "no parsable vote"


@pytest.mark.parametrize("bad", [dict(votes=0), dict(votes=3, temperature=0.0), dict(max_tokens=0)])
def test_config_validation(bad):
    with pytest.raises(ValueError):
        CriticConfig(**bad)


# ---------------------------------------------------------------- a real model through the hf backend
class CountingBackend:
    """Wraps a real backend and records every generate call (a spy, not a fake: the model still runs)."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []
        self.name, self.uses_chat = inner.name, inner.uses_chat

    def generate(self, requests):
        self.calls.append(list(requests))
        return self.inner.generate(requests)


@pytest.fixture(scope="module")
def pb_items(shared_data):
    # the three shortest gsm8k items: the critic prompt holds every step, and CI runs this on 2 cores
    rows = json.loads((shared_data / "processbench" / "gsm8k.json").read_text())
    rows = sorted(rows, key=lambda r: len(r["problem"]) + sum(len(s) for s in r["steps"]))[:3]
    return [JudgeInput(problem=r["problem"], steps=tuple(r["steps"])) for r in rows]


def _check_plumbing(judge: CriticJudge, backend: CountingBackend, items, votes: int):
    verdicts = judge.judge(items)
    [call] = backend.calls[-1:]
    assert len(call) == votes * len(items)  # every item x vote in one batched call
    assert all(r.messages[0]["content"] == build_prompt(it, reference=judge.config.reference)
               for r, it in zip(call[::votes], items, strict=True))
    for item, verdict in zip(items, verdicts, strict=True):
        ev = verdict.evidence
        assert len(ev["raw_outputs"]) == votes and all(isinstance(t, str) for t in ev["raw_outputs"])
        assert ev["votes"] == [parse_vote(t, len(item.steps)) for t in ev["raw_outputs"]]
        assert verdict.first_error == majority(ev["votes"], len(item.steps))
        assert verdict.step_labels == labels_from_first_error(len(item.steps), verdict.first_error)
        assert verdict.judge == judge.name
    return verdicts


@pytest.mark.slow
@pytest.mark.smollm2
def test_critic_through_smollm2(smollm2_dir, pb_items):
    from stepkto_eval.backends import make_backend

    backend = CountingBackend(make_backend("hf", str(smollm2_dir), device="cpu"))
    judge = CriticJudge(backend, CriticConfig(max_tokens=16), name=f"critic:hf:{smollm2_dir}")
    verdicts = _check_plumbing(judge, backend, pb_items, votes=1)
    assert len(backend.calls) == 1
    assert all(v.evidence["raw_outputs"][0] for v in verdicts)  # a real model wrote something


def test_critic_votes_through_the_tiny_model(tiny_model_dir, pb_items):
    from stepkto_eval.backends import make_backend

    backend = CountingBackend(make_backend("hf", str(tiny_model_dir), device="cpu"))
    config = CriticConfig(votes=3, temperature=0.9, max_tokens=12, reference=True, seed=1)
    items = [JudgeInput(it.problem, it.steps, gold_answer="18") for it in pb_items]
    first = _check_plumbing(CriticJudge(backend, config, name="critic:tiny"), backend, items, votes=3)
    assert len({r.seed for r in backend.calls[0]}) == 9  # every vote has its own seed
    # same seeds -> same votes: a resumed labeling run asks the critic the same question with the same dice
    again = CriticJudge(backend, config, name="critic:tiny").judge(items)
    assert [v.evidence["raw_outputs"] for v in again] == [v.evidence["raw_outputs"] for v in first]
