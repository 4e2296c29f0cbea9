"""ProcessBench protocol: hand-computed metrics, data loading errors, replay, and the CLI end to end."""
from __future__ import annotations

import json

import pytest

from stepkto_eval import processbench_scoring as pb
from stepkto_eval.cli import main


def items(labels, split="s", n_steps=6):
    return [pb.Item(split, f"{split}-{i}", "p", tuple(f"step {k}" for k in range(n_steps)), y)
            for i, y in enumerate(labels)]


def preds(dataset_items, values, split="s"):
    return [{"split": split, "id": it.id, "pred": v} for it, v in zip(dataset_items, values, strict=True)]


LABELS = [0, 2, 1, 3, -1, -1, -1]  # four erroneous items, three all-correct ones


@pytest.mark.parametrize(
    ("name", "values", "error_acc", "correct_acc", "f1"),
    [
        ("says every solution is correct", [-1] * 7, 0.0, 1.0, 0.0),
        ("flags the first step everywhere", [0] * 7, 0.25, 0.0, 0.0),
        ("oracle", LABELS, 1.0, 1.0, 1.0),
        # erroneous: exact, too early (1 < 2), missed, exact -> 2/4; correct: -1, -1, false alarm -> 2/3
        # F1 = 2 * 0.5 * (2/3) / (0.5 + 2/3) = (2/3) / (7/6) = 4/7
        ("mixed", [0, 1, -1, 3, -1, -1, 4], 0.5, 2 / 3, 4 / 7),
        # no verdict (None) is wrong on both kinds of items
        ("no verdicts", [None, 2, 1, 3, None, -1, -1], 0.75, 2 / 3, 2 * 0.75 * (2 / 3) / (0.75 + 2 / 3)),
    ],
)
def test_protocol_metrics_by_hand(name, values, error_acc, correct_acc, f1):
    data = items(LABELS)
    m = pb.score(preds(data, values), {"s": data})["splits"]["s"]
    assert m["error_acc"] == pytest.approx(error_acc)
    assert m["correct_acc"] == pytest.approx(correct_acc)
    assert m["f1"] == pytest.approx(f1)


def test_confusion_and_flag_statistics_by_hand():
    data = items(LABELS)
    m = pb.score(preds(data, [0, 1, -1, 5, None, -1, 4]), {"s": data})["splits"]["s"]
    assert m["confusion"] == {"too_early": 1, "exact": 1, "too_late": 1, "missed": 1, "no_verdict_error": 0,
                              "true_negative": 1, "false_alarm": 1, "no_verdict_correct": 1}
    assert m["flagged"] == 4  # 0, 1, 5 on erroneous items and 4 on a correct one
    assert m["exact_precision"] == pytest.approx(1 / 4)
    assert m["consistency"] == pytest.approx(2 / 4)  # exact + too late
    assert m["false_alarm_rate_correct"] == pytest.approx(1 / 3)
    assert m["no_verdict"] == 1


def test_headline_is_the_plain_mean_of_split_f1s_and_missing_predictions_count_as_no_verdict():
    a, b = items([0, -1], "a"), items([1, -1], "b")
    report = pb.score(preds(a, [0, -1], "a") + preds(b[:1], [1], "b") + [{"split": "zz", "id": "x", "pred": 0}],
                      {"a": a, "b": b})
    assert report["splits"]["a"]["f1"] == 1.0
    assert report["splits"]["b"]["f1"] == 0.0  # its correct item has no prediction
    assert report["splits"]["b"]["no_verdict"] == 1
    assert report["f1_avg"] == 0.5
    assert report["unmatched_predictions"] == 1 and report["complete"] is False


def test_loads_the_four_local_splits(shared_data):
    data = pb.load_splits(data_dir=shared_data)
    assert {s: len(v) for s, v in data.items()} == pb.SPLIT_SIZES
    first = data["gsm8k"][0]
    assert first.id == "gsm8k-0" and first.label == 1 and len(first.steps) == 4
    assert sum(it.label == -1 for it in data["math"]) == 406


