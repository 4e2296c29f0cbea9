"""PRM judge: both model families run for real on tiny random transformers models, plus threshold tuning.

The tiny models' scores are meaningless; the tests check plumbing against an independent computation
(the model run by hand, scores read at the positions of the separator/tag token ids) and the verdict rules.
"""
from __future__ import annotations

import json

import pytest
from helpers.prm_models import SEP, TAG

from stepkto_eval.audit.base import JudgeInput
from stepkto_eval.audit.prm import (
    PRMJudge,
    PRMSpec,
    first_error_from_scores,
    labels_from_scores,
    tune_threshold,
)


@pytest.fixture(scope="module")
def pb_items(shared_data):
    rows = json.loads((shared_data / "processbench" / "gsm8k.json").read_text())[:4]
    return [JudgeInput(problem=r["problem"], steps=tuple(r["steps"])) for r in rows]


def _manual_scores(judge: PRMJudge, item: JudgeInput, marker_id: int) -> list[float]:
    """Independent path: run the model on the rendered text, read scores where the marker id occurs."""
    import torch

    text, _ = judge.build_text(item)
    ids = judge.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        logits = judge.model(input_ids=ids).logits[0]
    positions = (ids[0] == marker_id).nonzero().flatten().tolist()
    if judge.spec.family == "qwen-prm":
        probs = logits.softmax(-1)[:, 1]
    else:
        good, bad = judge.candidate_ids
        probs = logits[:, [good, bad]].softmax(-1)[:, 0]
    return [float(probs[p]) for p in positions]


@pytest.mark.parametrize("family", ["qwen-prm", "step-tag"])
def test_scores_match_an_independent_forward_pass(family, qwen_prm_dir, step_tag_dir, pb_items):
    folder = qwen_prm_dir if family == "qwen-prm" else step_tag_dir
    judge = PRMJudge(PRMSpec(model=str(folder), family=family, batch_size=3))
    marker_id = judge.tokenizer.convert_tokens_to_ids(SEP if family == "qwen-prm" else TAG)
    scores = judge.score(pb_items)  # batched, right-padded, sorted by length
    assert [len(s) for s in scores] == [len(item.steps) for item in pb_items]
    for item, got in zip(pb_items, scores, strict=True):
        assert got == pytest.approx(_manual_scores(judge, item, marker_id), abs=1e-5)
        assert all(0.0 < s < 1.0 for s in got)


@pytest.mark.parametrize("family", ["qwen-prm", "step-tag"])
def test_verdicts_follow_threshold_and_label_convention(family, qwen_prm_dir, step_tag_dir, pb_items):
    folder = qwen_prm_dir if family == "qwen-prm" else step_tag_dir
    judge = PRMJudge(PRMSpec(model=str(folder), family=family))
    scores = judge.score(pb_items)
    middle = sorted(s for item in scores for s in item)[len(scores) * 2]
    for threshold in (0.0, middle, 1.0):
        judge.spec = PRMSpec(model=str(folder), family=family, threshold=threshold)
        for item, verdict, item_scores in zip(pb_items, judge.judge(pb_items), scores, strict=True):
            expected = next((i for i, s in enumerate(item_scores) if s < threshold), -1)
            assert verdict.first_error == expected
            n = len(item.steps)
            want = [1] * n if expected == -1 else [1] * expected + [0] + [None] * (n - expected - 1)
            assert verdict.step_labels == want
            assert verdict.evidence["step_scores"] == pytest.approx(item_scores, abs=1e-5)
            assert verdict.evidence["truncated"] is False
    # threshold 0 flags nothing, threshold 1 flags the first step (random probabilities are < 1)
    assert expected == 0


def test_turns_template_reads_the_prediction_of_each_reply(step_tag_dir, pb_items):
    """RLHFlow layout: independent path renders the chat up to each step's user turn with a generation
    prompt and reads the last position's P(good) / (P(good) + P(bad))."""
    import torch

    judge = PRMJudge(PRMSpec(model=str(step_tag_dir), family="step-tag", template="turns", batch_size=2))
    good, bad = judge.candidate_ids
    items = sorted(pb_items, key=lambda it: len(it.steps))[:2]  # the shortest items keep this quick
    scores = judge.score(items)
    for item, got in zip(items, scores, strict=True):
        expected, messages = [], []
        for k, step in enumerate(item.steps):
            content = f"{item.problem.strip()} {step.strip()}" if k == 0 else step.strip()
            messages.append({"role": "user", "content": content})
            text = judge.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            ids = judge.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
            with torch.inference_mode():
                last = judge.model(input_ids=ids).logits[0, -1]
            expected.append(float(last[[good, bad]].softmax(-1)[0]))
            messages.append({"role": "assistant", "content": "+"})
        assert got == pytest.approx(expected, abs=1e-5)


