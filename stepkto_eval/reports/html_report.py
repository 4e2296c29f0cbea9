"""report.html: a self-contained page per run folder (tables with 95% CIs, embedded plots, samples).

Sections: the task table, accuracy bars with error bars, flawed-step rate (when audited), breakdown
tables (per subject, level, ... as metrics.json lists them), a subject × level heat map for tasks whose problems carry both (MATH-500), ProcessBench F1 per split
and the judge's confusion (when present), the views of `reports/views.py` (difficulty, length and
truncation, pass@k/maj@k and solve rates, step-audit views; rendered by `view_sections.py`), the browsable
sample of wrong and correct-but-flawed answers, and the manifest. Inputs are read from the folder only (docs/run-folder.md).

ProcessBench entries in metrics.json are read from `tasks[<name>]["splits"][<split>]` with keys
`f1`, `error_acc`, `correct_acc` (fractions, or {"value", "ci_low", "ci_high"} dicts) and an optional
`confusion` ({"too_early", "exact", "too_late", "missed", ...} counts, overall or per split).
"""
from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path
from typing import Any

from stepkto_eval.jsonl import write_text_atomic
from stepkto_eval.reports import plots
from stepkto_eval.reports.html_page import Html, esc, estimate_cell, page, pct, plot_or_note, section, table
from stepkto_eval.reports.run_view import RunView, headline, load_run, main_metric, natural_key
from stepkto_eval.reports.sample_browser import sample_browser
from stepkto_eval.reports.view_sections import view_sections

SAMPLE_CAP = 50  # samples shown per outcome (wrong / correct-but-flawed / correct / no verdict)


def _as_metric(value: Any) -> dict | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, (int, float)):
        return {"value": float(value)}
    return None


