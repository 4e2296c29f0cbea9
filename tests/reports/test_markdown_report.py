"""report.md's compact accuracy-by-difficulty table."""
from __future__ import annotations

import json

from helpers.run_folders import write_sampled_run

from stepkto_eval.reports.markdown_report import render_markdown


def _read(run):
    metrics = json.loads((run / "metrics.json").read_text())
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    return metrics, samples


def test_difficulty_table_for_tasks_without_a_level_breakdown(tmp_path):
    metrics, samples = _read(write_sampled_run(tmp_path / "run", n=2))
    metrics["tasks"]["math500"]["breakdown"] = {"level": {"1": {"n": 8, "metrics": {}}}}  # already in Breakdown
    markdown = render_markdown(metrics, iter(samples))  # a one-pass iterable, as the run loop passes
    section = markdown.split("## Accuracy by difficulty")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| task")]
    assert len(rows) == 1 and rows[0].startswith("| amc23 | problem number in contest")
    assert rows[0].count("(n=5)") == 5  # five bands of five problems
    assert rows[0].count(" | ") == 2  # three cells: the bands share one, the table keeps its shape
    assert "## Failure examples" in markdown  # the samples were not used up by the difficulty table


def test_no_difficulty_table_when_no_task_has_difficulty(tmp_path):
    metrics, samples = _read(write_sampled_run(tmp_path / "run", n=2))
    for s in samples:
        s["meta"] = {}
    assert "Accuracy by difficulty" not in render_markdown(metrics, samples)


def test_failure_examples_survive_odd_verdict_and_completion_types(tmp_path):
    """A verdict that is a list stopped `stepkto-eval report` with an AttributeError traceback; a completion that is
    a number left report.md unwritten (exit 2). Odd records are shown as text like any other."""
    metrics, samples = _read(write_sampled_run(tmp_path / "run", n=2))
    wrong = [s for s in samples if not s["correct"]]
    wrong[0].update(verdict=["numeric-mismatch"], completion=12345)
    wrong[1].update(verdict="odd", completion=["a", "b"], error=None)
    markdown = render_markdown(metrics, samples)
    assert "## Failure examples" in markdown and "12345" in markdown
