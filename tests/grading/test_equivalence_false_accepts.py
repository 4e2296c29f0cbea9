"""False-accept hunt: pairs a lenient checker accepts but a careful labeler following the policy rejects.

The three red teams mostly fixed false rejects by adding leniencies (restatements, glosses, spaced unit
letters, labels on either side, named trig values, collections written several ways, magnitude words,
repeating ellipses, the seeded-point test for expressions).  Each table below attacks one leniency with
near-misses that must stay FALSE, next to the true twins that must keep passing.  Rows marked "fixed"
were accepted by checker 1.0.2.
"""
from __future__ import annotations

import pytest

from .tables import assert_both_labels, category_params, check

P_NUMBERS = "Which is right? (A) 8 (B) 10 (C) 12 (D) 14 (E) 16"
P_FRACTIONS = (
    r"What is it? $\textbf{(A) }\frac12\qquad\textbf{(B) }\frac23\qquad\textbf{(C) }\frac34\qquad"
    r"\textbf{(D) }1\qquad\textbf{(E) }\frac54$"
)
P_DAYS = "On which day? (A) Monday (B) Tuesday (C) Wednesday (D) Thursday (E) Friday"
P_SHAPES = "What is the curve? (A) circle (B) line (C) parabola (D) hyperbola (E) ellipse"

# Rule 8: a letter with the text of ANOTHER option names two different answers.
CHOICE_LETTER_AND_TEXT = [
    ("12", "(C) 14", False, P_NUMBERS),  # fixed: (C) is 12, 14 is option (D)
    ("12", "C: 14", False, P_NUMBERS),  # fixed
    (r"\frac34", r"(C) \frac23", False, P_FRACTIONS),  # fixed
    (r"\text{Monday}", "(A) Tuesday", False, P_DAYS),  # fixed: (A) is Monday, the text says Tuesday
    ("ellipse", "(E) hyperbola", False, P_SHAPES),  # fixed
    ("ellipse", "(D) ellipse", False, P_SHAPES),  # (D) is hyperbola
    ("ellipse", "(E) ellipse", True, P_SHAPES),
    ("ellipse", "(D) ellipse", True),  # without the options the candidate's own text is its answer
    ("12", "(D) 12", False, P_NUMBERS),
    ("12", "(D) 14", False, P_NUMBERS),
    ("1", r"(D) \frac54", False, P_FRACTIONS),  # fixed
    ("12", "(C) 12", True, P_NUMBERS),
    ("12", "C: 12", True, P_NUMBERS),
    ("12", "(C)", True, P_NUMBERS),
    (r"\frac34", r"\textbf{(C) }\frac34", True, P_FRACTIONS),
    (r"\frac34", r"(C) 0.75", True, P_FRACTIONS),
    (r"\text{Monday}", "(A) Monday", True, P_DAYS),
    (r"\text{Monday}", "(A)", True, P_DAYS),
    ("12", "(C) 14", False),  # no options at hand: the candidate's own text is its answer
    ("12", "(C) 12", True),
]

# Rule 8: several options are wrong, also when each letter carries its text.
CHOICE_SEVERAL = [
    ("C", r"(C) 12, (D) 14", False),  # fixed
    ("C", r"(C) 12 \text{ or } (D) 14", False),  # fixed
    (r"\text{(C)}", r"(C) 12 \text{ and } (D) 14", False, P_NUMBERS),
    ("C", "C or D", False),
    ("C", "(C) and (D)", False),
    (r"\text{(C)}", r"\text{(C), (D)}", False),
    (r"\text{(C)}", r"12 \text{ or } 14", False, P_NUMBERS),
    (r"\text{(C)}", "12, 14", False, P_NUMBERS),
    ("C", "(C) 12", True),
    ("C", "C: 12", True, P_NUMBERS),
    (r"\text{(C)}", r"\textbf{(C) }12", True, P_NUMBERS),
    ("C", r"\text{The answer is (C)}", True),
    ("5", "(B) f(A) = 5", True),  # `f(A)` inside the option text is not a second option
]

