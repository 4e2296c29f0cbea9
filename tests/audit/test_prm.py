"""PRM judge: every family, in the exact layout its checkpoint ships, scored as its own code scores it.

Each tiny checkpoint (tests/helpers/prm_models.py) is random; the tests check that the judge's step scores equal
an independent computation — the family's card / inference code re-done here (input built as the card builds
it, positions found the card's way) over a plain-torch decoder forward on the checkpoint's own tensors — and
that a load which would score with weights the checkpoint did not provide is refused.
"""
from __future__ import annotations

import json
import shutil

import pytest
import torch
from helpers.prm_models import SEP, load_state, reference_hidden

from stepkto_eval.audit.base import JudgeInput
from stepkto_eval.audit.prm import (
    QWEN_PRM_SYSTEM,
    PRMJudge,
    PRMLoadError,
    PRMSpec,
    first_error_from_scores,
    labels_from_scores,
    recognise,
    tune_threshold,
)
from stepkto_eval.audit.registry import make_judge

FIXTURES = {"qwen2.5-math-prm": "qwen_prm_dir", "skywork-o1-prm": "skywork_prm_dir",
            "math-shepherd": "step_tag_dir", "rlhflow-prm": "rlhflow_prm_dir"}


@pytest.fixture(scope="module")
def pb_items(shared_data):
    # single-line steps, so Skywork's reference (which splits the response on "\n") sees the same steps
    rows = json.loads((shared_data / "processbench" / "gsm8k.json").read_text())[:3]
    return [JudgeInput(problem=r["problem"], steps=tuple(" ".join(s.split()) for s in r["steps"])) for r in rows]


def _softmax_pair(logits, good: int, bad: int) -> torch.Tensor:
    return logits[..., [good, bad]].softmax(-1)[..., 0]


def reference_scores(preset: str, folder, item: JudgeInput) -> list[float]:
    """The family's own recipe (sources in stepkto_eval/audit/prm.py), over plain-torch weights."""
    from transformers import AutoTokenizer

    state, config = load_state(folder)
    tok = AutoTokenizer.from_pretrained(folder)
    steps = [s.strip() for s in item.steps]
    if preset == "qwen2.5-math-prm":
        # card: system + query + "<extra_0>".join(steps) + "<extra_0>", encode, mask input_ids == sep id,
        # softmax(logits)[:, 1] at the mask; head score.0 -> ReLU -> score.2
        messages = [{"role": "system", "content": QWEN_PRM_SYSTEM}, {"role": "user", "content": item.problem},
                    {"role": "assistant", "content": SEP.join(steps) + SEP}]
        ids = tok.encode(tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=False))
        hidden = reference_hidden(state, config, ids)
        inner = torch.relu(hidden @ state["score.0.weight"].T + state["score.0.bias"])
        probs = (inner @ state["score.2.weight"].T + state["score.2.bias"]).softmax(-1)[:, 1]
        sep = tok.encode(SEP)[0]
        return [float(probs[i]) for i, t in enumerate(ids) if t == sep]
    if preset == "skywork-o1-prm":
        # prepare_input: encode(bos + problem + "\n"); per step of response.split("\n"): encode(step) +
        # [encode("\n")[-1]], reward flag on that last token; value = sigmoid(v_head(hidden))
        response = "\n".join(steps) + "\n"
        ids, flags = tok.encode(tok.bos_token + item.problem + "\n"), []
        step_id = tok.encode("\n")[-1]
        for step in response.split("\n"):
            if step == "":
                break
            ids += tok.encode(step) + [step_id]
            flags.append(len(ids) - 1)
        hidden = reference_hidden(state, config, ids)
        value = (hidden @ state["v_head.summary.weight"].T + state["v_head.summary.bias"])[:, 0].sigmoid()
        return [float(value[i]) for i in flags]
    if preset == "math-shepherd":
        # card: f"{question} {output}", output "Step k: ... ки" joined by "\n"; tokenizer.encode (BOS first);
        # candidates encode("+ -")[1:]; P(+)/(P(+)+P(-)) where input_ids == encode("ки")[-1]
        output = "\n".join(f"Step {k}: {s} ки" for k, s in enumerate(steps, start=1))
        ids = tok.encode(f"{item.problem} {output}")
        assert ids[0] == tok.bos_token_id
        good, bad = tok.encode("+ -")[1:]
        tag = tok.encode("ки")[-1]
        probs = _softmax_pair(reference_hidden(state, config, ids) @ state["lm_head.weight"].T, good, bad)
        return [float(probs[i]) for i, t in enumerate(ids) if t == tag]
    # rlhflow: per step k, the chat of (problem + step_1, "+"), (step_2, "+"), ... up to step k, read at -3
    plus, minus = tok.encode("+", add_special_tokens=False)[-1], tok.encode("-", add_special_tokens=False)[-1]
    conversation, out = [], []
    for k, step in enumerate(steps):
        conversation += [{"role": "user", "content": f"{item.problem} {step}" if k == 0 else step},
                         {"role": "assistant", "content": "+"}]
        ids = tok.encode(tok.apply_chat_template(conversation, tokenize=False), add_special_tokens=False)
        logits = reference_hidden(state, config, ids)[-3] @ state["lm_head.weight"].T
        out.append(float(_softmax_pair(logits, plus, minus)))
    return out


