"""`stepkto-eval label`: real sampling with the tiny random model, real grading and the arith judge.

The tiny model writes junk, so outcomes are almost all 0 and the arith judge rarely flags: the tests check the
contract (fields, spans, label convention, loadability), resume, dedup and bad-row handling.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from stepkto_eval.audit.base import labels_from_first_error
from stepkto_eval.cli import main
from stepkto_eval.labeling import LABELED_FIELDS, LabelConfig, load_problems, run_labeling
from stepkto_eval.runs import RunFolder


def _label_args(model: Path, problems: Path, out: Path, *extra: str) -> list[str]:
    return ["label", "--model", str(model), "--problems", str(problems), "--judge", "arith", "--backend", "hf",
            "--n", "2", "--temperature", "0.8", "--max-tokens", "24", "--limit", "3", "--round", "1",
            "--batch-size", "2", "--output-dir", str(out), *extra]


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def labeled_run(tiny_model_dir, shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("label") / "run"
    code = main(_label_args(tiny_model_dir, shared_data / "math_train_sample.jsonl", out, "--format", "both"))
    assert code == 0
    return out


def test_rows_follow_the_contract_and_load_with_datasets(labeled_run, shared_data):
    import datasets

    rows = _read_jsonl(labeled_run / "labeled.jsonl")
    assert len(rows) == 6  # 3 problems x 2 samples, random sampling -> no duplicates
    for row in rows:
        assert tuple(row) == LABELED_FIELDS
        assert row["round"] == 1 and row["outcome_label"] in (0, 1)
        assert row["finish_reason"] in ("stop", "length")  # the trainer appends EOS only after "stop"
        assert row["generator"]["model"] and row["generator"]["backend"] == "hf"
        assert row["generator"]["sampling"]["temperature"] == 0.8
        assert row["judge"]["name"] == "arith" and isinstance(json.loads(row["judge"]["evidence"]), dict)
        assert isinstance(row["prompt"], list) and row["prompt"][-1]["role"] == "user"
    problems = {json.loads(line)["unique_id"]: json.loads(line)
                for line in (shared_data / "math_train_sample.jsonl").read_text().splitlines()[:3]}
    assert {r["problem_id"] for r in rows} == set(problems)
    assert all(r["gold_answer"] == problems[r["problem_id"]]["answer"] for r in rows)

    from_json = datasets.load_dataset("json", data_files=str(labeled_run / "labeled.jsonl"), split="train")
    from_parquet = datasets.load_dataset("parquet", data_files=str(labeled_run / "labeled.parquet"), split="train")
    assert from_json.num_rows == from_parquet.num_rows == 6
    assert from_parquet["completion"] == [r["completion"] for r in rows]
    assert from_parquet["step_char_spans"] == [r["step_char_spans"] for r in rows]


def test_spans_cover_each_completion_and_labels_match_first_error(labeled_run):
    for row in _read_jsonl(labeled_run / "labeled.jsonl"):
        text, spans = row["completion"], row["step_char_spans"]
        assert "".join(text[s:e] for s, e in spans) == text
        assert [text[s:e].strip() for s, e in spans] == row["steps"]
        assert all(s < e for s, e in spans) and all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
        assert row["step_labels"] == labels_from_first_error(len(row["steps"]), row["first_error"])


@pytest.mark.parametrize("name", ["labeled.jsonl", "labeled.parquet"])
def test_export_feeds_the_trainer_loader(labeled_run, tiny_model_dir, name):
    from transformers import AutoTokenizer

    from stepkto_train.data import load_labeled, prepare

    ds = load_labeled(labeled_run / name)  # validates every row against the contract
    prepared, stats = prepare(ds, AutoTokenizer.from_pretrained(tiny_model_dir), max_length=8192)
    assert stats.kept == len(ds) == 6
    assert [len(r["step_targets"]) for r in prepared] == [len(spans) for spans in ds["step_char_spans"]]


def test_summary_counts_match_rows(labeled_run):
    rows = _read_jsonl(labeled_run / "labeled.jsonl")
    s = json.loads((labeled_run / "summary.json").read_text())
    labels = [lab for r in rows for lab in r["step_labels"]]
    assert s["n_rows"] == len(rows)
    assert s["outcomes"]["desirable"] == sum(r["outcome_label"] for r in rows)
    assert s["outcomes"]["desirable"] + s["outcomes"]["undesirable"] == len(rows)
    assert s["steps"] == {"right": labels.count(1), "wrong": labels.count(0), "unjudged": labels.count(None)}
    assert sum(s["verdicts"].values()) == len(rows)
    assert s["dedup"]["duplicates_dropped"] == 0 and s["bad_rows"]["count"] == 0


def test_resume_after_interruption_adds_nothing_twice(labeled_run, tiny_model_dir, shared_data, tmp_path):
    # The on-disk state a crash leaves: the first two durable lines plus a torn third one.
    resumed = tmp_path / "run"
    resumed.mkdir()
    (resumed / "manifest.json").write_text((labeled_run / "manifest.json").read_text())
    lines = (labeled_run / "samples.jsonl").read_text().splitlines(keepends=True)
    (resumed / "samples.jsonl").write_text("".join(lines[:2]) + lines[2][:40])

    code = main(_label_args(tiny_model_dir, shared_data / "math_train_sample.jsonl", resumed, "--format", "both"))
    assert code == 0
    records = list(RunFolder(resumed).iter_samples())
    keys = [(r["id"], r["sample_index"]) for r in records]
    assert len(keys) == len(set(keys)) == 6  # every sample exactly once
    assert records[:2] == [json.loads(line) for line in lines[:2]]  # finished samples were not regenerated
    # seeded per sample: the resumed export equals the uninterrupted one
    assert (resumed / "labeled.jsonl").read_text() == (labeled_run / "labeled.jsonl").read_text()

    # a rerun of a finished folder generates nothing and exports the same rows
    outcome = run_labeling(LabelConfig(model=str(tiny_model_dir), problems=str(shared_data / "math_train_sample.jsonl"),
                                       judge="arith", output_dir=resumed, backend="hf", n=2, temperature=0.8,
                                       max_tokens=24, limit=3, round=1, batch_size=2, format="both"))
    assert outcome.n_generated == 0 and outcome.n_skipped == 6
    assert (resumed / "labeled.jsonl").read_text() == (labeled_run / "labeled.jsonl").read_text()


def test_changed_settings_are_refused(labeled_run, tiny_model_dir, shared_data, capsys):
    code = main(_label_args(tiny_model_dir, shared_data / "math_train_sample.jsonl", labeled_run, "--seed", "7"))
    assert code == 2
    assert "different settings" in capsys.readouterr().err


def test_identical_completions_are_deduplicated(tiny_model_dir, shared_data, tmp_path):
    # top_p near 0 keeps only the most likely token: the 3 samples of a problem are identical.
    config = LabelConfig(model=str(tiny_model_dir), problems=str(shared_data / "math_train_sample.jsonl"),
                         judge="arith", output_dir=tmp_path / "dedup", backend="hf", n=3, temperature=1.0,
                         top_p=1e-6, max_tokens=12, limit=2)
    outcome = run_labeling(config)
    rows = _read_jsonl(tmp_path / "dedup" / "labeled.jsonl")
    assert len(rows) == 2 and [r["problem_id"] for r in rows] == ["train/algebra/0", "train/algebra/1"]
    assert outcome.summary["dedup"]["duplicates_dropped"] == 4
    assert len(list(RunFolder(tmp_path / "dedup").iter_samples())) == 6  # the run folder keeps every sample


BAD_ROWS = [
    '{"unique_id": "a", "problem": "What is 1+1?", "answer": "2"}',
    '{"unique_id": "b", "problem": "What is 2+2?"}',  # no answer
    "{not json",
    '{"unique_id": "c", "problem": "", "answer": "3"}',  # empty problem
    '{"unique_id": "a", "problem": "Again?", "answer": "1"}',  # duplicate id
    '{"unique_id": "d", "problem": "What is 3+3?", "answer": 6}',  # a number as answer is fine
]


def test_bad_rows_are_reported_and_skipped(tmp_path, tiny_model_dir, capsys):
    problems = tmp_path / "problems.jsonl"
    problems.write_text("\n".join(BAD_ROWS) + "\n")
    task, errors = load_problems(str(problems))
    assert [p.id for p in task.problems] == ["a", "d"] and task.problems[1].answer == "6"
    assert len(errors) == 4
    for line, fragment in [(2, "'answer'"), (3, "not valid JSON"), (4, "'problem'"), (5, "duplicates")]:
        assert any(f"{problems}: line {line}:" in e and fragment in e for e in errors), (line, errors)

    code = main(["label", "--model", str(tiny_model_dir), "--problems", str(problems), "--judge", "arith",
                 "--backend", "hf", "--n", "1", "--temperature", "0", "--max-tokens", "8",
                 "--output-dir", str(tmp_path / "out")])
    assert code == 0
    assert "skipped" in capsys.readouterr().err
    rows = _read_jsonl(tmp_path / "out" / "labeled.jsonl")
    assert [r["problem_id"] for r in rows] == ["a", "d"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["bad_rows"]["count"] == 4


def test_problems_from_a_task_name(shared_data):
    task, errors = load_problems("math500", data_dir=str(shared_data), limit=2)
    assert task.spec.name == "math500" and len(task.problems) == 2 and errors == []
    assert task.problems[0].id.startswith("test/") and task.problems[0].solution


def test_bad_judge_spec_fails_before_generating(tiny_model_dir, shared_data, tmp_path, capsys):
    code = main(["label", "--model", str(tiny_model_dir), "--problems", str(shared_data / "math_train_sample.jsonl"),
                 "--judge", "critic:nope:M", "--limit", "1", "--output-dir", str(tmp_path / "x")])
    assert code == 2
    assert "critic:BACKEND:MODEL" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # no half-made run folder that a corrected rerun would refuse
