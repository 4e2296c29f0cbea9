"""ProcessBench end to end through the CLI with every judge kind, and PRM threshold tuning.

The models are tiny random transformers models built in-process (and SmolLM2-135M for one critic run): their
verdicts are junk, so the tests check plumbing — each prediction is what the judge's own rule gives from the
evidence it recorded, the table counts what predictions.jsonl holds (no-verdicts included) — and the threshold
tuning is checked on synthetic step scores where every number is worked out by hand.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from stepkto_eval import processbench_scoring as pb
from stepkto_eval.audit.critic import majority, parse_vote
from stepkto_eval.audit.ensemble import combine_first_errors
from stepkto_eval.audit.prm import PRMJudge, first_error_from_scores, tune_threshold
from stepkto_eval.cli import main

LIMIT = 2


def run_cli(argv: list[str], out: Path, capsys) -> tuple[str, list[dict], dict]:
    """Run `stepkto-eval processbench`, return the printed text, predictions.jsonl and the processbench task."""
    assert main(["processbench", *argv, "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    task = json.loads((out / "metrics.json").read_text())["tasks"]["processbench"]
    assert (out / "report.md").read_text().startswith("# ProcessBench: ")
    return printed, predictions, task


def check_counts(printed: str, predictions: list[dict], task: dict, dataset: dict[str, list[pb.Item]]) -> None:
    """The per-split table and metrics.json count exactly what predictions.jsonl holds."""
    assert [(p["split"], p["id"]) for p in predictions] == [(s, it.id) for s, items in dataset.items() for it in items]
    none_per_split = Counter(p["split"] for p in predictions if p["pred"] is None)
    labels = {it.id: it.label for items in dataset.values() for it in items}
    for split, items in dataset.items():
        m = task["splits"][split]
        assert m["n"] == len(items) and m["no_verdict"] == none_per_split[split]
        nv_error = sum(p["pred"] is None and labels[p["id"]] != -1 for p in predictions if p["split"] == split)
        assert m["confusion"]["no_verdict_error"] == nv_error
        assert f"| {split} | {len(items)} |" in printed
        assert printed.split(f"| {split} | ")[1].split("\n")[0].endswith(f"| {m['no_verdict']} |")


# ---------------------------------------------------------------- every judge kind through the CLI
def _prm_rule(prediction, item, spec):
    scores = prediction["evidence"]["step_scores"]
    assert len(scores) == len(item.steps)
    assert prediction["pred"] == first_error_from_scores(scores, 0.5)


def _critic_rule(prediction, item, spec):
    ev = prediction["evidence"]
    assert ev["votes"] == [parse_vote(t, len(item.steps)) for t in ev["raw_outputs"]]
    assert prediction["pred"] == majority(ev["votes"], len(item.steps))


def _ensemble_rule(prediction, item, spec):
    members = prediction["evidence"]["members"]
    assert [m["judge"] for m in members] == spec.split("+", 1)
    assert prediction["pred"] == combine_first_errors([m["first_error"] for m in members])
    _prm_rule({"pred": members[1]["first_error"], "evidence": members[1]["evidence"]}, item, spec)


@pytest.mark.parametrize(
    ("model_fixture", "spec", "rule"),
    [
        ("qwen_prm_dir", "prm:{}?family=qwen-prm", _prm_rule),
        ("step_tag_dir", "prm:{}?family=step-tag&batch_size=2", _prm_rule),
        ("skywork_prm_dir", "prm:{}", _prm_rule),
        ("rlhflow_prm_dir", "prm:{}?preset=rlhflow-prm", _prm_rule),
        ("tiny_model_dir", "critic:hf:{}?max_tokens=6&device=cpu", _critic_rule),
        ("qwen_prm_dir", "arith+prm:{}?family=qwen-prm", _ensemble_rule),
    ],
    ids=["prm-qwen", "prm-math-shepherd", "prm-skywork", "prm-rlhflow", "critic-hf-tiny", "ensemble-arith-prm"],
)
def test_each_judge_kind_runs_end_to_end(model_fixture, spec, rule, request, shared_data, tmp_path, capsys):
    spec = spec.format(request.getfixturevalue(model_fixture))
    printed, predictions, task = run_cli(["--judge", spec, "--limit", str(LIMIT), "--data-dir", str(shared_data)],
                                         tmp_path / "pb", capsys)
    dataset = pb.load_splits(data_dir=shared_data, limit=LIMIT)
    check_counts(printed, predictions, task, dataset)
    assert "Average F1 over 4 split(s)" in printed and "not comparable" in printed
    items = {it.id: it for its in dataset.values() for it in its}
    for p in predictions:
        assert p["judge"] == spec
        rule(p, items[p["id"]], spec)


def test_a_random_critic_without_a_boxed_index_is_counted_as_no_verdict(tiny_model_dir, shared_data, tmp_path,
                                                                         capsys):
    # 3 new tokens cannot hold "\boxed{k}" in the tiny tokenizer's vocabulary: every vote is unparsable
    spec = f"critic:hf:{tiny_model_dir}?max_tokens=3&device=cpu"
    printed, predictions, task = run_cli(["--judge", spec, "--limit", str(LIMIT), "--splits", "gsm8k",
                                          "--data-dir", str(shared_data)], tmp_path / "pb", capsys)
    assert [p["pred"] for p in predictions] == [None] * LIMIT
    # 3 tokens: the review is cut by the length limit (or ends early without a box); either way no vote
    cut = [p["evidence"]["finish_reasons"] == ["length"] for p in predictions]
    assert [p["evidence"]["no_verdict_reason"] for p in predictions] == [
        "review cut by the length limit" if c else "no parsable vote" for c in cut]
    assert task["judge_truncation_rate"] == sum(cut) / LIMIT and task["splits"]["gsm8k"]["judge_truncated"] == sum(cut)
    assert f"Judge truncated by its length limit on {sum(cut)} of {LIMIT} items" in printed
    m = task["splits"]["gsm8k"]
    assert m["no_verdict"] == LIMIT and m["confusion"]["missed"] == 0 and m["error_acc"] == 0.0
    check_counts(printed, predictions, task, pb.load_splits(["gsm8k"], shared_data, LIMIT))


def test_a_prm_that_sees_no_separator_gives_no_verdicts(qwen_prm_dir, shared_data, tmp_path, capsys):
    # max_length 16 cuts every input before its first separator: nothing is scored, nothing may count as clean
    spec = f"prm:{qwen_prm_dir}?family=qwen-prm&max_length=16"
    printed, predictions, task = run_cli(["--judge", spec, "--limit", str(LIMIT), "--data-dir", str(shared_data)],
                                         tmp_path / "pb", capsys)
    assert all(p["pred"] is None and p["evidence"]["truncated"] for p in predictions)
    assert all(m["no_verdict"] == LIMIT and m["flagged"] == 0 for m in task["splits"].values())
    check_counts(printed, predictions, task, pb.load_splits(data_dir=shared_data, limit=LIMIT))


@pytest.mark.slow
@pytest.mark.smollm2
def test_critic_through_smollm2(smollm2_dir, shared_data, tmp_path, capsys):
    """Plumbing only: SmolLM2-135M's verdicts are junk. The two shortest gsm8k items keep it quick on CPU."""
    rows = json.loads((shared_data / "processbench" / "gsm8k.json").read_text())
    shortest = sorted(rows, key=lambda r: len(r["problem"]) + sum(len(s) for s in r["steps"]))[:2]
    (tmp_path / "data" / "processbench").mkdir(parents=True)
    (tmp_path / "data" / "processbench" / "gsm8k.json").write_text(json.dumps(shortest))
    spec = f"critic:hf:{smollm2_dir}?max_tokens=16&device=cpu"
    printed, predictions, task = run_cli(["--judge", spec, "--splits", "gsm8k", "--data-dir",
                                          str(tmp_path / "data")], tmp_path / "pb", capsys)
    dataset = pb.load_splits(["gsm8k"], tmp_path / "data")
    check_counts(printed, predictions, task, dataset)
    for p, item in zip(predictions, dataset["gsm8k"], strict=True):
        assert p["evidence"]["raw_outputs"][0]  # the model wrote something
        _critic_rule(p, item, spec)


