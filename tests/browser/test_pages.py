"""report.html and the leaderboard's index.html rendered in a real headless Chromium (via Selenium + chromedriver).

Chromium runs offline with the flags the project's CI uses and a fresh profile per test. Asserted: no
console errors, the expected table rows, every plot decoded (naturalWidth > 0), hostile model text not
executed, the sortable table sorts. Screenshots are saved in the test's tmp dir (set STEPKTO_SCREENSHOTS=DIR to
keep copies elsewhere).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import require
from helpers.run_folders import TaskSpec, math_items, write_run, write_sampled_run

from stepkto_eval.reports.html_report import write_html_report
from stepkto_eval.reports.leaderboard_writer import write_leaderboard

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
HOSTILE = 'Look: <script>window.__pwned = 1;</script><img src=x onerror="window.__pwned=2"> \\boxed{5}'


def _binary(*names: str) -> str | None:
    for name in names:
        found = os.environ.get(f"STEPKTO_{name.upper().replace('-', '_')}") or shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def browser(tmp_path):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    require(webdriver is not None, "selenium not installed (pip install -e '.[dev]')")
    chromium = _binary("chromium", "chromium-browser", "google-chrome")
    driver_path = _binary("chromedriver")
    require(chromium is not None, "headless Chromium not found (Debian: apt-get install chromium)")
    require(driver_path is not None, "chromedriver not found (Debian: apt-get install chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2200"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open(driver, page: Path, shot: Path) -> list[dict]:
    driver.get(page.resolve().as_uri())
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("STEPKTO_SCREENSHOTS"):
        Path(os.environ["STEPKTO_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(os.environ["STEPKTO_SCREENSHOTS"]) / shot.name)
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _image_widths(driver) -> list[int]:
    return driver.execute_script("return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")


def _column(driver, table_id: str, col: int) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr'))"
        ".map(r => r.cells[arguments[1]].textContent.trim())", f"#{table_id}", col)


def choose(driver, key: str, value: str) -> None:
    """Pick `value` in the sample browser's filter for data-`key` (as a reader would, through the <select>)."""
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("css selector", f'#sample-filters select[data-key="{key}"]')).select_by_value(value)


def test_report_page(browser, tmp_path):
    math = math_items([True, False, True] * 10)
    math.audited = True
    math.flawed = {(item, 0) for item, flags in list(math.correct.items())[:9] if flags[0]}
    amc = TaskSpec(correct={f"amc{i}": [i % 4 == 0] for i in range(12)}, completion=HOSTILE)
    run = write_run(tmp_path / "run", "org/model-7b", {"math500": math, "amc23": amc})
    errors = _open(browser, write_html_report(run), tmp_path / "report.png")
    assert errors == []
    assert browser.execute_script("return window.__pwned === undefined")  # model text was not executed
    assert _column(browser, "task-table", 0) == ["math500", "amc23"]
    widths = _image_widths(browser)
    # accuracy, flawed-step and heat map; the views: math500 by level (accuracy, flawed-step rate), first-error
    # position, and per task the length histogram and accuracy/truncation by length
    assert len(widths) == 10 and all(w > 200 for w in widths)
    # The flagged step is highlighted inside a collapsed sample; open it and check it is visible.
    # (The browser pages 25 samples at a time: filter to the correct-but-flawed ones first.)
    choose(browser, "correct", "correct")
    choose(browser, "flawed", "flawed")
    flawed = '#sample-browser details.sample[data-correct="correct"][data-flawed="flawed"]'
    browser.execute_script(f"document.querySelector('{flawed}').open = true")
    mark = browser.find_element("css selector", f"{flawed} mark")
    assert mark.is_displayed() and "2+2=5" in mark.text
    # Sorting: click the pass@1 header twice (ascending, then descending).
    header = browser.find_elements("css selector", "#task-table th")[3]
    header.click()
    assert _column(browser, "task-table", 0) == ["amc23", "math500"]
    header.click()
    assert _column(browser, "task-table", 0) == ["math500", "amc23"]


