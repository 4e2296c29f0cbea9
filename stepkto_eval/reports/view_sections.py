"""report.html sections for the views of `reports/views.py`: difficulty, lengths, sampling, step audit.

Each function returns the section's HTML, or None when no task of the run has the view (so the section is
left out rather than shown empty). Tables carry the numbers; charts are `plot_or_note`, so a chart that
fails becomes a one-line note. Task names are escaped like every other dataset-derived text.
"""
from __future__ import annotations

import logging
from functools import partial
from typing import Any, Mapping, Sequence

from stepkto_eval import metrics as m
from stepkto_eval.reports import plots, views
from stepkto_eval.reports.html_page import Html, esc, pct, plot_or_note, section, table

log = logging.getLogger(__name__)
Tasks = Sequence[tuple[str, Sequence[Mapping[str, Any]]]]  # (task name, its samples)


def _plot_estimate(e: m.Estimate) -> plots.Estimate:
    return plots.Estimate(e.value, e.ci_low, e.ci_high)


def _cell(e: m.Estimate | None) -> Html:
    if e is None:
        return Html("–")
    return Html(f'<span data-sort="{e.value:.6f}">{pct(e.value)} <span class="ci">[{pct(e.ci_low)}, '
                f"{pct(e.ci_high)}]</span></span>")


def _note(text: str) -> Html:
    return Html(f'<p class="note">{esc(text)}</p>')


def _bucket_parts(task: str, view: views.Bucketed, what: str, count_name: str, table_id: str) -> list[Html]:
    rows = [[label, n, _cell(e)] for label, n, e in zip(view.labels, view.n, view.estimates, strict=True)]
    parts = [Html(f"<h3>{esc(task)}: {esc(what)} by {esc(view.axis)}</h3>"),
             table([view.axis, count_name, f"{what} %"], rows, table_id=table_id)]
    if view.axis != "level":
        parts.append(_note("No difficulty level in the data: problems are grouped by their number within the "
                           "contest (read from meta.url), since contests order problems by rising difficulty."))
    if view.n_unbucketed:
        parts.append(_note(f"{view.n_unbucketed} problem(s) without a difficulty are left out."))
    parts.append(plot_or_note(partial(plots.bar_chart, view.labels, [_plot_estimate(e) for e in view.estimates],
                                      f"{task}: {what} by {view.axis} (95% CI)", ylabel=f"{what} (%)"),
                              f"{task} {what} by difficulty"))
    return parts


def difficulty_section(tasks: Tasks) -> Html | None:
    parts: list[Html] = []
    for task, samples in tasks:
        view = views.accuracy_by_difficulty(samples)
        if view is not None:
            parts += _bucket_parts(task, view, "accuracy", "problems", f"difficulty-{task}")
    if not parts:
        return None
    return section("Accuracy by difficulty", _note("Mean per-problem accuracy; brackets are 95% bootstrap CIs "
                                                   "over the problems of each group."), *parts,
                   section_id="difficulty")


def length_section(tasks: Tasks) -> Html | None:
    parts: list[Html] = []
    for task, samples in tasks:
        lengths, bins = views.lengths_by_correctness(samples), views.length_bins(samples)
        if lengths is None or bins is None:
            continue
        unit = lengths.unit
        parts.append(Html(f"<h3>{esc(task)}: completion length ({esc(unit)})</h3>"))
        if unit == "characters":
            parts.append(_note("Not every sample records a completion token count (tokens.completion), so "
                               "lengths are counted in characters."))
        top = bins.edges[-1]  # the long tail is drawn in the last bin, as the table counts it
        clipped = {"correct": [min(v, top) for v in lengths.correct], "wrong": [min(v, top) for v in lengths.wrong]}
        parts.append(plot_or_note(partial(plots.histogram_chart, clipped, bins.edges, f"{task}: completion length, correct vs wrong",
                                          f"completion length ({unit})"),
                                  f"{task} completion length correct vs wrong"))
        labels = [f"{lo}-{hi}" for lo, hi in zip(bins.edges[:-1], bins.edges[1:], strict=True)]
        if bins.longest > bins.edges[-1]:
            labels[-1] = f"{bins.edges[-2]}-{bins.longest}"
        rows = [[label, n, pct(acc), pct(cut)]  # empty bins only in the chart
                for label, n, acc, cut in zip(labels, bins.n, bins.accuracy, bins.truncated, strict=True) if n]
        parts.append(table([f"length ({unit})", "completions", "correct %", "truncated %"], rows,
                           table_id=f"length-bins-{task}"))
        series = {"correct": [None if a is None else plots.Estimate(a) for a in bins.accuracy]}
        if any(t is not None for t in bins.truncated):
            series["truncated (length limit)"] = [None if t is None else plots.Estimate(t) for t in bins.truncated]
        else:
            parts.append(_note("Truncation is unknown for this task (no finish_reason recorded, e.g. a score run)."))
        parts.append(plot_or_note(partial(plots.grouped_bar_chart, labels, series,
                                          f"{task}: accuracy and truncation by length", ylabel="completions (%)"),
                                  f"{task} accuracy and truncation by length"))
    if not parts:
        return None
    return section("Length and truncation", _note("Per length bin: share of completions that are correct, and "
                                                  "share cut at the token limit (finish_reason length)."), *parts,
                   section_id="lengths")


