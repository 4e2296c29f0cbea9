"""Charts for the HTML report and leaderboard, returned as self-contained `data:image/png;base64` URIs.

All inputs are fractions in [0, 1]; charts show percentages. Figures are built with the object API
(`matplotlib.figure.Figure`, Agg canvas), so nothing touches pyplot's global state or a display.
"""
from __future__ import annotations

import base64
import functools
import io
import math
from dataclasses import dataclass
from typing import Callable, TypeVar

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402  (after choosing the backend)

_F = TypeVar("_F", bound=Callable[..., str])


def plain_text(chart: _F) -> _F:
    """Run a chart with mathtext and TeX off: labels are task, subject, model and file names, untrusted text
    in which a `$...$` must be shown as it is, never parsed (a bad formula would abort the whole report)."""
    @functools.wraps(chart)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
            return chart(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


PALETTE = ["#3b6ea8", "#d9822b", "#4c9a5b", "#b5495b", "#7d5ba6", "#8c7b4f", "#3a9fa5", "#c25da0"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% interval (fractions; the interval may be missing)."""

    value: float
    low: float | None = None
    high: float | None = None

    @classmethod
    def from_metric(cls, metric: dict | None) -> Estimate | None:
        if not metric or metric.get("value") is None:
            return None
        return cls(float(metric["value"]), metric.get("ci_low"), metric.get("ci_high"))

    def yerr(self) -> tuple[float, float]:
        """Distances below/above the point, in percent (0 when no interval is known)."""
        low = self.value if self.low is None else self.low
        high = self.value if self.high is None else self.high
        return (max(0.0, self.value - low) * 100, max(0.0, high - self.value) * 100)


def to_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    fig.set_facecolor("white")
    return fig


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else "…" + label[-(limit - 1):]


@plain_text
def bar_chart(labels: list[str], estimates: list[Estimate], title: str, ylabel: str = "accuracy (%)") -> str:
    """One bar per label with 95% error bars."""
    fig = _new_figure(max(4.0, 1.1 * len(labels) + 2), 3.2)
    ax = fig.add_subplot()
    xs = range(len(labels))
    values = [e.value * 100 for e in estimates]
    errors = list(zip(*[e.yerr() for e in estimates], strict=True)) if estimates else [[], []]
    ax.bar(xs, values, yerr=errors, capsize=5, color=PALETTE[0], alpha=0.85)
    for x, v in zip(xs, values, strict=True):
        ax.annotate(f"{v:.1f}", (x, v), textcoords="offset points", xytext=(8, 3), fontsize=8)
    ax.set_xticks(list(xs), [_short(label) for label in labels], rotation=20 if len(labels) > 4 else 0)
    ax.set_ylim(0, 100)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return to_data_uri(fig)


@plain_text
def grouped_bar_chart(categories: list[str], series: dict[str, list[Estimate | None]], title: str,
                      ylabel: str = "accuracy (%)") -> str:
    """Bars grouped by category (task), one colour per series (model), with 95% error bars."""
    fig = _new_figure(max(5.0, 1.6 * len(categories) + 2.5), 3.6)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(series))
    for i, (label, estimates) in enumerate(series.items()):
        xs = [c + (i - (len(series) - 1) / 2) * width for c in range(len(categories))]
        present = [(x, e) for x, e in zip(xs, estimates, strict=True) if e is not None]
        if not present:
            continue
        px, pe = zip(*present, strict=True)
        ax.bar(px, [e.value * 100 for e in pe], width=width, yerr=list(zip(*[e.yerr() for e in pe], strict=True)),
               capsize=3, color=PALETTE[i % len(PALETTE)], label=_short(label, 40))
    ax.set_xticks(range(len(categories)), categories)
    ax.set_ylim(0, 100)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return to_data_uri(fig)


@plain_text
def heat_map(matrix: list[list[float | None]], rows: list[str], cols: list[str], counts: list[list[int]],
             title: str) -> str:
    """Accuracy per cell (e.g. subject × level); each cell shows its percentage and item count."""
    fig = _new_figure(1.0 * len(cols) + 3.5, 0.45 * len(rows) + 1.5)
    ax = fig.add_subplot()
    grid = [[math.nan if v is None else v * 100 for v in row] for row in matrix]
    image = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    for r, row in enumerate(matrix):
        for c, v in enumerate(row):
            text = "–" if v is None else f"{v * 100:.0f}%\nn={counts[r][c]}"
            dark = v is not None and (v < 0.2 or v > 0.85)  # ends of the colour map: white text stays legible
            ax.text(c, r, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="accuracy (%)")
    return to_data_uri(fig)


@plain_text
def scatter_chart(points: list[tuple[str, Estimate, Estimate]], title: str,
                  xlabel: str = "accuracy (%)", ylabel: str = "flawed-step rate among correct (%)") -> str:
    """One labelled point per (name, x, y) with 95% error bars on both axes."""
    fig = _new_figure(6.0, 4.0)
    ax = fig.add_subplot()
    for i, (label, x, y) in enumerate(points):
        ax.errorbar([x.value * 100], [y.value * 100], xerr=[[e] for e in x.yerr()], yerr=[[e] for e in y.yerr()],
                    fmt="o", capsize=3, color=PALETTE[i % len(PALETTE)])
        ax.annotate(_short(label), (x.value * 100, y.value * 100), textcoords="offset points", xytext=(5, 5),
                    fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return to_data_uri(fig)


@plain_text
def line_chart(series: dict[str, list[tuple[int, Estimate]]], title: str, xlabel: str = "round") -> str:
    """One line per series over integer x (Step-KTO rounds M0 → Mk), with 95% error bars."""
    fig = _new_figure(6.0, 3.6)
    ax = fig.add_subplot()
    rounds: set[int] = set()
    for i, (label, points) in enumerate(series.items()):
        points = sorted(points, key=lambda p: p[0])
        rounds.update(x for x, _ in points)
        ax.errorbar([x for x, _ in points], [e.value * 100 for _, e in points],
                    yerr=list(zip(*[e.yerr() for _, e in points], strict=True)), marker="o", capsize=3,
                    color=PALETTE[i % len(PALETTE)], label=_short(label, 40))
    ax.set_xticks(sorted(rounds), [f"M{r}" for r in sorted(rounds)])
    ax.set_ylim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return to_data_uri(fig)


@plain_text
def curve_chart(series: dict[str, list[tuple[float, Estimate]]], title: str, xlabel: str,
                ylabel: str = "accuracy (%)") -> str:
    """One line per series over numeric x (e.g. k of pass@k), its 95% interval drawn as a shaded band."""
    fig = _new_figure(6.0, 3.6)
    ax = fig.add_subplot()
    for i, (label, points) in enumerate(series.items()):
        points = sorted(points, key=lambda p: p[0])
        xs = [x for x, _ in points]
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(xs, [e.value * 100 for _, e in points], marker="o" if len(xs) <= 32 else None, markersize=3,
                color=colour, label=_short(label, 40))
        low = [(e.value if e.low is None else e.low) * 100 for _, e in points]
        high = [(e.value if e.high is None else e.high) * 100 for _, e in points]
        ax.fill_between(xs, low, high, color=colour, alpha=0.18, linewidth=0)
    ax.set_ylim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return to_data_uri(fig)


@plain_text
def histogram_chart(series: dict[str, list[float]], edges: list[float], title: str, xlabel: str) -> str:
    """Overlaid step histograms on shared bins, each series as a share of its own count (so a group of 30
    compares with a group of 3,000); the legend gives each count."""
    fig = _new_figure(6.0, 3.4)
    ax = fig.add_subplot()
    for i, (label, values) in enumerate(series.items()):
        if not values:
            continue
        ax.hist(values, bins=edges, weights=[100.0 / len(values)] * len(values), histtype="step", linewidth=1.8,
                color=PALETTE[i % len(PALETTE)], label=f"{_short(label, 40)} (n={len(values)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of the group (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return to_data_uri(fig)


@plain_text
def count_bar_chart(labels: list[str], counts: list[int], title: str, xlabel: str, ylabel: str = "problems") -> str:
    """Plain counts per label (e.g. problems solved 0/n ... n/n times), each bar annotated with its count."""
    fig = _new_figure(max(4.0, 0.35 * len(labels) + 2.5), 3.2)
    ax = fig.add_subplot()
    xs = range(len(labels))
    ax.bar(xs, counts, color=PALETTE[0], alpha=0.85)
    for x, c in zip(xs, counts, strict=True):
        ax.annotate(str(c), (x, c), textcoords="offset points", xytext=(0, 2), ha="center", fontsize=7)
    step = max(1, len(labels) // 16)  # keep tick labels legible for n = 64
    ax.set_xticks(list(xs)[::step], labels[::step])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return to_data_uri(fig)
