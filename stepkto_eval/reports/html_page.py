"""Building blocks shared by report.html and the leaderboard's index.html.

Pages are self-contained (inline CSS and JS, images as data URIs) so they open from disk, from a CI
artifact or an e-mail attachment with no network. Every piece of text that came from a model, a
dataset or a file goes through `esc` — model output is untrusted and may contain markup.
"""
from __future__ import annotations

import html
import logging
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)


class Html(str):
    """A string that is already safe HTML (built by this module's helpers); `esc` leaves it alone."""


def esc(value: Any) -> str:
    if isinstance(value, Html):
        return value
    return html.escape("" if value is None else str(value), quote=True)


LONG = 80  # characters of an id or answer shown inline; the rest on hover and in the sample's body


def short(value: Any, limit: int = LONG) -> Html:
    """`value` escaped, cut to `limit` characters with the full text in a tooltip: a 3,000-character id or a
    990-digit answer must not widen the page (the full text is also printed, wrapped, where it matters)."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return Html(esc(text))
    return Html(f'<span class="cut" title="{esc(text)}">{esc(text[:limit])}… '
                f'<span class="note">(+{len(text) - limit} characters)</span></span>')


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}"


def estimate_cell(metric: dict | None) -> Html:
    """'53.4 [49.0, 57.0]' (percent with its 95% CI); sortable by the point value."""
    if not metric or metric.get("value") is None:
        return Html('<span data-sort="-1">–</span>')
    text = pct(metric["value"])
    if metric.get("ci_low") is not None and metric.get("ci_high") is not None:
        text += f' <span class="ci">[{pct(metric["ci_low"])}, {pct(metric["ci_high"])}]</span>'
    return Html(f'<span data-sort="{float(metric["value"]):.6f}">{text}</span>')


def table(headers: list[str], rows: Iterable[list[Any]], table_id: str = "", sortable: bool = False) -> Html:
    """An HTML table; cells are escaped unless they are `Html`. Sortable tables sort on header click."""
    attrs = f' id="{esc(table_id)}"' if table_id else ""
    attrs += ' class="sortable"' if sortable else ""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>\n" for row in rows)
    return Html(f"<table{attrs}><thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>")


def image(data_uri: str, alt: str) -> Html:
    if not data_uri.startswith("data:image/png;base64,"):
        raise ValueError("plots must be embedded PNG data URIs (pages open without network)")
    return Html(f'<figure><img class="plot" alt="{esc(alt)}" src="{data_uri}"></figure>')


def plot_or_note(make: Callable[[], str], alt: str) -> Html:
    """The chart `make()` draws, or a one-line note where it fails: a plot never stops a report."""
    try:
        return image(make(), alt)
    except Exception as exc:  # matplotlib errors are many and unlisted; the tables carry the numbers anyway
        log.warning("plot %r skipped: %s: %s", alt, type(exc).__name__, exc)
        return Html(f'<p class="note">Plot "{esc(alt)}" could not be drawn ({esc(type(exc).__name__)}: '
                    f"{esc(str(exc)[:200])}); the tables above hold the same numbers.</p>")


def section(title: str, *parts: str, section_id: str = "") -> Html:
    attrs = f' id="{esc(section_id)}"' if section_id else ""
    return Html(f"<section{attrs}><h2>{esc(title)}</h2>\n" + "\n".join(parts) + "</section>")


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1150px;
  padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;
  margin-top:2rem} h3{font-size:1rem}
.sub{color:#666;font-size:.9rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.88rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8} table.sortable th{cursor:pointer} table.sortable th:hover{background:#e4e9f0}
tbody tr:nth-child(even){background:#fafbfc}
.ci{color:#777;font-size:.8rem;white-space:nowrap}
figure{margin:.5rem 0} img.plot{max-width:100%;border:1px solid #eee}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:28rem;white-space:pre-wrap;word-break:break-word;
  font-size:.82rem}
mark{background:#ffd6d6;border-bottom:2px solid #d33}
details.sample{border:1px solid #ddd;border-radius:4px;margin:.3rem 0;padding:.2rem .6rem}
details.sample summary{cursor:pointer}
.badge{display:inline-block;font-size:.75rem;padding:0 .4rem;border-radius:3px;background:#eee;margin-left:.3rem}
.bad{background:#fde2e2} .warn{background:#fff3cd} .good{background:#e3f3e6}
.note{color:#555;font-size:.88rem}
td,th,summary,h1,h2,h3,.sub,div,code{overflow-wrap:anywhere;word-break:break-word}
table{max-width:100%} .full code{white-space:pre-wrap}
input.filter{padding:.25rem .4rem;margin:.3rem 0;width:18rem}
"""

# Sorting by the `data-sort` attribute of a cell's first child when present (numbers), else by text.
_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = th.dataset.dir !== 'asc'; th.dataset.dir = asc ? 'asc' : 'desc';
      function key(row) {
        var cell = row.cells[col], tagged = cell.querySelector('[data-sort]');
        var text = tagged ? tagged.dataset.sort : cell.textContent.trim();
        var num = parseFloat(text);
        return isNaN(num) || !/^-?[0-9.]+/.test(text) ? text.toLowerCase() : num;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x !== typeof y) { x = String(x); y = String(y); }
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
document.querySelectorAll('input.filter').forEach(function (input) {
  input.addEventListener('input', function () {
    var needle = input.value.toLowerCase();
    document.querySelectorAll(input.dataset.target).forEach(function (el) {
      el.style.display = el.textContent.toLowerCase().indexOf(needle) >= 0 ? '' : 'none';
    });
  });
});
"""


def page(title: str, subtitle: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        f"<h1>{esc(title)}</h1><div class=\"sub\">{esc(subtitle)}</div>\n{body}\n"
        f"<script>{_JS}</script>\n</body></html>\n"
    )
