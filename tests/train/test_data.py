"""Labeled data: contract validation, prompt rendering, step → token spans, over-long rows, KL partners."""
from __future__ import annotations

import json

import datasets
import pytest
from transformers import AutoTokenizer

from stepkto_train.collate import StepKTOCollator
from stepkto_train.data import (
    LabeledDataError,
    balance_weights,
    kl_partners,
    load_labeled,
    prepare,
    render_prompt,
    step_targets,
    straddling_tokens,
    token_steps,
)

from .labeled_data import make_rows, write_jsonl


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


# -- loading and validation ------------------------------------------------------------------------
@pytest.mark.parametrize("mutate, field", [
    (lambda r: r.pop("outcome_label"), "outcome_label"),
    (lambda r: r.update(outcome_label=2), "outcome_label"),
    (lambda r: r.update(step_labels=r["step_labels"] + [1]), "step_labels"),
    (lambda r: r.update(step_char_spans=[[0, 10_000]] * len(r["step_labels"])), "step_char_spans"),
    (lambda r: r.update(first_error=99), "first_error"),
])
def test_invalid_row_names_file_row_and_field(tmp_path, mutate, field):
    rows = make_rows(2, 2)
    mutate(rows[3])
    path = write_jsonl(rows, tmp_path / "bad.jsonl")
    with pytest.raises(LabeledDataError, match=rf"bad\.jsonl: row 3: field {field}"):
        load_labeled(path)


def test_parquet_and_jsonl_load_the_same_rows(tmp_path):
    rows = make_rows(3, 2)
    path = write_jsonl(rows, tmp_path / "l.jsonl")
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "l.parquet"))
    a, b = load_labeled(path), load_labeled(tmp_path / "l.parquet")
    assert len(a) == len(b) == 6 and a["completion"] == b["completion"] and a["step_labels"] == b["step_labels"]


def test_limit_and_missing_file(tmp_path):
    assert len(load_labeled(write_jsonl(make_rows(3, 2), tmp_path / "l.jsonl"), limit=4)) == 4
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        load_labeled(tmp_path / "nope.jsonl")


# -- prompts ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("prompt, mode, expected", [
    ([{"role": "user", "content": "2+2?"}], "raw", "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"),
    ("Q: 2+2?\nA:", "raw", "Q: 2+2?\nA:"),  # sent verbatim by the eval backends
    ("2+2?", "chat", "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"),
])
def test_render_prompt(tok, prompt, mode, expected):
    assert render_prompt(tok, prompt, mode) == expected


# -- steps -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("labels, first_error, mode, expected", [
    ([1, 1, 0, None], 2, "mask", [1, 1, 0, -1]),
    ([1, 1, 0, None], 2, "negative", [1, 1, 0, 0]),
    ([None, None], None, "negative", [-1, -1]),  # no verdict: nothing judged either way
    ([1, 1], -1, "negative", [1, 1]),
])
def test_step_targets(labels, first_error, mode, expected):
    assert step_targets(labels, first_error, mode) == expected


@pytest.mark.parametrize("offsets, spans, expected", [
    ([(0, 3), (3, 5), (5, 7), (7, 9)], [[0, 5], [7, 9]], [0, 0, -1, 1]),
    ([(0, 4), (4, 8)], [[0, 3], [5, 8]], [0, 1]),  # tokens straddling the gap go to the step they touch
    ([(0, 0), (0, 2)], [[0, 2]], [-1, 0]),  # empty offsets (special tokens) own nothing
])
def test_token_steps(offsets, spans, expected):
    assert token_steps(offsets, spans) == expected