@pytest.mark.parametrize("preset", list(FIXTURES))
def test_each_family_scores_as_its_own_code_does(preset, request, pb_items):
    folder = request.getfixturevalue(FIXTURES[preset])
    # Qwen and Skywork are recognised from their layout; causal-LM PRMs are named by preset
    spec = f"prm:{folder}?batch_size=2" + (f"&preset={preset}" if preset in ("math-shepherd", "rlhflow-prm") else "")
    judge = make_judge(spec)
    family = {"qwen2.5-math-prm": "qwen-prm", "skywork-o1-prm": "value-head"}.get(preset, "step-tag")
    assert judge.spec.family == family
    scores = judge.score(pb_items)  # batched, right-padded, sorted by length
    for item, got in zip(pb_items, scores, strict=True):
        want = reference_scores(preset, folder, item)
        assert len(want) == len(item.steps)
        assert got == pytest.approx(want, abs=1e-5)
    flat = [s for item in scores for s in item]
    assert max(flat) - min(flat) > 1e-3  # well above the tolerance: a score read at a wrong position shows


def test_recognition_uses_config_and_weight_names(qwen_prm_dir, skywork_prm_dir, step_tag_dir):
    assert recognise(str(qwen_prm_dir))[0] == "qwen-prm"
    assert "v_head.summary" in recognise(str(skywork_prm_dir))[1]
    with pytest.raises(PRMLoadError, match="preset=math-shepherd"):
        recognise(str(step_tag_dir))
    with pytest.raises(ValueError, match="unknown PRM preset"):
        PRMSpec(model="x", preset="qwen")
    with pytest.raises(ValueError, match="is family qwen-prm"):
        PRMSpec(model="x", preset="qwen2.5-math-prm", family="step-tag")


def _edit_checkpoint(src, dst, drop=(), add=None):
    from safetensors.torch import load_file, save_file

    shutil.copytree(src, dst)
    state = load_file(str(dst / "model.safetensors"))
    for key in drop:
        del state[key]
    state |= add or {}
    save_file(state, str(dst / "model.safetensors"), metadata={"format": "pt"})
    return dst


@pytest.mark.parametrize(
    ("fixture", "spec", "drop", "add", "message"),
    [
        # headless: the old loader would have initialised a random head
        ("qwen_prm_dir", "", ("score.2.weight", "score.2.bias"), None, "head tensors incomplete"),
        ("qwen_prm_dir", "", ("model.norm.weight",), None, r"missing from the checkpoint.*norm\.weight"),
        ("skywork_prm_dir", "?preset=skywork-o1-prm", ("v_head.summary.weight", "v_head.summary.bias"), None,
         "head tensors incomplete"),
        ("step_tag_dir", "?preset=math-shepherd", ("model.layers.1.mlp.up_proj.weight",), None, "up_proj"),
        # a checkpoint tensor this reading would leave unused (e.g. a value head on a causal LM)
        ("step_tag_dir", "?preset=math-shepherd", (), {"v_head.summary.weight": torch.zeros(1, 32)},
         r"unused by this loader.*v_head\.summary\.weight"),
    ],
    ids=["qwen-no-head", "qwen-no-norm", "skywork-no-value-head", "shepherd-no-mlp", "shepherd-extra"],
)
def test_loads_that_would_score_with_foreign_weights_are_refused(fixture, spec, drop, add, message, request, tmp_path):
    folder = _edit_checkpoint(request.getfixturevalue(fixture), tmp_path / "ckpt", drop, add)
    with pytest.raises(PRMLoadError, match=message):
        make_judge(f"prm:{folder}{spec}")


