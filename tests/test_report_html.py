"""report.html: content, escaping of untrusted model text, sampling caps, and the `report` command."""
from __future__ import annotations

import base64
import json
import re

import pytest
from helpers.run_folders import TaskSpec, math_items, write_run

from stepkto_eval.cli import main
from stepkto_eval.reports.html_report import subject_level_grid, write_html_report
from stepkto_eval.reports.sample_browser import flagged_span, pick

HOSTILE = 'I think <script>window.__pwned = 1; console.error("pwned")</script> so <b>x</b> & "q" \\boxed{5}'


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


@pytest.fixture
def audited_run(tmp_path):
    math = math_items([True, False] * 10)
    math.audited = True
    math.flawed = {(item, 0) for item, flags in list(math.correct.items())[:6] if flags[0]}
    amc = TaskSpec(correct={f"amc{i}": [i % 3 == 0] for i in range(9)}, completion=HOSTILE)
    return write_run(tmp_path / "run", "org/model-7b", {"math500": math, "amc23": amc})


def test_report_has_every_section_and_is_self_contained(audited_run):
    out = write_html_report(audited_run)
    html = out.read_text()
    for anchor in ('id="task-table"', 'id="accuracy"', 'id="heatmap"', 'id="samples"', 'id="manifest"'):
        assert anchor in html
    # No network at view time: no external scripts, stylesheets or images.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    images = _images(html)
    assert len(images) == 3  # accuracy bars, flawed-step bars, subject x level heat map
    assert all(img.startswith(b"\x89PNG") and len(img) > 2000 for img in images)
    rows = re.search(r'id="task-table".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    assert rows.count("<tr>") == 2 and "math500" in rows and "amc23" in rows
    assert "flawed-step rate" in html and "(3/10)" in html  # n_flawed / n_correct beside the rate


def test_model_text_is_escaped(audited_run):
    html = write_html_report(audited_run).read_text()
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned = 1; console.error(&quot;pwned&quot;)&lt;/script&gt;" in html
    assert "<b>x</b>" not in html
    # The only real <script> blocks are the page's own: table sorting and the sample browser's filters.
    from stepkto_eval.reports import html_page, sample_browser

    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert html.count("<script") == 2 and sorted(scripts) == sorted([html_page._JS, sample_browser._JS])


def test_flagged_step_is_highlighted_after_escaping(tmp_path):
    spec = TaskSpec(correct={"a": [True]}, audited=True, flawed={("a", 0)},
                    completion="First <i>step</i>.\n\nBad <step> 2+2=5.\n\nDone \\boxed{4}.")
    run = write_run(tmp_path / "r", "m", {"t": spec})
    html = write_html_report(run).read_text()
    assert '<mark title="first wrong step">Bad &lt;step&gt; 2+2=5.</mark>' in html
    assert "First &lt;i&gt;step&lt;/i&gt;." in html
    assert "flawed step 2" in html


@pytest.mark.parametrize(
    ("sample", "span"),
    [
        ({"completion": "ab\n\ncd", "first_error": 1, "step_char_spans": [[0, 2], [4, 6]]}, (4, 6)),
        ({"completion": "ab\n\ncd", "first_error": 1, "steps": ["ab", "cd"]}, (4, 6)),  # no spans: find text
        ({"completion": "ab", "first_error": 1, "step_char_spans": [[0, 2], [5, 99]]}, None),  # out of range
        ({"completion": "ab", "first_error": -1, "step_char_spans": [[0, 2]]}, None),  # no error
        ({"completion": "ab", "first_error": None}, None),  # no verdict
    ],
)
def test_flagged_span(sample, span):
    assert flagged_span(sample) == span


def test_sample_is_capped_and_deterministic(tmp_path):
    spec = TaskSpec(correct={f"q{i:03d}": [False] for i in range(120)})
    run = write_run(tmp_path / "big", "m", {"math500": spec})
    first = write_html_report(run, sample_cap=50).read_text()
    second = write_html_report(run, sample_cap=50).read_text()
    assert first == second
    assert first.count('<details class="sample"') == 50
    assert len(re.findall(r'<details class="sample" data-task="math500" data-correct="wrong"', first)) == 50
    assert "wrong 50 of 120" in first and "correct 0 of 0" in first
    samples = [{"task": "t", "id": str(i), "sample_index": 0} for i in range(10)]
    chosen, total = pick(samples, lambda s: True, 3)
    assert total == 10 and len(chosen) == 3
    assert chosen == pick(list(reversed(samples)), lambda s: True, 3)[0]  # independent of input order


def test_subject_level_grid_averages_per_problem_means():
    samples = [
        {"id": "a", "correct": True, "meta": {"subject": "Algebra", "level": "Level 1"}},
        {"id": "a", "correct": False, "meta": {"subject": "Algebra", "level": "Level 1"}},
        {"id": "b", "correct": True, "meta": {"subject": "Algebra", "level": "Level 1"}},
        {"id": "c", "correct": False, "meta": {"subject": "Geometry", "level": "Level 10"}},
        {"id": "d", "correct": True, "meta": {"subject": "Geometry", "level": "Level 2"}},
    ]
    matrix, rows, cols, counts = subject_level_grid(samples)
    assert rows == ["Algebra", "Geometry"]
    assert cols == ["L1", "L2", "L10"]  # numeric order, not string order
    assert matrix == [[0.75, None, None], [None, 1.0, 0.0]]  # item a = 0.5, item b = 1.0
    assert counts == [[2, 0, 0], [0, 1, 1]]


def test_processbench_section(tmp_path):
    splits = {s: {"f1": f1, "error_acc": f1 - 0.05, "correct_acc": f1 + 0.05,
                  "confusion": {"too_early": 3, "exact": 10, "too_late": 2, "missed": 5}}
              for s, f1 in (("gsm8k", 0.6), ("math", 0.5), ("olympiadbench", 0.4), ("omnimath", 0.35))}
    spec = TaskSpec(correct={"x": [True]}, extra_metrics={"splits": splits})
    run = write_run(tmp_path / "pb", "judge", {"processbench": spec})
    html = write_html_report(run).read_text()
    table = re.search(r'id="processbench-processbench".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    assert table.count("<tr>") == 4 and "olympiadbench" in table and ">60.0" in table
    confusion = re.search(r'id="confusion-processbench".*?</table>', html, re.S).group(0)
    assert "too_early" in confusion and "<td>10</td>" in confusion
    assert len(_images(html)) == 2  # accuracy bars + F1 per split


def test_bad_sample_lines_are_reported_not_fatal(tmp_path):
    run = write_run(tmp_path / "r", "m", {"t": TaskSpec(correct={"a": [False]})})
    with (run / "samples.jsonl").open("a") as fh:
        fh.write("{not json\n" + json.dumps({"id": "x"}) + "\n")
    html = write_html_report(run).read_text()
    assert "samples.jsonl: line 2: not valid JSON" in html
    assert "samples.jsonl: line 3: missing field(s) task" in html


def test_large_run_gives_a_light_page(tmp_path):
    """200 problems x 8 samples with long completions: the page stays small (capped sample, clipped text)."""
    long_text = "Reasoning step. " * 800  # 12.8k characters per completion
    spec = TaskSpec(correct={f"p{i:03d}": [k % 3 == 0 for k in range(8)] for i in range(200)}, audited=True,
                    completion=long_text + "\n\nBad step 2+2=5.\n\nSo \\boxed{4}.")
    spec.flawed = {(f"p{i:03d}", 0) for i in range(100)}
    run = write_run(tmp_path / "big", "m", {"math500": spec}, n=8)
    assert (run / "samples.jsonl").stat().st_size > 20_000_000
    html = write_html_report(run).read_text()
    assert len(html) < 2_000_000
    assert html.count('<details class="sample"') == 150  # 50 wrong + 50 correct-but-flawed + 50 correct
    assert html.count('data-correct="wrong" data-flawed') == 50 and html.count('data-flawed="flawed"') >= 50
    assert "more characters not shown" in html


def test_report_command_rewrites_both_reports(audited_run, capsys):
    (audited_run / "report.html").write_text("old")
    assert main(["report", str(audited_run)]) == 0
    assert (audited_run / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert "math500" in (audited_run / "report.md").read_text()  # the pipeline's markdown writer
    out = capsys.readouterr().out
    assert "report.html" in out and "report.md" in out


def test_report_command_names_missing_manifest(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "manifest.json: file not found" in capsys.readouterr().err


def test_breakdown_tables_in_natural_order(tmp_path):
    breakdown = {"level": {f"Level {lv}": {"n": lv, "metrics": {"pass@1": {"value": lv / 10, "ci_low": 0.0,
                                                                             "ci_high": 1.0}}} for lv in (10, 2, 1)}}
    spec = TaskSpec(correct={"a": [True]}, extra_metrics={"breakdown": breakdown})
    html = write_html_report(write_run(tmp_path / "r", "m", {"math500": spec})).read_text()
    body = re.search(r'id="breakdown-math500-level".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    assert re.findall(r"<td>(Level \d+)</td>", body) == ["Level 1", "Level 2", "Level 10"]
    assert ">20.0 <span" in body


def test_report_on_a_real_processbench_folder(shared_data, tmp_path):
    """`stepkto-eval processbench --replay` with oracle predictions on the gsm8k split, then the HTML report."""
    items = json.loads((shared_data / "processbench" / "gsm8k.json").read_text())
    assert {it["label"] == -1 for it in items} == {True, False}  # both kinds, so the oracle's F1 is 100
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"split": "gsm8k", "id": it["id"], "pred": it["label"]}) + "\n"
                             for it in items))
    out = tmp_path / "pb"
    assert main(["processbench", "--replay", str(preds), "--splits", "gsm8k",
                 "--data-dir", str(shared_data), "--output-dir", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert 'id="task-table"' not in html  # no accuracy task in a ProcessBench folder
    assert "mean F1 over splits 100.0" in html
    row = re.search(r'id="processbench-processbench".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    assert row.count("<tr>") == 1 and "gsm8k" in row and ">100.0<" in row
    confusion = re.search(r'id="confusion-processbench".*?</table>', html, re.S).group(0)
    n_error = sum(it["label"] != -1 for it in items)
    assert f"<td>{n_error}</td>" in confusion  # every erroneous item is "exact"
    assert len(_images(html)) == 1  # F1 per split


def test_hostile_latex_in_answers_and_steps_stays_inert(tmp_path):
    """Answers, golds, problems, steps and verdict forms full of LaTeX attacks: every tag in the sample browser
    is one the page itself uses or an allowlisted MathML element, and no attribute links, styles or runs code."""
    from html.parser import HTMLParser

    from reports.test_math_render import ATTACKS

    from stepkto_eval.reports.math_render import ELEMENTS

    spec = TaskSpec(correct={f"q{i}": [i % 2 == 0] for i in range(len(ATTACKS))}, audited=True, flawed={("q0", 0)})
    run = write_run(tmp_path / "r", "m", {"t": spec})
    records = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    for rec, attack in zip(records, ATTACKS, strict=True):
        rec.update(extracted=attack, gold=attack, meta={"problem": f"Solve ${attack}$"},
                   completion=f"$${attack}$$\n\n\\boxed{{{attack}}}", steps=[f"${attack}$", f"\\({attack}\\)"])
        rec["verdict"].update(rule=attack, reason=attack, candidate_norm=attack, gold_norm=attack)
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    page = write_html_report(run).read_text()
    browser = page[page.index('<div id="sample-browser">'):page.index("<script>", page.index('<div id="sample-browser">'))]

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            self.found.append((tag, attrs))

    parser = Tags()
    parser.found = []
    parser.feed(browser)
    page_tags = {"div", "details", "summary", "b", "span", "code", "mark", "ol", "li"}
    assert {tag for tag, _ in parser.found} <= page_tags | ELEMENTS
    names = {name for _, attrs in parser.found for name, _ in attrs}
    assert not {n for n in names if n.startswith("on")} and not names & {"href", "src", "style", "xlink:href"}
    assert page.count("<math") > 3 * len(ATTACKS)  # the harmless parts still render as math
