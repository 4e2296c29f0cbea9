"""LLM critic: prompt, vote parsing, majority, and a real run through the hf backend on ProcessBench items.

SmolLM2-135M's verdicts are junk: the end-to-end test checks plumbing (one batched generate call, raw outputs
recorded, votes parsed from them, labels consistent with the verdict), never the verdicts themselves.
"""
from __future__ import annotations

import json

import pytest

from stepkto_eval.audit.base import JudgeInput, labels_from_first_error
from stepkto_eval.audit.critic import (
    CriticConfig,
    CriticJudge,
    build_prompt,
    default_max_tokens,
    majority,
    parse_vote,
    prompt_opens_think,
    review_part,
)
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
        Completion("0|2", "I think \\boxed{2}", "length"),  # cut by the length limit: no vote, counted
    ]
    verdict = judge._verdict(ITEM, completions)
    assert verdict.first_error == 1 and verdict.step_labels == [1, 0, None]
    assert verdict.evidence["votes"] == [1, None, None]
    assert verdict.evidence["n_truncated"] == 1 and verdict.evidence["truncated"] is True
    assert verdict.evidence["raw_outputs"] == [c.text for c in completions]
    assert verdict.evidence["errors"] == ["HTTP 500 after 3 retries"]
    junk = judge._verdict(ITEM, [Completion("0|0", "no idea", "stop")] * 3)
    assert junk.first_error is None and junk.step_labels == [None, None, None]
    assert junk.evidence["no_verdict_reason"] == "no parsable vote"


@pytest.mark.parametrize("bad", [dict(votes=0), dict(votes=3, temperature=0.0), dict(max_tokens=0), dict(top_k=-1),
                                 dict(min_p=1.0), dict(repetition_penalty=0.0)])
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


# ---------------------------------------------------------------- reasoning judges: thinking, truncation, sampling
OPEN_THINK_PROMPT = "<|im_start|>user\nreview this<|im_end|>\n<|im_start|>assistant\n<think>\n"


@pytest.mark.parametrize(
    ("text", "finish", "prompt", "vote", "how"),
    [
        # the template opened <think>: the output holds only </think>; the box inside the thinking is ignored
        ("step 2 looks off \\boxed{2} ... no, fine.\n</think>\nAll correct. \\boxed{-1}", "stop",
         OPEN_THINK_PROMPT, -1, "after </think>"),
        # a thinking block written by the model itself
        ("<think>maybe \\boxed{0}</think> Paragraph 1 is wrong: \\boxed{1}", "stop", None, 1, "after </think>"),
        # thinking opened by the prompt and never closed (stopped by EOS): no review, no vote
        ("hmm, \\boxed{2} perhaps", "stop", OPEN_THINK_PROMPT, None, "thinking opened by the prompt never closed"),
        ("<think>hmm, \\boxed{2} perhaps", "stop", None, None, "thinking never closed"),
        # the reproduced bug: a truncated, tag-less review whose mid-reasoning box used to be read as step 2
        ("Let me check paragraph 2: \\boxed{2} is what I would say if", "length", OPEN_THINK_PROMPT, None,
         "cut by the length limit"),
        ("Let me check paragraph 2: \\boxed{2} is what I would say if", "length", None, None,
         "cut by the length limit"),
        # a non-reasoning critic: the whole output is the review
        ("Paragraph 0 is wrong. \\boxed{0}", "stop", "<|im_start|>assistant\n", 0, "whole output"),
    ],
    ids=["open-think-prompt", "own-think", "never-closed-prompt", "never-closed-own", "truncated-open-think",
         "truncated-tagless", "plain-critic"],
)
def test_only_the_review_after_the_thinking_counts(text, finish, prompt, vote, how):
    judge = CriticJudge(backend=None, config=CriticConfig(), name="critic:test")
    verdict = judge._verdict(ITEM, [Completion("0|0", text, finish, prompt_text=prompt)])
    assert verdict.evidence["votes"] == [vote] and verdict.first_error == vote
    assert verdict.evidence["review_parts"] == [how]
    assert verdict.evidence["truncated"] is (finish == "length")
    if vote is None:
        assert verdict.evidence["no_verdict_reason"] == (
            "review cut by the length limit" if finish == "length" else "thinking never finished")


def test_review_part_and_prompt_detection():
    assert prompt_opens_think(OPEN_THINK_PROMPT)
    assert not prompt_opens_think("<think>old</think> new turn") and not prompt_opens_think(None)
    assert review_part("a</think>b</think>c") == ("c", "after </think>")  # the last closing tag ends thinking


