"""Rendered math and the sample browser of report.html in a real headless Chromium (issue 13 §1, §2).

Asserted: answers, golds, problems and completions with fractions, radicals and matrices become <math>
elements with a non-zero rendered box, and the screenshot of a formula is not blank; the filter controls
exist, filtering and paging change the visible rows; the first flagged step is highlighted; hostile text
inside formulas is not executed; with scripts off every embedded sample is listed.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import require
from helpers.run_folders import TaskSpec, write_run
from test_pages import CHROMIUM_FLAGS, _binary, _open, choose
from test_pages import browser as chromium_fixture

from stepkto_eval.reports.html_report import write_html_report

pytestmark = pytest.mark.browser
browser = chromium_fixture  # the fixture of test_pages (headless Chromium, fresh profile), used here by name

ANSWERS = [r"\frac{5}{16}", r"\sqrt{2}", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"3\sqrt[3]{4}", r"\dfrac{\pi}{6}"]
GOLDS = [r"\frac{3}{8}", r"2\sqrt{2}", r"\begin{pmatrix}1&0\\0&1\end{pmatrix}", r"\sqrt[3]{4}", r"\frac{\pi}{3}"]
COMPLETION = ("We have $\\frac{a}{b} = \\sqrt{x^2+1}$ and\n\n"
              "$$\\begin{bmatrix}1 & 2\\\\ 3 & 4\\end{bmatrix}\\begin{bmatrix}x\\\\ y\\end{bmatrix}$$\n\n"
              "Then $2+2=5$ \\(\\text{<img src=x onerror=window.__pwned=1>}\\).\n\n"
              "So the answer is \\boxed{\\frac{3}{8}}.")


def math_run(path: Path) -> Path:
    """60 problems: 5 answer/gold pairs with fractions, radicals and matrices, a mix of outcomes, finish
    reasons and checker rules; audited (steps with a flagged one) and a problem statement with math."""
    ids = [f"p{i:02d}" for i in range(60)]
    spec = TaskSpec(correct={item: [i % 3 != 0] for i, item in enumerate(ids)}, audited=True, completion=COMPLETION)
    spec.flawed = {(item, 0) for i, item in enumerate(ids) if i % 3 == 1}
    other = TaskSpec(correct={f"q{i}": [i % 2 == 0] for i in range(6)}, completion=COMPLETION)
    run = write_run(path, "org/math-model", {"math500": spec, "amc23": other})
    records = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    for i, rec in enumerate(records):
        rec.update(extracted=ANSWERS[i % 5] if not rec["correct"] else GOLDS[i % 5], gold=GOLDS[i % 5],
                   prompt=None, meta={"problem": f"Compute $\\frac{{{i}}}{{7}} + \\sqrt{{{i}}}$ as a fraction."})
        if i % 7 == 0:
            rec["finish_reason"] = "length"
        if not rec["correct"]:
            rec["verdict"]["rule"] = "symbolic-mismatch" if i % 2 else "numeric-mismatch"
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return run


def _visible(driver) -> list[dict]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#sample-browser details.sample'))"
        ".filter(d => d.offsetParent !== null).map(d => Object.assign({}, d.dataset))")


def _boxes(driver, selector: str) -> list[tuple[float, float]]:
    return [tuple(b) for b in driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).filter(e => e.getClientRects().length)"
        ".map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })", selector)]


def _not_blank(png: Path) -> bool:
    from PIL import Image

    pixels = Image.open(png).convert("L")
    low, high = pixels.getextrema()
    dark = sum(pixels.histogram()[:128])
    return high - low > 100 and dark > 20  # glyphs drawn: dark pixels on a light background


def test_math_renders_as_mathml(browser, tmp_path):
    run = math_run(tmp_path / "run")
    assert _open(browser, write_html_report(run), tmp_path / "math_report.png") == []
    assert browser.execute_script("return window.__pwned === undefined")
    # Summary lines (visible without opening a sample): answer vs gold as MathML with a real box.
    for element in ("mfrac", "msqrt", "mroot", "mtable"):
        boxes = _boxes(browser, f"#sample-browser summary math {element}")
        assert boxes and all(w > 0 and h > 0 for w, h in boxes), element
    # Fraction bars stack: a rendered fraction is taller than a line of its own digits.
    heights = browser.execute_script(
        "const f = document.querySelector('#sample-browser summary math mfrac');"
        "return [f.getBoundingClientRect().height, f.querySelector('mn').getBoundingClientRect().height]")
    assert heights[0] > 1.5 * heights[1]
    # Open the first visible sample: its problem, completion and steps hold math too.
    browser.execute_script("const d = document.querySelector('#sample-browser details.sample[data-task=math500]');"
                           "d.open = true; d.querySelectorAll('details').forEach(x => x.open = true);")
    first = "#sample-browser details.sample[open]"
    steps = _boxes(browser, f"{first} .steps math")
    assert len(steps) >= 4 and all(w > 0 and h > 0 for w, h in steps)
    assert _boxes(browser, f"{first} .prose math msqrt")  # the problem statement
    assert _boxes(browser, f"{first} math[display=block] mtable")  # $$…$$ matrix product
    formula = browser.find_element("css selector", "#sample-browser summary .tex")
    shot = tmp_path / "formula.png"
    formula.screenshot(str(shot))
    assert _not_blank(shot)
    full = tmp_path / "math_sample.png"
    browser.find_element("css selector", first).screenshot(str(full))
    assert _not_blank(full)
    if os.environ.get("STEPKTO_SCREENSHOTS"):
        for png in (shot, full):
            shutil.copy(png, Path(os.environ["STEPKTO_SCREENSHOTS"]) / png.name)
    # The LaTeX source stays in the page (copyable) and the hostile \text stayed text.
    assert browser.execute_script(
        "return document.querySelector('#sample-browser summary .tex').getAttribute('title')") in ANSWERS + GOLDS
    assert "<img src=x" in browser.find_element("css selector", f"{first} .steps").text


def test_filters_paging_and_the_flagged_step(browser, tmp_path):
    run = math_run(tmp_path / "run")
    assert _open(browser, write_html_report(run), tmp_path / "filters.png") == []
    total = browser.execute_script("return document.querySelectorAll('#sample-browser details.sample').length")
    keys = browser.execute_script(
        "return Array.from(document.querySelectorAll('#sample-filters select')).map(s => s.dataset.key)")
    assert keys == ["task", "correct", "flawed", "finish", "rule"]
    assert total == 66 and len(_visible(browser)) == 25  # the first page
    count = browser.find_element("css selector", "#sample-filters .count")
    assert count.text == "66 of 66 match · page 1 of 3"
    first_page = [r["task"] + r["rule"] for r in _visible(browser)]
    browser.find_element("css selector", '#sample-filters button[data-step="1"]').click()
    assert count.text == "66 of 66 match · page 2 of 3" and len(_visible(browser)) == 25
    assert [r["task"] + r["rule"] for r in _visible(browser)] != first_page
    choose(browser, "correct", "wrong")
    rows = _visible(browser)
    assert 0 < len(rows) < 25 and {r["correct"] for r in rows} == {"wrong"}
    choose(browser, "rule", "symbolic-mismatch")
    rows = _visible(browser)
    assert rows and {r["rule"] for r in rows} == {"symbolic-mismatch"} and {r["correct"] for r in rows} == {"wrong"}
    choose(browser, "rule", "")
    choose(browser, "correct", "")
    choose(browser, "finish", "length")
    assert {r["finish"] for r in _visible(browser)} == {"length"}
    choose(browser, "finish", "")
    choose(browser, "task", "amc23")
    assert len(_visible(browser)) == 6 and {r["flawed"] for r in _visible(browser)} == {"not audited"}
    choose(browser, "task", "math500")
    choose(browser, "correct", "correct")
    choose(browser, "flawed", "flawed")
    rows = _visible(browser)
    assert len(rows) == 20 and {r["flawed"] for r in rows} == {"flawed"}
    # The first flagged step is highlighted: marked, styled apart from the others, visible when opened.
    browser.execute_script("Array.from(document.querySelectorAll('#sample-browser details.sample'))"
                           ".find(d => d.offsetParent !== null).open = true")
    mark = browser.find_element("css selector", "#sample-browser details.sample[open] li.step.flagged mark")
    assert mark.is_displayed() and mark.find_elements("css selector", "math mtable")  # step 2: the matrices
    position = browser.execute_script(
        "const s = Array.from(document.querySelectorAll('#sample-browser details.sample[open] li.step'));"
        "return s.findIndex(e => e.classList.contains('flagged'))")
    assert position == 1  # first_error = 1 in the record
    colours = browser.execute_script(
        "const s = document.querySelectorAll('#sample-browser details.sample[open] li.step');"
        "return Array.from(s).map(e => getComputedStyle(e).backgroundColor)")
    assert len(set(colours)) == 2  # the flagged step's background differs from the others'
    shot = tmp_path / "flagged_step.png"
    browser.find_element("css selector", "#sample-browser details.sample[open]").screenshot(str(shot))
    assert _not_blank(shot)
    if os.environ.get("STEPKTO_SCREENSHOTS"):
        shutil.copy(shot, Path(os.environ["STEPKTO_SCREENSHOTS"]) / shot.name)


def test_without_scripts_every_sample_is_listed(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = _binary("chromium", "chromium-browser", "google-chrome"), _binary("chromedriver")
    require(chromium is not None and driver_path is not None, "headless Chromium/chromedriver not found")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600"]:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(write_html_report(math_run(tmp_path / "run")).resolve().as_uri())
        shown = [d for d in driver.find_elements("css selector", "#sample-browser details.sample") if d.is_displayed()]
        assert len(shown) == 66
        assert not driver.find_element("css selector", "#sample-filters").is_displayed()  # controls need scripts
        assert driver.find_elements("css selector", "#sample-browser summary math mfrac")
    finally:
        driver.quit()