# Seeded test points: expressions that agree on (-2.8, -0.3) and (0.3, 2.8), or whenever all
# variables share one sign, or everywhere except at the integers.
SYMBOLIC_POINTS = [
    ("|x-3|", "3-x", False),  # fixed: equal for every x <= 3
    ("|x - 5|", "5 - x", False),  # fixed
    ("|x+3|", "x+3", False),  # fixed: equal for every x >= -3
    (r"\sqrt{(x-3)^2}", "3 - x", False),  # fixed
    (r"\sqrt{x^2 - 6x + 9}", "3 - x", False),  # fixed
    ("|x^2 - 9|", "9 - x^2", False),  # fixed
    (r"\max(x, 3)", "3", False),  # `\max` is compared as text, never through the test points
    (r"\min(x, 3)", "x", False),
    ("|xy|", "xy", False),  # fixed: equal whenever x and y share a sign
    (r"\sqrt{x^2y^2}", "xy", False),  # fixed
    ("|x|+|y|", "|x+y|", False),  # fixed
    ("|abc|", "abc", False),  # fixed
    (r"\lceil x \rceil", r"\lfloor x \rfloor + 1", False),  # fixed: they differ exactly at the integers
    (r"\lfloor x \rfloor", r"\lceil x \rceil - 1", False),  # fixed
    (r"\lfloor x/10 \rfloor", r"\lfloor x/20 \rfloor", False),  # fixed
    ("|x|", "x", False),
    (r"\sqrt{x^2}", "x", False),
    (r"\lfloor x \rfloor", "x", False),
    ("|a - b|", "a - b", False),
    ("x - 3", "|x - 3|", False),
    ("|x-3|", r"\sqrt{(x-3)^2}", True),
    ("|x-3|", r"\sqrt{x^2-6x+9}", True),
    ("|xy|", r"|x||y|", True),
    (r"\sqrt{x^2y^2}", "|xy|", True),
    (r"\lceil x \rceil", r"-\lfloor -x \rfloor", True),
    (r"\lfloor 2x \rfloor", r"\lfloor x \rfloor + \lfloor x + \frac12 \rfloor", True),
    (r"\sqrt{ab}", r"\sqrt{a}\sqrt{b}", True),
    ("(x-3)^2", "x^2 - 6x + 9", True),
    (r"\frac{x^2-9}{x-3}", "x+3", True),
    (r"\sqrt{1-x^2}", r"\sqrt{1-x}\sqrt{1+x}", True),
]

# Equations through the points above (same locus), and the label leniency on either side.
LABELS = [
    ("3x-1", "x = 3x - 1", False),  # fixed: `x` occurs on the right, so this is an equation to solve
    ("2x+3", "x = 2x+3", False),  # fixed
    ("12", "AB^2 = 12", False),  # fixed: AB^2 = 12 makes AB = 2 sqrt 3
    ("5", "x^2y = 5", False),  # fixed
    ("12", "12 = 2n", False),
    ("12", "n^2 = 12", False),
    ("5", "2x = 5", False),
    ("5", "x + 1 = 5", False),
    ("3x-1", "3x - 1 = 2y", False),
    ("y = |x|", "y = x", False),
    ("y = |x - 2|", "y = 2 - x", False),
    ("3x-1", "y = 3x - 1", True),
    ("3x-1", "3x-1 = y", True),
    ("3x-1", "f(x) = 3x-1", True),
    ("12", "12 = n", True),
    ("12", "AB = 12", True),
    ("5", "f(2) = 5", True),
    ("5", "f^{-1}(2) = 5", True),
    ("5", "a + b = 5", True),
    ("y = |x - 2|", r"y = \sqrt{(x-2)^2}", True),
]