def _write_json(path, data):
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("generation", "context", "spec", "want"),
    [
        # QwQ-style card sampling and a 40k context: card sampling, the 32768 cap
        ({"do_sample": True, "temperature": 0.6, "top_p": 0.95}, 40960, {}, (0.6, 0.95, 32768)),
        ({"do_sample": True, "temperature": 0.6, "top_p": 0.95}, 40960, {"temperature": 0.2, "max_tokens": 100},
         (0.2, 0.95, 100)),  # the spec wins
        ({"do_sample": False, "temperature": 0.7}, 8192, {}, (0.0, 1.0, 4096)),  # greedy checkpoint; 8192 - 4096
        (None, 2048, {}, (0.0, 1.0, 1024)),  # no generation config: greedy; a small context keeps half for the prompt
    ],
)
def test_sampling_defaults_come_from_the_checkpoint(generation, context, spec, want, tmp_path):
    _write_json(tmp_path / "config.json", {"max_position_embeddings": context})
    if generation is not None:
        _write_json(tmp_path / "generation_config.json", generation)
    judge = CriticJudge(backend=None, config=CriticConfig(**spec), name="critic:test", model=str(tmp_path))
    assert (judge.config.temperature, judge.config.top_p, judge.config.max_tokens) == want
    assert default_max_tokens(None) == 32768


@pytest.mark.parametrize(
    ("generation", "spec", "want"),
    [
        # a sampling judge: its filters and penalty are taken (the values are what such cards ship, not one card's)
        ({"do_sample": True, "temperature": 0.6, "top_p": 0.95, "top_k": 40, "min_p": 0.05,
          "repetition_penalty": 1.05}, {}, (40, 0.05, 1.05)),
        ({"do_sample": True, "temperature": 0.6, "top_k": 40}, {"top_k": 0}, (0, 0.0, 1.0)),  # the spec wins
        # a greedy judge: filters mean nothing to greedy decoding, the penalty still applies
        ({"do_sample": False, "top_k": 40, "repetition_penalty": 1.3}, {}, (0, 0.0, 1.3)),
        (None, {}, (0, 0.0, 1.0)),  # no generation config: all off
    ],
)
def test_filters_and_penalty_come_from_the_checkpoint(generation, spec, want, tmp_path):
    if generation is not None:
        _write_json(tmp_path / "generation_config.json", generation)
    judge = CriticJudge(backend=None, config=CriticConfig(**spec), name="critic:test", model=str(tmp_path))
    assert (judge.config.top_k, judge.config.min_p, judge.config.repetition_penalty) == want


def test_votes_on_a_greedy_checkpoint_need_a_temperature(tmp_path):
    _write_json(tmp_path / "generation_config.json", {"do_sample": False})
    with pytest.raises(ValueError, match="needs temperature > 0"):
        CriticJudge(backend=None, config=CriticConfig(votes=3), model=str(tmp_path))
    judge = CriticJudge(backend=None, config=CriticConfig(votes=3, temperature=0.5), model=str(tmp_path))
    assert judge.config.temperature == 0.5


@pytest.fixture(scope="module")
def think_model_dir(tmp_path_factory):
    """Tiny model whose chat template opens <think> in the prompt and whose generation config asks for
    temperature 0.6 / top_p 0.95 (as reasoning judges ship)."""
    from helpers.tiny_model import build_tiny_model
    from transformers import AutoTokenizer, GenerationConfig

    folder = build_tiny_model(tmp_path_factory.mktemp("think"), extra_special_tokens=["<think>", "</think>"])
    tok = AutoTokenizer.from_pretrained(folder)
    tok.chat_template = (
        "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n<think>\n{% endif %}")
    tok.save_pretrained(folder)
    GenerationConfig(do_sample=True, temperature=0.6, top_p=0.95, top_k=40, repetition_penalty=1.05,
                     eos_token_id=tok.eos_token_id).save_pretrained(folder)
    return folder


def test_reasoning_judge_through_the_hf_backend(think_model_dir, pb_items):
    from stepkto_eval.audit.registry import make_judge

    judge = make_judge(f"critic:hf:{think_model_dir}?max_tokens=8&device=cpu&seed=3")
    assert (judge.config.temperature, judge.config.top_p) == (0.6, 0.95)
    assert judge.sampling_source["temperature"] == "generation_config.json"
    sent = judge._request("0|0", "a prompt", 0).sampling  # what reaches the backend
    assert (sent.top_k, sent.min_p, sent.repetition_penalty) == (40, 0.0, 1.05)
    verdicts = judge.judge(pb_items)
    for verdict in verdicts:
        ev = verdict.evidence
        assert ev["sampling"]["temperature"] == 0.6 and ev["sampling"]["max_tokens"] == 8
        assert (ev["sampling"]["top_k"], ev["sampling"]["repetition_penalty"]) == (40, 1.05)
        [finish], [raw] = ev["finish_reasons"], ev["raw_outputs"]
        # the rendered prompt opened <think>: a random 8-token output is either cut (length) or unfinished
        # thinking, unless it happens to close the block — then only the text after </think> is read
        if finish == "length":
            assert ev["votes"] == [None] and ev["n_truncated"] == 1
        else:
            part, _ = review_part(raw, OPEN_THINK_PROMPT)
            assert ev["votes"] == [parse_vote(part, len(verdict.step_labels))]
    assert any(v.evidence["truncated"] for v in verdicts)


def test_critic_refuses_a_checkpoint_with_missing_weights(tiny_model_dir, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    from stepkto_eval.audit.registry import JudgeSpecError, make_judge

    folder = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, folder)
    state = load_file(str(folder / "model.safetensors"))
    del state["model.layers.0.mlp.up_proj.weight"]
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(JudgeSpecError, match=r"missing from the checkpoint.*up_proj"):
        make_judge(f"critic:hf:{folder}?device=cpu")
