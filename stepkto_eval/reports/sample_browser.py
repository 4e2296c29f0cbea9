"""The sample browser of report.html: a deterministic sample of the run's answers, filterable in the page.

What is shown: up to `cap` samples of each outcome — wrong, correct with a flawed step, correct, no
verdict (generation errors) — so a researcher can compare failures with successes without the page
growing with the run: a 10,000-sample run embeds at most 4 × cap samples. Within an outcome the samples
are picked by sha256 of (task, id, sample_index), a stable pseudo-random order: the same run always shows
the same samples, and so does a rerun after resume.

Each sample carries its task, correctness, flawed-step state, finish reason and checker rule as data
attributes; the inline script turns them into filters and pages through the matches (25 at a time). With
scripts off every embedded sample is listed. Answers, golds, problems, completions and steps go through
`math_render` (MathML for their LaTeX, everything else escaped); the first flagged step is wrapped in
<mark> after its text has been rendered.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

from stepkto_eval.reports.html_page import LONG, Html, esc, short
from stepkto_eval.reports.math_render import MAX_MATH_PER_TEXT, MathBudget, answer_html, prose_html
from stepkto_eval.reports.run_view import natural_key

MAX_SHOWN_CHARS = 12_000  # per text block; keeps a page with 100+ samples light
MAX_STEP_CHARS = 4_000
STEP_PREVIEW_CHARS = 300  # a step past the sample's MAX_SHOWN_CHARS of step text shows only its start
PAGE_SIZE = 25  # samples per page of the browser (with scripts on)
# Characters of formulas converted per sample, over all its texts (problem, completion, evidence, every step):
# a per-text budget alone let a sample with 100 formula-filled steps take seconds and megabytes.
MAX_MATH_PER_SAMPLE = MAX_MATH_PER_TEXT

Keep = Callable[[dict[str, Any]], bool]


def _order_key(sample: dict[str, Any]) -> str:
    raw = f"{sample.get('task')}\x00{sample.get('id')}\x00{sample.get('sample_index', 0)}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def has_no_verdict(sample: dict[str, Any]) -> bool:
    return not isinstance(sample.get("correct"), bool) or sample.get("finish_reason") == "error"


def is_wrong(sample: dict[str, Any]) -> bool:
    return sample.get("correct") is False and not has_no_verdict(sample)


def _step_index(value: Any) -> int | None:
    """first_error as a step index; JSON `true` is an int in Python but names no step."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def is_correct_but_flawed(sample: dict[str, Any]) -> bool:
    first_error = _step_index(sample.get("first_error"))
    return (sample.get("correct") is True and not has_no_verdict(sample)
            and first_error is not None and first_error >= 0)


def is_correct_and_clean(sample: dict[str, Any]) -> bool:
    return sample.get("correct") is True and not has_no_verdict(sample) and not is_correct_but_flawed(sample)


# (outcome id, heading, test): every sample passes exactly one test.
OUTCOMES: list[tuple[str, str, Keep]] = [
    ("wrong", "wrong", is_wrong),
    ("flawed", "correct with a flawed step", is_correct_but_flawed),
    ("correct", "correct", is_correct_and_clean),
    ("no-verdict", "no verdict (error)", has_no_verdict),
]


def pick(samples: list[dict[str, Any]], keep: Keep, cap: int) -> tuple[list[dict[str, Any]], int]:
    """(the shown samples in (task, id, index) order, how many matched in total)."""
    matching = [s for s in samples if keep(s)]
    chosen = sorted(matching, key=_order_key)[:cap]
    chosen.sort(key=lambda s: (str(s.get("task")), natural_key(s.get("id")), s.get("sample_index", 0)))
    return chosen, len(matching)


