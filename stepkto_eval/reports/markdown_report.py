"""report.md of a run folder: per-task and overall tables with 95% CIs, breakdowns, a few failure examples.

Reads only metrics.json-shaped dicts, the sample records and the manifest, so it can be rerun on any
finished folder. (report.html lives in its own module and reads the same inputs.)
"""
from __future__ import annotations

import json
import math
from typing import Iterable, Mapping, Sequence

from stepkto_eval import md_escape as md
from stepkto_eval.reports import views

N_FAILURES = 3
TAIL_CHARS = 400


def pct(value: float | None) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f}"


def fmt_estimate(est: Mapping) -> str:
    """`53.4 [49.0, 57.8]` (percent, 95% CI)."""
    return f"{pct(est['value'])} [{pct(est['ci_low'])}, {pct(est['ci_high'])}]"


def _metric_table(rows: Sequence[tuple[str, int, Mapping[str, Mapping]]], names: Sequence[str], first: str) -> str:
    head = f"| {md.text(first)} | problems | " + " | ".join(md.text(n) for n in names) + " |"
    sep = "|---|---:|" + "---:|" * len(names)
    body = [f"| {label} | {n} | " + " | ".join(fmt_estimate(m[k]) if k in m else "–" for k in names) + " |"
            for label, n, m in rows]  # labels arrive escaped (task names, breakdown values)
    return "\n".join([head, sep, *body])


def _metric_names(metrics: Mapping) -> list[str]:
    names: list[str] = []
    for entry in metrics["tasks"].values():
        names += [k for k in entry["metrics"] if k not in names]
    return names


def summary_section(metrics: Mapping) -> str:
    names = _metric_names(metrics)
    rows = [(md.text(task), e["n_problems"], e["metrics"]) for task, e in metrics["tasks"].items()]
    if len(rows) > 1:
        rows.append(("**overall**", metrics["overall"]["n_problems"], metrics["overall"]["metrics"]))
    lines = ["## Results", "", "Percent correct, 95% bootstrap CI over problems in brackets.", "",
             _metric_table(rows, names, "task"), "",
             "| task | samples/problem | greedy | truncated (length limit) | generation errors |",
             "|---|---:|---|---:|---:|"]
    for task, e in metrics["tasks"].items():
        lines.append(f"| {md.text(task)} | {e['n_samples_per_problem']} | {e.get('greedy')} | "
                     f"{pct(e['truncation_rate'])}% | {pct(e['error_rate'])}% |")
    return "\n".join(lines)


def breakdown_section(metrics: Mapping) -> str:
    parts = []
    for task, e in metrics["tasks"].items():
        names = list(e["metrics"])
        for fld, buckets in (e.get("breakdown") or {}).items():
            rows = [(md.text(value), b["n"], b["metrics"]) for value, b in buckets.items()]
            parts += [f"### {md.text(task)} by {md.text(fld)}", "", _metric_table(rows, names, fld), ""]
    return "\n".join(["## Breakdown", "", *parts]) if parts else ""


def audit_section(metrics: Mapping) -> str:
    rows = [(t, e["flawed_step_rate"]) for t, e in metrics["tasks"].items() if "flawed_step_rate" in e]
    if not rows:
        return ""
    lines = ["## Step audit", "", "Flawed-step rate: share of correct completions in which the judge found a wrong step.",
             "", "| task | flawed-step rate | correct judged | flawed | no verdict | judge truncated |",
             "|---|---:|---:|---:|---:|---:|"]
    for task, f in rows:
        lines.append(f"| {md.text(task)} | {fmt_estimate(f)} | {f['n_correct'] - f['n_no_verdict']} | {f['n_flawed']} | "
                     f"{f['n_no_verdict']} | {f.get('n_judge_truncated', 0)} |")
    return "\n".join(lines)


