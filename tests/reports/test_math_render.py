"""math_render: LaTeX in untrusted text becomes MathML from an allowlist, or escaped source; never markup
that acts (issue 10 §3 guarantees, issue 13 §1). Rows are grouped by phenomenon."""
from __future__ import annotations

import html
from html.parser import HTMLParser

import pytest
from test_report_escaping import HOSTILE

from stepkto_eval.reports.math_render import ATTRIBUTES, ELEMENTS, answer_html, prose_html

PAGE_TAGS = {"span", "code"}  # the wrappers math_render adds around a formula
PAGE_ATTRIBUTES = {"class", "title", "encoding"}

ATTACKS = [
    *HOSTILE,
    r"\text{<script>alert(1)</script>}",  # latex2mathml's own convert() would unescape this into a tag
    r"\text{</mtext></math><img src=x onerror=alert(1)>}",
    r"\href{javascript:alert(1)}{click}",
    r"\style{background:url(javascript:alert(1))}{x}",
    r"\class{x\" onclick=\"alert(1)}{x}",
    r"\color{red\" onload=\"alert(1)}{y}",
    r"\mathrm{\"onload=alert(1)}",
    r"\operatorname{<b>}x",
    r"\verb|<img src=x onerror=alert(1)>|",
    r"\text{&#x3C;script&#x3E;alert(1)&#x3C;/script&#x3E;}",
    r"\text{&lt;script&gt;}",
    "</math><script>alert(1)</script>",
    r"\rule{5000em}{5000em}\hspace{900em}",
    r"\mathbin{<}\mathrel{\"'}",
    "x\x00y\u202e",
]


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def parsed(markup: str) -> Collect:
    parser = Collect()
    parser.feed(markup)
    parser.close()
    return parser


def assert_inert(markup: str) -> None:
    found = parsed(markup)
    assert set(found.tags) <= ELEMENTS | PAGE_TAGS, found.tags
    assert {name for name, _ in found.attrs} <= ATTRIBUTES | PAGE_ATTRIBUTES, found.attrs
    for name, value in found.attrs:
        if name not in ("title",):  # a tooltip holds the source as text; any other value is a plain token
            assert value is not None and not any(c in value for c in "\"'<>:();"), (name, value)
    for name, value in found.attrs:
        if name in ("width", "height", "depth"):
            assert float(value.rstrip("emxptu%")) <= 10  # no formula covers the page


@pytest.mark.parametrize("source", ATTACKS)
def test_an_answer_is_inert_and_keeps_its_source(source):
    markup = answer_html(source)
    assert_inert(markup)
    found = parsed(markup)
    if "<math" in markup:
        annotation = markup.split('<annotation encoding="application/x-tex">')[1].split("</annotation>")[0]
        assert html.unescape(annotation) == source
        assert dict(found.attrs)["title"] == source
    else:
        assert markup == f'<code class="tex">{html.escape(source, quote=True)}</code>'


@pytest.mark.parametrize("source", ATTACKS)
@pytest.mark.parametrize("wrap", ["$%s$", "$$%s$$", "\\(%s\\)", "\\[%s\\]", "\\boxed{%s}", "text %s text"])
def test_prose_is_inert(source, wrap):
    assert_inert(prose_html("Before " + wrap.replace("%s", source) + " after <script>x</script>."))


