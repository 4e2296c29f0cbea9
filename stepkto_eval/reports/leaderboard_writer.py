"""Aggregate run folders into a leaderboard: README.md (markdown), leaderboard.csv and index.html.

Runs are ranked only against runs with the same *comparable settings* (`run_view.compat_summary`:
tasks with their versions, prompt hashes, data hashes and sizes; sampling; checker version; audit
judge). Runs that differ in any of those form separate groups, each with its own table, so a greedy run
is never ranked against a sampled one, nor a 20-problem smoke run against the full benchmark.
Within a group the rank is by the mean over tasks of each task's headline metric (pass@1 when present).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepkto_eval import md_escape
from stepkto_eval.jsonl import write_text_atomic
from stepkto_eval.reports import plots
from stepkto_eval.reports.html_page import Html, esc, estimate_cell, page, plot_or_note, section, table
from stepkto_eval.reports.run_view import compat_summary, headline, load_run


@dataclass
class TaskScore:
    metric: str
    estimate: dict[str, Any]
    n_problems: int | None
    flawed: dict[str, Any] | None


@dataclass
class Entry:
    run: str
    model: str
    revision: str | None
    settings_hash: str
    date: str
    round: int | None
    compat: dict[str, Any]
    tasks: dict[str, TaskScore]

    @property
    def score(self) -> float:
        values = [t.estimate["value"] for t in self.tasks.values() if t.estimate.get("value") is not None]
        return sum(values) / len(values) if values else float("-inf")


@dataclass
class Group:
    label: str
    key: str
    compat: dict[str, Any]
    entries: list[Entry] = field(default_factory=list)

    @property
    def task_names(self) -> list[str]:
        return sorted({t for e in self.entries for t in e.tasks})


def entry_from_run(run_dir: Path) -> Entry:
    run = load_run(run_dir)
    manifest, tasks = run.manifest, {}
    for name, task in (run.metrics.get("tasks") or {}).items():
        head = headline(task)
        if head is not None:
            tasks[name] = TaskScore(head[0], head[1], task.get("n_problems"), task.get("flawed_step_rate"))
    model = manifest.get("model") or {}
    return Entry(run=run.name, model=run.label,
                 revision=model.get("revision") if isinstance(model, dict) else None,
                 settings_hash=str(manifest.get("settings_hash") or ""), date=str(manifest.get("created") or "")[:10],
                 round=manifest.get("round"), compat=compat_summary(manifest), tasks=tasks)


def group_entries(entries: list[Entry]) -> list[Group]:
    """Split into groups of comparable settings (larger groups first); entries ranked by score."""
    by_key: dict[str, Group] = {}
    for entry in entries:
        key = hashlib.sha256(json.dumps(entry.compat, sort_keys=True, default=str).encode()).hexdigest()[:10]
        by_key.setdefault(key, Group(label="", key=key, compat=entry.compat)).entries.append(entry)
    groups = sorted(by_key.values(), key=lambda g: -len(g.entries))  # stable: ties keep argument order
    for i, group in enumerate(groups):
        group.label = chr(ord("A") + i) if i < 26 else f"G{i + 1}"
        group.entries.sort(key=lambda e: (-e.score, e.model, e.run))
    return groups


def describe_settings(compat: dict[str, Any]) -> str:
    """One line saying what the runs of a group share (only the settings that are known)."""
    parts = []
    tasks = compat.get("tasks") or {}
    if tasks:
        parts.append("tasks: " + ", ".join(
            f"{name} v{spec.get('version')} ({spec.get('n_problems')} problems, prompt {str(spec.get('prompt_hash'))[:8]})"
            for name, spec in tasks.items()))
    source = compat.get("source") or {}
    if source.get("problems_sha256"):  # score runs: grouped by the problems they graded (run_view.compat_summary)
        parts.append(f"scored completions of the same problems (ids and golds sha256 "
                     f"{str(source['problems_sha256'])[:12]})")
    elif source:  # older score manifests: the completions file itself
        parts.append(f"completions file sha256 {str(source.get('file_sha256'))[:12]} (gold field "
                     f"{source.get('gold_field')}, completions field {source.get('completions_field')})")
    sampling = {k: v for k, v in (compat.get("sampling") or {}).items() if v is not None}
    if sampling:
        parts.append("sampling: " + ", ".join(f"{k}={v}" for k, v in sampling.items()))
    if compat.get("checker_version") is not None:
        parts.append(f"checker {compat['checker_version']}")
    if compat.get("audit"):
        parts.append(f"audit judge {compat['audit']}")
    return "; ".join(parts) if parts else "no manifest: settings unknown (e.g. a ProcessBench judge folder)"


def _fmt(estimate: dict[str, Any] | None) -> str:
    if not estimate or estimate.get("value") is None:
        return "–"
    text = f"{estimate['value'] * 100:.1f}"
    if estimate.get("ci_low") is not None and estimate.get("ci_high") is not None:
        text += f" [{estimate['ci_low'] * 100:.1f}, {estimate['ci_high'] * 100:.1f}]"
    return text


def _md(text: Any) -> str:
    """Untrusted names (model, revision, run folder) as plain Markdown text: no HTML or Markdown takes effect."""
    return "–" if text is None else md_escape.text(text)


def render_markdown(groups: list[Group]) -> str:
    lines = ["# Leaderboard", "",
             "Generated by `stepkto-eval leaderboard` from run folders; do not edit by hand. Percentages with 95% "
             "bootstrap CIs over problems. Runs are ranked only within a settings group. Published numbers from "
             "other papers are in [reported_elsewhere.md](reported_elsewhere.md), never mixed into these tables.", ""]
    for group in groups:
        tasks = group.task_names
        audited = any(t.flawed for e in group.entries for t in e.tasks.values())
        lines += [f"## Group {group.label} (settings {group.key})", "", _md(describe_settings(group.compat)), ""]
        head = ["rank", "model", "revision", "round"]
        head += [_md(f"{t} {group.entries[0].tasks[t].metric if t in group.entries[0].tasks else ''}".strip())
                 for t in tasks]
        head += [f"{_md(t)} flawed-step rate" for t in tasks] if audited else []
        head += ["date", "settings hash", "run"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for rank, e in enumerate(group.entries, start=1):
            row = [rank, _md(e.model), _md(e.revision), "–" if e.round is None else f"M{e.round}"]
            row += [_fmt(e.tasks[t].estimate if t in e.tasks else None) for t in tasks]
            row += [_fmt(e.tasks[t].flawed if t in e.tasks else None) for t in tasks] if audited else []
            row += [e.date or "–", f"`{e.settings_hash[:12]}`" if e.settings_hash else "–", _md(e.run)]
            lines.append("| " + " | ".join(str(c) for c in row) + " |")
        lines.append("")
    return "\n".join(lines)


CSV_COLUMNS = ["group", "rank", "model", "revision", "round", "date", "settings_hash", "run", "task", "metric",
               "value", "ci_low", "ci_high", "n_problems", "flawed_step_rate", "flawed_ci_low", "flawed_ci_high"]


def write_csv(groups: list[Group], path: Path) -> None:
    fh = io.StringIO(newline="")
    writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for group in groups:
        for rank, e in enumerate(group.entries, start=1):
            for task, score in sorted(e.tasks.items()):
                flawed = score.flawed or {}
                writer.writerow({
                    "group": group.label, "rank": rank, "model": e.model, "revision": e.revision or "",
                    "round": "" if e.round is None else e.round, "date": e.date,
                    "settings_hash": e.settings_hash, "run": e.run, "task": task, "metric": score.metric,
                    "value": score.estimate.get("value"), "ci_low": score.estimate.get("ci_low"),
                    "ci_high": score.estimate.get("ci_high"), "n_problems": score.n_problems,
                    "flawed_step_rate": flawed.get("value", ""), "flawed_ci_low": flawed.get("ci_low", ""),
                    "flawed_ci_high": flawed.get("ci_high", ""),
                })
    write_text_atomic(path, fh.getvalue())


def group_plots(group: Group) -> list[Html]:
    tasks = group.task_names
    series = {f"{e.model} ({e.run})": [plots.Estimate.from_metric(e.tasks[t].estimate) if t in e.tasks else None
                                        for t in tasks] for e in group.entries}
    metrics = ", ".join(sorted({s.metric for e in group.entries for s in e.tasks.values()}))
    figures = [plot_or_note(lambda: plots.grouped_bar_chart(
        tasks, series, f"Group {group.label}: {metrics} per task (95% CI)", ylabel=f"{metrics} (%)"),
        f"group {group.label} accuracy per task")]
    points = [(f"{e.model} · {t}", plots.Estimate.from_metric(s.estimate), plots.Estimate.from_metric(s.flawed))
              for e in group.entries for t, s in e.tasks.items()]
    points = [p for p in points if p[1] is not None and p[2] is not None]  # no rate without correct answers
    if points:
        figures.append(plot_or_note(lambda: plots.scatter_chart(points, f"Group {group.label}: accuracy vs "
                                                                "flawed-step rate"),
                                    f"group {group.label} accuracy vs flawed-step rate"))
    rounds: dict[str, list[tuple[int, plots.Estimate]]] = {}
    for e in group.entries:
        if e.round is None:
            continue
        for t, s in e.tasks.items():
            estimate = plots.Estimate.from_metric(s.estimate)
            if estimate is not None:
                rounds.setdefault(t, []).append((int(e.round), estimate))
    if rounds:
        figures.append(plot_or_note(lambda: plots.line_chart(rounds, f"Group {group.label}: Step-KTO rounds"),
                                    f"group {group.label} accuracy over rounds"))
    return figures


def render_html(groups: list[Group]) -> str:
    parts = [Html('<p class="note">Click a column header to sort. Percentages with 95% CIs. Runs are ranked only '
                  'within a group of identical settings. Published numbers from elsewhere: see '
                  'reported_elsewhere.md next to this page.</p>')]
    for group in groups:
        tasks = group.task_names
        audited = any(t.flawed for e in group.entries for t in e.tasks.values())
        headers = ["rank", "model", "revision", "round", *tasks]
        headers += [f"{t} flawed %" for t in tasks] if audited else []
        headers += ["date", "settings hash", "run"]
        rows = []
        for rank, e in enumerate(group.entries, start=1):
            row: list[Any] = [rank, e.model, e.revision or "–", "–" if e.round is None else f"M{e.round}"]
            row += [estimate_cell(e.tasks[t].estimate if t in e.tasks else None) for t in tasks]
            row += [estimate_cell(e.tasks[t].flawed if t in e.tasks else None) for t in tasks] if audited else []
            row += [e.date or "–", Html(f"<code>{esc(e.settings_hash[:12] or '–')}</code>"), e.run]
            rows.append(row)
        parts.append(section(f"Group {group.label}",
                             Html(f'<p class="note">{esc(describe_settings(group.compat))}</p>'),
                             table(headers, rows, table_id=f"group-{group.label}", sortable=True),
                             *group_plots(group), section_id=f"section-{group.label}"))
    return page("stepkto leaderboard", f"{sum(len(g.entries) for g in groups)} runs in {len(groups)} settings groups",
                "\n".join(parts))


# How each file we write begins. A file of that name that does not begin so is somebody else's (`--out .` in a
# repository would otherwise replace its README.md) and is never overwritten.
OUTPUT_MARKERS = {
    "README.md": "# Leaderboard\n\nGenerated by `stepkto-eval leaderboard`",
    "leaderboard.csv": ",".join(CSV_COLUMNS),
    "index.html": "<title>stepkto leaderboard</title>",
}


def foreign_outputs(out: Path) -> list[str]:
    """The files under `out` that `write_leaderboard` would replace and that it did not write."""
    foreign = []
    for name, marker in OUTPUT_MARKERS.items():
        path = out / name
        if path.exists():
            try:
                with path.open(encoding="utf-8") as fh:
                    head = fh.read(4096)
            except (OSError, UnicodeDecodeError):
                head = ""
            if marker not in head:
                foreign.append(name)
    return foreign


def write_leaderboard(run_dirs: list[Path], out: Path) -> list[Path]:
    """Write README.md, leaderboard.csv and index.html under `out`; returns their paths. Each file is replaced
    whole (temp file + rename), so a reader never sees half a page."""
    groups = group_entries([entry_from_run(Path(d)) for d in run_dirs])
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "README.md", out / "leaderboard.csv", out / "index.html"]
    write_text_atomic(paths[0], render_markdown(groups))
    write_csv(groups, paths[1])
    write_text_atomic(paths[2], render_html(groups))
    return paths