# Rule 5: a degree mark on a multiple of pi is pi/6 degrees, not pi/6 radians.
DEGREES_OF_PI = [
    (r"\frac{\pi}{6}", r"\frac{\pi}{6}^\circ", False),  # fixed
    (r"\pi", r"\pi^\circ", False),  # fixed
    (r"2\pi", r"2\pi^\circ", False),  # fixed
    (r"\frac{\pi}{6}^\circ", r"\frac{\pi}{6}", False),  # fixed
    (r"\frac{\pi}{6}", r"30^\circ", False),
    (r"30^\circ", r"\frac{\pi}{6}", False),
    (r"30^\circ", r"30 \text{ radians}", False),
    (r"\frac{\pi}{2}", "90", False),
    (r"\frac{\pi}{6}", r"\frac{\pi}{6}", True),
    (r"\frac{\pi}{6}", r"\frac{\pi}{6} \text{ radians}", True),
    (r"\frac{\pi}{6}^\circ", r"\frac{\pi}{6}^\circ", True),
    (r"\frac{180}{\pi}", r"\left(\frac{180}{\pi}\right)^\circ", True),  # degrees in one radian
    ("30", r"30^\circ", True),
    (r"\sin 30^\circ", r"\frac12", True),
]

# Matrices: `^T` on a matrix written as bracketed rows transposes it.
MATRICES = [
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", "[[1,2],[3,4]]^T", False),  # fixed
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}^T", False),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", "[[1,3],[2,4]]", False),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", "(1,2,3,4)", False),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", "(1,2),(3,4)", False),
    (r"\begin{pmatrix}1\\2\\3\end{pmatrix}", r"\begin{pmatrix}3\\2\\1\end{pmatrix}", False),
    (r"\begin{pmatrix}1\\2\\3\end{pmatrix}", r"\{1,2,3\}", False),
    (r"\begin{pmatrix}2&0\\0&2\end{pmatrix}", "2", False),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", "[[1,3],[2,4]]^T", True),  # fixed (was a false reject)
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", "[[1,2],[3,4]]", True),
    (r"\begin{pmatrix}1&3\\2&4\end{pmatrix}", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}^T", True),
    (r"\begin{pmatrix}1\\2\\3\end{pmatrix}", "(1,2,3)^T", True),
    (r"\begin{pmatrix}2&0\\0&2\end{pmatrix}", r"2\begin{pmatrix}1&0\\0&1\end{pmatrix}", True),
]

# Restatements and glosses: one value in several forms is one answer; a second value is a hedge.
RESTATEMENTS = [
    (r"\frac52", r"\frac52 \text{ or } 3", False),
    (r"\frac72", r"\frac72\ (3.6)", False),
    ("3", "3 (4)", False),
    (r"\frac12", r"\frac12 (\text{or } 60\%)", False),
    (r"\frac12", r"\frac12 (0.6)", False),
    ("12", r"12 (\text{if order matters; } 6 \text{ otherwise})", False),
    ("6", r"12 (\text{if order matters; } 6 \text{ otherwise})", False),
    (r"\frac{7}{3}", r"\frac73 \text{ or } 2.33", False),  # an approximation is not a rendering
    (r"\frac{7}{3}", r"2.33 (\frac73)", False),
    (r"\frac73", r"\frac73 \text{ or } \frac83", False),
    (r"\pi", r"\pi \text{ or } 3.14", False),
    ("2", r"2 \text{ or } -2", False),
    ("2", r"\sqrt4, -\sqrt4", False),
    ("5", r"\pm 5", False),
    ("3", "3, 4", False),
    ("3", r"x = 3 \text{ and } x = 4", False),
    ("3", r"3 \text{ or more}", False),
    ("1, 2", "1, 2, 2.0", False),
    (r"\{1,2\}", r"\{1,1,2\}", False),
    (r"\frac52", r"\frac52 \text{ or } 2.5", True),
    (r"\frac72", r"\frac72\ (3.5)", True),
    (r"\frac12", r"\frac12 (\text{or } 50\%)", True),
    ("2", r"2, \sqrt4", True),
    (r"\sqrt2", r"\sqrt2 \approx 1.414", True),
]

