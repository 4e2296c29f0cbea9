"""Leaderboard: grouping by comparable settings, ranking, and the three generated files."""
from __future__ import annotations

import csv
import json
import re

import pytest
from helpers.run_folders import TaskSpec, write_run

from stepkto_eval.cli import main
from stepkto_eval.reports.leaderboard_writer import entry_from_run, group_entries


def _task(n_right: int, n: int = 20, audited: bool = False) -> TaskSpec:
    spec = TaskSpec(correct={f"q{i:02d}": [i < n_right] for i in range(n)}, audited=audited)
    if audited:
        spec.flawed = {(f"q{i:02d}", 0) for i in range(n_right // 4)}
    return spec


@pytest.fixture
def runs(tmp_path):
    """Three comparable greedy runs (one with a '|' in its name), one sampled run, and three rounds."""
    made = [
        write_run(tmp_path / "weak", "org/weak", {"math500": _task(6), "amc23": _task(2, 10)}),
        write_run(tmp_path / "strong", "org/strong|v2", {"math500": _task(15), "amc23": _task(6, 10)}),
        write_run(tmp_path / "mid", "org/mid", {"math500": _task(10), "amc23": _task(4, 10)}),
        write_run(tmp_path / "sampled", "org/strong|v2", {"math500": _task(12), "amc23": _task(5, 10)},
                  temperature=0.7),
    ]
    made += [write_run(tmp_path / f"round{r}", f"org/stepkto-M{r}", {"math500": _task(8 + 2 * r, audited=True)},
                       round_=r) for r in range(3)]
    return made


def test_groups_separate_incompatible_settings(runs):
    groups = group_entries([entry_from_run(r) for r in runs])
    assert [len(g.entries) for g in groups] == [3, 3, 1]
    greedy = groups[0]
    assert [e.model for e in greedy.entries] == ["org/strong|v2", "org/mid", "org/weak"]  # ranked by mean score
    assert {e.run for e in groups[1].entries} == {"round0", "round1", "round2"}  # audited + single task
    assert groups[2].entries[0].run == "sampled"  # temperature 0.7 is never ranked with greedy runs
    assert len({g.key for g in groups}) == 3


def test_leaderboard_command_writes_three_files(runs, tmp_path):
    out = tmp_path / "board"
    assert main(["leaderboard", *map(str, runs), "--out", str(out)]) == 0
    readme = (out / "README.md").read_text()
    assert readme.count("## Group ") == 3
    rows = [line for line in readme.splitlines() if line.startswith("| 1 |")]
    assert len(rows) == 3 and "org/strong\\|v2" in rows[0]  # '|' escaped in markdown cells
    assert "75.0 [" in rows[0]  # 15/20 with its CI
    assert "temperature=0.7" in readme and "reported_elsewhere.md" in readme

    table = list(csv.DictReader((out / "leaderboard.csv").open()))
    assert len(table) == 3 * 2 + 3 + 2  # (runs x tasks) per group
    strong = [r for r in table if r["run"] == "strong" and r["task"] == "math500"][0]
    assert (strong["group"], strong["rank"], strong["metric"]) == ("A", "1", "pass@1")
    assert float(strong["value"]) == pytest.approx(0.75)
    assert float(strong["ci_low"]) <= 0.75 <= float(strong["ci_high"])
    round2 = [r for r in table if r["run"] == "round2"][0]
    assert round2["round"] == "2" and float(round2["flawed_step_rate"]) == pytest.approx(3 / 12)

    html = (out / "index.html").read_text()
    assert len(re.findall(r'<table id="group-[A-C]" class="sortable">', html)) == 3
    plots = re.findall(r'<img class="plot" alt="([^"]+)"', html)
    assert plots == ["group A accuracy per task", "group B accuracy per task", "group B accuracy vs flawed-step rate",
                     "group B accuracy over rounds", "group C accuracy per task"]
    assert "org/strong|v2" in html and "<script>" in html


def test_model_names_are_escaped_in_html(tmp_path):
    run = write_run(tmp_path / "evil", "<img src=x onerror=alert(1)>", {"math500": _task(5)})
    main(["leaderboard", str(run), "--out", str(tmp_path / "b")])
    html = (tmp_path / "b" / "index.html").read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_missing_run_folder_exit_2(tmp_path, capsys):
    assert main(["leaderboard", str(tmp_path / "nope"), "--out", str(tmp_path / "b")]) == 2
    assert "nope: not a run folder" in capsys.readouterr().err


def test_limit_smoke_mode(runs, tmp_path):
    assert main(["leaderboard", *map(str, runs), "--out", str(tmp_path / "b"), "--limit", "2"]) == 0
    assert len(list(csv.DictReader((tmp_path / "b" / "leaderboard.csv").open()))) == 4


def test_audited_run_without_correct_answers(tmp_path):
    """flawed_step_rate is null when nothing was correct (a real SmolLM2 run): no scatter point, no crash."""
    run = write_run(tmp_path / "zero", "m", {"math500": _task(0, audited=True)})
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["tasks"]["math500"]["flawed_step_rate"].update(value=None, ci_low=None, ci_high=None)
    (run / "metrics.json").write_text(json.dumps(metrics))
    other = write_run(tmp_path / "some", "m2", {"math500": _task(8, audited=True)})
    assert main(["leaderboard", str(run), str(other), "--out", str(tmp_path / "b")]) == 0
    html = (tmp_path / "b" / "index.html").read_text()
    assert "group A accuracy vs flawed-step rate" in html  # drawn from the run that has a rate


def test_score_runs_of_the_same_problems_are_described_by_those_problems(tmp_path):
    rows = [{"id": f"p{i}", "gold": str(i), "completion": f"so \\boxed{{{i if i % 2 else i + 1}}}"} for i in range(4)]
    data = tmp_path / "comps.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["score", str(data), "--output-dir", str(tmp_path / "s")]) == 0
    problems = json.loads((tmp_path / "s" / "manifest.json").read_text())["source"]["problems_sha256"]
    assert main(["leaderboard", str(tmp_path / "s"), "--out", str(tmp_path / "board")]) == 0
    readme = (tmp_path / "board" / "README.md").read_text()
    assert f"scored completions of the same problems (ids and golds sha256 {problems[:12]})" in readme
    assert "None" not in readme.split("## Group A", 1)[1].split("\n\n")[1]  # the settings line names no unknowns


@pytest.mark.parametrize("as_link", [False, True])
def test_out_that_is_a_file_exit_2_untouched(runs, tmp_path, capsys, as_link):
    """--out naming a file (or a symlink to one) raised FileExistsError from the folder lock's mkdir."""
    target = tmp_path / "notes.txt"
    target.write_text("mine\n")
    out = target
    if as_link:
        out = tmp_path / "link"
        out.symlink_to(target)
    assert main(["leaderboard", str(runs[0]), "--out", str(out)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert target.read_text() == "mine\n"
