"""Equivalence tables for `grade(gold, candidate)`, one table per phenomenon of the grading policy (issue 2, §3).

Every table holds both directions of error:
  * `True` rows are valid rewrites that a strict (string-like) checker would reject;
  * `False` rows are near-misses that a lenient checker (float tolerance, percent x100, substring match,
    "any box matches") would accept.
Gold strings are written the way MATH-500 / AMC23 / AIME24 write them (see ../shared/data), candidates the
way model completions box them. Each row names the policy rule it rests on in its table's comment.
"""
from __future__ import annotations

import json
import re

import pytest

from stepkto_eval.grading import grade, is_equivalent

from .tables import check, row_id, table

# --- Rule 6: integer formats (thousands separators, signs, leading zeros, trailing .0) -------------------
INTEGER_FORMATS = [
    (r"10,\!080", "10080", True),
    ("10080", r"10,\!080", True),
    ("10080", "10,080", True),
    ("10080", r"10{,}080", True),
    ("10080", r"10\,080", True),
    ("10080", "10 080", True),
    (r"11,\! 111,\! 111,\! 100", "11111111100", True),
    (r"11,\! 111,\! 111,\! 100", "11,111,111,100", True),
    ("58,500", "58500", True),
    ("900,000,000", "900000000", True),
    ("3,250", "3250", True),
    ("50,625", r"50{,}625", True),
    ("025", "25", True),  # AIME24 gold with leading zeros
    ("25", "025", True),
    ("007", "7", True),
    ("27.0", "27", True),  # AMC23 golds are floats
    ("27", "27.0", True),
    ("27", "27.000", True),
    ("5", "+5", True),
    ("-5", "\u22125", True),  # unicode minus sign
    ("-13", "\u221213", True),
    ("0", "-0", True),
    ("204", " 204 ", True),
    ("10080", "1008", False),
    ("10080", "10,800", False),
    ("10080", "100800", False),
    ("10,080", "10.080", False),  # a decimal point is not a thousands separator: 10.08
    ("3,250", "3,25", False),  # not a valid grouping: reads as the list 3, 25
    ("10,080", "10,080,000", False),
    ("58,500", "58,5", False),
    ("025", "250", False),
    ("025", "0.25", False),
    ("27.0", "27.1", False),
    ("27.0", "270", False),
    ("5", "-5", False),
    ("-5", "5", False),
    ("4", "-4", False),
    ("12", "1,2", False),  # two numbers, not one
    ("100", "1000", False),
    ("900,000,000", "90000000", False),
    ("1000", "1 000", True),
    ("1000", "1{,}000", True),
    ("-1000", "-1,000", True),
    ("1234", "1,234.0", True),
    ("0", "0.0", True),
    ("0", "+0", True),
    ("100", "100.", True),
    ("1000", "1.000", False),  # a decimal point, not a separator
    ("1000", "1,0000", False),  # not a valid grouping
    ("0", "-0.0", True),
]