def difficulty_section(metrics: Mapping, samples: Sequence[Mapping]) -> str:
    """Accuracy by difficulty for tasks whose metrics.json has no level breakdown already (AIME/AMC: contest
    problem number, see reports/views.py), as one compact table per task."""
    by_task: dict[str, list[Mapping]] = {}
    for s in samples:
        by_task.setdefault(str(s.get("task")), []).append(s)
    parts = []
    for task, entry in metrics["tasks"].items():
        if "level" in (entry.get("breakdown") or {}):
            continue
        view = views.accuracy_by_difficulty(by_task.get(str(task), []))
        if view is None:
            continue
        rows = "; ".join(f"{md.text(label)}: {pct(e.value)} [{pct(e.ci_low)}, {pct(e.ci_high)}] (n={n})"
                          for label, n, e in zip(view.labels, view.n, view.estimates, strict=True))
        parts.append(f"| {md.text(task)} | {md.text(view.axis)} | {rows} |")
    if not parts:
        return ""
    return "\n".join(["## Accuracy by difficulty", "",
                      "Mean per-problem accuracy per group, 95% bootstrap CI; without levels, problems are grouped "
                      "by their number within the contest (contests order problems by rising difficulty).", "",
                      "| task | grouped by | groups |", "|---|---|---|", *parts])


def failures_section(samples: Iterable[Mapping], n_per_task: int = N_FAILURES) -> str:
    """The first few incorrect completions of each task: gold, extracted answer, verdict, completion tail."""
    shown: dict[str, int] = {}
    parts = []
    for s in samples:
        task = str(s.get("task"))
        if s.get("correct") or shown.get(task, 0) >= n_per_task:
            continue
        shown[task] = shown.get(task, 0) + 1
        verdict = s.get("verdict") if isinstance(s.get("verdict"), Mapping) else {}  # records are untrusted
        text = s.get("completion") or s.get("error") or ""
        text = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False, default=str)
        tail = text if len(text) <= TAIL_CHARS else "…" + text[-TAIL_CHARS:]
        parts += [f"### {md.text(task)} / {md.text(s.get('id'))} (sample {md.text(s.get('sample_index'))})", "",
                  f"- gold: {md.code(s.get('gold'))}", f"- extracted: {md.code(s.get('extracted'))}",
                  f"- verdict: {md.text(verdict.get('rule'))} — {md.text(verdict.get('reason'))}",
                  f"- finish_reason: {md.text(s.get('finish_reason'))}", "", md.fence(tail), ""]
    return "\n".join(["## Failure examples", "", *parts]) if parts else ""


def header(manifest: Mapping | None) -> str:
    manifest = manifest or {}
    model = (manifest.get("model") or {}).get("name_or_path") or manifest.get("source", {}).get("file", "?")
    lines = ["# stepkto evaluation report", "", f"- model / source: {md.code(model)}"]
    if manifest.get("backend_settings"):
        lines.append(f"- backend: {md.text(manifest['backend_settings'].get('name'))}")
    if manifest.get("sampling"):
        lines.append("- sampling: " + ", ".join(f"{md.text(k)}={md.text(v)}" for k, v in manifest["sampling"].items()))
    for key in ("checker_version", "created", "settings_hash"):
        if manifest.get(key):
            lines.append(f"- {key.replace('_', ' ')}: {md.code(manifest[key])}")
    return "\n".join(lines)


def render_markdown(metrics: Mapping, samples: Iterable[Mapping], manifest: Mapping | None = None) -> str:
    samples = list(samples)  # read twice: difficulty and failures
    sections = [header(manifest), summary_section(metrics), breakdown_section(metrics),
                difficulty_section(metrics, samples), audit_section(metrics), failures_section(samples)]
    return "\n\n".join(s for s in sections if s) + "\n"


def write_reports(folder, metrics: Mapping, samples: Iterable[Mapping], manifest: Mapping) -> None:
    """Write report.md and the self-contained report.html of a run folder (a `runs.RunFolder`).

    The HTML page reads the finished folder back (manifest, metrics, samples), so it is written last.
    """
    from .html_report import write_html_report  # lazy: matplotlib is needed only here

    folder.write_text("report.md", render_markdown(metrics, samples, manifest))
    write_html_report(folder.path)
