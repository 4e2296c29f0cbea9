"""Scaling of report.html's views (reports/views.py) with the number of samples: is it linear?

For each shape (problems x samples per problem) the views are computed on S and on 2S samples (twice the
problems) and the CPU-time ratio is printed; linear work gives about 2.0 (quadratic work would give 4).
"computations" is views.py alone; "with charts" adds the matplotlib figures of view_sections.py, whose
cost does not grow with the samples. CPU time (`time.process_time`), so other load on the machine moves it
little.

    python benchmarks/bench_report_views.py [--samples 10000]
"""
from __future__ import annotations

import argparse
import time

from stepkto_eval.reports import view_sections, views

URL = "https://artofproblemsolving.com/wiki/index.php/2024_AIME_I_Problems/Problem_{}"


def make_samples(problems: int, n: int) -> list[dict]:
    """Audited records with levels (every other problem) or contest numbers, distinct wrong answers."""
    out = []
    for i in range(problems):
        meta = {"level": i % 5 + 1} if i % 2 else {"url": URL.format(i % 15 + 1)}
        for k in range(n):
            ok = (i * 7 + k * 3) % 10 < 10 - 2 * (i % 5 + 1)
            out.append({"task": "t", "id": f"p{i}", "sample_index": k, "correct": ok, "finish_reason": "stop",
                        "extracted": "4" if ok else str(5 + (i + k) % 7), "completion": "x" * 50,
                        "tokens": {"completion": 50 + (i * 37 + k) % 900}, "meta": meta,
                        "steps": ["a", "b", "c", "d"], "first_error": (i + k) % 5 - 1})
    return out


def computations(samples: list[dict]) -> None:
    views.accuracy_by_difficulty(samples)
    views.flawed_rate_by_difficulty(samples)
    views.lengths_by_correctness(samples)
    views.length_bins(samples)
    views.pass_and_majority_curves(samples)
    views.solve_rate_histogram(samples)
    views.first_error_positions(samples)


def cpu_seconds(fn, *args) -> float:
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    args = parser.parse_args()
    print(f"{'shape':>14} {'what':>12} {'S (s)':>8} {'2S (s)':>8} {'ratio':>6}")
    for n in (1, 8, 64):
        problems = max(1, args.samples // n)
        small, large = make_samples(problems, n), make_samples(2 * problems, n)
        for what, fn in (("computations", computations),
                         ("with charts", lambda s: view_sections.view_sections([("t", s)]))):
            fn(small)  # warm imports and caches
            a, b = cpu_seconds(fn, small), cpu_seconds(fn, large)
            print(f"{problems:>8} x {n:<3} {what:>12} {a:8.2f} {b:8.2f} {b / a:6.2f}")


if __name__ == "__main__":
    main()