def test_leaderboard_page(browser, tmp_path):
    def task(right: int, audited: bool = False) -> TaskSpec:
        spec = TaskSpec(correct={f"q{i}": [i < right] for i in range(20)}, audited=audited)
        spec.flawed = {(f"q{i}", 0) for i in range(right // 3)} if audited else set()
        return spec

    runs = [write_run(tmp_path / name, f"org/{name}", {"math500": task(r), "amc23": task(r // 2)})
            for name, r in (("alpha", 9), ("beta", 14), ("gamma", 5))]
    runs += [write_run(tmp_path / f"m{r}", f"org/stepkto-M{r}", {"math500": task(8 + 3 * r, audited=True)}, round_=r)
             for r in range(3)]
    _, _, index = write_leaderboard(runs, tmp_path / "board")
    errors = _open(browser, index, tmp_path / "leaderboard.png")
    assert errors == []
    assert _column(browser, "group-A", 1) == ["org/beta", "org/alpha", "org/gamma"]
    assert _column(browser, "group-B", 3) == ["M2", "M1", "M0"]
    widths = _image_widths(browser)
    assert len(widths) == 4 and all(w > 200 for w in widths)  # A: bars; B: bars, scatter, rounds
    browser.find_elements("css selector", "#group-A th")[1].click()  # sort by model name
    assert _column(browser, "group-A", 1) == ["org/alpha", "org/beta", "org/gamma"]


def test_report_of_a_real_scored_file(browser, tmp_path, shared_data):
    """800 real completions (LaTeX, code-like text) graded by `stepkto-eval score`, then opened in Chromium."""
    from stepkto_eval.cli import main

    run = tmp_path / "score"
    assert main(["score", str(shared_data / "qwen25math7b_math_cot_100.jsonl"), "--gold-field", "gt",
                 "--completions-field", "response", "--breakdown", "level", "--output-dir", str(run),
                 "--workers", "1"]) == 0
    errors = _open(browser, write_html_report(run), tmp_path / "score_report.png")
    assert errors == []
    assert _column(browser, "task-table", 0) == ["qwen25math7b_math_cot_100"]
    assert _column(browser, "breakdown-qwen25math7b_math_cot_100-level", 0) == [f"Level {i}" for i in range(1, 6)]
    shown = browser.execute_script(
        "return document.querySelectorAll('#sample-browser details.sample[data-correct=\"wrong\"]').length")
    assert 0 < shown <= 50
    widths = _image_widths(browser)
    # accuracy bars; the views: accuracy by level, length histogram, accuracy/truncation by length, pass@k and
    # maj@k, solve-rate histogram (8 completions per problem)
    assert len(widths) == 6 and all(w > 200 for w in widths)
    # The curves recompute pass@k and maj@k from the samples: at k = n they equal metrics.json's pass@8, maj@8.
    import json

    scored = json.loads((run / "metrics.json").read_text())["tasks"]["qwen25math7b_math_cot_100"]["metrics"]
    last = browser.execute_script("return Array.from(document.querySelectorAll('#passk-qwen25math7b_math_cot_100"
                                  " tbody tr')).pop().innerText")
    assert last.split("\t")[0] == "8"
    assert last.split("\t")[1].startswith(f"{scored['pass@8']['value'] * 100:.1f} ")
    assert last.split("\t")[2].startswith(f"{scored['maj@8']['value'] * 100:.1f} ")
    assert "completion length (characters)" in browser.page_source  # score runs record no token counts


def test_long_unbroken_strings_do_not_widen_the_report(browser, tmp_path):
    """A 3,000-character id, a 990-digit answer and a long task name: the page stays within the window (1280 px),
    and opening the sample shows the whole answer, wrapped."""
    long_id, long_answer = "i" * 3000, "9" * 990
    spec = TaskSpec(correct={long_id: [False], "short": [True]}, meta={long_id: {"subject": "s" * 500, "level": 1}})
    run = write_run(tmp_path / "run", "org/" + "m" * 400, {"t" * 300: spec})
    import json

    records = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    records[0].update(extracted=long_answer, completion="x" * 5000)
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert _open(browser, write_html_report(run), tmp_path / "long.png") == []
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 1280, width
    shown = " ".join(e.text for e in browser.find_elements("css selector", "#sample-browser .full"))
    assert long_answer in shown.replace("\n", "") and long_id in shown.replace("\n", "")


def _visible_plot(driver, alt: str) -> bool:
    """The plot with this alt text exists, decoded (naturalWidth > 200) and is laid out on the page."""
    return driver.execute_script(
        "var img = Array.from(document.images).find(i => i.alt === arguments[0]);"
        "if (!img) return false; var box = img.getBoundingClientRect();"
        "return img.complete && img.naturalWidth > 200 && box.width > 200 && box.height > 100"
        " && getComputedStyle(img).visibility === 'visible';", alt)


def test_report_views_of_a_sampled_audited_run(browser, tmp_path):
    """The researcher views (difficulty, lengths, pass@k/maj@k, solve rates, step audit) of an n = 8 audited run."""
    run = write_sampled_run(tmp_path / "run", n=8)
    assert _open(browser, write_html_report(run), tmp_path / "views.png") == []
    for section_id in ("difficulty", "lengths", "sampling", "audit-views"):
        assert browser.find_element("css selector", f"section#{section_id}").is_displayed()
    plots = [f"{task} {view}" for task in ("math500", "amc23")
             for view in ("accuracy by difficulty", "completion length correct vs wrong",
                          "accuracy and truncation by length", "pass@k and maj@k", "solve-rate histogram")]
    plots += ["math500 flawed-step rate by difficulty", "math500 first error position"]
    for alt in plots:
        assert _visible_plot(browser, alt), alt
    assert _column(browser, "passk-math500", 0) == ["1", "2", "4", "8"]
    assert _column(browser, "difficulty-amc23", 0) == ["1-5", "6-10", "11-15", "16-20", "21-25"]
    # Scroll to the pass@k curve and keep a screenshot of that part of the page too.
    browser.execute_script("document.getElementById('sampling').scrollIntoView()")
    browser.save_screenshot(str(tmp_path / "views_sampling.png"))
    assert (tmp_path / "views_sampling.png").stat().st_size > 10_000
    if os.environ.get("STEPKTO_SCREENSHOTS"):
        shutil.copy(tmp_path / "views_sampling.png", Path(os.environ["STEPKTO_SCREENSHOTS"]) / "views_sampling.png")
