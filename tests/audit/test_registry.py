"""Judge specs: grammar, option typing, clear errors, and real judges built from specs."""
from __future__ import annotations

import pytest
from helpers.tiny_model import build_tiny_model

from stepkto_eval.audit.base import JudgeInput
from stepkto_eval.audit.registry import JudgeSpecError, make_judge, parse_options, split_members


@pytest.mark.parametrize(
    "spec, members",
    [
        ("arith", ["arith"]),
        ("arith+critic:hf:M", ["arith", "critic:hf:M"]),
        ("critic:openai:M@http://127.0.0.1:8000/v1?votes=3&temperature=0.7",
         ["critic:openai:M@http://127.0.0.1:8000/v1?votes=3&temperature=0.7"]),
        # a '+' inside option values is not a separator; one followed by a judge kind is
        ("prm:M?family=step-tag&tag=ки&good=+&bad=-", ["prm:M?family=step-tag&tag=ки&good=+&bad=-"]),
        ("prm:M?good=++arith", ["prm:M?good=+", "arith"]),
        ("arith+prm:M?good=+&bad=-+critic:vllm:/m/x", ["arith", "prm:M?good=+&bad=-", "critic:vllm:/m/x"]),
        ("critic:hf:org/a+b-model", ["critic:hf:org/a+b-model"]),  # '+' in a model name
    ],
)
def test_split_members(spec, members):
    assert split_members(spec) == members


@pytest.mark.parametrize(
    "query, options",
    [
        ("votes=5&temperature=0.7&reference=1", {"votes": "5", "temperature": "0.7", "reference": "1"}),
        ("good=%2B&bad=-", {"good": "+", "bad": "-"}),  # percent-decoding, no '+' -> space
        ("tag=ки", {"tag": "ки"}),
    ],
)
def test_parse_options(query, options):
    assert parse_options(query, "x") == options


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "empty judge"),
        ("+arith", "empty judge"),
        ("arith+", "unknown judge"),  # a trailing "+" is not followed by a judge kind
        ("bogus", "unknown judge"),
        ("arith:x", "unknown judge"),
        ("arith?fast=1", "arith takes no options"),
        ("critic:hf", "critic:BACKEND:MODEL"),
        ("critic:tgi:M", "critic:BACKEND:MODEL"),
        ("critic:hf:@http://x", "has no model"),
        ("critic:hf:M?votes", "not KEY=VALUE"),
        ("critic:hf:M?votes=3&temperature=0", "needs temperature > 0"),  # unset: the checkpoint may give one
        ("critic:hf:M?votes=many&temperature=1", "expected int"),
        ("critic:hf:M?reference=maybe", "expected 0/1"),
        ("critic:hf:M?votes=1&votes=2", "given twice"),
        ("prm:", "has no model"),
        ("prm:M?family=bogus", "unknown PRM family"),
        ("prm:M?threshold=high", "expected float"),
        ("prm:M?threshold=1.5", "threshold must be in"),
        ("prm:M?colour=red", "unknown prm option"),
        ("prm:M?template=html", "template must be"),
    ],
)
def test_bad_specs_are_explained(spec, message):
    with pytest.raises(JudgeSpecError, match=message):
        make_judge(spec)


def test_keyword_options_must_apply_to_some_judge():
    with pytest.raises(JudgeSpecError, match="apply to no judge"):
        make_judge("arith", threshold=0.3)


@pytest.fixture(scope="module")
def step_tag_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tag"), extra_special_tokens=["ки"])


def test_prm_spec_options_are_typed_and_keywords_are_defaults(step_tag_dir):
    judge = make_judge(f"prm:{step_tag_dir}?family=step-tag&tag=ки&good=+&bad=-&threshold=0.25&batch_size=2",
                       threshold=0.9, max_length=64)
    assert judge.kind == "prm" and judge.name.startswith("prm:")
    spec = judge.spec
    assert (spec.family, spec.marker, spec.good, spec.bad) == ("step-tag", "ки", "+", "-")
    assert spec.threshold == 0.25  # the spec wins over the keyword default
    assert spec.max_length == 64 and spec.batch_size == 2  # typed ints
    item = JudgeInput(problem="Compute 3 + 4.", steps=("3 + 4 = 7.", "The answer is \\boxed{7}."))
    [verdict] = judge.judge([item])
    assert len(verdict.evidence["step_scores"]) == 2


def test_arith_and_ensemble_from_specs(step_tag_dir):
    assert make_judge("arith").kind == "arith"
    ens = make_judge(f"arith+prm:{step_tag_dir}?family=step-tag&threshold=0")
    assert ens.kind == "ensemble" and [m.kind for m in ens.members] == ["arith", "prm"]
    item = JudgeInput(problem="Compute 3 + 4.", steps=("We add.", "3 + 4 = 8.", "So \\boxed{8}."))
    [verdict] = ens.judge([item])
    # threshold 0 -> the PRM flags nothing; arith flags the false claim in step 1 -> the union flags step 1
    assert verdict.first_error == 1 and verdict.step_labels == [1, 0, None]
    assert [m["first_error"] for m in verdict.evidence["members"]] == [1, -1]


def test_critic_spec_builds_a_real_hf_backend(tiny_model_dir):
    judge = make_judge(f"critic:hf:{tiny_model_dir}?votes=2&temperature=0.7&max_tokens=8&reference=1")
    assert judge.kind == "critic" and judge.backend.name == "hf"
    assert (judge.config.votes, judge.config.temperature, judge.config.max_tokens, judge.config.reference) == (
        2, 0.7, 8, True)


def test_critic_reuses_a_given_backend(tiny_model_dir):
    from stepkto_eval.backends import make_backend

    backend = make_backend("hf", str(tiny_model_dir))
    judge = make_judge("critic:hf:anything?max_tokens=4", backend=backend)
    assert judge.backend is backend


def test_unknown_backend_option_is_reported(tiny_model_dir):
    with pytest.raises(JudgeSpecError, match="refused it: .*flux_capacitor"):
        make_judge(f"critic:hf:{tiny_model_dir}?flux_capacitor=1")