# ---------------------------------------------------------------- threshold tuning on synthetic step scores
# Item: (label, step scores). The judge ran with threshold 0.5 (its predictions in the file use it).
# gsm8k: every t in (0.3, 0.6] classifies all four items; the candidate there is the midpoint 0.45
# (below 0.3 g2 is missed: F1 2/3; above 0.6 g1 is a false alarm) -> threshold 0.45, in-sample F1 1.
SYNTHETIC = {
    "gsm8k": [(1, [0.9, 0.2, 0.7]), (-1, [0.8, 0.6]), (0, [0.3, 0.9]), (-1, [0.95, 0.7, 0.65])],
    # at 0.45: m0 exact, m1 -1, m2 exact, m3 -1, m4 no verdict -> error acc 2/3, correct acc 1, F1 0.8
    # at 0.50: m0 exact, m1 false alarm, m2 too early -> error acc 1/3, correct acc 1/2, F1 0.4
    "math": [(2, [0.9, 0.8, 0.1, 0.2]), (-1, [0.9, 0.47]), (1, [0.48, 0.4]), (-1, [0.7]), (0, [None, None])],
    # at 0.45: o0 missed -> F1 0; at 0.50: o0 exact -> F1 1
    "olympiadbench": [(0, [0.46, 0.9]), (-1, [0.9])],
}
EXPECTED_PREDS = {"gsm8k": [1, -1, 0, -1], "math": [2, -1, 1, -1, None], "olympiadbench": [-1, -1]}