# Magnitude words, repeating ellipses, number words: the exact value or nothing.
WORDS_AND_ELLIPSES = [
    ("1500000", r"1.5 \text{ billion}", False),
    ("1500", r"1.5 \text{ million}", False),
    ("15", r"1.5 \text{ million}", False),
    ("36", r"3 \text{ dozen} + 1", False),
    ("5", r"5 \text{ squared}", False),
    ("125", r"5 \text{ squared}", False),
    (r"\frac13", "0.333", False),
    (r"\frac13", "0.3...", False),
    (r"\frac13", "0.33...", False),
    (r"\frac13", "0.3334...", False),
    (r"\frac17", "0.142...", False),
    (r"\frac16", "0.17...", False),
    (r"\frac23", "0.667...", False),
    (r"\pi", "3.14159...", False),
    (r"\sqrt2", "1.414...", False),
    ("42", "twenty-four", False),
    ("42", "forty-three", False),
    ("42", "forty-two thousand", False),
    ("-42", "forty-two", False),
    ("1500000", r"1.5 \text{ million}", True),
    ("36", r"3 \text{ dozen}", True),
    ("25", r"5 \text{ squared}", True),
    (r"\frac13", "0.333...", True),
    (r"\frac16", "0.1666...", True),
    (r"\frac{1}{11}", "0.090909...", True),
    ("42", "forty-two", True),
]

# Units and marks: a unit letter is not a digit, and a foot mark is not a second number.
UNITS_AND_MARKS = [
    ("12", "12 km + 1", False),
    ("12", "1.2 cm", False),
    ("12", r"12 \cdot 10^3", False),
    ("12", "12x", False),
    ("x", "x m", False),
    ("13", "1' 1\"", False),
    (r"22.5^\circ", r"22^\circ 3'", False),
    ("22", r"22^\circ 30'", False),
    ("12", "12 m", True),
    ("12", "12 kg", True),
    ("12", "12'", True),
    (r"22.5^\circ", r"22^\circ30'", True),
]

# Numeric near-misses: exact golds against long decimals, tiny and huge differences.
NEAR_MISSES = [
    (r"\pi", "3.14159265358979323846", False),
    (r"\pi", r"\frac{355}{113}", False),
    (r"\sqrt2", r"\frac{665857}{470832}", False),
    ("0", "10^{-1000}", False),
    ("1", "1 - 2^{-10000}", False),
    ("10^{3000}", "10^{3000}+1", False),
    ("2^{20000}", "2^{20000}+1", False),
    ("100!", "100!+1", False),
    (r"e^{100}", r"e^{100}+1", False),
    (r"\sqrt{10^{200}+1}", "10^{100}", False),
    (r"\sqrt{2}+\sqrt{3}", r"\sqrt{5+2\sqrt6}+10^{-60}", False),
    (r"\frac{1}{3}", "0.33333333333333333333333333333333333333333333333333333333333333333", False),
    ("0", "e^{-10^{5}}", False),  # fixed: e^(-100000) is tiny, not zero (its exponent is a power of ten)
    ("x", "x + e^{-10^{5}}", False),  # fixed
    ("0", r"e^{-1000}", False),
    ("0", r"e^{10^{10}} - e^{10^{10}}", True),  # equal terms cancel before the precision is chosen
    ("x", r"x + e^{10^{10}} - e^{10^{10}}", True),  # fixed (was a false reject)
    ("0", r"\sin(\pi)", True),
    (r"\sqrt{2}+\sqrt{3}", r"\sqrt{5+2\sqrt6}", True),
    ("2^{20000}", "2^{20000}", True),
]