@pytest.mark.parametrize("gold,candidate,expected", table(INTEGER_FORMATS))
def test_integer_formats(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 4: units and decorations are ignored when the number is right -----------------------------------
UNITS = [
    (r"5.4 \text{ cents}", "5.4", True),
    ("5.4", r"5.4 \text{ cents}", True),
    (r"5.4 \text{ cents}", r"5.4\text{ cents}", True),
    (r"864 \mbox{ inches}^2", "864", True),
    (r"864 \mbox{ inches}^2", r"864 \text{ square inches}", True),
    (r"15\mbox{ cm}^2", "15", True),
    ("15", r"15 \text{ cm}^2", True),
    ("15", r"15\,\mathrm{cm}^2", True),
    (r"\$18.90", "18.90", True),
    (r"\$18.90", "18.9", True),
    (r"\$18.90", r"\$18.9", True),
    (r"\$36", "36", True),
    ("36", r"\$36", True),
    ("36", r"36 \text{ dollars}", True),
    (r"\$32,\!348", "32348", True),
    (r"\$32,\!348", r"\$32,348", True),
    ("12", r"12 \text{ minutes}", True),
    ("5", "5 cm", True),
    ("28", r"28 \text{ meters}", True),
    ("28", r"28\text{ m}", True),
    ("19", r"19 \text{ square units}", True),
    ("68", r"68 \text{ square inches}", True),
    (r"\frac{270}7\text{ degrees}", r"\frac{270}{7}", True),
    ("1.25", r"\$1.25", True),
    ("7", r"7\text{ hours}", True),
    (r"5.4 \text{ cents}", "5.5", False),
    (r"5.4 \text{ cents}", "54", False),
    (r"\$18.90", "1890", False),
    (r"\$18.90", "18.09", False),
    (r"15\mbox{ cm}^2", "225", False),
    (r"15\mbox{ cm}^2", "15^2", False),  # the exponent of a bare number is mathematics, not a unit
    (r"864 \mbox{ inches}^2", "86", False),
    ("36", r"\$3.60", False),
    ("12", r"720 \text{ seconds}", False),  # no unit conversion: the number is 720, not 12
    ("28", r"27 \text{ meters}", False),
    ("19", r"91 \text{ square units}", False),
    ("5", "5 cm and 6 cm", False),
    (r"\$36", r"\$36 \text{ or } \$37", False),
    ("5", r"5\text{cm}", True),
    ("5", r"5~\text{cm}", True),
    ("20", r"\text{20 mph}", True),
    ("60", r"60 \text{mph}", True),
    ("12", "12 inches", True),
    ("864", r"864 \text{ in}^2", True),
    ("12", r"12\text{ cm}^3", True),
    (r"\$1.50", "1.5", True),
    ("3", r"3 \text{ and } 4", False),
    ("2", r"2 \text{ hours and } 30 \text{ minutes}", False),
    ("12", r"1 \text{ foot}", False),  # no unit conversion
    (r"\$32,\!348", r"32,348 \text{ dollars}", True),
    (r"\$18.90", r"18.90 \text{ dollars}", True),
    (r"5.4 \text{ cents}", r"\$0.054", False),  # no unit conversion: the number is 0.054
]


@pytest.mark.parametrize("gold,candidate,expected", table(UNITS))
def test_units_and_decorations(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 4: percent. `\%` is a decoration when the gold is a percentage; otherwise `%` means x 1/100 -----
PERCENT = [
    (r"25\%", "25", True),
    (r"25\%", r"25\%", True),
    (r"25\%", "25%", True),
    (r"25\%", r"25 \text{ percent}", True),
    (r"12.5\%", "12.5", True),
    (r"12.5\%", r"\frac{25}{2}\%", True),
    (r"33\frac{1}{3}\%", r"33.\overline{3}\%", True),
    (r"\frac14", r"25\%", True),  # the policy's own example: an explicit % is a factor 1/100
    (r"\frac{1}{4}", "25%", True),
    ("0.25", r"25\%", True),
    ("0.5", r"50\%", True),
    (r"\frac{3}{8}", r"37.5\%", True),
    (r"\frac14", "25", False),  # bare 25 is not 1/4
    ("0.5", "50", False),
    (r"\frac{1}{4}", r"0.25\%", False),
    (r"\frac{1}{8}", r"0.125\%", False),
    (r"25\%", r"2.5\%", False),
    (r"25\%", r"250\%", False),
    (r"12.5\%", r"12\%", False),
    (r"12.5\%", "13", False),
    (r"33\frac{1}{3}\%", r"33.33\%", False),  # an approximation of an exact percentage
    (r"5\%", r"500\%", False),
    (r"5\%", r"0.05\%", False),
    (r"\frac{3}{8}", r"38\%", False),
    ("0.15", "15", False),
    (r"50\%", "50", True),
    (r"50\%", r"50 \%", True),
    (r"50\%", r"50\text{\%}", True),
    (r"\frac{1}{2}", r"0.5\%", False),
    ("0.15", r"15\%", True),
    (r"\frac{1}{4}", r"25 \%", True),
]


@pytest.mark.parametrize("gold,candidate,expected", table(PERCENT))
def test_percent(gold, candidate, expected):
    check(gold, candidate, expected)


PERCENT_QUESTION = "What percent of the total did $Q$ contribute?"


@pytest.mark.parametrize(
    "gold,candidate,expected",
    table([("25", r"25\%", True), ("25", "25", True), ("25", r"12.5\%", False), ("25", r"2.5\%", False)]),
)
def test_percent_question_with_bare_gold(gold, candidate, expected):
    # MATH's gt often drops the % of a "what percent" answer (row 54 of the real completions file).
    check(gold, candidate, expected, problem=PERCENT_QUESTION)


# --- Rule 2: form requests in the problem are not enforced; the value decides -----------------------------
FORM_REQUESTS = [
    ("0.5", r"\frac{1}{2}", "Express your answer as a decimal.", True),
    (r"\frac{5}{2}", "2.5", "Express your answer as a common fraction.", True),
    (r"2\frac12", r"\frac{5}{2}", "Express your answer as a mixed number.", True),
    (r"3\sqrt{2}", r"\sqrt{18}", "Express your answer in simplest radical form.", True),
    (r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}", "Express your answer in simplest radical form.", True),
    (r"12\pi", "37.7", r"Express your answer in terms of $\pi$.", False),
    ("0.33", r"\frac{1}{3}", "Express your answer as a decimal to the nearest hundredth.", False),
    ("1.39", "1.3953", "Round your answer to the nearest hundredth.", False),
]


@pytest.mark.parametrize(
    "gold,candidate,problem,expected",
    [pytest.param(g, c, p, e, id=row_id(g, c, e)) for g, c, p, e in FORM_REQUESTS],
)
def test_form_requests_are_not_enforced(gold, candidate, problem, expected):
    check(gold, candidate, expected, problem=problem)


# --- Rule 5: degrees vs radians -----------------------------------------------------------------------
DEGREES = [
    (r"90^\circ", "90", True),
    ("90", r"90^\circ", True),
    (r"30^\circ", "30\u00b0", True),
    (r"30^\circ", r"30^{\circ}", True),
    (r"30^\circ", r"30 \text{ degrees}", True),
    (r"30^\circ", r"30\degree", True),
    (r"145^\circ", "145 degrees", True),
    (r"106^\circ", r"106^\circ", True),
    (r"\frac{270}7\text{ degrees}", r"\frac{270}{7}^\circ", True),
    (r"\frac{270}7\text{ degrees}", r"\left(\frac{270}{7}\right)^\circ", True),
    ("140", r"140^\circ", True),
    (r"-\frac{\pi}{6}", r"-\frac{\pi}{6}", True),
    (r"-\frac{\pi}{6}", r"-\frac{1}{6}\pi", True),
    (r"\frac{\pi}{2}", r"\frac{\pi}{2} \text{ radians}", True),
    (r"90^\circ", r"\frac{\pi}{2}", False),  # a radian value for a degree gold
    (r"\frac{\pi}{2}", r"90^\circ", False),  # and vice versa
    (r"-\frac{\pi}{6}", r"-30^\circ", False),
    (r"30^\circ", r"\frac{\pi}{6}", False),
    (r"180^\circ", r"\pi", False),
    (r"\pi", r"180^\circ", False),
    (r"90^\circ", r"9^\circ", False),
    ("90", r"-90^\circ", False),
    (r"36^\circ", r"360^\circ", False),
    (r"76^\circ", r"76^\circ \text{ or } 104^\circ", False),
    (r"120^\circ", r"60^\circ", False),
    (r"55^\circ", r"55.5^\circ", False),
    ("30", r"30^{\circ}", True),
    (r"90^\circ", "90 \u00b0", True),
    (r"45^\circ", r"\frac{\pi}{4}", False),
    (r"\frac{\pi}{4}", r"45^\circ", False),
    (r"\frac{\pi}{4}", "45", False),
    (r"2\pi", r"360^\circ", False),
    (r"\frac{270}7\text{ degrees}", r"38\frac{4}{7}", True),
    (r"\frac{270}7\text{ degrees}", "38.57", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(DEGREES))
def test_degrees_and_radians(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rules 2 and 3: decimal vs fraction (exact decimals are exact; approximations never are) ---------------
DECIMAL_VS_FRACTION = [
    (r"\frac{1}{2}", "0.5", True),
    ("0.5", r"\frac12", True),
    ("1.25", r"\frac{5}{4}", True),
    ("1.25", r"\frac54", True),
    (".35625", "0.35625", True),
    (".35625", r"\frac{57}{160}", True),
    ("0.15", r"\frac{3}{20}", True),
    ("0.15", ".15", True),
    ("0.15", "0.1500", True),
    ("4.5", r"\frac{9}{2}", True),
    ("326.5", r"\frac{653}{2}", True),
    ("3.21", r"\frac{321}{100}", True),
    ("3.21", "3.210", True),
    (r"\frac{9}{256}", "0.03515625", True),
    (r"\frac{1}{8}", "0.125", True),
    (r"-\frac{3}{8}", "-0.375", True),
    (r"\dfrac{33}{100}", "0.33", True),
    (r"\dfrac{17}{50}", "0.34", True),
    (r"\frac{1}{3}", r"0.\overline{3}", True),  # repeating decimals are exact
    (r"\frac{1}{3}", r"0.\overline{33}", True),
    (r"\frac{2}{3}", r"0.\overline{6}", True),
    (r"\frac{1}{11}", r"0.\overline{09}", True),
    (r"\frac{1}{6}", r"0.1\overline{6}", True),
    (r"\frac{1997}{2}", "998.5", True),
    (r"\frac{11}{2}", "5.5", True),
    (r"\frac{1}{3}", "0.333", False),  # approximations never equal an exact gold
    (r"\frac{1}{3}", "0.33", False),
    (r"\frac{1}{3}", "0.3333333333", False),
    (r"\frac{1}{3}", r"0.\overline{03}", False),
    (r"\frac{2}{3}", "0.67", False),
    (r"\frac{2}{3}", "0.667", False),
    (r"\frac{2}{3}", "0.6666667", False),
    (r"\frac{14}{3}", "4.67", False),
    (r"\frac{14}{3}", "4.666666667", False),
    (r"\frac{3}{56}", "0.0536", False),
    (r"\frac{3840}{289}", "13.29", False),
    (r"\frac{10}{11}", "0.91", False),
    (r"\frac{1}{8}", "0.12", False),
    (r"\frac{1}{8}", "0.13", False),
    ("1.25", "1.2", False),
    ("0.15", "0.150001", False),
    ("0.33", r"\frac{1}{3}", False),  # a decimal gold is exact too: 1/3 is not 33/100
    (".0000672", ".000672", False),
    ("326.5", "326", False),
    (r"0.\overline{3}", r"\frac{1}{3}", True),
    (r"0.\overline{142857}", r"\frac17", True),
    (r"\frac17", r"0.\overline{142857}", True),
    (r"3.\overline{21}", r"\frac{318}{99}", True),
    (r"\frac{1}{6}", r"0.16\overline{6}", True),
    ("3", r"3.0\overline{0}", True),
    ("2.5", r"\frac{5}{2}", True),
    ("2.50", "2.5", True),
    ("-0.5", r"-\frac12", True),
    (r"\frac{1}{4}", ".25", True),
    ("0.0625", r"\frac{1}{16}", True),
    (r"\frac{1}{7}", "0.142857", False),
    (r"\frac{1}{7}", "0.142857142857", False),
    (r"\frac{1}{6}", r"0.\overline{16}", False),  # 16/99
    (r"\frac{448}{15625}", "0.028672", True),
    (r"\frac{243}{625}", "0.3888", True),
    (r"\frac{35}{64}", "0.546875", True),
    (r"\frac{448}{15625}", "0.0287", False),
    (r"\frac{35}{64}", "0.547", False),
    (".35625", "0.356", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(DECIMAL_VS_FRACTION))
def test_decimal_vs_fraction(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rules 2 and 11: LaTeX fraction spellings --------------------------------------------------------------
LATEX_FRACTIONS = [
    (r"\frac{3}{2}", r"\frac32", True),
    (r"\frac 59", r"\frac{5}{9}", True),
    (r"\frac9{19}", r"\frac{9}{19}", True),
    (r"\frac43", r"\frac{4}{3}", True),
    (r"\frac65", r"\frac{6}{5}", True),
    (r"\frac 34", r"\frac{3}{4}", True),
    (r"\dfrac{33}{100}", r"\frac{33}{100}", True),
    (r"\frac{1}{2}", r"\tfrac{1}{2}", True),
    (r"\frac{1}{2}", r"\dfrac12", True),
    (r"\frac{1}{2}", r"\cfrac{1}{2}", True),
    (r"\frac{1}{2}", "1/2", True),
    (r"\frac{3}{2}", "3/2", True),
    (r"\frac{1}{2}", r"\frac{2}{4}", True),  # form requests are not enforced
    (r"\frac{14}{3}", r"\frac{28}{6}", True),
    (r"\frac{13}{15}", r"\frac{26}{30}", True),
    (r"\frac{2}{1005}", r"\frac{4}{2010}", True),
    (r"\frac{16}{27}", r"\frac{2^4}{3^3}", True),
    (r"-\frac{35}{9}", r"\frac{-35}{9}", True),
    (r"-\frac{35}{9}", r"\frac{35}{-9}", True),
    (r"-\frac{35}{9}", "-35/9", True),
    (r"-\frac{24}{25}", r"-\dfrac{24}{25}", True),
    (r"\frac{1}{2}", r"{1 \over 2}", True),
    (r"\frac{\sqrt{3}}{3}", r"\dfrac{\sqrt{3}}{3}", True),
    (r"\frac{20000}{\pi}", r"20000/\pi", True),
    (r"\frac{3}{2}", r"\frac{2}{3}", False),
    (r"\frac{1}{2}", r"\frac{1}{3}", False),
    (r"\frac{14}{3}", r"\frac{14}{5}", False),
    (r"\frac{14}{3}", r"\frac{3}{14}", False),
    (r"\frac{14}{3}", "143", False),
    (r"-\frac{35}{9}", r"\frac{35}{9}", False),
    (r"\frac{2}{21}", r"\frac{2}{12}", False),
    (r"\frac{9}{256}", r"\frac{9}{265}", False),
    (r"\frac{4}{9}", r"\frac{4}{9}^2", False),
    (r"\frac{1}{2}", r"\frac{1}{2}x", False),
    (r"\frac{3}{2}", r"\frac{3}{2}, \frac{2}{3}", False),
    (r"\frac{16}{27}", r"\frac{16}{72}", False),
    (r"\frac{11}{36}", r"\frac{1}{36}", False),
    (r"\frac{a}{b}", "a/b", True),
    (r"\frac12", r"\frac{1}2", True),
    (r"\frac{10}{3}", r"\frac{10}3", True),
    (r"\frac{x+1}{2}", "(x+1)/2", True),
    (r"\frac{3}{4}", "3 / 4", True),
    ("2", r"\frac{1}{\frac{1}{2}}", True),
    (r"\frac{1}{2}", r"\dfrac 12", True),
    (r"-\frac12", r"\frac{1}{-2}", True),
    (r"\frac{1}{2}", r"-\frac{-1}{2}", True),
    (r"\frac{x+1}{2}", "x+1/2", False),  # precedence: x + 1/2
    (r"\frac{3}{56}", r"\dfrac{3}{56}", True),
]


@pytest.mark.parametrize("gold,candidate,expected", table(LATEX_FRACTIONS))
def test_latex_fractions(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 2: mixed numbers: `2\frac12` is 5/2, never 2 * 1/2 ----------------------------------------------
MIXED_NUMBERS = [
    (r"2\frac12", r"\frac52", True),
    (r"\frac{5}{2}", r"2\frac{1}{2}", True),
    (r"1\frac{4}{5}", r"\frac95", True),
    (r"1\frac{4}{5}", "1.8", True),
    (r"137 \frac{1}{2}", r"\frac{275}{2}", True),
    (r"137 \frac{1}{2}", "137.5", True),
    (r"12\frac{3}{5}", r"12 \frac{3}{5}", True),
    (r"12\frac{3}{5}", r"\frac{63}{5}", True),
    (r"1\frac{1}{10}", r"\frac{11}{10}", True),
    (r"1\frac{1}{10}", "1.1", True),
    (r"1\frac{1}{4}", r"1 \frac14", True),
    (r"1\frac{1}{4}", r"1\tfrac{1}{4}", True),
    (r"1\frac{1}{4}", r"\frac{5}{4}", True),
    (r"-2\frac{1}{2}", r"-\frac{5}{2}", True),
    (r"2\frac12", "2 1/2", True),
    (r"2\frac12", "1", False),  # the product reading
    ("1", r"2\frac{1}{2}", False),
    (r"\frac{5}{2}", r"2\cdot\frac12", False),  # an explicit product is a product
    (r"2\frac{1}{2}", r"2 \times \frac{1}{2}", False),
    (r"12\frac{3}{5}", r"\frac{36}{5}", False),  # 12 * 3/5: the product reading of the gold
    (r"137 \frac{1}{2}", "68.5", False),
    (r"1\frac{1}{10}", r"\frac{1}{10}", False),
    (r"1\frac{1}{10}", r"1\frac{1}{9}", False),
    (r"1\frac{1}{10}", r"1 \frac{8}{91}", False),
    (r"1\frac{4}{5}", r"\frac{4}{5}", False),
    (r"1\frac{4}{5}", "1.45", False),
    (r"\frac{3}{2}", r"1\frac{1}{3}", False),
    (r"-2\frac{1}{2}", r"-\frac{3}{2}", False),  # -2 + 1/2 is not how a mixed number reads
    (r"3\frac{1}{2}", r"3\dfrac{1}{2}", True),
    (r"5\frac{3}{4}", r"\frac{23}{4}", True),
    (r"-1\frac{1}{3}", r"-\frac43", True),
    (r"6\frac{1}{4}", "6.25", True),
    (r"6\frac{1}{4}", r"6 + \frac{1}{4}", True),
    # Only integer-over-integer reads as a mixed number; otherwise juxtaposition is a product.
    (r"\sqrt{2}", r"2\frac{\sqrt{2}}{2}", True),
    (r"\frac{3\pi}{2}", r"3\frac{\pi}{2}", True),
    (r"\frac{2x}{3}", r"2\frac{x}{3}", True),
    (r"5\frac{3}{4}", r"\frac{15}{4}", False),
    ("1.25", r"1\frac{1}{4}", True),
    ("326.5", r"326\frac{1}{2}", True),
    (r"\frac{1997}{2}", r"998\frac{1}{2}", True),
]


@pytest.mark.parametrize("gold,candidate,expected", table(MIXED_NUMBERS))
def test_mixed_numbers(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 2: radicals (unsimplified is fine; decimals are approximations) ----------------------------------
RADICALS = [
    (r"3\sqrt{13}", r"\sqrt{117}", True),
    (r"2\sqrt{5}", r"\sqrt{20}", True),
    (r"2 \sqrt{5}", r"2\sqrt5", True),
    (r"11\sqrt2", r"11\sqrt{2}", True),
    (r"70 \sqrt{2}", r"70\sqrt2", True),
    (r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}", True),
    (r"\frac{\sqrt{3}}{3}", r"\frac{\sqrt3}{3}", True),
    (r"\frac{\sqrt{3}}{3}", r"\sqrt{\frac{1}{3}}", True),
    (r"\frac{3\sqrt{3}}{4}", r"\frac{3}{4}\sqrt{3}", True),
    (r"\sqrt{51}", "51^{1/2}", True),
    (r"\sqrt{51}", r"51^{\frac{1}{2}}", True),
    (r"6\sqrt{2}", r"\sqrt{72}", True),
    (r"6\sqrt{2}", r"3\sqrt{8}", True),
    (r"16 \sqrt{3}", r"\sqrt{768}", True),
    (r"\frac{\sqrt{21}}{5}", r"\sqrt{\frac{21}{25}}", True),
    (r"2\sqrt{113}", r"\sqrt{452}", True),
    (r"1+2\sqrt{3}", r"2\sqrt{3}+1", True),
    (r"11 \sqrt{5} + 11", r"11(\sqrt{5}+1)", True),
    (r"\sqrt{5}", r"\sqrt[2]{5}", True),
    ("2", r"\sqrt[3]{8}", True),
    (r"3\sqrt[3]{2}", r"\sqrt[3]{54}", True),
    (r"\sqrt{2}", r"\frac{2}{\sqrt{2}}", True),
    (r"1 + \sqrt{2}", r"\frac{1}{\sqrt{2}-1}", True),
    (r"\sqrt{53}", r"\sqrt{53}", True),
    (r"\sqrt{2}", "1.41421356", False),
    (r"\sqrt{2}", "1.414", False),
    (r"3\sqrt{13}", "10.82", False),
    (r"2\sqrt{5}", r"\sqrt{10}", False),
    (r"2\sqrt{5}", r"5\sqrt{2}", False),
    (r"\sqrt{51}", "51", False),
    (r"\frac{\sqrt{3}}{3}", r"\sqrt{3}", False),
    (r"\frac{\sqrt{3}}{3}", r"\frac{\sqrt{3}}{2}", False),
    (r"6\sqrt{2}", r"6\sqrt{3}", False),
    (r"6\sqrt{2}", r"\sqrt{62}", False),
    (r"3 \sqrt{5}", r"\sqrt{35}", False),
    (r"2\sqrt{113}", r"2\sqrt{131}", False),
    (r"\sqrt{5}", r"\sqrt[3]{5}", False),
    (r"-\sqrt{3}", r"\sqrt{3}", False),
    (r"\sqrt{3}", r"\pm\sqrt{3}", False),
    (r"1+2\sqrt{3}", r"(1+2)\sqrt{3}", False),
    (r"\frac{3\sqrt{3}}{4}", r"\frac{3}{4\sqrt{3}}", False),
    (r"\sqrt{66}", "8.12", False),
    (r"\sqrt{8}", r"2\sqrt{2}", True),
    (r"\sqrt2/2", r"\frac{\sqrt{2}}{2}", True),
    (r"\sqrt{2}", r"\sqrt 2", True),
    (r"4\sqrt{3}", r"4 \sqrt3", True),
    (r"\sqrt{12}", r"2\sqrt{3}", True),
    (r"\sqrt[3]{16}", r"2\sqrt[3]{2}", True),
    ("2^{1/3}", r"\sqrt[3]{2}", True),
    (r"\sqrt{2}", "2^{0.5}", True),
    (r"\sqrt{2}+\sqrt{3}", r"\sqrt{5+2\sqrt{6}}", True),  # denesting
    (r"\sqrt{2}+\sqrt{3}", r"\sqrt{5}", False),
    (r"2\sqrt{2}", r"\sqrt{8.0000001}", False),
    (r"\sqrt{2}", "1.4142135623730950488016887242097", False),  # 32 digits are still an approximation
    ("2", r"\sqrt{4}", True),
    ("-2", r"\sqrt{4}", False),  # the principal root
    ("2", r"\pm\sqrt{4}", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(RADICALS))
def test_radicals(gold, candidate, expected):
    check(gold, candidate, expected)


# --- pi: symbolic, never its decimal approximation ---------------------------------------------------------
PI = [
    (r"\pi", "\u03c0", True),
    (r"288 \pi", r"288\pi", True),
    (r"12\pi", r"12 \pi", True),
    (r"12\pi", r"12\times\pi", True),
    (r"12\pi", r"\frac{24\pi}{2}", True),
    (r"7\pi", r"\pi\cdot 7", True),
    (r"18+2\pi", r"2\pi+18", True),
    (r"18+2\pi", r"2(9+\pi)", True),
    (r"8 \pi", r"8\pi", True),
    (r"\frac{20000}{\pi}", r"\frac{20000}{\pi}", True),
    (r"-\frac{\pi}{6}", r"\frac{-\pi}{6}", True),
    (r"\pi", r"\frac{2\pi}{2}", True),
    (r"\pi", "3.14", False),
    (r"\pi", "3.14159265", False),
    (r"\pi", r"\frac{22}{7}", False),
    (r"288 \pi", "904.78", False),
    (r"12\pi", "12", False),
    (r"7\pi", "22", False),
    (r"18+2\pi", r"20\pi", False),
    (r"8\pi", r"8\pi^2", False),
    (r"\frac{20000}{\pi}", "6366.2", False),
    (r"2\pi", r"\pi^2", False),
    (r"12\pi", r"12\pi r", False),
    (r"\frac{\pi}{4}", r"0.25\pi", True),
    (r"\frac{\pi}{4}", r"\pi/4", True),
    (r"\pi^2", r"\pi\cdot\pi", True),
    (r"100\pi", "314.16", False),
    (r"4\pi", r"4 \times 3.14", False),
    (r"\pi", "3.1415926535897932384626433832795", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(PI))
def test_pi(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 9: complex numbers in any standard form --------------------------------------------------------
COMPLEX = [
    ("6 - 5i", "6+(-5)i", True),  # the policy's example
    ("6 - 5i", "-5i+6", True),
    ("6-5i", "6 - 5 i", True),
    ("6+9i", "9i+6", True),
    ("1+274i", "1 + 274i", True),
    ("-2 + 7i", "7i-2", True),
    ("1 - 12i", r"1-12\,i", True),
    ("1+2i", "(1+2i)", True),
    ("1+2i", r"\frac{2+4i}{2}", True),
    ("1+2i", "i(2-i)", True),
    ("-1", "i^2", True),
    ("2i", "0+2i", True),
    ("6 - 5i", "6+5i", False),
    ("6-5i", "-5+6i", False),
    ("1+274i", "1+247i", False),
    ("6-5i", "6", False),
    ("6-5i", r"\sqrt{61}", False),  # the modulus is not the number
    ("1+2i", "1-2i", False),  # conjugate
    ("1+2i", "(1,2)", False),  # an ordered pair is not a complex number
    ("1 - 12i", "1-12", False),
    ("2i", "2", False),
    ("-1", "i", False),
    ("3+4i", "4i+3", True),
    (r"\frac{1}{2}+\frac{\sqrt{3}}{2}i", r"\frac{1+i\sqrt{3}}{2}", True),
    ("-i", r"\frac{1}{i}", True),
    ("5i", r"5\cdot i", True),
    ("1+i", r"\sqrt{2}e^{i\pi/4}", True),  # polar form is a standard form
    ("-1+i", "i-1", True),
    ("2-i", "2-1i", True),
    (r"\frac{3}{5}-\frac{4}{5}i", r"\frac{3-4i}{5}", True),
    (r"\frac{3}{5}-\frac{4}{5}i", "0.6-0.8i", True),
    (r"\frac{3}{5}-\frac{4}{5}i", r"\frac{3+4i}{5}", False),
    ("1+i", "1+i, 1-i", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(COMPLEX))
def test_complex_numbers(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rules 1 and 10: intervals, inequalities and unions --------------------------------------------------
INTERVALS = [
    ("(3,4]", "(3, 4]", True),
    ("(3,4]", r"\left(3,4\right]", True),
    (r"(2,\infty)", r"(2, \infty)", True),
    (r"(2,\infty)", r"(2,+\infty)", True),
    (r"(2,\infty)", "x>2", True),
    (r"(2,\infty)", "2 < x", True),
    (r"(5,\infty)", "x > 5", True),
    (r"(-\infty, 0]", r"x\le 0", True),
    (r"(-\infty, 0]", r"x \leq 0", True),
    (r"(-\infty, 0]", r"(-\infty,0]", True),
    (r"(0,9) \cup (9,36)", r"(9,36)\cup(0,9)", True),  # unions in any order
    (r"(-\infty, 2) \cup (3, \infty)", r"(3,\infty)\cup(-\infty,2)", True),
    (r"(2,12) \cup (12,102)", r"(12,102) \cup (2,12)", True),
    (r"x \in [-2,7]", "[-2,7]", True),
    ("[-2,7]", r"-2 \le x \le 7", True),
    ("[-2,7]", r"x \in [-2, 7]", True),
    (r"(-\sqrt{3}, \sqrt{3})", r"(-\sqrt3,\sqrt3)", True),
    (r"(-\sqrt{3}, \sqrt{3})", r"-\sqrt{3} < x < \sqrt{3}", True),
    (r"\left(\frac{3}{5},\frac{8}{3}\right]", r"(0.6, \frac{8}{3}]", True),
    (r"\left[ \frac{\pi^2}{8}, \frac{5 \pi^2}{4} \right]", r"[\frac{\pi^2}{8}, \frac{5\pi^2}{4}]", True),
    (r"(-\infty,\infty)", r"(-\infty, +\infty)", True),
    (r"(-\infty,\infty)", r"\mathbb{R}", True),
    ("(3,4]", "[3,4]", False),  # endpoint inclusion matters
    ("(3,4]", "(3,4)", False),
    ("(3,4]", "[3,4)", False),
    ("(3,4]", "(3,5]", False),
    (r"(2,\infty)", r"[2,\infty)", False),
    (r"(2,\infty)", r"x\ge2", False),
    (r"(2,\infty)", "x<2", False),
    (r"(-\infty, 0]", r"(-\infty,0)", False),
    (r"(-\infty, 0]", "x<0", False),
    (r"(-\infty, 0]", r"[0,\infty)", False),
    (r"(0,9) \cup (9,36)", "(0,36)", False),  # the hole at 9 matters
    (r"(0,9) \cup (9,36)", "(0,9)", False),
    (r"(0,9) \cup (9,36)", "[0,9) \\cup (9,36]", False),
    (r"(-\infty, 2) \cup (3, \infty)", "(2,3)", False),
    (r"(-\infty, 2) \cup (3, \infty)", r"(-\infty,2]\cup(3,\infty)", False),
    (r"(-\infty, 2) \cup (3, \infty)", r"(3,\infty)", False),
    ("[-2,7]", r"\{-2,7\}", False),  # two points are not an interval
    (r"(-\sqrt{3}, \sqrt{3})", r"[-\sqrt{3},\sqrt{3}]", False),
    (r"(-\sqrt{3}, \sqrt{3})", "(-1.732, 1.732)", False),
    (r"\left[ \frac{\pi^2}{8}, \frac{5 \pi^2}{4} \right]", "[1.23, 12.34]", False),
    (r"(-\infty,\infty)", r"(0,\infty)", False),
    ("[1,5)", r"1\le x<5", True),
    (r"(-\infty,3)", "x<3", True),
    (r"[3,\infty)", r"x \geq 3", True),
    (r"(-\infty,-2]\cup[2,\infty)", r"x\le -2 \text{ or } x\ge 2", True),  # a union, not a hedge
    ("[-1,1]", r"x\in[-1,1]", True),
    (r"(-\infty,1)\cup(1,\infty)", r"\mathbb{R}\setminus\{1\}", True),
    (r"(-\infty,3)", r"(-\infty,3]", False),
    ("[2,5]", "[2,5)", False),
    (r"(1,2)\cup(3,4)", r"(1,2)\cup(3,4]", False),
    (r"[3,\infty)", "x > 3", False),
    (r"[0, 2\pi)", "[0, 6.28)", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(INTERVALS))
def test_intervals_and_unions(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 1: "find all" answers are sets: order-free, missing or extra elements are wrong -----------------
UNORDERED_LISTS = [
    ("1,-2", "-2,1", True),
    ("1,-2", "-2, 1", True),
    ("-2,1", "1,-2", True),
    ("1,-2", r"\{1,-2\}", True),
    ("1,-2", r"\{-2, 1\}", True),
    ("3, 5, 7", "7,5,3", True),
    ("3, 5, 7", "5, 3, 7", True),
    (r"1 \pm \sqrt{19}", r"1+\sqrt{19}, 1-\sqrt{19}", True),
    (r"1 \pm \sqrt{19}", r"1-\sqrt{19},1+\sqrt{19}", True),
    (r"3 \pm 2 \sqrt{2}", r"3+2\sqrt2,3-2\sqrt2", True),
    (r"3 \pm 2 \sqrt{2}", r"3 \pm \sqrt{8}", True),
    (r"\{1\pm\sqrt{5},-2\}", r"-2, 1+\sqrt{5}, 1-\sqrt{5}", True),
    (r"\{1\pm\sqrt{5},-2\}", r"1-\sqrt5,-2,1+\sqrt5", True),
    (r"\{1\pm\sqrt{5},-2\}", r"\{-2, 1 \pm \sqrt{5}\}", True),
    (r"\frac{1}{2}, 3", r"3, 0.5", True),
    ("1,-2", "1", False),  # missing element
    ("1,-2", "1,2", False),
    ("1,-2", "-1,2", False),
    ("1,-2", "1,-2,3", False),  # extra element
    ("3, 5, 7", "3, 5", False),
    ("3,5,7", "3,5,7,9", False),
    (r"1 \pm \sqrt{19}", r"1+\sqrt{19}", False),
    (r"1 \pm \sqrt{19}", r"\pm\sqrt{19}", False),
    (r"\{1\pm\sqrt{5},-2\}", r"1\pm\sqrt5", False),
    (r"\{1\pm\sqrt{5},-2\}", r"1\pm\sqrt5, 2", False),
    (r"3 \pm 2 \sqrt{2}", r"3\pm\sqrt{2}", False),
    ("-2,1", "-2", False),
    (r"\frac{1}{2}, 3", "3, 0.6", False),
    ("2, 3", r"3 \text{ and } 2", True),
    ("-3, 3", r"\pm 3", True),
    (r"\pm 3", "3, -3", True),
    ("1, 2, 3", r"\{3,2,1\}", True),
    (r"0, \frac{1}{2}", r"\frac12, 0", True),
    ("-1, 1, 2", "2, -1, 1", True),
    (r"\pm 3", "3", False),
    ("-1,1,2", "-1,1", False),
    (r"\{1,2\}", r"\{1,2,3\}", False),
    (r"\{1\pm\sqrt{5},-2\}", r"\{1+\sqrt{5}, 1-\sqrt{5}, -2\}", True),
    ("2, -2", r"x=\pm 2", True),
    ("2, -2", "x = 2, x = -2", True),
    (r"\{1,2\}", "1, 2", True),
]


@pytest.mark.parametrize("gold,candidate,expected", table(UNORDERED_LISTS))
def test_unordered_lists(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 1: ordered pairs and tuples are sequences (a set does not answer an ordered pair) --------------
ORDERED_TUPLES = [
    ("(6,31,-1)", "(6, 31, -1)", True),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3,\frac{\pi}{2})", True),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3,\pi/2)", True),
    ("(15,-29)", "(15, -29)", True),
    (r"\left( \frac{3}{2}, -13 \right)", "(1.5,-13)", True),
    (r"\left( \frac{3}{2}, -13 \right)", r"\left(\frac32,-13\right)", True),
    ("(1,-16,-4,43)", "(1, -16, -4, 43)", True),
    ("(8,-2)", r"\left(8,-2\right)", True),
    ("(-1,6)", "(-1, 6)", True),
    ("(-2,1)", r"\left( -2, 1 \right)", True),
    ("(6,31,-1)", "(31,6,-1)", False),  # order matters
    ("(15,-29)", "(-29,15)", False),
    ("(15,-29)", r"\{15,-29\}", False),  # a set does not answer an ordered pair
    ("(1,-16,-4,43)", "(1,-16,-4)", False),
    ("(1,-16,-4,43)", "(1,-16,-4,43,0)", False),
    ("(8,-2)", "(8,2)", False),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3, 90^\circ)", False),  # radians vs degrees inside a tuple
    (r"\left( 3, \frac{\pi}{2} \right)", "(3, 1.57)", False),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(\frac{\pi}{2}, 3)", False),
    (r"\left( \frac{3}{2}, -13 \right)", r"\left( \frac{2}{3}, -13 \right)", False),
    ("(6,31,-1)", "(6,31,1)", False),
    ("(0.5, 1)", r"(\frac12, 1)", True),
    ("(1,2)", "(2,1)", False),
    ("(1,2)", "(1,2), (2,1)", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(ORDERED_TUPLES))
def test_ordered_tuples(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 1: vectors and matrices: same shape, same entries in the same places -----------------------------
V1 = r"\begin{pmatrix} -1/3 \\ 2/3 \\ 5/3 \end{pmatrix}"
V2 = r"\begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix}"
V3 = r"\begin{pmatrix} 1/5 \\ -18/5 \end{pmatrix}"
V4 = r"\begin{pmatrix} 16/49 \\ 48/49 \\ 24/49 \end{pmatrix}"
V5 = r"\begin{pmatrix} -7 \\ 16 \\ 5 \end{pmatrix}"
M1 = r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}"
VECTORS_MATRICES = [
    (V1, r"\begin{pmatrix} -\frac{1}{3} \\ \frac{2}{3} \\ \frac{5}{3} \end{pmatrix}", True),
    (V1, r"\begin{pmatrix}-\frac13\\\frac23\\\frac53\end{pmatrix}", True),
    (V2, r"\begin{pmatrix}-2\\-14\\-7\end{pmatrix}", True),
    (V2, r"\begin{bmatrix} -2 \\ -14 \\ -7 \end{bmatrix}", True),
    (V2, r"\left(\begin{array}{c} -2 \\ -14 \\ -7 \end{array}\right)", True),
    (M1, r"\begin{pmatrix}-1&0\\0&-1\end{pmatrix}", True),
    (M1, r"\begin{bmatrix} -1 & 0 \\ 0 & -1 \end{bmatrix}", True),
    (M1, r"\left(\begin{array}{cc} -1 & 0 \\ 0 & -1 \end{array}\right)", True),
    (V3, r"\begin{pmatrix} 0.2 \\ -3.6 \end{pmatrix}", True),
    (V3, r"\begin{pmatrix} \frac{1}{5} \\ -\frac{18}{5} \end{pmatrix}", True),
    (V4, r"\begin{pmatrix} \frac{16}{49} \\ \frac{48}{49} \\ \frac{24}{49} \end{pmatrix}", True),
    (V5, "(-7,16,5)", True),  # a vector written as a tuple is the same sequence
    (V2, r"\begin{pmatrix} -2 \\ -7 \\ -14 \end{pmatrix}", False),
    (V2, r"\begin{pmatrix} 2 \\ 14 \\ 7 \end{pmatrix}", False),
    (V2, r"\begin{pmatrix} -2 \\ -14 \end{pmatrix}", False),
    (M1, "-1", False),
    (M1, r"\begin{pmatrix} -1 & 0 \\ 0 & 1 \end{pmatrix}", False),
    (M1, r"\begin{pmatrix} -1 \\ 0 \\ 0 \\ -1 \end{pmatrix}", False),  # same entries, different shape
    (M1, r"\begin{pmatrix} -1 & 0 & 0 & -1 \end{pmatrix}", False),
    (V3, r"\begin{pmatrix} 0.2 \\ -3.61 \end{pmatrix}", False),
    (V3, r"\begin{pmatrix} -18/5 \\ 1/5 \end{pmatrix}", False),
    (V5, r"\{-7,16,5\}", False),
    (V4, r"\begin{pmatrix} 2 \\ 6 \\ 3 \end{pmatrix}", False),  # same direction, different vector
    (V4, r"\begin{pmatrix} 0.33 \\ 0.98 \\ 0.49 \end{pmatrix}", False),
    (
        r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}",
        r"\begin{pmatrix} 1 & 3 \\ 2 & 4 \end{pmatrix}",
        False,
    ),  # transpose
    (r"\begin{pmatrix} \frac{1}{2} \\ 1 \end{pmatrix}", r"\begin{pmatrix} 0.5 \\ 1 \end{pmatrix}", True),
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"\begin{pmatrix} 1 \\ 2 \\ 0 \end{pmatrix}", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(VECTORS_MATRICES))
def test_vectors_and_matrices(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 1: equations are loci; `y=f(x)` matches `f(x)` and `x=5` matches `5` ----------------------------
EQUATIONS = [
    ("x=5", "5", True),
    ("5", "x=5", True),
    ("x=5", "x = 5", True),
    ("y = 2x + 3", "2x+3", True),
    ("y = 2x + 3", "y=3+2x", True),
    ("y = 2x + 3", "2x - y + 3 = 0", True),
    ("y = -2x", "y=-2x", True),
    ("y = -2x", "2x+y=0", True),
    ("y = -2x", "-2x", True),
    ("2x+4y=6", "x+2y=3", True),  # the policy's example
    ("x+2y=3", r"y=\frac{3-x}{2}", True),
    ("5x - 7y + 11z + 4 = 0", "-5x + 7y - 11z - 4 = 0", True),
    ("5x - 7y + 11z + 4 = 0", "10x - 14y + 22z + 8 = 0", True),
    ("5x - 7y + 11z + 4 = 0", "5x-7y+11z=-4", True),
    ("5x - 7y + 11z + 4 = 0", "11z + 5x - 7y + 4 = 0", True),
    ("x=5", "x=-5", False),
    ("x=5", "y=5", False),
    ("y = 2x + 3", "y=2x-3", False),
    ("y = 2x + 3", "y=3x+2", False),
    ("y = 2x + 3", "x=2y+3", False),
    ("y = 2x + 3", "2x-3", False),
    ("y = -2x", "y=2x", False),
    ("2x+4y=6", "x+2y=6", False),
    ("5x - 7y + 11z + 4 = 0", "5x - 7y + 11z - 4 = 0", False),
    ("5x - 7y + 11z + 4 = 0", "5x - 7y + 11z = 4", False),
    ("5x - 7y + 11z + 4 = 0", "5x + 7y + 11z + 4 = 0", False),
    ("y = 2x + 3", r"y = 2x + 3 \text{ or } y = 2x - 3", False),
    ("y=x^2", "x^2", True),
    (r"y = \frac{1}{2}x + 1", "y=0.5x+1", True),
    ("x^2+y^2=25", "y^2+x^2=25", True),
    ("x^2+y^2=25", "x^2+y^2-25=0", True),
    ("(x-1)^2+(y+2)^2=9", "x^2-2x+y^2+4y-4=0", True),
    ("k=4", "4", True),
    ("12", "x=12", True),
    ("12", "n = 12", True),
    ("x^2+y^2=25", "x^2+y^2=5", False),
    ("x+y=1", "x-y=1", False),
    ("x=5", "5.0", True),
    ("x=5", "x-5=0", True),
    ("5", "f(2) = 5", True),  # the asked-for quantity named on the left
    ("10", "AB = 10", True),
    ("10", "|AB| = 10", True),
    (r"\frac{1}{2}", r"P = \frac{1}{2}", True),
    ("3", "a_5 = 3", True),
    ("5", "f(2) = 6", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(EQUATIONS))
def test_equations(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 9: symbolic expressions compare as mathematics; variables are case-sensitive --------------------
SYMBOLIC = [
    ("p - q", "-q + p", True),
    ("p - q", "-(q-p)", True),
    ("x^5 - x^4 + x^3 - x^2 + x - 1", "(x-1)(x^4+x^2+1)", True),  # factored = expanded
    ("x^3+3x-6", "3x+x^3-6", True),
    ("2k+2", "2(k+1)", True),
    ("(a+5)(b+2)", "ab+2a+5b+10", True),
    ("(a+5)(b+2)", "(b+2)(a+5)", True),
    ("-13x+3", "3-13x", True),
    ("6r^2-4r-24", "2(3r^2-2r-12)", True),
    ("15x - 80", "5(3x-16)", True),
    ("8n^2 + 4n + 1", "4n(2n+1)+1", True),
    (r"\frac{11+9a}{20}", r"\frac{11}{20}+\frac{9a}{20}", True),
    (r"\frac{11+9a}{20}", r"\frac{9a+11}{20}", True),
    ("5r^5", "5 r^5", True),
    ("5r^5", r"5\cdot r^5", True),
    ("3R^2", "3 R^2", True),
    ("2k", "k+k", True),
    ("x^2+2x+1", "(x+1)^2", True),
    ("p - q", "q - p", False),
    ("p-q", "P-Q", False),  # variables are case-sensitive
    ("3R^2", "3r^2", False),
    ("5r^5", "5r^4", False),
    ("5r^5", "(5r)^5", False),
    ("2k+2", "2k", False),
    ("2k", "2n", False),
    ("x^3+3x-6", "x^3+3x+6", False),
    ("(a+5)(b+2)", "(a+2)(b+5)", False),
    ("(a+5)(b+2)", "ab+10", False),
    ("-13x+3", "-13x-3", False),
    ("6r^2-4r-24", "6r^2-4r+24", False),
    ("x^5 - x^4 + x^3 - x^2 + x - 1", "x^5 + x^4 + x^3 + x^2 + x + 1", False),
    ("8n^2 + 4n + 1", "8n^2+4n", False),
    ("x^2+2x+1", "(x-1)^2", False),
    (r"\frac{11+9a}{20}", r"\frac{11+9a}{2}", False),
    (r"\frac{x}{2}", "0.5x", True),
    ("x^2-1", "(x-1)(x+1)", True),
    ("n(n+1)/2", r"\frac{n^2+n}{2}", True),
    (r"\binom{n}{2}", r"\frac{n(n-1)}{2}", True),
    ("2^{n+1}", r"2\cdot 2^n", True),
    ("xy", "yx", True),
    (r"\frac{1}{x}", "x^{-1}", True),
    ("x^2+5x+6", "(x+2)(x+3)", True),
    ("3x^2-2x", "x(3x-2)", True),
    (r"\frac{a\sqrt{3}}{2}", r"\frac{\sqrt{3}a}{2}", True),
    (r"\sqrt{a^2+b^2}", r"\sqrt{b^2+a^2}", True),
    ("a^2b", "ab^2", False),
    ("x", "X", False),
    ("(x+2)(x+3)", "(x+2)(x-3)", False),
    ("|x|", r"\sqrt{x^2}", True),
    (r"\sin x", r"\sin(x + 2\pi)", True),
    ("x", "|x|", False),  # equal only for x >= 0
    ("x", r"\sqrt{x^2}", False),
    ("x", r"\lfloor x \rfloor", False),
    ("2^n", "n^2", False),  # equal at n = 2 and n = 4 only
    ("x^2", r"x^2 + 10^{-30}x", False),
    ("x^2", "(x+10^{-35})^2", False),
    ("a+b", "a+b+10^{-30}ab", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(SYMBOLIC))
def test_symbolic_expressions(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 9: trigonometric identities and exact trig values ------------------------------------------------
TRIG = [
    (r"\cot x", r"\frac{\cos x}{\sin x}", True),
    (r"\cot x", r"\frac{1}{\tan x}", True),
    (r"\cot x", r"\cot(x)", True),
    (r"\tan x", r"\frac{\sin x}{\cos x}", True),
    ("1", r"\sin^2 x + \cos^2 x", True),
    (r"2\sin x\cos x", r"\sin 2x", True),
    (r"\cos 2x", r"1-2\sin^2 x", True),
    (r"\cos 2x", r"\cos^2 x - \sin^2 x", True),
    (r"\sec^2 x", r"1+\tan^2 x", True),
    (r"\frac{\sqrt{3}}{2}", r"\sin\frac{\pi}{3}", True),
    (r"\frac{\sqrt{3}}{2}", r"\sin 60^\circ", True),
    (r"\frac{1}{2}", r"\cos 60^\circ", True),
    (r"\cot x", r"\tan x", False),
    (r"\cot x", r"\cos x", False),
    (r"\cot x", r"-\cot x", False),
    (r"\cot x", r"\cot 2x", False),
    (r"\frac{\sqrt{3}}{2}", r"\sin 30^\circ", False),
    (r"\frac{\sqrt3}{2}", "0.866", False),
    (r"\sin 2x", r"2\sin x", False),
    (r"\cos 2x", r"2\cos x", False),
    (r"\tan x", r"\tan^{-1} x", False),
    (r"\cos 2x", r"1-2\cos^2 x", False),
    (r"\sin x", r"\cos(\frac{\pi}{2}-x)", True),
    ("1", r"\tan 45^\circ", True),
    (r"\frac{1}{2}", r"\sin 30^\circ", True),
    (r"\sqrt{3}", r"\tan 60^\circ", True),
    (r"\frac{\pi}{4}", r"\arctan 1", True),
    (r"\sin^2 x", r"\frac{1-\cos 2x}{2}", True),
    (r"\sqrt{3}", r"\tan 30^\circ", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(TRIG))
def test_trig(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 8: text answers (case, wrappers, leading article ignored; substrings are wrong) -------------------
TEXT = [
    (r"\text{Evelyn}", "Evelyn", True),
    (r"\text{Evelyn}", "evelyn", True),
    (r"\text{Evelyn}", r"\textbf{Evelyn}", True),
    (r"\text{east}", "East", True),
    (r"\text{east}", r"\text{East}", True),
    (r"\text{east}", r"\text{the east}", True),
    (r"\text{even}", "even", True),
    (r"\text{even}", r"\mathrm{even}", True),
    (r"\text{even}", r"\text{Even}", True),
    (r"\text{ellipse}", "an ellipse", True),
    (r"\text{ellipse}", r"\text{an ellipse}", True),
    (r"\text{ellipse}", "Ellipse", True),
    (r"\text{Navin}", "NAVIN", True),
    (r"\text{Navin}", r"\textbf{Navin}", True),
    (r"\text{Evelyn}", "Evelin", False),
    (r"\text{Evelyn}", "Evelyn and Navin", False),
    (r"\text{Evelyn}", r"\text{Evelyn or Navin}", False),
    (r"\text{east}", "west", False),
    (r"\text{east}", "northeast", False),  # a substring match is not a match
    (r"\text{even}", "odd", False),
    (r"\text{even}", "neither", False),
    (r"\text{even}", "not even", False),
    (r"\text{even}", r"\text{uneven}", False),
    (r"\text{ellipse}", "circle", False),
    (r"\text{ellipse}", "hyperbola", False),
    (r"\text{ellipse}", "ellip", False),
    (r"\text{Navin}", "Navi", False),
    (r"\text{Yes}", "yes", True),
    (r"\text{A parabola}", "parabola", True),
    (r"\text{Yes}", "no", False),
    (r"\text{Monday}", r"\text{Tuesday}", False),
    (r"\text{odd}", r"\text{neither}", False),
    (r"\text{ellipse}", r"\text{circle or ellipse}", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(TEXT))
def test_text_answers(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 8: multiple choice ------------------------------------------------------------------------------
MULTIPLE_CHOICE = [
    (r"\text{(C)}", "C", True),
    (r"\text{(C)}", "(C)", True),
    (r"\text{(C)}", r"\text{(C)}", True),
    (r"\text{(C)}", r"\textbf{(C)}", True),
    ("C", r"\text{(C)}", True),
    (r"\text{(E)}", "E", True),
    (r"\text{(E)}", r"\mathrm{(E)}", True),
    (r"\text{(B)}", "(B)", True),
    ("A", "A", True),
    ("A", "(A)", True),
    (r"\text{(C)}", "D", False),
    (r"\text{(C)}", "(D)", False),
    (r"\text{(C)}", "C, D", False),  # several options
    (r"\text{(C)}", "(C) and (D)", False),
    (r"\text{(C)}", "(C) or (E)", False),
    (r"\text{(C)}", "CD", False),
    (r"\text{(C)}", r"\text{(C)}, \text{(D)}", False),
    ("A", "B", False),
    ("A", "C", False),
    (r"\text{(B)}", r"\text{(A)}", False),
    (r"\text{(E)}", "(A), (E)", False),
    ("(D)", r"\textbf{(D) }", True),
    (r"\text{(A)}", r"\text{A}", True),
    ("D", r"\boxed{D}", True),
    (r"\mathrm{(D)}", "(D)", True),
    (r"\text{(C)}", r"\text{C}", True),
    (r"\textbf{(C) }", "C", True),
    (r"\text{(B)}", r"(B) \text{ and } (C)", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(MULTIPLE_CHOICE))
def test_multiple_choice(gold, candidate, expected):
    check(gold, candidate, expected)


CHOICE_PROBLEM = (
    "How many sides does the polygon have?\n"
    r"$\textbf{(A)}\ 8 \qquad\textbf{(B)}\ 10 \qquad\textbf{(C)}\ 12 \qquad\textbf{(D)}\ 14 \qquad\textbf{(E)}\ 16$"
)


@pytest.mark.parametrize(
    "gold,candidate,expected",
    table(
        [
            (r"\text{(C)}", r"\text{(C) } 12", True),  # the letter with its own option text
            (r"\text{(C)}", r"\textbf{(C)}\ 12", True),
            (r"\text{(C)}", r"\text{(C) } 14", False),  # the letter with another option's text
            (r"\text{(C)}", r"\text{(D) } 14", False),
        ]
    ),
)
def test_multiple_choice_with_option_text(gold, candidate, expected):
    check(gold, candidate, expected, problem=CHOICE_PROBLEM)


# --- Rule 7: bases: bare digits are read in the gold's base; another explicit base is another number --------
BASES = [
    (r"4210_{5}", "4210", True),
    (r"4210_{5}", "4210_5", True),
    ("52_8", "52", True),
    ("52_8", "52_{8}", True),
    ("2516_8", "2516_{8}", True),
    ("2516_8", "2516", True),
    ("204_5", "204", True),
    ("4343_6", "4343_{6}", True),
    ("40_9", "40_{9}", True),
    ("40_9", "40", True),
    (r"4210_{5}", "4210_6", False),
    (r"4210_{5}", "4201", False),
    ("52_8", "42", False),  # bare digits are base 8 here: 42_8 is not 52_8
    ("52_8", "52_{10}", False),
    ("204_5", "204_6", False),
    ("2516_8", "2516_9", False),
    ("40_9", "36", False),  # 36 is 40_9 converted to decimal, but bare digits read as base 9
    ("4343_6", "4343_7", False),
    ("4343_6", "3434", False),
    ("1011_2", "1011", True),
    ("1011_2", "1011_{2}", True),
    ("A3_{16}", "A3", True),  # letters are digits in base 16
    ("123_4", "123_{4}", True),
    ("1011_2", "11", False),
    ("10_2", "2", False),  # '2' is not even a base-2 numeral
    ("1011_2", "1011_{10}", False),
    ("4343_6", "4343", True),
]


@pytest.mark.parametrize("gold,candidate,expected", table(BASES))
def test_bases(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 6: scientific notation and large exact numbers --------------------------------------------------
SCIENTIFIC_LARGE = [
    ("26000", r"2.6\times10^4", True),
    ("26000", "2.6e4", True),
    ("26000", r"2.6 \cdot 10^{4}", True),
    (r"2.6\times10^4", "26000", True),
    (".0000672", r"6.72 \times 10^{-5}", True),
    (".0000672", "6.72e-5", True),
    (".0000672", "0.0000672", True),
    ("1267650600228229401496703205376", "2^{100}", True),
    ("2^{100}", "1267650600228229401496703205376", True),
    (r"11,\! 111,\! 111,\! 100", r"1.11111111 \times 10^{10}", True),
    ("1000000", "10^6", True),
    ("10^{6}", "1,000,000", True),
    ("3486784401", "3^{20}", True),
    ("1024", "2^{10}", True),
    ("1500", r"1.5\times 10^{3}", True),
    (r"6.02\times10^{23}", "602000000000000000000000", True),
    ("6290000", r"6.29\times10^6", True),
    ("26000", r"2.6\times10^3", False),
    ("26000", "2.6e3", False),
    ("2^{100}", "1267650600228229401496703205377", False),
    ("2^{100}", r"1.2676506\times10^{30}", False),  # an approximation of a large exact number
    ("2^{100}", "2^{99}", False),
    (r"\frac{1}{2^{99}}", r"\frac{1}{2^{98}}", False),  # tiny values are still different values
    ("2^{-99}", "2^{-98}", False),
    ("10^{-20}", "0", False),
    ("10^{-20}", "10^{-21}", False),
    (".0000672", r"6.72\times10^{-4}", False),
    ("1000000", "10^7", False),
    ("3486784401", "3486784400", False),
    ("6290000", r"6.287\times10^6", False),
    (r"1.2\times10^{-3}", "0.0012", True),
    ("0.0012", "1.2e-3", True),
    (r"5\times10^5", "500000", True),
    (r"1.5\cdot 10^{2}", "150", True),
    (r"3.0\times10^8", r"3\times10^8", True),
    ("1e3", "1000", True),
    ("2^{64}", "18446744073709551616", True),
    ("120", "5!", True),
    ("3628800", "10!", True),
    ("10", r"\binom{5}{2}", True),
    ("1", r"\frac{2^{100}}{2^{100}}", True),
    ("0", "2^{100}-2^{100}", True),
    (r"5\times10^5", r"5\times10^6", False),
    ("2^{64}", "18446744073709551615", False),  # 2^64 - 1
    ("720", "5!", False),
    ("2^{100}+1", "2^{100}", False),
    ("10^{30}", "10^{30}+1", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(SCIENTIFIC_LARGE))
def test_scientific_and_large_numbers(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 10: infinity, empty set, "no solution" -------------------------------------------------------
INFINITY_NO_SOLUTION = [
    (r"\infty", r"\infty", True),
    (r"\infty", r"+\infty", True),
    (r"\infty", "\u221e", True),
    (r"-\infty", "-\u221e", True),
    (r"\emptyset", r"\varnothing", True),
    (r"\emptyset", r"\{\}", True),
    (r"\emptyset", r"\text{no solution}", True),
    (r"\text{no solution}", r"\emptyset", True),
    (r"\emptyset", r"\text{No solutions}", True),
    (r"\infty", "-\\infty", False),
    (r"-\infty", r"\infty", False),
    (r"\emptyset", "0", False),
    (r"\emptyset", r"\{0\}", False),
    ("0", r"\emptyset", False),
    (r"\text{no solution}", "0", False),
    (r"\infty", "10^{100}", False),
    (r"\emptyset", r"\mathbb{R}", False),
    (r"\text{no solution}", r"\text{infinitely many solutions}", False),
    (r"(-\infty,\infty)", r"\text{all real numbers}", True),
    (r"\text{all real numbers}", r"\mathbb{R}", True),
]


@pytest.mark.parametrize("gold,candidate,expected", table(INFINITY_NO_SOLUTION))
def test_infinity_and_no_solution(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 3: numeric near-misses (no tolerance of any kind; no float round-off) ----------------------------
NUMERIC_NEAR_MISSES = [
    ("113", "113.0000001", False),
    ("113", "112.9999999", False),
    ("0", "0.0000001", False),
    ("0", "10^{-12}", False),
    ("1", "0.999999999", False),
    ("100", "99.99", False),
    ("3.14", r"\pi", False),
    ("12", "12.01", False),
    ("420", "419.99999", False),
    ("1.39", "1.3953", False),
    (r"\frac{60}{43}", "1.39", False),
    ("1000000", "999999", False),
    ("2", r"\sqrt{4.0001}", False),
    ("e", "2.71828", False),
    ("1", "1.0000000000000001", False),  # equal as IEEE doubles, not as numbers
    ("0.1", "0.10000000000000001", False),
    ("9007199254740993", "9007199254740992", False),  # 2^53 + 1 vs 2^53
    ("12345678901234567890", "12345678901234567891", False),
    ("12", "12.0", True),
    ("1", r"0.\overline{9}", True),  # an exact repeating decimal equal to 1
    ("0.1", r"\frac{1}{10}", True),
    ("1", r"\frac{7}{7}", True),
    ("9007199254740993", "9007199254740993.0", True),
    ("12345678901234567890", "12,345,678,901,234,567,890", True),
    ("0.5", "0.50000001", False),
    ("2", "1.9999999999999999", False),  # rounds to 2.0 as a double
    ("3", "2.9999999999999998", False),
    ("10^{-10}", "0", False),
    ("-0.5", "0.5", False),
    ("0", "10^{-100}", False),
    ("10^{-100}", "10^{-101}", False),
    ("1", "1 + 10^{-30}", False),
    ("1", "1.0000000000000000000000000000001", False),
    (r"\frac{1}{3}", "0.33333333333333333333333333333333", False),
    (r"\ln 2", "0.693", False),
    ("e^2", "7.389", False),
    ("100", "100.0", True),
    ("1.5", "1.50", True),
    ("1", "1.0e0", True),
    ("3", r"\lfloor \pi \rfloor", True),
    ("4", r"\lceil \pi \rceil", True),
    ("5", "|-5|", True),
    (r"\log_2 3", r"\frac{\ln 3}{\ln 2}", True),
    ("2", r"\log_3 9", True),
    (r"\frac{1}{8}", "2^{-3}", True),
    ("e^2", "e^{2}", True),
    ("1", "1^{100}", True),
    ("6", r"2\cdot3", True),
    ("3", r"3\times1", True),
]


@pytest.mark.parametrize("gold,candidate,expected", table(NUMERIC_NEAR_MISSES))
def test_numeric_near_misses(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 3 at high precision: agreement to many digits is not equality (no relative tolerance at any scale) --
# Irrational values differ from a perturbed copy only far beyond double precision; each difference is exact
# and cheap to see symbolically (e.g. (pi + 10^-70) - pi = 10^-70), so "agree to N digits" must not decide.
HIGH_PRECISION = [
    (r"\pi", r"\pi+10^{-70}", False),
    (r"\sqrt{2}", r"\sqrt{2}+10^{-70}", False),
    (r"\pi", r"\pi(1+10^{-65})", False),
    (r"\pi", r"\pi + 2^{-200}", False),
    (r"\sqrt{2}", r"\sqrt{2 + 10^{-50}}", False),
    (r"\frac{1}{\sqrt{2}}", r"\frac{1}{\sqrt{2}} - 10^{-100}", False),
    ("640320^3+744", r"e^{\pi\sqrt{163}}", False),  # Ramanujan's constant: equal to 12 decimals, not equal
    (r"\sqrt{2}", r"\frac{665857}{470832}", False),
    (r"\pi", r"\frac{355}{113}", False),
    (r"\frac{\pi}{4}", r"4\arctan\frac{1}{5} - \arctan\frac{1}{239}", True),  # Machin's formula: exact
    ("0", r"\sin(\pi)", True),
    ("1", r"\cos^2(10^{10}) + \sin^2(10^{10})", True),
    (r"\frac{1}{3}", r"\frac{10^{40}}{3\cdot 10^{40}+1}", False),
    (r"\frac{1}{x}", r"\frac{1}{x+10^{-50}}", False),
    (r"\sin x", r"\sin(x+10^{-40})", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(HIGH_PRECISION))
def test_high_precision_agreement_is_not_equality(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Rule 11: malformed and adversarial input ---------------------------------------------------------
MALFORMED = [
    (r"\frac{1}{2}", r"\boxed{\frac{1}{2}}", True),  # candidates may arrive still wrapped
    (r"\frac12", r"$\frac{1}{2}$", True),
    ("5", r"\boxed{\boxed{5}}", True),
    (r"\frac{4}{3}", r"\displaystyle\frac43", True),
    ("7", r"\,7\,", True),
    ("7", "{7}", True),
    ("7", "{{7}}", True),
    ("2", r"\mathbf{2}", True),
    ("2", r"\textbf{2}", True),
    ("12", r"\(12\)", True),
    ("12", "$$12$$", True),
    ("3", r"3\!", True),
    ("5", r"\quad 5", True),
    ("1+2i", r"1+2i\;", True),
    (r"(3,4]", r"\left( 3 , 4 \right]", True),
    ("0", r"10^{10^{10}}-10^{10^{10}}", True),  # exact reasoning is cheap here
    (r"\frac{1}{2}", r"\frac{1}{2", False),  # unbalanced braces
    ("5", r"\boxed{5", False),
    ("5", "{5", False),
    ("5", "5}", False),
    ("12", r"\frac{12}{", False),
    ("5", "", False),
    ("5", "   ", False),
    (r"\frac{3}{2}", r"\frac{3}{2} \text{ or } \frac{2}{3}", False),  # hedges
    (r"\frac32", "3/2 or 2/3", False),
    ("5", "5 or 6", False),
    ("5", "5, 6", False),  # several answers to a single-valued question
    ("5", "5, 5, 6", False),
    ("2", r"2^{10^{10}}", False),
    ("1", r"10^{10^{10}}", False),
    ("0", "((9!)!)!", False),
    ("1", r"\frac{1}{0}", False),
    ("0", r"\frac{0}{0}", False),
    ("5", r"\text{5}", True),
    (r"\frac{1}{2}", r"\left(\frac{1}{2}\right)", True),
    ("-3", "(-3)", True),
    ("5", r"\boxed{5}\boxed{6}", False),  # two boxed answers
    (r"\frac{1}{2}", r"\frac{1}{2}}", False),
    ("5", "x", False),
    ("5", r"\text{5 or 6}", False),
    ("5", r"\boxed{}", False),
    ("2", r"2 \text{ or } -2", False),
    (r"\frac{1}{3}", r"\approx 0.333", False),
    ("5", r"\boxed{5}}", False),
    (r"\frac12", r"\frac{1}{2}\%", False),
    ("2", r"x = 2 \text{ or } x = -2", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(MALFORMED))
def test_malformed_and_adversarial(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Real model-output shapes (from ../shared/data/qwen25math7b_math_cot_100.jsonl and AMC/AIME golds) ------
REAL_OUTPUTS = [
    (r"\text{4:30 p.m.}", r"4:30 \text{ p.m.}", True),
    (r"\text{4:30 p.m.}", "4:30", True),
    (r"\text{4:30 p.m.}", r"4:30 \text{ a.m.}", False),
    (r"\text{4:30 p.m.}", r"4:03 \text{ p.m.}", False),
    (r"10{,}000", "10000", True),
    (r"10{,}000", r"9999 \frac{6}{7}", False),
    (r"10{,}000", "9999.857142857143", False),
    (r"10{,}000", "9999", False),
    ("12", "1.39", False),
    (r"12\frac{3}{5}", r"12 \frac{3}{5}", True),
    (r"1\frac{1}{10}", r"1 \frac{1}{10}", True),
    ("50,625", "50625", True),
    ("50,625", "759375", False),
    ("28", r"\sqrt{34} + 3\sqrt{10}", False),
    (r"\frac{3}{8}", r"\frac{5}{16}", False),
    ("6290000", "6287000", False),
    ("31", r"19 \text{ square units}", False),
    ("27.0", r"\boxed{27}", True),
    ("27.0", "27.5", False),
    ("025", r"\boxed{025}", True),
    ("025", r"\boxed{25}", True),
    ("204", "204.0", True),
    ("113", r"$\boxed{113}$", True),
    ("A", "C", False),
]


@pytest.mark.parametrize("gold,candidate,expected", table(REAL_OUTPUTS))
def test_real_output_shapes(gold, candidate, expected):
    check(gold, candidate, expected)


# --- Safety: model output is never executed --------------------------------------------------------------
def test_injection_strings_are_not_executed(tmp_path):
    sentinel = tmp_path / "pwned"
    attacks = [
        f"__import__('pathlib').Path({str(sentinel)!r}).touch()",
        f"exec(\"open({str(sentinel)!r}, 'w').write('x')\")",
        f"eval(\"__import__('os').system('touch {sentinel}')\")",
        f"(lambda: __import__('os').system('touch {sentinel}'))()",
        r"\input{/etc/passwd}",
        "x.__class__.__mro__[1].__subclasses__()",
    ]
    for attack in attacks:
        for gold, candidate in ((attack, "1"), ("1", attack)):
            verdict = grade(gold, candidate)
            assert verdict.equal is False, (gold, candidate, verdict)
            assert verdict.rule.strip() and verdict.reason.strip()
    assert not sentinel.exists(), "a grader input was executed"


def test_same_pair_same_verdict_and_is_equivalent_agrees():
    # Determinism: a pair graded twice gets the same verdict; is_equivalent is the verdict's bool.
    pairs = [(r"\frac{1}{2}", "0.5"), (r"\frac{1}{3}", "0.333"), ("(3,4]", "[3,4]"), (r"6 - 5i", "6+(-5)i")]
    for gold, candidate in pairs:
        first, second = grade(gold, candidate), grade(gold, candidate)
        assert first == second
        assert is_equivalent(gold, candidate) is first.equal


# --- Metamorphic checks over every real gold of MATH-500, AIME24 and AMC23 ----------------------------------
_NOT_A_SCALAR = re.compile(r",|=|\\text|\\begin|\\cup|\\infty|\\pm|_|\\mbox|\\in|\(.*,|\[|\]|\\\$")
_ALLOWED_MACRO = re.compile(r"\\(?!frac|dfrac|tfrac|sqrt|pi|circ|left|right|cdot)[a-zA-Z]+")


def _golds(shared_data) -> list[str]:
    golds = []
    for name, count in (("math500.jsonl", 500), ("aime24.jsonl", 30), ("amc23.jsonl", 40)):
        with (shared_data / name).open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        assert len(rows) == count, name
        golds += [str(row["answer"]) for row in rows]
    return golds


def _is_numeric_scalar(gold: str) -> bool:
    """A single number with no letters (fractions, radicals, pi, degrees allowed)."""
    if _NOT_A_SCALAR.search(gold) or _ALLOWED_MACRO.search(gold):
        return False
    return not re.search(r"[a-zA-Z]", re.sub(r"\\[a-zA-Z]+", "", gold)) and gold.strip() != "0"


def test_every_real_gold_equals_its_renderings(shared_data):
    # Reflexivity plus the wrappers a completion adds: \boxed, $..$, spaces, \dfrac, \displaystyle.
    failures = []
    for gold in _golds(shared_data):
        renderings = [
            gold, r"\boxed{" + gold + "}", f"${gold}$", f"  {gold} ", gold.replace(r"\frac", r"\dfrac"),
            r"\displaystyle " + gold,
        ]
        failures += [(gold, c, grade(gold, c).reason) for c in renderings if not grade(gold, c).equal]
    assert not failures, "\n".join(map(repr, failures))


def test_every_real_numeric_gold_rejects_perturbations(shared_data):
    # For a nonzero number x: -x, 2x, x+1, x+1/1000 are all different numbers (and n+1, n-1, n·10+1 for integers).
    failures, scalars = [], 0
    for gold in _golds(shared_data):
        if re.fullmatch(r"-?\d+(\.0)?", gold):
            n = int(float(gold))
            for candidate in (str(n + 1), str(n - 1), str(n * 10 + 1)):
                failures += [(gold, candidate)] if grade(gold, candidate).equal else []
        if not _is_numeric_scalar(gold):
            continue
        scalars += 1
        for candidate in (f"-({gold})", f"2({gold})", f"({gold})+1", f"({gold})+\\frac{{1}}{{1000}}"):
            failures += [(gold, candidate)] if grade(gold, candidate).equal else []
    assert scalars > 400  # the filter must not silently drop the data set
    assert not failures, "\n".join(map(repr, failures))
