"""report.html: content, escaping of untrusted model text, sampling caps, and the `report` command."""
from __future__ import annotations

import base64
import json
import re

import pytest
from helpers.run_folders import TaskSpec, math_items, write_run, write_sampled_run

from stepkto_eval.cli import main
from stepkto_eval.reports import plots
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
    # accuracy bars, flawed-step bars, subject x level heat map; the views: math500 accuracy and flawed-step
    # rate by level, first-error position; per task a length histogram and accuracy/truncation by length
    assert len(images) == 10
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
        ({"completion": "ab\n\ncd", "first_error": True, "steps": ["ab", "cd"]}, None),  # a bool is no step index
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
    assert len(_images(html)) == 4  # accuracy bars + F1 per split; the length views of the fixture's one sample
    assert "processbench F1 per split" in _alts(html)


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


def _alts(html: str) -> list[str]:
    return re.findall(r'<img class="plot" alt="([^"]*)"', html)


def _rows(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'id="{re.escape(table_id)}".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_views_of_a_sampled_audited_run(tmp_path):
    html = write_html_report(write_sampled_run(tmp_path / "run", n=8)).read_text()
    for anchor in ("difficulty", "lengths", "sampling", "audit-views"):
        assert f'<section id="{anchor}">' in html
    alts = set(_alts(html))
    for task in ("math500", "amc23"):
        assert {f"{task} accuracy by difficulty", f"{task} completion length correct vs wrong",
                f"{task} accuracy and truncation by length", f"{task} pass@k and maj@k",
                f"{task} solve-rate histogram"} <= alts
    assert {"math500 flawed-step rate by difficulty", "math500 first error position"} <= alts
    assert "amc23 first error position" not in alts  # amc23 was not audited
    assert "could not be drawn" not in html
    # Difficulty: MATH-500 by level; AMC by contest problem number, with the proxy explained.
    assert [r[0] for r in _rows(html, "difficulty-math500")] == ["1", "2", "3", "4", "5"]
    assert [r[0] for r in _rows(html, "difficulty-amc23")] == ["1-5", "6-10", "11-15", "16-20", "21-25"]
    assert "grouped by their number within the contest (read from meta.url)" in html
    # pass@k table: k = 1, 2, 4, 8; pass@1 equals the task table's pass@1; pass@k never falls with k.
    passk = _rows(html, "passk-math500")
    assert [r[0] for r in passk] == ["1", "2", "4", "8"]
    values = [float(r[1].split()[0]) for r in passk]
    assert values == sorted(values)
    head = re.search(r'id="task-table".*?<tbody>\s*<tr>(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'data-sort="([0-9.]+)"', head)[0] == f"{values[0] / 100:.6f}"
    # Solve-rate histogram: every problem counted once, 0/8 ... 8/8.
    solved = _rows(html, "solve-rate-math500")[0]
    assert solved[0] == "problems" and len(solved) == 10 and sum(map(int, solved[1:])) == 40
    # Lengths are token counts here, and the longest wrong completions were cut.
    assert "math500: completion length (tokens)" in html
    assert any(r[3] not in ("0.0", "–") for r in _rows(html, "length-bins-math500"))


def test_views_degrade_for_greedy_runs_without_levels(tmp_path):
    greedy = write_run(tmp_path / "g", "m", {"t": TaskSpec(correct={f"q{i}": [i % 2 == 0] for i in range(6)})})
    html = write_html_report(greedy).read_text()
    assert 'id="lengths"' in html  # lengths apply to every run
    for absent in ('id="difficulty"', 'id="sampling"', 'id="audit-views"'):
        assert absent not in html
    levels = write_html_report(write_run(tmp_path / "l", "m", {"math500": math_items([True, False] * 5)})).read_text()
    assert 'id="difficulty-math500"' in levels and 'id="sampling"' not in levels


def test_views_of_a_score_run_use_characters_and_no_truncation(tmp_path):
    run = write_run(tmp_path / "s", "m", {"t": TaskSpec(correct={f"q{i}": [i % 3 == 0] for i in range(6)})})
    records = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    for r in records:  # what `stepkto-eval score` records for completions made elsewhere
        r.update(tokens={"prompt": None, "completion": None}, finish_reason=None)
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    html = write_html_report(run).read_text()
    assert "t: completion length (characters)" in html
    assert "lengths are counted in characters" in html
    assert "Truncation is unknown for this task" in html
    # the sample browser says so too, in each sample and in its finish-reason filter
    assert "finish reason unknown" in html and "finish reason None" not in html
    assert '<option value="unknown">' in html and '<option value="None">' not in html
    assert all(r[3] == "–" for r in _rows(html, "length-bins-t"))


def test_a_failing_view_plot_becomes_a_note(tmp_path, monkeypatch):
    def broken(*args, **kwargs):  # a matplotlib failure cannot be provoked with valid data: simulate one
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(plots, "curve_chart", broken)
    html = write_html_report(write_sampled_run(tmp_path / "run", n=4)).read_text()
    assert 'Plot "math500 pass@k and maj@k" could not be drawn (RuntimeError: renderer exploded)' in html
    assert 'id="passk-math500"' in html  # the numbers are still there
    assert "math500 solve-rate histogram" in _alts(html)


def test_a_failing_view_becomes_a_note(tmp_path, monkeypatch):
    from stepkto_eval.reports import views

    def broken(*args, **kwargs):  # every record shape we know of is handled; simulate an unforeseen one
        raise KeyError("odd record")

    monkeypatch.setattr(views, "length_bins", broken)
    html = write_html_report(write_sampled_run(tmp_path / "run", n=2)).read_text()
    assert 'View "length_section" could not be computed (KeyError' in html
    assert 'id="lengths"' not in html
    assert 'id="difficulty"' in html and 'id="sampling"' in html and 'id="samples"' in html


def test_view_plots_show_a_formula_in_a_task_name_as_text(tmp_path):
    """Every view chart carries the task name in its title; `$...$` there must not reach mathtext."""
    name = "t$\\frac{1}{$ <b>"
    spec = TaskSpec(correct={f"q{i}": [i % 2 == 0, True, i % 3 == 0] for i in range(6)}, audited=True,
                    meta={f"q{i}": {"level": f"Level {i % 3 + 1}"} for i in range(6)}, flawed={("q0", 0), ("q1", 1)})
    html = write_html_report(write_run(tmp_path / "r", "m", {name: spec}, n=3)).read_text()
    assert "could not be drawn" not in html
    alts = _alts(html)
    views_drawn = [a for a in alts if a.startswith("t$\\frac{1}{$ &lt;b&gt; ")]
    assert len(views_drawn) == 7  # difficulty, 2 length charts, pass@k/maj@k, solve rates, 2 audit charts


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


def test_math_rendered_per_sample_is_bounded_across_its_steps():
    """Each step and text block had its own formula budget, so a sample with 100 formula-filled steps converted
    ~400k characters of LaTeX (13 s and 6.6 MB of MathML for one sample). The budget is per sample: formulas
    beyond it stay escaped source, and the steps are all still listed."""
    from html import unescape

    from stepkto_eval.reports.math_render import MAX_MATH_PER_TEXT
    from stepkto_eval.reports.sample_browser import MAX_MATH_PER_SAMPLE, render_sample

    formula = "$" + "x'" * 700 + "$ "
    text = formula * 8
    sample = {"task": "t", "id": "q", "sample_index": 0, "correct": True, "finish_reason": "stop",
              "extracted": "4", "gold": "4", "verdict": {"rule": "r"}, "prompt": text, "completion": text,
              "judge": {"name": "j", "evidence": text}, "first_error": 5, "steps": [formula * 2] * 100}
    out = render_sample(sample)
    sources = re.findall(r'<annotation encoding="application/x-tex">(.*?)</annotation>', out)
    converted = sum(len(unescape(s)) for s in sources)
    assert 0 < converted <= MAX_MATH_PER_SAMPLE
    assert MAX_MATH_PER_SAMPLE <= 2 * MAX_MATH_PER_TEXT
    assert out.count('<li class="step') == 100
    assert out.count("x&#x27;" * 700) >= 3  # formulas past the budget are shown as escaped source


def test_odd_task_and_index_fields_and_bad_bytes_are_reported_not_fatal(tmp_path):
    """A list as task or sample_index (unhashable), tasks of mixed types, and a line that is not UTF-8 each
    stopped the report with a traceback; they are skipped lines named by file, line and field, or shown."""
    run = write_run(tmp_path / "r", "m", {"t": TaskSpec(correct={"a": [False], "b": [True]})})
    odd = [{"task": ["t"], "id": "c"}, {"task": "t", "id": "d", "sample_index": [1]},
           {"task": 7, "id": "e", "correct": True}, {"task": "u", "id": "f", "correct": False}]
    with (run / "samples.jsonl").open("ab") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in odd).encode())
        fh.write(b'{"task": "t", "id": "z\xff"}\n')
    html = write_html_report(run).read_text()
    assert "samples.jsonl: line 3: field task is not a string" in html
    assert "samples.jsonl: line 4: field sample_index is not an integer" in html
    assert "samples.jsonl: line 5: field task is not a string" in html
    assert "samples.jsonl: line 7: not UTF-8" in html
    assert 'data-task="u"' in html and 'id="samples"' in html