@pytest.mark.parametrize("offsets, expected", [
    ([(0, 5), (5, 9), (9, 12)], [0, 0, 1]),  # "\n\n  ": end of step 0 + indentation of step 1, all whitespace
    ([(0, 6), (6, 8), (8, 12)], [0, 0, 1]),  # "\n ": whitespace too: the earlier step
    ([(0, 4), (4, 9), (9, 12)], [0, 0, 1]),  # "3\n\n  " holds step 0's content: step 0
    ([(0, 5), (5, 12)], [0, 1]),  # "\n\n  y=1" opens step 1 with its content: step 1
])
def test_tokens_straddling_a_step_boundary(offsets, expected):
    text = "x = 3\n\n  y=1"  # the blank-line splitter's spans: the indentation starts step 1
    spans = [[0, 7], [7, 12]]
    assert token_steps(offsets, spans, text) == expected
    assert straddling_tokens(offsets, spans) == 1


def test_straddling_tokens_counted_in_prep_stats(tok):
    row = make_rows(1, 1, seed=3)[0]
    text = "x = 3\n\n  y = 1"
    spans = [[0, 4], [4, len(text)]]  # a boundary inside the tiny tokenizer's token " 3" (characters 3-5)
    row.update(completion=text, steps=[text[a:b] for a, b in spans], step_char_spans=spans, step_labels=[1, 0],
               first_error=1)
    offsets = tok(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    assert straddling_tokens(offsets, spans) == 1
    prepared, stats = prepare(datasets.Dataset.from_list([row, {**row, "problem_id": "other"}]), tok)
    assert (stats.straddling_tokens, stats.straddling_rows) == (2, 2)
    assert "straddling a step boundary: 2 in 2 rows" in stats.summary()
    at = [tuple(o) for o in offsets].index((3, 5))
    assert prepared[0]["token_step"][at] == 1  # " 3": whitespace in step 0, the "3" in step 1


def test_step_tokens_decode_to_the_step_text(tok):
    rows = make_rows(3, 2, seed=5)
    prepared, stats = prepare(datasets.Dataset.from_list(rows), tok)
    assert stats.kept == 6
    for row, p in zip(rows, prepared, strict=True):
        assert p["completion_ids"][-1] == tok.eos_token_id
        for h, step in enumerate(row["steps"]):
            ids = [i for i, s in zip(p["completion_ids"], p["token_step"], strict=True) if s == h]
            assert tok.decode(ids).strip() == step
        assert p["step_tokens"] == [p["token_step"].count(h) for h in range(len(row["steps"]))]


def test_no_eos_after_a_completion_cut_by_the_length_limit(tok):
    rows = make_rows(2, 2, seed=4)
    for row, reason in zip(rows, [None, "length", "stop", None], strict=True):  # None: an older file's row
        row["finish_reason"] = reason
    prepared, stats = prepare(datasets.Dataset.from_list(rows), tok)
    assert stats.truncated == 1 and "no EOS): 1" in stats.summary()
    for row, p in zip(rows, prepared, strict=True):
        body = tok(row["completion"], add_special_tokens=False)["input_ids"]
        eos = [] if row.get("finish_reason") == "length" else [tok.eos_token_id]
        assert p["completion_ids"] == body + eos
        assert len(p["token_step"]) == len(p["completion_ids"])


def test_finish_reason_must_be_a_string(tmp_path):
    rows = make_rows(1, 2)
    rows[1]["finish_reason"] = 3
    with pytest.raises(LabeledDataError, match="row 1: field finish_reason"):
        load_labeled(write_jsonl(rows, tmp_path / "bad.jsonl"))


# -- over-long rows ---------------------------------------------------------------------------------
def test_overlong_rows_dropped_and_counted(tok):
    rows = make_rows(2, 2)
    rows[0]["completion"] += " pad" * 400
    prepared, stats = prepare(datasets.Dataset.from_list(rows), tok, max_length=200)
    assert (stats.kept, stats.dropped_overlong) == (3, 1)
    assert all(len(p["prompt_ids"]) + len(p["completion_ids"]) <= 200 for p in prepared)


def test_overlong_restrict_keeps_fitting_steps_without_outcome(tok):
    row = make_rows(1, 1, seed=2)[0]
    steps = ["Compute 3 + 4 = 7."] * 6
    row.update(steps=steps, completion="\n\n".join(steps), step_labels=[1] * 6, first_error=-1)
    row["step_char_spans"] = [[20 * h, 20 * h + 18] for h in range(6)]
    full, _ = prepare(datasets.Dataset.from_list([row]), tok, max_length=4096)
    limit = len(full[0]["prompt_ids"]) + full[0]["token_step"].index(3) + 2  # cut inside step 3
    cut, stats = prepare(datasets.Dataset.from_list([row]), tok, max_length=limit, overlong="restrict_steps")
    assert stats.restricted_overlong == 1 and cut[0]["outcome_valid"] == 0
    assert cut[0]["step_targets"] == [1, 1, 1, -1, -1, -1]
    assert len(cut[0]["prompt_ids"]) + len(cut[0]["completion_ids"]) == limit


# -- KL partners --------------------------------------------------------------------------------------
@pytest.mark.parametrize("problems", [
    ["a"], ["a", "b"], ["a", "a", "a"], ["a", "b", "c"], ["a", "a", "b", "b", "c"], list("abcdefg") * 3,
])
@pytest.mark.parametrize("mode, block", [("other_problem", 1), ("roll", 1), ("roll", 2), ("roll", 3)])
def test_kl_partner_is_never_the_row_itself(problems, mode, block):
    partners = kl_partners(problems, mode, block, seed=0)
    assert len(partners) == len(problems)
    if len(problems) == 1:
        assert partners == [-1]  # no mismatched pair exists: z falls back (loss.FALLBACK_Z)
        return
    assert all(0 <= j < len(problems) and j != i for i, j in enumerate(partners))
    if mode == "other_problem" and len(set(problems)) > 1:
        assert all(problems[j] != problems[i] for i, j in enumerate(partners))


def test_roll_matches_trl_rotation():
    # TRL: (x_1, y_n), (x_2, y_1), ..., (x_n, y_{n-1}) inside each block
    assert kl_partners(list("abcdef"), "roll", 3, 0) == [2, 0, 1, 5, 3, 4]
    assert kl_partners(list("abcde"), "roll", 2, 0) == [1, 0, 3, 2, 3]  # odd tail borrows its predecessor


@pytest.mark.parametrize("nd, nu, expected", [(30, 10, (1.0, 3.0)), (10, 40, (4.0, 1.0)), (5, 5, (1.0, 1.0)),
                                               (0, 5, (1.0, 1.0))])
def test_balance_weights_follow_kto_ratio(nd, nu, expected):
    wd, wu = balance_weights(nd, nu)
    assert (wd, wu) == expected
    if nd and nu:
        assert 1.0 <= wd * nd / (wu * nu) <= 4 / 3


@pytest.mark.parametrize("nd, nu, ratio", [(5, 95, 2.0), (10, 40, 3.0), (30, 10, 2.0), (30, 10, 4.0), (8, 8, 0.5)])
def test_balance_weights_hit_a_requested_desirable_ratio(nd, nu, ratio):
    wd, wu = balance_weights(nd, nu, ratio)
    assert wd * nd / (wu * nu) == pytest.approx(ratio)
    assert min(wd, wu) == 1.0  # only one side is up-weighted
    with pytest.raises(ValueError, match="ratio"):
        balance_weights(nd, nu, 0.0)


def test_collator_shapes_and_masks(tok):
    prepared, _ = prepare(datasets.Dataset.from_list(make_rows(2, 2)), tok)
    rows = [prepared[i] for i in range(3)]
    batch = StepKTOCollator(tok.pad_token_id)(rows)
    b, width = batch["input_ids"].shape
    assert b == 3 and width == max(len(r["prompt_ids"]) + len(r["completion_ids"]) for r in rows)
    for i, r in enumerate(rows):
        assert batch["completion_mask"][i].sum() == len(r["completion_ids"])
        assert batch["kl_completion_mask"][i].sum() == len(r["kl_completion_ids"])
        assert (batch["token_step"][i] >= 0).sum() == sum(r["step_tokens"])
    assert batch["step_targets"].shape == (3, max(len(r["step_targets"]) for r in rows))
    assert json.dumps(batch["labels"].tolist()) == json.dumps([float(r["label"]) for r in rows])