def _metric_names(tasks: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for task in tasks.values():
        for name in (task.get("metrics") or {}):
            if name not in names:
                names.append(name)
    return names


def task_table(tasks: dict[str, Any]) -> Html:
    names = _metric_names(tasks)
    audited = any(t.get("flawed_step_rate") for t in tasks.values())
    headers = ["task", "problems", "samples / problem", *names, "truncated %", "errors %"]
    headers += ["flawed-step rate % (among correct)"] if audited else []
    rows = []
    for task_name, task in tasks.items():
        metrics = task.get("metrics") or {}
        row = [task_name, task.get("n_problems", "–"), task.get("n_samples_per_problem", "–")]
        row += [estimate_cell(metrics.get(n)) for n in names]
        row += [pct(task.get("truncation_rate")), pct(task.get("error_rate"))]
        if audited:
            flawed = task.get("flawed_step_rate") or {}
            extra = f" ({flawed.get('n_flawed')}/{flawed.get('n_correct')})" if flawed else ""
            row.append(Html(estimate_cell(flawed) + esc(extra)))
        rows.append(row)
    return table(headers, rows, table_id="task-table", sortable=True)


def breakdown_tables(tasks: dict[str, Any]) -> list[Html]:
    """Per task and breakdown field (subject, level, ...): the headline metric per value, with CIs."""
    parts: list[Html] = []
    for task_name, task in tasks.items():
        metric = main_metric(task)
        for field_name, values in (task.get("breakdown") or {}).items():
            if not isinstance(values, dict) or not values:
                continue
            rows = [[value, entry.get("n", "–"), estimate_cell((entry.get("metrics") or {}).get(metric))]
                    for value, entry in sorted(values.items(), key=lambda kv: natural_key(kv[0]))]
            parts.append(Html(f"<h3>{esc(task_name)} by {esc(field_name)}</h3>"))
            parts.append(table([field_name, "problems", f"{metric} %"], rows,
                               table_id=f"breakdown-{task_name}-{field_name}", sortable=True))
    return parts


def accuracy_plots(tasks: dict[str, Any]) -> list[Html]:
    labels, estimates = [], []
    for task_name, task in tasks.items():
        head = headline(task)
        estimate = plots.Estimate.from_metric(head[1]) if head else None
        if estimate is not None:
            labels.append(f"{task_name} ({head[0]})")
            estimates.append(estimate)
    figures = []
    if labels:
        figures.append(plot_or_note(lambda: plots.bar_chart(labels, estimates, "Accuracy per task (95% CI)"),
                                    "accuracy per task"))
    flawed = [(name, plots.Estimate.from_metric(t.get("flawed_step_rate"))) for name, t in tasks.items()]
    flawed = [(name, e) for name, e in flawed if e is not None]
    if flawed:
        figures.append(plot_or_note(lambda: plots.bar_chart(
            [n for n, _ in flawed], [e for _, e in flawed], "Flawed-step rate among correct answers (95% CI)",
            ylabel="flawed (%)"), "flawed-step rate per task"))
    return figures


def _level_key(level: str) -> tuple[int, str]:
    digits = re.findall(r"\d+", level)
    return (int(digits[0]) if digits else 10**6, level)


def subject_level_grid(samples: list[dict[str, Any]]):
    """Accuracy per (subject, level): per-problem mean correctness averaged over problems in the cell."""
    per_item: dict[tuple[str, str, str], list[float]] = {}
    for s in samples:
        meta = s.get("meta")
        if not isinstance(meta, dict):  # untrusted record: a string or list here is no subject or level
            continue
        if meta.get("subject") is None or meta.get("level") is None or s.get("correct") is None:
            continue
        level = re.sub(r"^Level\s*", "", str(meta["level"]))
        per_item.setdefault((str(meta["subject"]), level, str(s.get("id"))), []).append(float(bool(s["correct"])))
    if not per_item:
        return None
    subjects = sorted({k[0] for k in per_item})
    levels = sorted({k[1] for k in per_item}, key=_level_key)
    cells: dict[tuple[str, str], list[float]] = {}
    for (subject, level, _), values in per_item.items():
        cells.setdefault((subject, level), []).append(sum(values) / len(values))
    matrix = [[(sum(cells[(s, lv)]) / len(cells[(s, lv)])) if (s, lv) in cells else None for lv in levels]
              for s in subjects]
    counts = [[len(cells.get((s, lv), [])) for lv in levels] for s in subjects]
    return matrix, subjects, [f"L{lv}" if lv.isdecimal() else lv for lv in levels], counts


def heat_maps(run: RunView) -> list[Html]:
    out = []
    for task_name in run.task_names():
        grid = subject_level_grid(run.samples_of(task_name))
        if grid is None:
            continue
        matrix, rows, cols, counts = grid
        out.append(plot_or_note(
            partial(plots.heat_map, matrix, rows, cols, counts, f"{task_name}: accuracy by subject × level"),
            f"{task_name} subject by level heat map"))
    return out


def processbench_parts(tasks: dict[str, Any]) -> list[Html]:
    parts: list[Html] = []
    for task_name, task in tasks.items():
        splits = task.get("splits")
        if not isinstance(splits, dict) or not any(isinstance(v, dict) and "f1" in v for v in splits.values()):
            continue
        rows, labels, estimates = [], [], []
        for split, values in splits.items():
            f1 = _as_metric(values.get("f1"))
            rows.append([split, estimate_cell(_as_metric(values.get("error_acc"))),
                         estimate_cell(_as_metric(values.get("correct_acc"))), estimate_cell(f1)])
            if f1 is not None:
                labels.append(split)
                estimates.append(plots.Estimate.from_metric(f1))
        mean = f" — mean F1 over splits {pct(task['f1_avg'])}" if isinstance(task.get("f1_avg"), (int, float)) else ""
        parts.append(Html(f"<h3>{esc(task_name)}{esc(mean)}</h3>"))
        parts.append(table(["split", "accuracy on erroneous %", "accuracy on correct %", "F1 %"], rows,
                           table_id=f"processbench-{task_name}"))
        if labels:
            parts.append(plot_or_note(partial(plots.bar_chart, labels, estimates, f"{task_name}: F1 per split",
                                              ylabel="F1 (%)"), f"{task_name} F1 per split"))
        confusion = task.get("confusion") or {s: v["confusion"] for s, v in splits.items() if "confusion" in v}
        if confusion:
            per_split = confusion if all(isinstance(v, dict) for v in confusion.values()) else {"all": confusion}
            kinds = sorted({k for v in per_split.values() for k in v})
            parts.append(Html("<p class=\"note\">Judge confusion (counts): predicted first error vs label.</p>"))
            parts.append(table(["split", *kinds], [[s, *[v.get(k, 0) for k in kinds]] for s, v in per_split.items()],
                               table_id=f"confusion-{task_name}"))
    return parts


def _identity_line(manifest: dict) -> str:
    """What the run is: a `score` run has no generation settings, so it names the file it graded, the completions
    per problem and the checker instead of a settings hash."""
    if manifest.get("kind") == "score":
        source = manifest.get("source") or {}
        n = (manifest.get("sampling") or {}).get("n", "?")
        return (f"scored file {Path(str(source.get('file', '?'))).name} "
                f"(sha256 {str(source.get('file_sha256') or '?')[:12]}) · {n} completion(s) per problem · "
                f"checker {manifest.get('checker_version', '?')}")
    return f"settings {str(manifest.get('settings_hash') or '?')[:12]} · checker {manifest.get('checker_version', '?')}"


def render(run: RunView, sample_cap: int = SAMPLE_CAP) -> str:
    tasks = (run.metrics.get("tasks") or {})
    scored = {name: t for name, t in tasks.items() if isinstance(t, dict) and "metrics" in t}
    manifest = run.manifest
    subtitle = (f"{run.label} · created {manifest.get('created', '?')} · {_identity_line(manifest)}"
                + (f" · round M{manifest['round']}" if manifest.get("round") is not None else ""))
    body: list[str] = []
    if not tasks:
        body.append(Html('<p class="bad">metrics.json is missing or has no tasks: only samples are shown.</p>'))
    if scored:
        body.append(section("Tasks", task_table(scored),
                            Html('<p class="note">Percentages; brackets are 95% bootstrap CIs over problems.</p>'),
                            section_id="tasks"))
        body.append(section("Accuracy", *accuracy_plots(scored), section_id="accuracy"))
    maps = heat_maps(run)
    if maps:
        body.append(section("Subject × level", *maps, section_id="heatmap"))
    breakdowns = breakdown_tables(scored)
    if breakdowns:
        body.append(section("Breakdown", *breakdowns, section_id="breakdown"))
    body += view_sections([(name, run.samples_of(name)) for name in run.task_names()])
    bench = processbench_parts(tasks)
    if bench:
        body.append(section("ProcessBench", *bench, section_id="processbench"))
    body.append(section("Samples", sample_browser(run.samples, sample_cap), section_id="samples"))
    if run.problems:
        body.append(section("Skipped input", Html("<pre>" + esc("\n".join(run.problems)) + "</pre>")))
    body.append(section("Manifest", Html("<details><summary>manifest.json</summary><pre>"
                                         + esc(json.dumps(manifest, indent=2, ensure_ascii=False))
                                         + "</pre></details>"), section_id="manifest"))
    return page(f"stepkto run: {run.name}", subtitle, "\n".join(body))


def write_html_report(run_dir: Path, sample_cap: int = SAMPLE_CAP) -> Path:
    """Render `<run_dir>/report.html` from the folder's manifest, metrics and samples; returns its path."""
    run = load_run(run_dir)
    out = Path(run_dir) / "report.html"
    write_text_atomic(out, render(run, sample_cap))
    return out