def test_lone_surrogates_in_samples_do_not_stop_the_page(tmp_path):
    """JSON may escape half of a surrogate pair ("\\ud800"); Python reads it as a lone surrogate, which cannot be
    written as UTF-8. In a task, id, answer, step or level it made report.html fail; it is shown as U+FFFD."""
    spec = TaskSpec(correct={"a": [True], "b": [False]}, audited=True, flawed={("a", 0)},
                    meta={"a": {"level": "Level 2"}, "b": {"level": "Level \ud800"}})
    run = write_run(tmp_path / "r", "m", {"t\ud800": spec})
    records = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    for rec in records:
        rec.update(id=rec["id"] + "\udfff", extracted="\ud800", steps=["a \udfff b", "$x\ud800$"])
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    html = write_html_report(run).read_text(encoding="utf-8")
    assert "a\ufffd" in html and "a \ufffd b" in html and 'id="samples"' in html


def test_a_meta_that_is_not_an_object_does_not_stop_the_page(tmp_path):
    """The subject x level grid read meta.get(...) from every record: a string or list as meta stopped report.html."""
    spec = TaskSpec(correct={"a": [True], "b": [False], "c": [True]},
                    meta={"a": {"subject": "Algebra", "level": "Level 1"}, "b": {"subject": "Algebra", "level": 2}})
    run = write_run(tmp_path / "r", "m", {"t": spec})
    records = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    records[2]["meta"] = "Level 3"
    records.append({**records[2], "id": "d", "meta": ["Algebra"]})
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    html = write_html_report(run).read_text()
    assert 'id="heatmap"' in html and 'id="samples"' in html


