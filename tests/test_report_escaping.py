"""Untrusted text stays text in every report (issue 10 §3): report.md and the leaderboard README rendered by a
real Markdown renderer with HTML enabled (markdown-it-py, as permissive as a viewer can be), plot labels with
`$…$`, a plot that fails, and long unbroken strings in report.html."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers.run_folders import TaskSpec, math_items, write_run
from markdown_it import MarkdownIt

from stepkto_eval import md_escape
from stepkto_eval.cli import main
from stepkto_eval.reports.html_report import write_html_report
from stepkto_eval.reports.leaderboard_writer import write_leaderboard
from stepkto_eval.reports.markdown_report import render_markdown

HOSTILE = [
    "a`<img src=x onerror=alert(1)>``",
    "x\n# injected heading\n<script>alert(1)</script>",
    "```\n<img src=x onerror=alert(2)>\n```",
    "<h1>id</h1>|pipe|[link](javascript:alert(3))",
    "$\\frac{1}{$ ~~strike~~ **bold** _em_",
]


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(markdown)


def tags(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*([a-zA-Z0-9]+)", html)}


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("form", ["code", "text", "cell", "fence"])
def test_escaped_forms_render_as_the_same_text(value, form):
    escape = getattr(md_escape, form)
    markdown = f"| a |\n|---|\n| {escape(value)} |\n" if form == "cell" else f"- x: {escape(value)}\n"
    if form == "fence":
        markdown = escape(value) + "\n"
    html = rendered(markdown)
    allowed = {"ul", "li", "code", "pre", "p", "table", "thead", "tbody", "tr", "th", "td"}
    assert tags(html) <= allowed, html  # no img/script/a/h1/del/strong/em: nothing in `value` took effect


def hostile_run(path: Path) -> Path:
    spec = math_items([False, False])
    run = write_run(path, "org/<img src=x onerror=alert(9)>", {"t$\\frac{1}{$": spec})
    records = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    for rec, value in zip(records, HOSTILE, strict=False):
        rec.update(extracted=value, gold=value, id=value, completion=value)
        rec["verdict"]["reason"] = value
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return run


def test_report_md_keeps_model_output_as_text(tmp_path):
    run = hostile_run(tmp_path / "run")
    metrics = json.loads((run / "metrics.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    markdown = render_markdown(metrics, samples, manifest)
    html = rendered(markdown)
    assert not tags(html) & {"img", "script", "a", "del", "strong", "em"}, html
    assert html.count("<h1>") == 1 and "injected heading" in html  # shown, but as text in a code span
    headings = re.findall(r"<h[1-6]>(.*?)</h[1-6]>", html)
    assert not any("injected heading" in h and h.strip().startswith("injected") for h in headings)


def test_leaderboard_readme_keeps_the_model_name_as_text(tmp_path):
    run = hostile_run(tmp_path / "run")
    out = write_leaderboard([run], tmp_path / "board")
    readme = (tmp_path / "board" / "README.md").read_text()
    html = rendered(readme)
    assert "img" not in tags(html) and "onerror" in html  # the name is there, as text
    assert {p.name for p in out} >= {"README.md", "leaderboard.csv", "index.html"}


def test_dollar_signs_reach_no_mathtext_and_every_report_is_written(tmp_path, capsys):
    run = hostile_run(tmp_path / "run")
    page = write_html_report(run).read_text()
    assert page.count("data:image/png;base64,") >= 1 and "could not be drawn" not in page
    board = write_leaderboard([run], tmp_path / "board")
    assert (tmp_path / "board" / "index.html").is_file() and len(board) == 3
    # score and report on a file whose name holds a formula
    path = tmp_path / "a$\\frac{1}{$b.jsonl"
    path.write_text(json.dumps({"id": "1", "gold": "2", "completion": "\\boxed{2}", "subject": "$x^$"}) + "\n")
    out = tmp_path / "scored"
    assert main(["score", str(path), "--output-dir", str(out), "--breakdown", "subject"]) == 0
    assert main(["report", str(out)]) == 0
    assert (out / "report.html").is_file() and (out / "report.md").is_file()


def test_a_failing_plot_becomes_a_note(tmp_path, monkeypatch):
    """No input is known to break matplotlib once mathtext is off, so the failure is injected."""
    from stepkto_eval.reports import plots

    def broken(*args, **kwargs):
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(plots, "bar_chart", broken)
    run = write_run(tmp_path / "run", "m", {"math500": math_items([True, False])})
    page = write_html_report(run).read_text()
    assert "could not be drawn" in page and "renderer exploded" in page and "Samples" in page


def test_long_unbroken_strings_are_cut_with_the_full_text_on_demand(tmp_path):
    long_id, long_answer = "i" * 3000, "9" * 990
    spec = TaskSpec(correct={long_id: [False]})
    run = write_run(tmp_path / "run", "m", {"math500": spec})
    records = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    records[0].update(extracted=long_answer, gold="1")
    (run / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    page = write_html_report(run).read_text()
    summary = re.search(r"<summary><b>.*?</summary>", page, re.S).group(0)
    assert long_id not in re.sub(r'title="[^"]*"', "", summary) and long_answer not in re.sub(r'title="[^"]*"', "", summary)
    assert f'title="{long_id}"' in summary and "(+2920 characters)" in summary
    body = page[page.index(summary) + len(summary):]
    assert long_id in body and long_answer in body  # the whole text, wrapped, in the sample's body
    assert "overflow-wrap:anywhere" in page