def flagged_span(sample: dict[str, Any]) -> tuple[int, int] | None:
    """[start, end) of the first wrong step inside the completion, if it can be located."""
    index, completion = _step_index(sample.get("first_error")), sample.get("completion") or ""
    if index is None or index < 0:
        return None
    spans = sample.get("step_char_spans") or []
    if index < len(spans):
        try:
            start, end = int(spans[index][0]), int(spans[index][1])
        except (TypeError, ValueError, IndexError):
            start, end = -1, -1
        if 0 <= start < end <= len(completion):
            return start, end
    steps = sample.get("steps") or []
    if index < len(steps) and isinstance(steps[index], str) and steps[index]:
        start = completion.find(steps[index])
        if start >= 0:
            return start, start + len(steps[index])
    return None


def _clip(text: str, limit: int = MAX_SHOWN_CHARS, budget: MathBudget | None = None) -> str:
    """`text` with its math rendered, cut at `limit` characters (a formula cut in half stays source)."""
    if len(text) <= limit:
        return prose_html(text, budget)
    return prose_html(text[:limit], budget) + esc(f"\n… [{len(text) - limit} more characters not shown]")


def highlighted_completion(sample: dict[str, Any], budget: MathBudget | None = None) -> Html:
    budget = MathBudget(MAX_MATH_PER_SAMPLE) if budget is None else budget
    completion = sample.get("completion") or ""
    span = flagged_span(sample)
    if span is None:
        return Html(_clip(completion, budget=budget))
    start, end = span
    before = completion[max(0, start - MAX_SHOWN_CHARS // 2):start]
    prefix = "… " if start > len(before) else ""
    return Html(prefix + prose_html(before, budget) + '<mark title="first wrong step">'
                + prose_html(completion[start:end], budget) + "</mark>" + _clip(completion[end:], budget=budget))


def steps_list(sample: dict[str, Any], budget: MathBudget | None = None) -> Html | None:
    """The audited steps, numbered, each marked by its label; the first wrong one highlighted. None when the
    sample carries no steps."""
    steps = sample.get("steps")
    if not isinstance(steps, list) or not steps:
        return None
    labels = sample.get("step_labels") if isinstance(sample.get("step_labels"), list) else []
    first_error = _step_index(sample.get("first_error"))
    first_error = -1 if first_error is None else first_error
    budget = MathBudget(MAX_MATH_PER_SAMPLE) if budget is None else budget
    items = []
    shown = 0  # characters of step text so far: their number, not only their length, must not grow the page
    for i, step in enumerate(steps):
        label = labels[i] if i < len(labels) else None
        state = "ok" if label == 1 else "bad" if label in (0, -1) else "unlabelled"
        limit = MAX_STEP_CHARS if i == first_error or shown < MAX_SHOWN_CHARS else STEP_PREVIEW_CHARS
        text = step if isinstance(step, str) else json.dumps(step, ensure_ascii=False)
        shown += min(len(text), limit)
        body = _clip(text, limit, budget)
        if i == first_error:
            state, body = "flagged", f'<mark title="first wrong step">{body}</mark>'
        items.append(f'<li class="step {state}">{body}</li>')
    return Html('<ol class="steps">' + "".join(items) + "</ol>")


def _prompt_text(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):  # chat messages
        return "\n\n".join(f"[{m.get('role', '?')}] {m.get('content', '')}" for m in prompt if isinstance(m, dict))
    return json.dumps(prompt, ensure_ascii=False)


def _finish_reason(sample: dict) -> str:
    """How generation ended; "unknown" for completions made elsewhere (`score` runs record null)."""
    return str(sample.get("finish_reason") or "unknown")


def _answer(value: Any) -> Html:
    """An answer or gold in the summary line: math when short, cut with a tooltip when long."""
    if value is None:
        return Html('<span class="note">none</span>')
    text = str(value)
    return short(text) if len(text) > LONG else Html(answer_html(text))


def _flawed_state(sample: dict[str, Any]) -> str:
    first_error = _step_index(sample.get("first_error"))
    if first_error is not None:
        return "flawed" if first_error >= 0 else "clean"
    return "not audited"


def _correctness(sample: dict[str, Any]) -> str:
    if has_no_verdict(sample):
        return "no verdict"
    return "correct" if sample.get("correct") else "wrong"


def _facets(sample: dict[str, Any]) -> dict[str, str]:
    """The values the filters select on (data-* attributes of the sample)."""
    verdict = sample.get("verdict") if isinstance(sample.get("verdict"), dict) else {}
    return {"task": str(sample.get("task")), "correct": _correctness(sample), "flawed": _flawed_state(sample),
            "finish": _finish_reason(sample), "rule": str(verdict.get("rule"))}


def render_sample(sample: dict[str, Any]) -> Html:
    budget = MathBudget(MAX_MATH_PER_SAMPLE)  # shared by every text of the sample
    verdict = sample.get("verdict") if isinstance(sample.get("verdict"), dict) else {}
    facets = _facets(sample)
    outcome = {"correct": "good", "wrong": "bad"}.get(facets["correct"], "warn")
    badges = [f'<span class="badge {outcome}">{esc(facets["correct"])}</span>']
    if sample.get("finish_reason") == "length":
        badges.append('<span class="badge warn">truncated</span>')
    if facets["flawed"] == "flawed":
        badges.append(f'<span class="badge bad">flawed step {int(sample["first_error"]) + 1}</span>')
    summary = (
        f"<b>{short(sample.get('task'))}</b> · {short(sample.get('id'))} · sample {esc(sample.get('sample_index', 0))}"
        f" · answer {_answer(sample.get('extracted'))} vs gold {_answer(sample.get('gold'))}" + "".join(badges)
    )
    rows = [
        f"<div><b>checker</b>: <code>{esc(verdict.get('rule'))}</code> — {esc(verdict.get('reason'))}</div>",
        f"<div class=\"note\">normalised: candidate {_answer(verdict.get('candidate_norm'))}, "
        f"gold {_answer(verdict.get('gold_norm'))} · finish reason {esc(_finish_reason(sample))}</div>",
    ]
    for name in ("task", "id", "extracted", "gold"):  # cut in the summary line: shown whole (wrapped) here
        value = sample.get(name)
        if value is not None and len(str(value)) > LONG:
            rows.append(f'<div class="full"><b>{name}</b> ({len(str(value))} characters): '
                        f"<code>{esc(str(value)[:MAX_SHOWN_CHARS])}</code></div>")
    judge = sample.get("judge")
    if isinstance(judge, dict) and (judge.get("name") or judge.get("evidence")):
        evidence = judge.get("evidence")
        evidence = evidence if isinstance(evidence, str) else json.dumps(evidence, ensure_ascii=False)
        rows.append(f"<div><b>judge</b> {esc(judge.get('name'))} ({esc(judge.get('kind'))}): "
                    f"{_clip(evidence or '', budget=budget)}</div>")
    prompt, label = sample.get("prompt"), "prompt"
    if prompt is None:  # `score` runs have no prompt as sent; show the problem from the row when present
        meta = sample.get("meta") if isinstance(sample.get("meta"), dict) else {}
        prompt, label = meta.get("problem") or meta.get("question"), "problem"
    if prompt is not None:
        rows.append(f'<details><summary>{label}</summary><div class="prose">{_clip(_prompt_text(prompt), budget=budget)}'
                    "</div></details>")
    steps = steps_list(sample, budget)
    if steps is not None:
        rows.append(f"<div><b>steps</b> (as the judge saw them)</div>{steps}")
    else:
        rows.append(f'<div class="prose completion">{highlighted_completion(sample, budget)}</div>')
    data = "".join(f' data-{key}="{esc(value)}"' for key, value in facets.items())
    return Html(f'<details class="sample"{data}><summary>{summary}</summary>\n' + "\n".join(rows) + "</details>")


def _select(key: str, label: str, values: list[str]) -> str:
    options = "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)
    return f'<label>{esc(label)} <select data-key="{esc(key)}"><option value="">all</option>{options}</select></label>'


def _controls(shown: list[dict[str, Any]]) -> str:
    facets = [_facets(s) for s in shown]

    def values(key: str) -> list[str]:
        return sorted({f[key] for f in facets}, key=natural_key)

    selects = [_select("task", "task", values("task")), _select("correct", "correctness", values("correct")),
               _select("flawed", "flawed step", values("flawed")), _select("finish", "finish reason", values("finish")),
               _select("rule", "checker rule", values("rule"))]
    return ('<div id="sample-filters" class="filters" hidden>' + " ".join(selects)
            + ' <input class="text" placeholder="text…" aria-label="filter by text">'
            + ' <button type="button" data-step="-1">‹ previous</button>'
            + ' <span class="count" aria-live="polite"></span>'
            + ' <button type="button" data-step="1">next ›</button></div>')


_CSS = """
.filters:not([hidden]){display:flex;flex-wrap:wrap;gap:.4rem .8rem;align-items:center;margin:.4rem 0;font-size:.88rem}
.filters select,.filters input{padding:.15rem .3rem}
.tex math,.prose math,.steps math{font-size:1.12em}
.prose{white-space:pre-wrap;background:#f6f8fa;padding:.6rem;max-height:28rem;overflow:auto;font-size:.88rem}
ol.steps{padding-left:1.8rem;font-size:.88rem} ol.steps li{white-space:pre-wrap;margin:.2rem 0;padding:.1rem .3rem}
li.step.ok{border-left:3px solid #6a6} li.step.bad{border-left:3px solid #d66} li.step.flagged{border-left:3px solid #d33;
  background:#fff0f0} li.step.unlabelled{border-left:3px solid #ccc}
"""

# Filters (every <select> compares its value with the sample's data-* attribute) and paging over the matches.
_JS = """
(function () {
  var box = document.getElementById('sample-browser'), bar = document.getElementById('sample-filters');
  if (!box || !bar) { return; }
  bar.hidden = false;
  var rows = Array.prototype.slice.call(box.querySelectorAll('details.sample'));
  var selects = Array.prototype.slice.call(bar.querySelectorAll('select'));
  var text = bar.querySelector('input'), count = bar.querySelector('.count'), page = 0, size = %d;
  function matches(row) {
    for (var i = 0; i < selects.length; i++) {
      var want = selects[i].value;
      if (want && row.getAttribute('data-' + selects[i].dataset.key) !== want) { return false; }
    }
    var needle = text.value.toLowerCase();
    return !needle || row.textContent.toLowerCase().indexOf(needle) >= 0;
  }
  function show() {
    var hits = rows.filter(matches), pages = Math.max(1, Math.ceil(hits.length / size));
    page = Math.min(Math.max(page, 0), pages - 1);
    rows.forEach(function (row) { row.style.display = 'none'; });
    hits.slice(page * size, (page + 1) * size).forEach(function (row) { row.style.display = ''; });
    count.textContent = hits.length + ' of ' + rows.length + ' match · page ' + (page + 1) + ' of ' + pages;
  }
  selects.forEach(function (s) { s.addEventListener('change', function () { page = 0; show(); }); });
  text.addEventListener('input', function () { page = 0; show(); });
  bar.querySelectorAll('button').forEach(function (b) {
    b.addEventListener('click', function () { page += parseInt(b.dataset.step, 10); show(); });
  });
  show();
})();
""" % PAGE_SIZE


def sample_browser(samples: list[dict[str, Any]], cap: int) -> Html:
    """The browser: a note on what was sampled, the filter bar, the samples, and its script."""
    shown: list[dict[str, Any]] = []
    counts = []
    for _, heading, keep in OUTCOMES:
        chosen, total = pick(samples, keep, cap)
        shown += chosen
        counts.append(f"{heading} {len(chosen)} of {total}")
    if not shown:
        return Html('<p class="note">No samples in this run.</p>')
    note = (f'<p class="note">Shown: {esc("; ".join(counts))} — at most {cap} per outcome, a fixed pseudo-random '
            f"sample of the run. Filters and pages need scripts; without them every shown sample is listed.</p>")
    return Html(f"<style>{_CSS}</style>{note}{_controls(shown)}"
                '<div id="sample-browser">' + "\n".join(render_sample(s) for s in shown) + "</div>"
                f"<script>{_JS}</script>")