def test_a_boolean_first_error_is_not_a_flawed_step():
    """JSON `true` as first_error is an int in Python: the browser filed the sample under "correct with a flawed
    step" and marked step 2, while its own facet said "not audited"."""
    from stepkto_eval.reports.sample_browser import is_correct_and_clean, is_correct_but_flawed, render_sample

    sample = {"task": "t", "id": "a", "correct": True, "finish_reason": "stop", "first_error": True,
              "steps": ["ab", "cd"], "completion": "ab\n\ncd"}
    assert not is_correct_but_flawed(sample) and is_correct_and_clean(sample)
    out = render_sample(sample)
    assert "<mark" not in out and 'data-flawed="not audited"' in out


def test_the_steps_of_one_sample_are_bounded_in_size_but_all_listed():
    """Each step was cut at MAX_STEP_CHARS but their number was not: 100 hostile samples of 50 long steps made a
    74 MB report.html. Past MAX_SHOWN_CHARS of step text a step shows its start only; the flagged step is shown
    whole (up to MAX_STEP_CHARS) wherever it is."""
    from stepkto_eval.reports.sample_browser import MAX_SHOWN_CHARS, MAX_STEP_CHARS, render_sample

    steps = [f"step {i} " + "y" * 3000 for i in range(50)]
    steps[40] = "the flagged one " + "z" * 3000
    sample = {"task": "t", "id": "q", "sample_index": 0, "correct": True, "finish_reason": "stop",
              "first_error": 40, "steps": steps, "completion": "\n\n".join(steps)}
    out = render_sample(sample)
    assert out.count('<li class="step') == 50 and "step 49 " in out
    assert "the flagged one " + "z" * 3000 in out
    assert len(out) < 3 * MAX_SHOWN_CHARS + MAX_STEP_CHARS + 50 * 600


def test_a_problem_with_one_sample_left_explains_the_missing_pass_at_k_curve(tmp_path):
    run = write_sampled_run(tmp_path / "run", n=4)
    records = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    first = next(r["id"] for r in records if r["task"] == "math500")
    kept = [r for r in records if not (r["task"] == "math500" and r["id"] == first and r["sample_index"] > 0)]
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
    html = write_html_report(run).read_text()
    assert "math500: no pass@k curve — some problem has only 1 graded sample(s) of up to 4" in html
    assert 'id="passk-math500"' not in html and 'id="passk-amc23"' in html
