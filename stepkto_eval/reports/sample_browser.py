"""The browsable sample of wrong answers and correct-but-flawed solutions in report.html.

Large runs must still open quickly, so each category shows at most `cap` samples per task, picked
deterministically: ordered by sha256 of (task, id, sample_index), which is a stable pseudo-random
order — the same run always shows the same samples, and a rerun after resume does too.
Everything that came from the model or the dataset is escaped; the flagged step is wrapped in <mark>
only after its text has been escaped.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from stepkto_eval.reports.html_page import LONG, Html, esc, short
from stepkto_eval.reports.run_view import natural_key

MAX_SHOWN_CHARS = 12_000  # per text block; keeps a page with 100+ samples light


def _order_key(sample: dict[str, Any]) -> str:
    raw = f"{sample.get('task')}\x00{sample.get('id')}\x00{sample.get('sample_index', 0)}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def is_wrong(sample: dict[str, Any]) -> bool:
    return sample.get("correct") is False and sample.get("finish_reason") != "error"


def is_correct_but_flawed(sample: dict[str, Any]) -> bool:
    first_error = sample.get("first_error")
    return sample.get("correct") is True and isinstance(first_error, int) and first_error >= 0


def pick(samples: list[dict[str, Any]], keep, cap: int) -> tuple[list[dict[str, Any]], int]:
    """(the shown samples in (task, id, index) order, how many matched in total)."""
    matching = [s for s in samples if keep(s)]
    chosen = sorted(matching, key=_order_key)[:cap]
    chosen.sort(key=lambda s: (str(s.get("task")), natural_key(s.get("id")), s.get("sample_index", 0)))
    return chosen, len(matching)


def flagged_span(sample: dict[str, Any]) -> tuple[int, int] | None:
    """[start, end) of the first wrong step inside the completion, if it can be located."""
    index, completion = sample.get("first_error"), sample.get("completion") or ""
    if not isinstance(index, int) or index < 0:
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


def _clip(text: str) -> str:
    if len(text) <= MAX_SHOWN_CHARS:
        return esc(text)
    return esc(text[:MAX_SHOWN_CHARS]) + f"\n… [{len(text) - MAX_SHOWN_CHARS} more characters not shown]"


def highlighted_completion(sample: dict[str, Any]) -> Html:
    completion = sample.get("completion") or ""
    span = flagged_span(sample)
    if span is None:
        return Html(_clip(completion))
    start, end = span
    before = completion[max(0, start - MAX_SHOWN_CHARS // 2):start]
    prefix = "… " if start > len(before) else ""
    return Html(prefix + esc(before) + '<mark title="first wrong step">' + esc(completion[start:end]) + "</mark>"
                + _clip(completion[end:]))


def _prompt_text(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):  # chat messages
        return "\n\n".join(f"[{m.get('role', '?')}] {m.get('content', '')}" for m in prompt if isinstance(m, dict))
    return json.dumps(prompt, ensure_ascii=False)


def render_sample(sample: dict[str, Any]) -> Html:
    verdict = sample.get("verdict") or {}
    badges = []
    if sample.get("finish_reason") == "length":
        badges.append('<span class="badge warn">truncated</span>')
    if is_correct_but_flawed(sample):
        badges.append(f'<span class="badge bad">flawed step {int(sample["first_error"]) + 1}</span>')
    summary = (
        f"<b>{short(sample.get('task'))}</b> · {short(sample.get('id'))} · sample {esc(sample.get('sample_index', 0))}"
        f" · answer <code>{short(sample.get('extracted'))}</code> vs gold <code>{short(sample.get('gold'))}</code>"
        + "".join(badges)
    )
    rows = [
        f"<div><b>checker</b>: {esc(verdict.get('rule'))} — {esc(verdict.get('reason'))}</div>",
        f"<div class=\"note\">normalised: candidate <code>{esc(verdict.get('candidate_norm'))}</code>, "
        f"gold <code>{esc(verdict.get('gold_norm'))}</code></div>",
    ]
    for name in ("task", "id", "extracted", "gold"):  # cut in the summary line: shown whole (wrapped) here
        value = sample.get(name)
        if value is not None and len(str(value)) > LONG:
            rows.append(f'<div class="full"><b>{name}</b> ({len(str(value))} characters): '
                        f"<code>{_clip(str(value))}</code></div>")
    judge = sample.get("judge")
    if isinstance(judge, dict) and (judge.get("name") or judge.get("evidence")):
        evidence = judge.get("evidence")
        evidence = evidence if isinstance(evidence, str) else json.dumps(evidence, ensure_ascii=False)
        rows.append(f"<div><b>judge</b> {esc(judge.get('name'))} ({esc(judge.get('kind'))}): {_clip(evidence or '')}</div>")
    prompt, label = sample.get("prompt"), "prompt"
    if prompt is None:  # `score` runs have no prompt as sent; show the problem from the row when present
        meta = sample.get("meta") or {}
        prompt, label = meta.get("problem") or meta.get("question"), "problem"
    if prompt is not None:
        rows.append(f"<details><summary>{label}</summary><pre>{_clip(_prompt_text(prompt))}</pre></details>")
    rows.append(f"<pre class=\"completion\">{highlighted_completion(sample)}</pre>")
    return Html(f'<details class="sample"><summary>{summary}</summary>\n' + "\n".join(rows) + "</details>")


def samples_block(title: str, samples: list[dict[str, Any]], keep, cap: int, css_id: str) -> Html:
    shown, total = pick(samples, keep, cap)
    if total == 0:
        return Html(f"<h3>{esc(title)}</h3><p class=\"note\">none in this run.</p>")
    note = f"showing {len(shown)} of {total}" + (" (a fixed pseudo-random sample)" if total > len(shown) else "")
    return Html(
        f"<h3>{esc(title)} <span class=\"note\">({note})</span></h3>"
        f'<input class="filter" placeholder="filter by text…" data-target="#{css_id} details.sample">'
        f'<div id="{css_id}">' + "\n".join(render_sample(s) for s in shown) + "</div>"
    )