def test_resized_body_tensor_is_refused(qwen_prm_dir, tmp_path):
    folder = _edit_checkpoint(qwen_prm_dir, tmp_path / "ckpt", add={"model.norm.weight": torch.ones(16)})
    with pytest.raises(PRMLoadError, match="norm"):
        make_judge(f"prm:{folder}")


@pytest.mark.parametrize("preset", ["qwen2.5-math-prm", "math-shepherd"])
def test_verdicts_follow_threshold_and_label_convention(preset, request, pb_items):
    folder = request.getfixturevalue(FIXTURES[preset])
    judge = PRMJudge(PRMSpec(model=str(folder), preset=preset))
    scores = judge.score(pb_items)
    middle = sorted(s for item in scores for s in item)[len(scores) * 2]
    for threshold in (0.0, middle, 1.0):
        judge.spec = PRMSpec(model=str(folder), preset=preset, threshold=threshold)
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


@pytest.mark.parametrize("preset", ["qwen2.5-math-prm", "skywork-o1-prm"])
def test_truncation_scores_what_fits_and_leaves_the_rest_unjudged(preset, request, pb_items):
    folder = request.getfixturevalue(FIXTURES[preset])
    full = PRMJudge(PRMSpec(model=str(folder), preset=preset, threshold=0.0))
    item = max(pb_items, key=lambda it: len(it.steps))
    _, positions = full.encode(item)
    cut = positions[1] + 1  # room for the first two step ends only
    short = PRMJudge(PRMSpec(model=str(folder), preset=preset, threshold=0.0, max_length=cut))
    [verdict] = short.judge([item])
    scores = verdict.evidence["step_scores"]
    assert scores[:2] == pytest.approx(full.score([item])[0][:2], abs=1e-5)
    assert scores[2:] == [None] * (len(item.steps) - 2)
    # nothing below threshold among the scored steps, but unseen steps: no verdict, scored steps keep label 1
    assert verdict.first_error is None and verdict.evidence["truncated"] is True
    assert verdict.step_labels == [1, 1] + [None] * (len(item.steps) - 2)


def test_marker_inside_the_text_does_not_shift_scores(qwen_prm_dir, pb_items):
    judge = PRMJudge(PRMSpec(model=str(qwen_prm_dir)))
    item = pb_items[0]
    tricky = JudgeInput(problem=item.problem + f" (note: {SEP})", steps=item.steps)
    ids, positions = judge.encode(tricky)
    sep_id = judge.tokenizer.convert_tokens_to_ids(SEP)
    assert all(ids[p] == sep_id for p in positions)
    assert ids.count(sep_id) == len(item.steps) + 1  # the extra one in the problem is not read


@pytest.mark.parametrize(
    "fixture, bad_spec, message",
    [
        ("rlhflow_prm_dir", dict(preset="rlhflow-prm", good="+ +"), "encodes to"),  # the reply must be one token
        ("qwen_prm_dir", dict(family="qwen-prm", separator="<no_such_token>"), "not a token"),
        ("qwen_prm_dir", dict(family="qwen-prm", template="turns"), "belongs to the step-tag family"),
        # a token-classification checkpoint read as a causal LM: its lm_head would be random
        ("qwen_prm_dir", dict(family="step-tag"), r"missing from the checkpoint.*lm_head\.weight"),
    ],
)
def test_misconfigured_specs_are_reported(fixture, bad_spec, message, request):
    with pytest.raises(ValueError, match=message):
        PRMJudge(PRMSpec(model=str(request.getfixturevalue(fixture)), **bad_spec))


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


def test_trust_remote_code_stays_an_option(qwen_prm_dir, pb_items, tmp_path):
    """The checkpoint's own class (auto_map) scores the same as our head over the same tensors."""
    from helpers.prm_models import add_remote_code

    folder = add_remote_code(shutil.copytree(qwen_prm_dir, tmp_path / "remote"))
    remote = make_judge(f"prm:{folder}?trust_remote_code=1")
    assert remote.head is None and type(remote.model).__name__ == "Qwen2ForProcessRewardModel"
    ours = make_judge(f"prm:{qwen_prm_dir}")
    for got, want in zip(remote.score(pb_items), ours.score(pb_items), strict=True):
        assert got == pytest.approx(want, abs=1e-5)