def write_synthetic_run(folder: Path) -> Path:
    """A data folder with the synthetic splits and a PRM run's predictions.jsonl over them (threshold 0.5)."""
    data = folder / "data" / "processbench"
    data.mkdir(parents=True)
    lines = []
    for split, rows in SYNTHETIC.items():
        items = [{"id": f"{split}-{i}", "problem": "p", "steps": [f"step {k}" for k in range(len(scores))],
                  "label": label} for i, (label, scores) in enumerate(rows)]
        (data / f"{split}.json").write_text(json.dumps(items))
        for i, (_, scores) in enumerate(rows):
            lines.append({"split": split, "id": f"{split}-{i}", "pred": first_error_from_scores(scores, 0.5),
                          "judge": "prm:synthetic", "evidence": {"step_scores": scores, "threshold": 0.5}})
    path = folder / "predictions.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_tuning_by_hand_picks_the_gap_and_reports_in_sample_and_held_out_apart(tmp_path, capsys):
    run = write_synthetic_run(tmp_path)
    data = str(tmp_path / "data")
    # --splits leaves gsm8k out: the tuning split is added
    printed, predictions, task = run_cli(["--replay", str(run), "--splits", "math", "olympiadbench",
                                          "--tune-threshold-on", "gsm8k", "--data-dir", data],
                                         tmp_path / "tuned", capsys)
    t = task["threshold_tuning"]
    assert t["threshold"] == pytest.approx(0.45) and t["split"] == "gsm8k" and t["judge_threshold"] == 0.5
    assert t["in_sample"] == {"f1": 1.0, "error_acc": 1.0, "correct_acc": 1.0} and t["n_items"] == 4
    assert {s: m["f1"] for s, m in task["splits"].items()} == pytest.approx(
        {"gsm8k": 1.0, "math": 0.8, "olympiadbench": 0.0})
    assert t["held_out_splits"] == ["math", "olympiadbench"]
    assert t["f1_avg_held_out"] == pytest.approx(0.4)  # (0.8 + 0) / 2
    assert t["f1_avg_all"] == task["f1_avg"] == pytest.approx(0.6)  # (1 + 0.8 + 0) / 3, in-sample included
    assert t["f1_avg_at_judge_threshold"] == pytest.approx(0.8)  # (1 + 0.4 + 1) / 3
    assert task["splits"]["math"]["no_verdict"] == 1

    by_split = {s: [p["pred"] for p in predictions if p["split"] == s] for s in SYNTHETIC}
    assert by_split == EXPECTED_PREDS
    assert all(p["evidence"]["threshold"] == t["threshold"] and p["evidence"]["judge_threshold"] == 0.5
               and p["evidence"]["threshold_tuned_on"] == "gsm8k" for p in predictions)
    for text in (printed, (tmp_path / "tuned" / "report.md").read_text()):
        assert "| gsm8k (tuning split, in-sample) | 4 |" in text
        assert "Threshold 0.45 chosen for best F1 on gsm8k (4 items); the judge ran with 0.5." in text
        assert "gsm8k F1 (in-sample: the split the threshold was tuned on): 100.0" in text
        assert "Average F1 over 2 held-out split(s) (math, olympiadbench): 40.0" in text
        assert "Average F1 over all 3 split(s), gsm8k in-sample included: 60.0" in text
        assert "at the judge's own threshold: 80.0" in text

    # the tuned file replays to the same numbers, and re-tuning it is idempotent (judge threshold kept)
    _, _, again = run_cli(["--replay", str(tmp_path / "tuned" / "predictions.jsonl"), "--data-dir", data],
                          tmp_path / "replayed", capsys)
    assert again["splits"] == task["splits"] and "threshold_tuning" not in again
    _, _, retuned = run_cli(["--replay", str(tmp_path / "tuned" / "predictions.jsonl"), "--data-dir", data,
                             "--tune-threshold-on", "gsm8k"], tmp_path / "retuned", capsys)
    assert retuned["threshold_tuning"] == t and retuned["splits"] == task["splits"]