def test_data_errors_name_the_file_row_and_field(tmp_path):
    folder = tmp_path / "processbench"
    folder.mkdir()
    rows = [{"id": "a", "problem": "p", "steps": ["s"], "label": -1},
            {"id": "b", "problem": "p", "steps": ["s"], "label": 3}]
    (folder / "gsm8k.json").write_text(json.dumps(rows))
    with pytest.raises(pb.ProcessBenchError, match=r"gsm8k\.json: row 1: field 'label'"):
        pb.load_splits(["gsm8k"], data_dir=tmp_path)
    with pytest.raises(pb.ProcessBenchError, match=r"math\.json not found"):
        pb.load_splits(["math"], data_dir=tmp_path)
    with pytest.raises(pb.ProcessBenchError, match="unknown ProcessBench split"):
        pb.load_splits(["aime"], data_dir=tmp_path)


def test_bad_replay_lines_are_reported_and_count_as_missing(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"split": "s", "id": "s-0", "pred": 0}\nnot json\n{"split": "s", "id": "s-1"}\n'
                    '{"split": "s", "id": "s-1", "pred": "2"}\n\n')
    predictions, problems = pb.read_predictions(path)
    assert predictions == [{"split": "s", "id": "s-0", "pred": 0}]
    assert [p.split(": ", 1)[1] for p in problems] == [
        "line 2: not valid JSON (Expecting value)", "line 3: missing field(s) pred",
        "line 4: field 'pred' must be an integer >= -1 or null, got '2'"]


def test_cli_runs_the_arith_judge_and_replays_its_predictions(shared_data, tmp_path, capsys):
    out = tmp_path / "pb"
    assert main(["processbench", "--judge", "arith", "--limit", "12", "--data-dir", str(shared_data),
                 "--output-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| gsm8k | 12 |" in printed and "Average F1 over 4 split(s)" in printed and "not comparable" in printed
    lines = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 48 and {x["split"] for x in lines} == set(pb.SPLITS)
    assert all(x["judge"] == "arith" and isinstance(x["pred"], int) for x in lines)
    metrics = json.loads((out / "metrics.json").read_text())
    task = metrics["tasks"]["processbench"]
    assert set(task["splits"]) == set(pb.SPLITS) and all(m["n"] == 12 for m in task["splits"].values())
    assert "Average F1" in (out / "report.md").read_text()
    assert "olympiadbench" in (out / "report.html").read_text()

    replay = tmp_path / "replay"
    assert main(["processbench", "--replay", str(out / "predictions.jsonl"), "--limit", "12",
                 "--data-dir", str(shared_data), "--output-dir", str(replay)]) == 0
    again = json.loads((replay / "metrics.json").read_text())["tasks"]["processbench"]
    assert again["splits"] == task["splits"] and again["f1_avg"] == task["f1_avg"]


def test_eval_command_routes_tasks_processbench_to_the_judge_benchmark(shared_data, tmp_path, capsys):
    direct, routed = tmp_path / "direct", tmp_path / "routed"
    common = ["--limit", "3", "--data-dir", str(shared_data)]
    assert main(["processbench", "--judge", "arith", *common, "--output-dir", str(direct)]) == 0
    assert main(["--tasks", "processbench", "--judge", "arith", *common, "--output-dir", str(routed)]) == 0
    assert (routed / "predictions.jsonl").read_text() == (direct / "predictions.jsonl").read_text()
    capsys.readouterr()
    assert main(["--tasks", "processbench,math500", "--judge", "arith", *common]) == 2
    assert "run it alone" in capsys.readouterr().err
    assert main(["--tasks", "processbench", *common]) == 2  # a judge is required
    assert main(["--model", "m", "--tasks", "math500", "--judge", "arith"]) == 2
    assert "use --audit" in capsys.readouterr().err


def test_cli_replay_of_an_oracle_scores_100(shared_data, tmp_path, capsys):
    data = pb.load_splits(["gsm8k"], data_dir=shared_data)
    path = tmp_path / "oracle.jsonl"
    path.write_text("".join(json.dumps({"split": "gsm8k", "id": it.id, "pred": it.label}) + "\n"
                            for it in data["gsm8k"]))
    assert main(["processbench", "--replay", str(path), "--data-dir", str(shared_data)]) == 0
    printed = capsys.readouterr().out
    assert "| gsm8k | 400 | 100.0 | 100.0 | 100.0 |" in printed
    assert "Average F1 over 1 split(s): 100.0" in printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--judge", "oracle"], "unknown judge"),
        (["--judge", "arith", "--limit", "0"], "--limit must be >= 1"),
        (["--replay", "no/such/file.jsonl"], "no/such/file.jsonl"),
    ],
)
def test_cli_errors_are_one_clear_line(argv, message, shared_data, capsys):
    assert main(["processbench", *argv, "--data-dir", str(shared_data)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