# An exact answer with its decimal value: the decimal must be that value, rounded or cut.
STATED_APPROXIMATIONS = [
    (r"\frac13", r"\frac13 \approx 0.5", False),  # fixed: the stated value is a second, wrong answer
    (r"\sqrt2", r"\sqrt2 \approx 1.5", False),  # fixed
    (r"\sqrt2", r"\sqrt2 \approx 1.42", False),  # fixed
    ("5", r"5 \approx 5.1", False),  # fixed
    (r"-\frac23", r"-\frac23 \approx -0.68", False),  # fixed
    (r"\frac{1}{36}", r"\boxed{\frac{1}{36} \approx 0.0287}", False),  # fixed
    (r"\frac13", r"\approx 0.333", False),
    (r"\pi", r"\approx 3.14", False),
    (r"\frac13", r"\frac13 \approx 0.333", True),
    (r"\frac{1}{36}", r"\frac{1}{36} \approx 0.028", True),
    (r"\frac{1}{36}", r"\boxed{\frac{1}{36} \approx 0.0278}", True),
    (r"\frac{1}{36}", r"\frac{1}{36} \approx 0.027", True),  # cut, not rounded
    (r"\sqrt2", r"\sqrt2 \approx 1.41", True),
    (r"\pi", r"\pi \approx 3.1416", True),
    (r"-\frac23", r"-\frac23 \approx -0.67", True),
    ("5", r"\approx 5", True),
    (r"\pi", r"\pi \approx 3.14159265358979323846264339", False),  # fixed: the 26th place is 8
    (r"\pi", r"\pi \approx 3.14159265358979323846264338", True),
    (r"30^\circ", r"30^\circ \approx 0.52", True),  # the value in radians: another unit, not checked
]

# Fraction words scale the number; they are not units to drop.
FRACTION_WORDS = [
    ("5", r"5 \text{ hundredths}", False),  # fixed: 5 hundredths is 0.05
    ("5", "5 thousandths", False),  # fixed
    ("3", "3 tenths", False),  # fixed
    ("0.05", r"5 \text{ hundredths}", True),
    ("0.3", "3 tenths", True),
    ("5", r"5\text{th}", True),
    ("300", r"3 \text{ hundred}", True),
]

# Inequalities and intervals: the constrained variable, redundant bounds, inclusion at the ends.
INEQUALITIES = [
    ("x > 3", "y > 3", False),  # fixed: like `x = 5` vs `y = 5`, a different variable
    (r"x < 1 \text{ or } x > 2", r"y < 1 \text{ or } y > 2", False),  # fixed
    (r"x \ne 2", r"y \ne 2", False),  # fixed
    ("x > 3", "x > 3, x > 4", False),  # fixed: two lower bounds are two answers
    ("x < 5", r"x < 5 \text{ and } x < 7", False),
    ("x > 3", r"x \ge 3", False),
    ("x > 3", "x < 3", False),
    ("x > 3", r"[3, \infty)", False),
    ("(3, 5)", "(3, 5]", False),
    ("(3, 5)", "(3,4)\\cup(4,5)", False),
    ("(3, 5)", "(5, 3)", False),
    ("[1, 2]", r"\{1, 2\}", False),
    (r"\{1, 2\}", "[1, 2]", False),
    (r"(-\infty,3)\cup(5,\infty)", "(3,5)", False),
    ("x > 3", "3 < x", True),
    ("x > 3", r"(3, \infty)", True),
    ("x > 2a", r"(2a, \infty)", True),
    ("(3, 5)", "3 < y < 5", True),  # an interval gold names no variable
    ("(3, 5)", "x > 3, x < 5", True),
    (r"x < 3 \text{ or } x > 5", r"(-\infty,3)\cup(5,\infty)", True),
    ("(3, 5)", "(3,4]\\cup(4,5)", True),
    (r"(-\infty, 2) \cup (2, \infty)", r"x \ne 2", True),
]

TABLES = {
    "choice letter and text": CHOICE_LETTER_AND_TEXT,
    "choice several": CHOICE_SEVERAL,
    "symbolic points": SYMBOLIC_POINTS,
    "labels": LABELS,
    "degrees of pi": DEGREES_OF_PI,
    "matrices": MATRICES,
    "restatements": RESTATEMENTS,
    "words and ellipses": WORDS_AND_ELLIPSES,
    "units and marks": UNITS_AND_MARKS,
    "near misses": NEAR_MISSES,
    "stated approximations": STATED_APPROXIMATIONS,
    "fraction words": FRACTION_WORDS,
    "inequalities": INEQUALITIES,
}


@pytest.mark.parametrize(("gold", "candidate", "expected", "problem"), category_params(TABLES))
def test_false_accepts(gold, candidate, expected, problem):
    check(gold, candidate, expected, problem)


def test_every_table_has_both_labels():
    assert_both_labels(TABLES)