def test_tuning_a_real_prm_run_reuses_its_step_scores(qwen_prm_dir, shared_data, tmp_path, capsys, monkeypatch):
    # A spy (the model still runs): counts the items PRMJudge scores, to show tuning adds no forward pass.
    scored = []
    real_score = PRMJudge.score
    monkeypatch.setattr(PRMJudge, "score", lambda self, items: scored.extend(items) or real_score(self, items))
    spec = f"prm:{qwen_prm_dir}?family=qwen-prm"
    printed, predictions, task = run_cli(["--judge", spec, "--limit", str(LIMIT), "--data-dir", str(shared_data),
                                          "--tune-threshold-on", "gsm8k"], tmp_path / "pb", capsys)
    assert len(scored) == 4 * LIMIT  # each item scored once
    dataset = pb.load_splits(data_dir=shared_data, limit=LIMIT)
    check_counts(printed.replace("gsm8k (tuning split, in-sample)", "gsm8k"), predictions, task, dataset)
    gsm8k = [p for p in predictions if p["split"] == "gsm8k"]
    fit = tune_threshold([p["evidence"]["step_scores"] for p in gsm8k], [it.label for it in dataset["gsm8k"]])
    t = task["threshold_tuning"]
    assert t["threshold"] == fit.threshold and t["judge_threshold"] == 0.5
    assert all(p["pred"] == first_error_from_scores(p["evidence"]["step_scores"], fit.threshold)
               for p in predictions)
    assert t["f1_avg_held_out"] == pytest.approx(
        sum(task["splits"][s]["f1"] for s in ("math", "olympiadbench", "omnimath")) / 3)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--judge", "arith"], "needs a single prm: judge"),
        (["--judge", "arith+prm:no/such/model"], "needs a single prm: judge"),
        (["--judge", "critic:hf:no/such/model"], "needs a single prm: judge"),
    ],
)
def test_tuning_refuses_judges_without_a_threshold(argv, message, shared_data, capsys):
    assert main(["processbench", *argv, "--tune-threshold-on", "gsm8k", "--data-dir", str(shared_data)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_tuning_a_replay_without_step_scores_names_the_file_and_item(shared_data, tmp_path, capsys):
    path = tmp_path / "arith.jsonl"
    path.write_text(json.dumps({"split": "gsm8k", "id": "gsm8k-0", "pred": -1, "evidence": {"claims": []}}) + "\n")
    assert main(["processbench", "--replay", str(path), "--limit", "1", "--tune-threshold-on", "gsm8k",
                 "--data-dir", str(shared_data)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: prediction for gsm8k/gsm8k-0 has no evidence.step_scores" in err


def test_tuning_needs_a_prediction_for_every_tuning_item(tmp_path):
    data = {"gsm8k": [pb.Item("gsm8k", "a", "p", ("s",), -1), pb.Item("gsm8k", "b", "p", ("s",), 0)]}
    only_a = [{"split": "gsm8k", "id": "a", "pred": -1, "evidence": {"step_scores": [0.9]}}]
    with pytest.raises(pb.ProcessBenchError, match=r"no prediction for tuning item\(s\) \['b'\]"):
        pb.tune_and_apply(only_a, data, "gsm8k")
    with pytest.raises(pb.ProcessBenchError, match="not among the splits loaded"):
        pb.tune_and_apply(only_a, data, "math")