@pytest.mark.parametrize(
    ("source", "element"),
    [
        # structures a reader must see as math
        (r"\frac{5}{16}", "mfrac"),
        (r"\dfrac{3}{8}", "mfrac"),
        (r"\sqrt{2}", "msqrt"),
        (r"\sqrt[3]{x+1}", "mroot"),
        (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", "mtable"),
        (r"\begin{bmatrix}a\\b\end{bmatrix}", "mtable"),
        (r"x^{2}", "msup"),
        (r"a_{n+1}", "msub"),
        (r"\sum_{k=1}^{n} k", "msubsup"),
        (r"\boxed{7}", "menclose"),
        (r"\mathbb{R}", "mi"),
    ],
)
def test_answers_become_mathml(source, element):
    markup = answer_html(source)
    assert markup.startswith('<span class="tex"') and f"<{element}" in markup


def test_symbols_are_characters_not_entity_text():
    markup = answer_html(r"\int_0^1 x\,dx \leq \pi")
    assert "∫" in markup and "≤" in markup and "π" in markup and "&amp;#x" not in markup


@pytest.mark.parametrize(
    "source",
    [
        r"\frac{1}{",  # the converter raises
        r"\left( x",  # unbalanced delimiters
        r"x_1_2",  # double subscript
        r"\begin{matrix}1",
        "",
        "   ",
        r"\def\a{xxxxxxxxxx}\def\b{\a\a\a\a\a\a\a\a\a\a}\def\c{\b\b\b\b\b\b\b\b\b\b}\c",  # expansion bomb
        r"\newcommand{\x}{\x}\x",
    ],
)
def test_rejected_or_refused_formulas_fall_back_to_escaped_source(source):
    assert answer_html(source) == f'<code class="tex">{html.escape(source, quote=True)}</code>'


PATHOLOGICAL = [
    "{" * 10_000 + "x" + "}" * 10_000,
    "x+" * 50_000,
    "$a " * 33_000,
    r"\boxed{" * 14_000,
    r"\frac" * 290 + "12",  # nests without braces
    r"\sqrt" * 290 + "x",
    r"\left(" * 200 + "x" + r"\right)" * 200,
    "{" * 25 + "x" + "}" * 25,
    "$x$ " * 25_000,
    r"\(" * 30_000,
]


@pytest.mark.timeout(60)  # a guard against a hang, not a speed target (benchmarks/ holds those)
@pytest.mark.parametrize("source", PATHOLOGICAL, ids=lambda s: f"{s[:12]!r}x{len(s)}")
def test_pathological_inputs_are_bounded(source):
    answer, prose = answer_html(source), prose_html(source)
    assert answer == f'<code class="tex">{html.escape(source, quote=True)}</code>'
    if "<math" not in prose:
        assert prose == html.escape(source, quote=True)
    assert prose.count("<math") <= 200  # MAX_SPANS
    assert_inert(prose)


@pytest.mark.parametrize(
    ("text", "sources"),
    [
        # delimiters
        (r"Let $x=\frac{1}{2}$.", [r"x=\frac{1}{2}"]),
        (r"so $$\sqrt{x}$$ then", [r"\sqrt{x}"]),
        (r"with \(y^2\) and \[z_1\]", ["y^2", "z_1"]),
        (r"Hence \boxed{\frac{3}{8}}.", [r"\boxed{\frac{3}{8}}"]),
        (r"$\boxed{5}$", [r"\boxed{5}"]),
        # money and escaped dollars stay text (pandoc's rule for $…$)
        ("It costs $5 and $10.", []),
        (r"It costs \$5, so $x$ is", ["x"]),
        ("$ x $ is not math", []),
        # unclosed or broken spans stay text
        ("an open $x and nothing else", []),
        (r"bad $\frac{1}{$ good $y$", ["y"]),
        ("a $x\n\ny$ across a blank line", []),
    ],
)
def test_prose_finds_math_spans(text, sources):
    markup = prose_html(text)
    annotations = [html.unescape(part.split("</annotation>")[0])
                   for part in markup.split('<annotation encoding="application/x-tex">')[1:]]
    assert annotations == sources
    assert_inert(markup)


def test_prose_keeps_the_text_around_math_escaped():
    markup = prose_html("<b>bold</b> & $x<y$ \"q\"")
    assert markup.startswith("&lt;b&gt;bold&lt;/b&gt; &amp; <math display=\"inline\">")
    assert markup.endswith(" &quot;q&quot;")
    assert 'display="block"' in prose_html("$$x$$")
