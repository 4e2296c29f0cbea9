"""LaTeX in untrusted text -> inert HTML with MathML, for the pages people read (report.html, index.html).

Chromium, Firefox and Safari render MathML natively, so a page stays self-contained and needs no script.
The converter is latex2mathml; its output is not trusted as HTML:
* `Converter.convert` serialises and then *unescapes* the tree (`xml.sax.saxutils.unescape`), so
  `\\text{<script>}` would come back as a real tag. We take the element tree (`convert_to_element`) instead
  and serialise it ourselves: element names from an allowlist of MathML presentation elements, attribute
  names from an allowlist with values restricted to a plain character set (no quotes, no `:`), every text
  node re-escaped. `\\href` (href=), `\\style` (style=) and `\\class` (class=) lose their attribute.
* Symbols arrive as numeric character references inside text (e.g. `&#x0222B;` for an integral sign);
  those, and only those, are decoded before escaping.
* Macro definitions (`\\def`, `\\newcommand`, ...) are refused: their expansion is unbounded in breadth.
Everything is bounded (source length, brace depth, number of commands, spans per text, tree depth), and
anything refused or rejected falls back to the escaped source. The LaTeX source stays in the page as an
`<annotation encoding="application/x-tex">` (and, for answers, a tooltip) so a reader can copy it.

Two entry points: `answer_html` (the whole string is math: a gold, an extracted answer, a normalised form)
and `prose_html` (problems, completions, steps: only `$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]` and `\\boxed{…}`
spans are math; the rest is escaped text).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from xml.etree.ElementTree import Element

from latex2mathml.converter import Converter

MAX_MATH_CHARS = 1_500  # one formula; longer ones are shown as source (model rambling, not a formula)
MAX_BRACE_DEPTH = 24
MAX_COMMANDS = 300  # `\name` tokens in one formula: bounds the converter's work and the output size
MAX_TREE_DEPTH = 60  # of the converted element tree; `\frac\frac\frac…` nests without braces
MAX_SPANS = 200  # formulas rendered per text; later ones stay source text
MAX_PROSE_CHARS = 20_000  # a longer text is rendered as escaped source only (callers clip long texts first)
MAX_MATH_PER_TEXT = 8_000  # characters of formulas converted per text: bounds the time one text can take
MAX_LENGTH = 10.0  # in any unit: a `\rule{500em}{500em}` or `\hspace{900em}` must not cover the page

ELEMENTS = frozenset({
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup",
    "msubsup", "munder", "mover", "munderover", "mfrac", "msqrt", "mroot", "mstyle", "merror", "mpadded",
    "mphantom", "menclose", "mtable", "mtr", "mtd", "mmultiscripts", "mprescripts", "none",
})
# Presentation attributes only; no href/style/class/id/src/on*: nothing that links, styles or runs code.
ATTRIBUTES = frozenset({
    "display", "displaystyle", "scriptlevel", "mathvariant", "mathsize", "mathcolor", "mathbackground",
    "stretchy", "fence", "separator", "largeop", "movablelimits", "accent", "accentunder", "form", "lspace",
    "rspace", "minsize", "maxsize", "symmetric", "width", "height", "depth", "voffset", "linethickness",
    "notation", "columnalign", "columnlines", "columnspacing", "rowalign", "rowlines", "rowspacing", "frame",
    "framespacing", "linebreak", "align",
})
_SAFE_VALUE = re.compile(r"[A-Za-z0-9 .#%+\-]{0,64}")
_LENGTH_ATTRIBUTES = frozenset({"width", "height", "depth", "voffset", "lspace", "rspace", "minsize", "maxsize",
                                "mathsize", "linethickness"})
_LENGTH = re.compile(r"[+-]?(\d{1,4}(?:\.\d*)?|\.\d+)\s*[a-z%]*")
_CHAR_REF = re.compile(r"&#x([0-9A-Fa-f]{1,6});")
_MACRO_DEFINITION = re.compile(
    r"\\(?:def|gdef|edef|xdef|let|futurelet|newcommand|renewcommand|providecommand|newenvironment|"
    r"renewenvironment|DeclareMathOperator)(?![A-Za-z])")
_COMMAND = re.compile(r"\\[A-Za-z]+")


def _decode_char_refs(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = int(match.group(1), 16)
        if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            return match.group(0)
        return chr(code)

    return _CHAR_REF.sub(one, text)


def _brace_depth(source: str) -> int:
    depth = deepest = 0
    escaped = False
    for char in source:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif char == "}":
            depth -= 1
    return deepest


def _refusal(source: str) -> str | None:
    """Why `source` is not handed to the converter, or None."""
    if not source.strip():
        return "empty"
    if len(source) > MAX_MATH_CHARS:
        return "too long"
    if _MACRO_DEFINITION.search(source):
        return "macro definition"
    if len(_COMMAND.findall(source)) > MAX_COMMANDS:
        return "too many commands"
    if _brace_depth(source) > MAX_BRACE_DEPTH:
        return "nested too deeply"
    return None


def _allowed(name: str, value: object) -> bool:
    if name not in ATTRIBUTES or not isinstance(value, str) or not _SAFE_VALUE.fullmatch(value):
        return False
    if name in _LENGTH_ATTRIBUTES and not (value in ("thin", "medium", "thick", "infinity")
                                           or (m := _LENGTH.fullmatch(value)) and float(m.group(1)) <= MAX_LENGTH):
        return False
    return True


def _serialise(root: Element) -> str | None:
    """The tree as HTML, allowlisted and escaped; None when it holds something outside the allowlist that
    cannot simply be dropped (an unknown element) or nests deeper than MAX_TREE_DEPTH."""
    out: list[str] = []
    # (element, depth) to open, or a str: a closing tag / escaped tail text to emit as is.
    stack: list[tuple[Element, int] | str] = [(root, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        element, depth = item
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag not in ELEMENTS or tag in ("math", "semantics", "annotation") and depth > 0:
            return None
        if depth > MAX_TREE_DEPTH:
            return None
        attrs = "".join(
            f' {name}="{html.escape(value, quote=True)}"' for name, value in sorted(element.attrib.items())
            if _allowed(name, value))
        out.append(f"<{tag}{attrs}>" + html.escape(_decode_char_refs(element.text or ""), quote=True))
        if element.tail and depth > 0:
            stack.append(html.escape(_decode_char_refs(element.tail), quote=True))
        stack.append(f"</{tag}>")
        stack.extend((child, depth + 1) for child in reversed(list(element)))
    return "".join(out)


def _mathml(source: str, display: str, displaystyle: bool = False) -> str | None:
    """`<math>` for `source`, or None where it is refused or the converter rejects it."""
    if _refusal(source) is not None:
        return None
    try:
        root = Converter(display=display).convert_to_element(source)
    except Exception:  # noqa: BLE001 - latex2mathml raises its own classes, IndexError, StopIteration,
        # RecursionError, ... on malformed input; none is documented as the full list, and any of them
        # just means "show the source".
        return None
    body = _serialise(root)
    if body is None or not body.startswith("<math"):
        return None
    # <math …><mrow>…</mrow></math>: the one <mrow> is what <semantics> shows; the source rides along.
    head_end = body.index(">") + 1
    inner = body[head_end:-len("</math>")]
    style = ' displaystyle="true"' if displaystyle else ""
    return (f'<math display="{display}"{style}><semantics>{inner}'
            f'<annotation encoding="application/x-tex">{html.escape(source, quote=True)}</annotation>'
            f"</semantics></math>")


@lru_cache(maxsize=4096)  # golds and answers repeat across samples of a problem
def answer_html(text: str) -> str:
    """A whole string of math (gold, extracted answer) as MathML with the source in a tooltip; escaped
    source text where it cannot be converted."""
    # Display style: an answer's fraction at full size (inline style shrinks numerator and denominator).
    math = _mathml(text, "inline", displaystyle=True)
    if math is None:
        return f'<code class="tex">{html.escape(text, quote=True)}</code>'
    return f'<span class="tex" title="{html.escape(text, quote=True)}">{math}</span>'


# Delimiters of math inside prose. `\$` is a literal dollar sign, not a delimiter.
_TOKEN = re.compile(r"\\\$|\$\$|\$|\\\(|\\\)|\\\[|\\\]|\\boxed\s*\{")
_CLOSER = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}


def _matching_braces(text: str) -> dict[int, int]:
    """Index of each `{` -> index of its `}` (linear, one pass); escaped braces are skipped."""
    pairs, stack = {}, []
    escaped = False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{":
            stack.append(i)
        elif char == "}" and stack:
            pairs[stack.pop()] = i
    return pairs


def _inline_dollar_ok(text: str, start: int, end: int) -> bool:
    """Pandoc's rule for `$…$`: no space just inside either dollar, no digit right after the closing one
    (so "costs $5 and $10" stays text), and no blank line inside."""
    inner = text[start + 1:end]
    return (bool(inner) and not inner[0].isspace() and not inner[-1].isspace()
            and not (end + 1 < len(text) and text[end + 1].isdigit()) and "\n\n" not in inner)


def _spans(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, latex source, display) of each math span, in order, at most MAX_SPANS. Linear: each
    delimiter token is looked at a bounded number of times, as TeX pairs `$` with the next `$`."""
    tokens = [(m.start(), m.group(0)) for m in _TOKEN.finditer(text)]
    braces: dict[int, int] | None = None
    spans: list[tuple[int, int, str, str]] = []
    i = 0
    while i < len(tokens) and len(spans) < MAX_SPANS:
        start, token = tokens[i]
        if token.startswith("\\boxed"):
            braces = _matching_braces(text) if braces is None else braces
            close = braces.get(start + len(token) - 1)
            if close is not None:
                spans.append((start, close + 1, text[start:close + 1], "inline"))
                while i < len(tokens) and tokens[i][0] <= close:
                    i += 1
                continue
        elif token in _CLOSER:
            j = next((k for k in range(i + 1, min(len(tokens), i + 64)) if tokens[k][1] == _CLOSER[token]), None)
            if j is not None:
                end = tokens[j][0]
                ok = (end - start <= MAX_MATH_CHARS + 4
                      and (token != "$" or _inline_dollar_ok(text, start, end)))
                if ok:
                    display = "block" if token in ("$$", "\\[") else "inline"
                    spans.append((start, end + len(_CLOSER[token]), text[start + len(token):end], display))
                    i = j + 1
                    continue
        i += 1
    return spans


@dataclass
class MathBudget:
    """Characters of formulas still to convert, shared by several texts: a caller rendering many texts for
    one item (a sample's problem, completion and each of its steps) bounds the item's total work with one."""

    chars: int


def prose_html(text: str, budget: MathBudget | None = None) -> str:
    """`text` escaped, with its math spans as MathML (each span that cannot be converted stays source).
    Formulas are converted while `budget` (default: MAX_MATH_PER_TEXT for this text alone) lasts."""
    if len(text) > MAX_PROSE_CHARS:
        return html.escape(text, quote=True)
    budget = MathBudget(MAX_MATH_PER_TEXT) if budget is None else budget
    out: list[str] = []
    position = 0
    for start, end, source, display in _spans(text):
        within = len(source) <= budget.chars
        budget.chars -= len(source)
        math = _mathml(source, display) if within else None
        if math is None:
            continue  # left in place: escaped with the surrounding text
        out.append(html.escape(text[position:start], quote=True))
        out.append(math)
        position = end
    out.append(html.escape(text[position:], quote=True))
    return "".join(out)