def test_truncation_scores_what_fits_and_leaves_the_rest_unjudged(qwen_prm_dir, pb_items):
    full = PRMJudge(PRMSpec(model=str(qwen_prm_dir), family="qwen-prm", threshold=0.0))
    item = max(pb_items, key=lambda it: len(it.steps))
    text, ends = full.build_text(item)
    _, positions = full._positions(text, ends)
    cut = positions[1] + 1  # room for the first two separators only
    short = PRMJudge(PRMSpec(model=str(qwen_prm_dir), family="qwen-prm", threshold=0.0, max_length=cut))
    [verdict] = short.judge([item])
    scores = verdict.evidence["step_scores"]
    assert scores[:2] == pytest.approx(full.score([item])[0][:2], abs=1e-5)
    assert scores[2:] == [None] * (len(item.steps) - 2)
    # nothing below threshold among the scored steps, but unseen steps: no verdict, scored steps keep label 1
    assert verdict.first_error is None and verdict.evidence["truncated"] is True
    assert verdict.step_labels == [1, 1] + [None] * (len(item.steps) - 2)


def test_marker_inside_the_text_does_not_shift_scores(qwen_prm_dir, pb_items):
    judge = PRMJudge(PRMSpec(model=str(qwen_prm_dir), family="qwen-prm"))
    item = pb_items[0]
    tricky = JudgeInput(problem=item.problem + f" (note: {SEP})", steps=item.steps)
    text, ends = judge.build_text(tricky)
    ids, positions = judge._positions(text, ends)
    sep_id = judge.tokenizer.convert_tokens_to_ids(SEP)
    assert all(ids[p] == sep_id for p in positions)
    assert ids.count(sep_id) == len(item.steps) + 1  # the extra one in the problem is not read


@pytest.mark.parametrize(
    "bad_spec, message",
    [
        (dict(family="step-tag", good="+ +"), "encodes to"),  # good token must be one token
        (dict(family="qwen-prm", separator="<no_such_token>"), "not a token"),
        (dict(family="qwen-prm", template="turns"), "belongs to the step-tag family"),
    ],
)
def test_misconfigured_tokens_are_reported(bad_spec, message, qwen_prm_dir):
    with pytest.raises(ValueError, match=message):
        PRMJudge(PRMSpec(model=str(qwen_prm_dir), **bad_spec))


# ---------------------------------------------------------------- pure functions
@pytest.mark.parametrize(
    "scores, threshold, expected",
    [
        ([0.9, 0.8, 0.7], 0.5, -1),  # all above
        ([0.9, 0.4, 0.1], 0.5, 1),  # earliest below wins
        ([0.5, 0.5], 0.5, -1),  # equal to threshold is not wrong (strict <)
        ([0.2], 0.5, 0),
        ([0.9, None], 0.5, None),  # clean prefix, unscored tail: no verdict
        ([0.1, None], 0.5, 0),  # an error found before the truncation is a verdict
        ([], 0.5, -1),
    ],
)
def test_first_error_from_scores(scores, threshold, expected):
    assert first_error_from_scores(scores, threshold) == expected


@pytest.mark.parametrize(
    "scores, first_error, labels",
    [
        ([0.9, 0.1, 0.9], 1, [1, 0, None]),
        ([0.9, 0.9], -1, [1, 1]),
        ([0.9, None, None], None, [1, None, None]),
    ],
)
def test_labels_from_scores(scores, first_error, labels):
    assert labels_from_scores(scores, first_error) == labels


def test_tune_threshold_hand_worked_tradeoff():
    # Item labels and scores; thresholds in (0.3, 0.4] give a = 1/2 (A right, C missed), b = 1 -> F1 2/3;
    # (0.4, 0.5]: a = 1/2, b = 1/2 -> 1/2; (0.5, 0.6]: a = 1, b = 1/2 -> 2/3; above 0.6: b = 0.
    # Tie between 0.35 and 0.55 -> the smaller threshold.
    scores = [[0.9, 0.3], [0.8, 0.4], [0.5, 0.9], [0.7, 0.6]]
    labels = [1, -1, 0, -1]
    fit = tune_threshold(scores, labels)
    assert fit.threshold == pytest.approx(0.35)
    assert fit.f1 == pytest.approx(2 / 3)
    assert (fit.acc_error, fit.acc_correct) == (0.5, 1.0)


def test_tune_threshold_recovers_a_separating_gap():
    # Synthetic PRM: wrong steps score in [0.05, 0.30], right steps in [0.55, 0.95] -> any t in (0.30, 0.55)
    # classifies every item; the midpoint of the gap is chosen and applying it elsewhere is exact.
    import random

    rng = random.Random(0)
    scores, labels = [], []
    for k in range(200):
        n = rng.randint(2, 8)
        item = [rng.uniform(0.55, 0.95) for _ in range(n)]
        label = -1 if k % 2 else rng.randrange(n)
        if label >= 0:
            item[label] = rng.uniform(0.05, 0.30)
        scores.append(item)
        labels.append(label)
    fit = tune_threshold(scores[:100], labels[:100])
    assert fit.f1 == 1.0 and 0.30 < fit.threshold < 0.55
    assert [first_error_from_scores(s, fit.threshold) for s in scores[100:]] == labels[100:]


def test_tune_threshold_rejects_bad_input():
    with pytest.raises(ValueError, match="no step scores"):
        tune_threshold([[None]], [0])
    with pytest.raises(ValueError, match="labels"):
        tune_threshold([[0.5]], [0, 1])
