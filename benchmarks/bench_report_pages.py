"""report.html of a 10,000-sample run: time to write it, file size, and page-open time in headless Chromium.

Issue 13 §2 asks that pages of large runs (10k samples) still open in under a second. The page embeds a
capped, deterministic sample (the sample browser) rather than every sample, so its size and open time
should barely grow with the run. This script builds two run folders with the same mix of outcomes — a
small one (100 samples) and a large one (10,000 samples: 1,250 problems x 8, audited) — whose
completions, answers and golds carry LaTeX (real model completions when the shared data file is there,
else generated ones), writes report.html for each, opens each `--repeats` times in a fresh headless
Chromium page and reads navigationStart -> loadEventEnd from the Navigation Timing API (parse, style,
layout including MathML, scripts, images). Printed: write seconds, file size, median open time, and the
large/small ratios measured in the same session (compare ratios across machines, not seconds).

    python benchmarks/bench_report_pages.py [--samples 10000] [--small 100] [--repeats 5] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "browser")]  # helpers.run_folders; test_pages (Chromium flags)
REAL_COMPLETIONS = REPO.parent / "shared" / "data" / "qwen25math7b_math_cot_100.jsonl"

GENERATED = [
    ("Let $x = \\frac{{{a}}}{{{b}}}$. Then $x^2 = \\frac{{{a2}}}{{{b2}}}$.\n\n"
     "Since $\\sqrt{{{a2}}} = {a}$, we get $$\\begin{{pmatrix}}{a}&{b}\\\\{b}&{a}\\end{{pmatrix}}$$\n\n"
     "Checking: ${a}+{b}={c}$.\n\nSo the answer is \\boxed{{\\frac{{{a}}}{{{b}}}}}.",
     "\\frac{{{a}}}{{{b}}}"),
    ("The roots of $t^2 - {c}t + {ab} = 0$ are \\({a}\\) and \\({b}\\).\n\n"
     "By Vieta, \\[\\sum_{{k=1}}^{{2}} t_k = {c}.\\]\n\nThus the product is $\\sqrt{{{ab2}}} = {ab}$.\n\n"
     "The answer is \\boxed{{{ab}}}.", "{ab}"),
]


def _completions(n: int) -> list[tuple[str, str, str]]:
    """(completion, extracted answer, gold) x n: real completions cycled when available, else generated."""
    rows: list[tuple[str, str, str]] = []
    if REAL_COMPLETIONS.is_file():
        for line in REAL_COMPLETIONS.read_text().splitlines():
            row = json.loads(line)
            preds = row.get("pred") or [""]
            for k, response in enumerate(row.get("response") or []):
                rows.append((response, str(preds[k % len(preds)]), str(row.get("gt"))))
    if not rows:
        for i in range(200):
            a, b = i % 9 + 1, i % 7 + 2
            template, answer = GENERATED[i % 2]
            values = {"a": a, "b": b, "a2": a * a, "b2": b * b, "c": a + b, "ab": a * b, "ab2": (a * b) ** 2}
            rows.append((template.format(**values), answer.format(**values), answer.format(**values)))
    return [rows[i % len(rows)] for i in range(n)]


def build_run(path: Path, n_samples: int) -> Path:
    from helpers.run_folders import TaskSpec, write_run

    per_problem = 8
    n_problems = max(1, n_samples // per_problem)
    ids = [f"test/p{i:05d}.json" for i in range(n_problems)]
    spec = TaskSpec(correct={item: [(i + k) % 3 != 0 for k in range(per_problem)] for i, item in enumerate(ids)},
                    meta={item: {"subject": "Algebra", "level": i % 5 + 1} for i, item in enumerate(ids)},
                    audited=True)
    spec.flawed = {(item, k) for i, item in enumerate(ids) for k in range(per_problem) if (i + k) % 5 == 1
                   and (i + k) % 3 != 0}
    run = write_run(path, "org/bench-model", {"math500": spec}, n=per_problem)
    records = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    for rec, (completion, extracted, gold) in zip(records, _completions(len(records)), strict=True):
        steps = completion.split("\n\n")
        spans, start = [], 0
        for part in steps:
            spans.append([start, start + len(part)])
            start += len(part) + 2
        first_error = min(1, len(steps) - 1) if rec["first_error"] >= 0 else -1
        rec.update(completion=completion, extracted=extracted if not rec["correct"] else gold, gold=gold,
                   steps=steps, step_char_spans=spans, first_error=first_error,
                   step_labels=[int(j != first_error) for j in range(len(steps))],
                   meta={**rec["meta"], "problem": "Find $\\frac{a}{b}$ where $a^2 + b^2 = \\sqrt{2}$."})
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return run


def open_ms(driver, page: Path) -> float:
    driver.get("about:blank")
    driver.get(page.resolve().as_uri())
    timing = driver.execute_script(
        "const t = performance.timing; return [t.navigationStart, t.loadEventEnd];")
    for _ in range(100):  # loadEventEnd is set just after the load handlers return
        if timing[1]:
            break
        time.sleep(0.01)
        timing = driver.execute_script("const t = performance.timing; return [t.navigationStart, t.loadEventEnd];")
    return float(timing[1] - timing[0])


def chromium(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from test_pages import CHROMIUM_FLAGS, _binary

    chromium_path, driver_path = _binary("chromium", "chromium-browser", "google-chrome"), _binary("chromedriver")
    if chromium_path is None or driver_path is None:
        raise SystemExit("headless Chromium and chromedriver are needed (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,2200"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="copy both report.html files here")
    args = parser.parse_args()
    from stepkto_eval.reports.html_report import write_html_report

    with tempfile.TemporaryDirectory(prefix="bench_report_pages_") as tmp:
        results = {}
        for label, n in (("small", args.small), ("large", args.samples)):
            run = build_run(Path(tmp) / label, n)
            start = time.perf_counter()
            page = write_html_report(run)
            results[label] = {"samples": n, "write_s": time.perf_counter() - start, "bytes": page.stat().st_size,
                              "page": page, "jsonl_bytes": (run / "samples.jsonl").stat().st_size}
        driver = chromium(Path(tmp) / "profile")
        try:
            for label in ("small", "large"):
                open_ms(driver, results[label]["page"])  # warm-up: first start of the renderer
            for _ in range(args.repeats):  # alternate, so load on the machine hits both sides alike
                for label in ("small", "large"):
                    results[label].setdefault("open_ms", []).append(open_ms(driver, results[label]["page"]))
            driver.get(results["large"]["page"].resolve().as_uri())
            maths = driver.execute_script("return document.querySelectorAll('math').length")
            shown = driver.execute_script("return document.querySelectorAll('#sample-browser details.sample').length")
        finally:
            driver.quit()
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for label in ("small", "large"):
                shutil.copy(results[label]["page"], args.keep / f"report_{results[label]['samples']}.html")
    print(f"{'run':>8} {'samples':>8} {'samples.jsonl':>14} {'write report':>13} {'report.html':>12} "
          f"{'open (median ms)':>17} {'open (all ms)'}")
    for label in ("small", "large"):
        r = results[label]
        print(f"{label:>8} {r['samples']:>8} {r['jsonl_bytes'] / 1e6:>12.1f}MB {r['write_s']:>12.2f}s "
              f"{r['bytes'] / 1e6:>10.2f}MB {statistics.median(r['open_ms']):>17.0f} "
              f"{[round(x) for x in r['open_ms']]}")
    small, large = results["small"], results["large"]
    print(f"large/small: report.html size x{large['bytes'] / small['bytes']:.2f}, "
          f"open time x{statistics.median(large['open_ms']) / statistics.median(small['open_ms']):.2f}, "
          f"write time x{large['write_s'] / small['write_s']:.2f} "
          f"(samples x{large['samples'] / small['samples']:.0f}); large page embeds {shown} samples, "
          f"{maths} <math> elements")


if __name__ == "__main__":
    main()