def _shown_ks(n: int) -> list[int]:
    """k = 1, 2, 4, ... and n for the table (the chart shows every k)."""
    ks, k = [], 1
    while k < n:
        ks.append(k)
        k *= 2
    return [*ks, n]


def sampling_section(tasks: Tasks) -> Html | None:
    parts: list[Html] = []
    for task, samples in tasks:
        curves = views.pass_and_majority_curves(samples)
        solved = views.solve_rate_histogram(samples)
        if curves is None or solved is None:
            fewest, most = views.graded_per_problem_range(samples)
            if most > 1:  # a sampled run where some problem lacks samples (failed generations): say why no curve
                parts.append(_note(f"{task}: no pass@k curve — some problem has only {fewest} graded sample(s) of "
                                   f"up to {most} (failed or missing generations; rerun the command to complete "
                                   "the run)."))
            continue
        n = curves.ks[-1]
        parts.append(Html(f"<h3>{esc(task)}: {n} samples per problem</h3>"))
        series = {"pass@k": [(k, _plot_estimate(e)) for k, e in zip(curves.ks, curves.pass_at, strict=True)]}
        if curves.maj_at is not None:
            series["maj@k"] = [(k, _plot_estimate(e)) for k, e in zip(curves.ks, curves.maj_at, strict=True)]
        parts.append(plot_or_note(partial(plots.curve_chart, series, f"{task}: pass@k and maj@k (95% CI)", "k"),
                                  f"{task} pass@k and maj@k"))
        rows = [[k, _cell(curves.pass_at[k - 1]), _cell(curves.maj_at[k - 1] if curves.maj_at else None)]
                for k in _shown_ks(n)]
        parts.append(table(["k", "pass@k %", "maj@k %"], rows, table_id=f"passk-{task}"))
        labels = [f"{c}/{n}" for c in range(n + 1)]
        parts.append(plot_or_note(partial(plots.count_bar_chart, labels, solved,
                                          f"{task}: problems by how many of {n} samples solve them",
                                          "samples correct"),
                                  f"{task} solve-rate histogram"))
        parts.append(table(["solved", *labels], [["problems", *solved]], table_id=f"solve-rate-{task}"))
    if not parts:
        return None
    return section("Sampling: pass@k and maj@k", _note(
        "pass@k: unbiased estimator 1 - C(n-c, k)/C(n, k) per problem; maj@k: the majority answer (grouped by the "
        "checker's equivalence) among the first k samples is correct. Bands and brackets: 95% bootstrap CIs over "
        "problems."), *parts, section_id="sampling")


def audit_section(tasks: Tasks) -> Html | None:
    parts: list[Html] = []
    for task, samples in tasks:
        by_level = views.flawed_rate_by_difficulty(samples)
        if by_level is not None:
            parts += _bucket_parts(task, by_level, "flawed-step rate", "correct completions judged",
                                   f"flawed-difficulty-{task}")
        positions = views.first_error_positions(samples)
        if positions is not None:
            parts.append(Html(f"<h3>{esc(task)}: where the first wrong step sits</h3>"))
            parts.append(plot_or_note(partial(plots.histogram_chart, positions, [i / 10 for i in range(11)],
                                              f"{task}: first wrong step / number of steps",
                                              "relative position of the first wrong step (0 = first step)"),
                                      f"{task} first error position"))
    if not parts:
        return None
    return section("Step audit views", _note("Flawed-step rate: share of audited correct completions in which the "
                                             "judge found a wrong step."), *parts, section_id="audit-views")


def view_sections(tasks: Tasks) -> list[Html]:
    """Every view section that applies to the run, in page order. A view that fails on odd records becomes a
    note, like a failed plot: the rest of the report is worth more than the view."""
    made = []
    for build in (difficulty_section, length_section, sampling_section, audit_section):
        try:
            made.append(build(tasks))
        except Exception as exc:  # records are untrusted input; the task table still has the headline numbers
            log.warning("report view %s skipped: %s: %s", build.__name__, type(exc).__name__, exc)
            made.append(Html(f'<p class="note">View "{esc(build.__name__)}" could not be computed '
                             f"({esc(type(exc).__name__)}: {esc(str(exc)[:200])}).</p>"))
    return [s for s in made if s is not None]
