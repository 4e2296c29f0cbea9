"""Third red team: hidden-set-style equivalence pairs for `grade(gold, candidate)` (issue 2, section 3).

Written from the policy text and the golds of MATH-500 / AIME24 / AMC23 before reading the earlier red
teams' tables: one table per category of the hidden set, true rows (valid rewrites a strict checker
rejects) and false rows (near-misses a lenient one accepts).  This pass dug into unusual golds
(`\\text{(C)}`, `x \\in [-2,7]`, `\\frac{270}7\\text{ degrees}`, base subscripts, `\\$32,\\!348`) and
answers that restate the question (`\\sin 2\\theta = ..`, `\\frac72 \\text{ or } 3.5`, `\\{(2,3)\\}`).
Rows marked "judgment call" decide questions the policy leaves open; the README documents them.
"""
from __future__ import annotations

import pytest

from stepkto_eval.grading import grade

from .tables import assert_both_labels, category_params, check

P_NUMBERS = "Which is right? (A) 8 (B) 10 (C) 12 (D) 14 (E) 16"
P_FRACTIONS = (
    r"What is it? $\textbf{(A) }\frac12\qquad\textbf{(B) }\frac23\qquad\textbf{(C) }\frac34\qquad"
    r"\textbf{(D) }1\qquad\textbf{(E) }\frac54$"
)
P_PERCENT = "What percent of the students passed?"
P_DAYS = "On which day? (A) Monday (B) Tuesday (C) Wednesday (D) Thursday (E) Friday"

INTEGER_FORMATS = [
    (r"025", r"25", True),
    (r"25", r"025", True),
    (r"25", r"0025", True),
    (r"27.0", r"27", True),
    (r"27", r"27.00", True),
    (r"10080", r"10,080", True),
    (r"10,\!080", r"10080", True),
    (r"10,\!080", r"10\,080", True),
    (r"10{,}080", r"10 080", True),
    (r"1000000", r"1,000,000", True),
    (r"1000000", r"10^6", True),
    (r"1000000", r"1{,}000{,}000", True),
    (r"-7", r"−7", True),
    (r"7", r"+7", True),
    (r"-7", r"7", False),
    (r"1,234", r"1.234", False),  # rule 6: a decimal point is not a thousands separator
    (r"12", r"1,2", False),
    (r"150", r"15", False),
    (r"150", r"1500", False),
    (r"36", r"\boxed{36}", True),
    (r"36", r"$36$", True),
    (r"36", r"\(36\)", True),
    (r"36", r"36.", True),
    (r"36", r"36.5", False),
    (r"0", r"-0", True),
    (r"100", r"1 00", False),
    (r"2016", r"2,016", True),
    (r"2016", r"20,16", False),  # rule 6: a comma not in groups of three is a list, not a separator
    (r"1,2", r"1,2", True),
    (r"58,500", r"58500", True),
    (r"58,500", r"58.5", False),
    (r"11,\! 111,\! 111,\! 100", r"11111111100", True),
    (r"11,\! 111,\! 111,\! 100", r"11,111,111,100", True),
    (r"11,\! 111,\! 111,\! 100", r"1111111100", False),
    (r"42", r"\mathbf{42}", True),
    (r"42", r"\textbf{42}", True),
    (r"42", r"forty-two", True),  # rule 6: a hyphenated number word is the number
    (r"42", r"\text{forty two}", True),
    (r"5", r"five", True),
    (r"5", r"six", False),
]

UNITS = [
    (r"864 \mbox{ inches}^2", r"864", True),
    (r"864 \mbox{ inches}^2", r"864 \text{ in}^2", True),
    (r"864 \mbox{ inches}^2", r"864\text{ square inches}", True),
    (r"864 \mbox{ inches}^2", r"846", False),
    (r"15\mbox{ cm}^2", r"15", True),
    (r"15\mbox{ cm}^2", r"15 \, \text{cm}^2", True),
    (r"15\mbox{ cm}^2", r"15\text{cm}^{2}", True),
    (r"15\mbox{ cm}^2", r"150 \text{ mm}^2", False),
    (r"5.4 \text{ cents}", r"5.4", True),
    (r"5.4 \text{ cents}", r"5.4\text{ cents}", True),
    (r"5.4 \text{ cents}", r"\$0.054", False),
    (r"5.4 \text{ cents}", r"54", False),
    (r"\$18.90", r"18.90", True),
    (r"\$18.90", r"18.9", True),
    (r"\$18.90", r"\$18.9", True),
    (r"\$18.90", r"\$ 18.90", True),
    (r"\$18.90", r"\$1890", False),
    (r"\$18.90", r"18.09", False),
    (r"\$32,\!348", r"32348", True),
    (r"\$32,\!348", r"\$32,348", True),
    (r"\$32,\!348", r"\$32,348.00", True),
    (r"\$36", r"36 \text{ dollars}", True),
    (r"\$36", r"\$36.00", True),
    (r"1.50", r"\$ 1.50", True),
    (r"1.50", r"\$1.5", True),
    (r"12", r"12\text{ m}", True),
    (r"12", r"12 \text{ meters}", True),
    (r"12", r"12 \text{ feet}", True),
    (r"12", r"12\text{ ft}", True),
    (r"6", r"6 \text{ units}^2", True),
    (r"\frac{5}{2}", r"\dfrac{5}{2}\text{ units}^2", True),
    (r"\frac{1}{2}", r"\frac{1}{2} \text{ hours}", True),
    (r"3\sqrt{2}", r"3\sqrt{2}\text{ cm}^2", True),
    (r"3\sqrt{2}", r"3\sqrt{2}\text{ cm}", True),
    (r"3\sqrt{2}", r"3\text{ cm}^2", False),
    (r"60", r"60 \text{ mph}", True),
    (r"60", r"60\text{ miles per hour}", True),
    (r"20", r"20 \text{ minutes}", True),
    (r"20", r"20\text{ min}", True),
    (r"20", r"2 \text{ minutes}", False),
    (r"4", r"4 \text{ ways}", True),
    (r"4", r"\text{4 ways}", True),
    (r"40", r"40 \text{ cm}", True),
    (r"40", r"4 \text{ dm}", False),
]

PERCENT = [
    (r"25\%", r"25", True),
    (r"25\%", r"25\%", True),
    (r"25\%", r"25 \%", True),
    (r"25\%", r"25 percent", True),
    (r"25\%", r"0.25", True),  # rule 4 / README: a gold 25% accepts 25 and 0.25
    (r"25\%", r"\frac14", True),
    (r"25\%", r"2.5\%", False),
    (r"25\%", r"25.5\%", False),
    (r"\frac14", r"25\%", True),
    (r"\frac14", r"25", False),  # rule 4: bare 25 is not the probability 1/4 (no x100 leniency, rule 3)
    (r"0.25", r"25\%", True),
    (r"0.25", r"0.25\%", False),
    (r"20", r"20\%", True),  # README rule 4: a bare gold above 1 is MATH's percentage without the sign
    (r"20", r"20 \text{ percent}", True),
    (r"20", r"0.2", False),  # rule 3: no x100 / /100 leniency
    (r"20", r"2\%", False),
    (r"12.5", r"12.5\%", True),
    (r"12.5", r"12\frac12\%", True),
    (r"\frac{1}{8}", r"12.5\%", True),
    (r"\frac18", r"12.5", False),
    (r"33\frac13\%", r"33.\overline{3}\%", True),
    (r"33\frac13\%", r"33.3\%", False),
    (r"33\frac13\%", r"\frac{100}{3}\%", True),
    (r"50", r"50\%", True),
    (r"50", r"5\%", False),
    (r"10\%", r"10", True),
    (r"10\%", r"1", False),
    (r"10\%", r"100", False),
    (r"\frac{1}{3}", r"33\frac13\%", True),
    (r"\frac{1}{3}", r"33\%", False),
    (r"40", r"40 \%", True),
]

DEGREES_RADIANS = [
    (r"90^\circ", r"90", True),
    (r"90^\circ", r"90°", True),
    (r"90^\circ", r"90^{\circ}", True),
    (r"90^\circ", r"90 \text{ degrees}", True),
    (r"90^\circ", r"\frac{\pi}{2}", False),  # rule 5: a radian value never answers a degree gold
    (r"90^\circ", r"90^\circ.", True),
    (r"90^\circ", r"\boxed{90^\circ}", True),
    (r"145^\circ", r"145", True),
    (r"145^\circ", r"35^\circ", False),
    (r"30^\circ", r"\frac{\pi}{6}", False),
    (r"30^\circ", r"30^o", True),
    (r"\frac{270}7\text{ degrees}", r"\frac{270}{7}", True),
    (r"\frac{270}7\text{ degrees}", r"\frac{270}{7}^\circ", True),
    (r"\frac{270}7\text{ degrees}", r"38.57^\circ", False),
    (r"\frac{270}7\text{ degrees}", r"38\frac{4}{7}^\circ", True),
    (r"\frac{\pi}{3}", r"60^\circ", False),
    (r"\frac{\pi}{3}", r"\frac{\pi}{3}", True),
    (r"\frac{\pi}{3}", r"60", False),  # rule 5: a degree value never answers a radian gold
    (r"-\frac{\pi}{6}", r"-\pi/6", True),
    (r"-\frac{\pi}{6}", r"-30^\circ", False),
    (r"-\frac{\pi}{6}", r"\frac{11\pi}{6}", False),
    (r"76^\circ", r"76^\circ", True),
    (r"76^\circ", r"76 \deg", True),  # rule 11: `\deg` after a number is typed for the degree mark
    (r"180^\circ", r"\pi", False),
    (r"55^\circ", r"55 \text{ degree}", True),
    (r"106^\circ", r"106\,^\circ", True),
    (r"106^\circ", r"74^\circ", False),
    (r"36^\circ", r"\angle A = 36^\circ", True),
    (r"36", r"36^\circ", True),
    (r"36", r"36\text{ rad}", True),  # rule 4: a bare gold is no degree gold, so the unit word is a decoration
]

DECIMAL_VS_FRACTION = [
    (r"1.25", r"\frac54", True),
    (r"1.25", r"5/4", True),
    (r"1.25", r"1\frac14", True),
    (r"1.25", r"1.250", True),
    (r"1.25", r"1.3", False),
    (r"\frac{1}{3}", r"0.\overline{3}", True),
    (r"\frac{1}{3}", r"0.333", False),  # rule 3: a truncation is not the exact value
    (r"\frac{1}{3}", r"0.3333333333", False),
    (r"0.15", r"\frac{3}{20}", True),
    (r"0.15", r".15", True),
    (r"0.15", r"0.150", True),
    (r"0.15", r"0.015", False),
    (r".0000672", r"6.72\times10^{-5}", True),
    (r".0000672", r"0.0000672", True),
    (r".0000672", r"0.000672", False),
    (r".35625", r"\frac{57}{160}", True),
    (r".35625", r"0.356", False),
    (r"326.5", r"\frac{653}{2}", True),
    (r"326.5", r"326\frac12", True),
    (r"326.5", r"326.50", True),
    (r"3.21", r"3.210", True),
    (r"3.21", r"3.2", False),
    (r"4.5", r"\frac92", True),
    (r"4.5", r"4\frac{1}{2}", True),
    (r"4.5", r"4,5", False),
    (r"\frac{9}{100}", r"0.09", True),
    (r"\frac{9}{100}", r"0.9", False),
    (r"\frac{2}{3}", r"0.67", False),
    (r"\frac{2}{3}", r"0.\overline{6}", True),
    (r"\frac{2}{3}", r"0.666\ldots", True),  # rule 3 / README: a block repeated before the ellipsis is exact
    (r"\frac{2}{3}", r"0.6", False),
    (r"\frac{1}{7}", r"0.\overline{142857}", True),
    (r"\frac{1}{7}", r"0.142857", False),
    (r"0.5", r"\frac{1}{2}", True),
]

LATEX_FRACTIONS = [
    (r"\frac{14}{3}", r"\dfrac{14}{3}", True),
    (r"\frac{14}{3}", r"\tfrac{14}{3}", True),
    (r"\frac{14}{3}", r"14/3", True),
    (r"\frac{14}{3}", r"\frac{28}{6}", True),
    (r"\frac{14}{3}", r"4\frac{2}{3}", True),
    (r"\frac{14}{3}", r"\frac{3}{14}", False),
    (r"\frac43", r"\frac{4}{3}", True),
    (r"\frac43", r"4/3", True),
    (r"\frac43", r"{4 \over 3}", True),
    (r"\frac43", r"\frac{4}{3}\,", True),
    (r"\frac 59", r"\frac{5}{9}", True),
    (r"\frac 59", r"5/9", True),
    (r"\frac 59", r"\frac{9}{5}", False),
    (r"\frac9{19}", r"\frac{9}{19}", True),
    (r"\frac9{19}", r"9/19", True),
    (r"\frac9{19}", r"\frac{9}{91}", False),
    (r"-\frac{35}{9}", r"\frac{-35}{9}", True),
    (r"-\frac{35}{9}", r"\frac{35}{-9}", True),  # rule 2: the sign may sit in the denominator
    (r"-\frac{35}{9}", r"-35/9", True),
    (r"-\frac{35}{9}", r"\frac{35}{9}", False),
    (r"\frac{3}{56}", r"\frac{3}{56}", True),
    (r"\frac{3}{56}", r"3/56", True),
    (r"\frac{3}{56}", r"\frac{6}{112}", True),
    (r"\frac{3}{56}", r"\frac{3}{65}", False),
    (r"\frac{243}{625}", r"\left(\frac{3}{5}\right)^5", False),  # rule 1: (3/5)^5 = 243/3125, a near-miss by one power of 5
    (r"\frac{243}{625}", r"0.3888", True),  # rule 3: 243/625 = 0.3888 exactly, a terminating decimal
    (r"\frac{1}{16}", r"\frac{1}{2^4}", True),
    (r"\frac{1}{16}", r"2^{-4}", True),
    (r"\frac{1}{16}", r"\frac1{16}", True),
    (r"\dfrac{17}{50}", r"0.34", True),
    (r"\dfrac{17}{50}", r"\frac{34}{100}", True),
    (r"\frac{11+9a}{20}", r"\frac{9a+11}{20}", True),
    (r"\frac{11+9a}{20}", r"\frac{11}{20}+\frac{9a}{20}", True),
    (r"\frac{11+9a}{20}", r"\frac{11+9a}{2}", False),
    (r"\frac{3}{2}", r"3/2", True),
    (r"\frac{3}{2}", r"1.5", True),
    (r"\frac32", r"\frac{2}{3}", False),
]

MIXED_NUMBERS = [
    (r"1\frac{4}{5}", r"\frac{9}{5}", True),
    (r"1\frac{4}{5}", r"1.8", True),
    (r"1\frac{4}{5}", r"1 \frac{4}{5}", True),
    (r"1\frac{4}{5}", r"1\ \frac45", True),
    (r"1\frac{4}{5}", r"1 4/5", True),  # rule 2: a plain-text mixed number is 9/5
    (r"1\frac{4}{5}", r"\frac45", False),
    (r"1\frac{4}{5}", r"4/5", False),
    (r"137 \frac{1}{2}", r"137.5", True),
    (r"137 \frac{1}{2}", r"\frac{275}{2}", True),
    (r"137 \frac{1}{2}", r"68.5", False),
    (r"137 \frac{1}{2}", r"137\tfrac12", True),
    (r"\frac{11}{2}", r"5\frac{1}{2}", True),
    (r"\frac{11}{2}", r"5\frac12", True),
    (r"\frac{11}{2}", r"5 \dfrac{1}{2}", True),
    (r"\frac{11}{2}", r"5.5", True),
    (r"\frac{11}{2}", r"2\frac{1}{2}", False),
    (r"2\frac12", r"\frac52", True),
    (r"2\frac12", r"1", False),
    (r"-2\frac12", r"-\frac52", True),
    (r"-2\frac12", r"-1.5", False),  # rule 2: -2 1/2 is -5/2, never -2 + 1/2
    (r"\frac{1997}{2}", r"998\frac{1}{2}", True),
    (r"\frac{1997}{2}", r"998.5", True),
    (r"\frac{1997}{2}", r"998", False),
    (r"\frac{13}{4}", r"3\frac{1}{4}", True),
    (r"\frac{13}{4}", r"3\frac14 \text{ inches}", True),
    (r"\frac{13}{4}", r"3 \text{ and } \frac14", False),  # rule 11: two answers joined by `and`, not a mixed number
    (r"6\frac{3}{4}", r"\frac{27}{4}", True),
    (r"6\frac{3}{4}", r"6.75", True),
    (r"6\frac{3}{4}", r"\frac{9}{2}", False),
]

RADICALS = [
    (r"3\sqrt{13}", r"\sqrt{117}", True),
    (r"3\sqrt{13}", r"3 \sqrt{13}", True),
    (r"3\sqrt{13}", r"\sqrt{13}", False),
    (r"3\sqrt{13}", r"10.8167", False),
    (r"11\sqrt2", r"11\sqrt{2}", True),
    (r"11\sqrt2", r"\sqrt{242}", True),
    (r"11\sqrt2", r"11 \cdot \sqrt{2}", True),
    (r"11\sqrt2", r"11\times\sqrt{2}", True),
    (r"11\sqrt2", r"\sqrt{2}\cdot 11", True),
    (r"11\sqrt2", r"11\sqrt{3}", False),
    (r"11\sqrt2", r"11 \sqrt 2", True),
    (r"11\sqrt2", r"11√2", True),
    (r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}", True),
    (r"\frac{\sqrt{3}}{3}", r"\frac{\sqrt3}{3}", True),
    (r"\frac{\sqrt{3}}{3}", r"\sqrt{3}/3", True),
    (r"\frac{\sqrt{3}}{3}", r"\sqrt{\frac{1}{3}}", True),
    (r"\frac{\sqrt{3}}{3}", r"\frac{\sqrt{3}}{2}", False),
    (r"\frac{\sqrt{3}}{3}", r"0.577", False),
    (r"1 \pm \sqrt{19}", r"1+\sqrt{19}, 1-\sqrt{19}", True),
    (r"1 \pm \sqrt{19}", r"1-\sqrt{19}, 1+\sqrt{19}", True),
    (r"1 \pm \sqrt{19}", r"1+\sqrt{19}", False),
    (r"1 \pm \sqrt{19}", r"1 \pm \sqrt{19}", True),
    (r"1 \pm \sqrt{19}", r"\pm 1 + \sqrt{19}", False),  # rule 1: the sign on the wrong term gives other values
    (r"3 \pm 2 \sqrt{2}", r"3+2\sqrt2,\ 3-2\sqrt2", True),
    (r"3 \pm 2 \sqrt{2}", r"3 \pm \sqrt{8}", True),
    (r"3 \pm 2 \sqrt{2}", r"3 \pm 2", False),
    (r"2\sqrt{113}", r"\sqrt{452}", True),
    (r"2\sqrt{113}", r"2\sqrt{133}", False),
    (r"\sqrt{51}", r"51^{1/2}", True),
    (r"\sqrt{51}", r"\sqrt{51}\approx 7.14", True),  # README rule 11: the exact answer followed by its decimal value
    (r"\sqrt{51}", r"7.14", False),  # rule 3
    (r"\frac{3\sqrt{3}}{4}", r"\frac{3}{4}\sqrt{3}", True),
    (r"\frac{3\sqrt{3}}{4}", r"\frac{\sqrt{27}}{4}", True),
    (r"\frac{3\sqrt{3}}{4}", r"\frac{3\sqrt{3}}{2}", False),
    (r"11 \sqrt{5} + 11", r"11(\sqrt5+1)", True),
    (r"11 \sqrt{5} + 11", r"11\sqrt{5}+1", False),
    (r"\sqrt[3]{2}", r"2^{1/3}", True),
    (r"\sqrt[3]{2}", r"\sqrt{2}", False),
    (r"\sqrt[3]{16}", r"2\sqrt[3]{2}", True),
]

PI = [
    (r"288 \pi", r"288\pi", True),
    (r"288 \pi", r"\pi \cdot 288", True),
    (r"288 \pi", r"288 \pi \text{ cm}^3", True),
    (r"288 \pi", r"904.78", False),
    (r"288 \pi", r"288", False),
    (r"\pi", r"\pi", True),
    (r"\pi", r"3.14", False),
    (r"\pi", r"3.14159", False),
    (r"\pi", r"\frac{22}{7}", False),  # rule 3: a rational approximation of pi is not pi
    (r"7\pi", r"7 \pi", True),
    (r"7\pi", r"\frac{14\pi}{2}", True),
    (r"18+2\pi", r"2\pi+18", True),
    (r"18+2\pi", r"2(9+\pi)", True),
    (r"18+2\pi", r"20\pi", False),
    (r"\frac{20000}{\pi}", r"20000/\pi", True),
    (r"\frac{20000}{\pi}", r"\frac{20000}{\pi}\approx 6366", True),
    (r"\frac{20000}{\pi}", r"20000\pi", False),
    (r"\frac{\pi}{4}", r"\pi/4", True),
    (r"\frac{\pi}{4}", r"\frac{1}{4}\pi", True),
    (r"\frac{\pi}{4}", r"\frac14 \pi", True),
    (r"\frac{\pi}{4}", r"0.25\pi", True),
    (r"\frac{\pi}{4}", r"0.785", False),
    (r"\frac{\pi}{4}", r"45^\circ", False),
    (r"12\pi", r"12 \pi \text{ square units}", True),
    (r"12\pi", r"12\pi^2", False),
    (r"8 \pi", r"8pi", True),
    (r"8 \pi", r"8\Pi", False),  # rule 9: variables are case-sensitive; \Pi is not pi
    (r"\left[ \frac{\pi^2}{8}, \frac{5 \pi^2}{4} \right]", r"[\pi^2/8, 5\pi^2/4]", True),
    (r"\left[ \frac{\pi^2}{8}, \frac{5 \pi^2}{4} \right]", r"\left(\frac{\pi^2}{8}, \frac{5\pi^2}{4}\right)", False),
    (r"\frac{2\pi}{3}", r"\frac{2}{3}\pi", True),
    (r"\frac{2\pi}{3}", r"120^\circ", False),
    (r"\frac{2\pi}{3}", r"2\pi/3", True),
    (r"\frac{2\pi}{3}", r"2/3\pi", True),
    (r"4\pi\sqrt{3}", r"4\sqrt{3}\pi", True),
    (r"4\pi\sqrt{3}", r"4\sqrt{3\pi}", False),
]

COMPLEX_NUMBERS = [
    (r"6 - 5i", r"6-5i", True),
    (r"6 - 5i", r"-5i+6", True),
    (r"6 - 5i", r"6+(-5)i", True),
    (r"6 - 5i", r"6-5\cdot i", True),
    (r"6 - 5i", r"6+5i", False),
    (r"6 - 5i", r"(6,-5)", False),  # rule 1: a pair is not a complex number
    (r"6 - 5i", r"6 - 5 i", True),
    (r"6+9i", r"9i+6", True),
    (r"6+9i", r"6+9j", True),  # rule 9 / README: j is the imaginary unit when the gold uses i
    (r"6+9i", r"6+i9", True),
    (r"6+9i", r"6+9", False),
    (r"-2 + 7i", r"-2+7i", True),
    (r"-2 + 7i", r"7i-2", True),
    (r"-2 + 7i", r"2-7i", False),
    (r"1+274i", r"1 + 274 i", True),
    (r"1+274i", r"1+247i", False),
    (r"1 - 12i", r"1-12i", True),
    (r"1 - 12i", r"-12i+1", True),
    (r"1 - 12i", r"1-12", False),
    (r"1+2i", r"\frac{2+4i}{2}", True),
    (r"1+2i", r"1+2\sqrt{-1}", True),
    (r"1+2i", r"1 + 2I", False),  # rule 9: case-sensitive; I is a variable
    (r"i", r"\sqrt{-1}", True),
    (r"i", r"-i", False),
    (r"-1", r"i^2", True),
    (r"\frac{1}{2}+\frac{\sqrt{3}}{2}i", r"\frac{1+i\sqrt3}{2}", True),
    (r"\frac{1}{2}+\frac{\sqrt{3}}{2}i", r"e^{i\pi/3}", True),  # rule 9: exponential form of a complex number
    (r"\frac{1}{2}+\frac{\sqrt{3}}{2}i", r"\frac{1-i\sqrt3}{2}", False),
    (r"2i", r"0+2i", True),
    (r"2i", r"2", False),
    (r"3+4i", r"3+4i, 3-4i", False),  # rule 11: several answers for one value
    (r"5", r"5+0i", True),
]

INTERVALS_AND_UNIONS = [
    (r"(3,4]", r"(3,4]", True),
    (r"(3,4]", r"(3, 4]", True),
    (r"(3,4]", r"\left(3,4\right]", True),
    (r"(3,4]", r"3 < x \le 4", True),
    (r"(3,4]", r"(3,4)", False),
    (r"(3,4]", r"[3,4]", False),
    (r"(3,4]", r"x \in (3,4]", True),
    (r"(3,4]", r"\{x : 3 < x \leq 4\}", True),
    (r"(2,\infty)", r"(2, \infty)", True),
    (r"(2,\infty)", r"x>2", True),
    (r"(2,\infty)", r"x > 2", True),
    (r"(2,\infty)", r"(2,+\infty)", True),
    (r"(2,\infty)", r"[2,\infty)", False),
    (r"(2,\infty)", r"x \geq 2", False),
    (r"(2,\infty)", r"(2, \infty]", False),
    (r"(-\infty, 0]", r"x \le 0", True),
    (r"(-\infty, 0]", r"(-\infty,0]", True),
    (r"(-\infty, 0]", r"(-\infty, 0)", False),
    (r"(-\infty, 0]", r"x < 0", False),
    (r"x \in [-2,7]", r"[-2,7]", True),
    (r"x \in [-2,7]", r"-2 \le x \le 7", True),
    (r"x \in [-2,7]", r"[-2, 7)", False),
    (r"x \in [-2,7]", r"-2, 7", False),  # rule 1: endpoints listed are not the interval
    (r"(-\infty, 2) \cup (3, \infty)", r"(3,\infty)\cup(-\infty,2)", True),
    (r"(-\infty, 2) \cup (3, \infty)", r"x<2 \text{ or } x>3", True),
    (r"(-\infty, 2) \cup (3, \infty)", r"(-\infty,2]\cup[3,\infty)", False),
    (r"(-\infty, 2) \cup (3, \infty)", r"(-\infty, 2)", False),
    (r"(-\infty, 2) \cup (3, \infty)", r"(2,3)", False),
    (r"(-\infty, 2) \cup (3, \infty)", r"\mathbb{R}\setminus[2,3]", True),  # rule 10: the line minus a closed interval
    (r"(0,9) \cup (9,36)", r"(0,36)", False),  # rule 1: the union excludes 9
    (r"(0,9) \cup (9,36)", r"(9,36)\cup(0,9)", True),
    (r"(0,9) \cup (9,36)", r"(0, 9) \cup (9, 36)", True),
    (r"(2,12) \cup (12,102)", r"(2,102)", False),
    (r"(2,12) \cup (12,102)", r"(2, 12)\cup(12, 102)", True),
    (r"\left(\frac{3}{5},\frac{8}{3}\right]", r"(0.6, \frac83]", True),
    (r"\left(\frac{3}{5},\frac{8}{3}\right]", r"(\frac35,\frac83)", False),
    (r"\left(\frac{3}{5},\frac{8}{3}\right]", r"(3/5, 8/3]", True),
    (r"(-\sqrt{3}, \sqrt{3})", r"-\sqrt3<x<\sqrt3", True),
    (r"(-\sqrt{3}, \sqrt{3})", r"|x|<\sqrt{3}", True),
    (r"(-\sqrt{3}, \sqrt{3})", r"[-\sqrt3,\sqrt3]", False),
    (r"(-\infty,\infty)", r"\mathbb{R}", True),
    (r"(-\infty,\infty)", r"\text{all real numbers}", True),
    (r"(-\infty,\infty)", r"(0,\infty)", False),
    (r"[1,5]", r"1\le x\le5", True),
    (r"[1,5]", r"\{1,5\}", False),  # rule 1: a two-element set is not an interval
    (r"[1,5]", r"[1,5)", False),
]

UNORDERED_LISTS = [
    (r"1,-2", r"-2,1", True),
    (r"1,-2", r"1, -2", True),
    (r"1,-2", r"x=1, x=-2", True),
    (r"1,-2", r"x = 1 \text{ or } x = -2", True),
    (r"1,-2", r"\{1,-2\}", True),
    (r"1,-2", r"1", False),
    (r"1,-2", r"1,-2,3", False),
    (r"1,-2", r"1,2", False),
    (r"1,-2", r"-2 \text{ and } 1", True),
    (r"3, 5, 7", r"7,5,3", True),
    (r"3, 5, 7", r"3,5", False),
    (r"3, 5, 7", r"\{3, 5, 7\}", True),
    (r"3, 5, 7", r"3, 5, 7, 9", False),
    (r"3, 5, 7", r"3,5,5,7", False),  # rule 1: an extra (repeated) element is wrong
    (r"-2,1", r"1, -2", True),
    (r"-2,1", r"x=-2,1", True),
    (r"\{1\pm\sqrt{5},-2\}", r"-2, 1+\sqrt5, 1-\sqrt5", True),
    (r"\{1\pm\sqrt{5},-2\}", r"1+\sqrt5, 1-\sqrt5", False),
    (r"\{1\pm\sqrt{5},-2\}", r"\{-2, 1 \pm \sqrt{5}\}", True),
    (r"\pm 5", r"5, -5", True),
    (r"\pm 5", r"-5, 5", True),
    (r"\pm 5", r"x = 5 \text{ or } x = -5", True),
    (r"\pm 5", r"\{5,-5\}", True),
    (r"\pm 5", r"\pm5", True),
    (r"\pm 5", r"5", False),  # rule 1: a missing element
    (r"\pm 5", r"-5", False),
    (r"\pm 5", r"x=\pm 5", True),
    (r"\pm 5", r"5 \text{ and } -5", True),
    (r"\{1,2\}", r"1,2", True),
    (r"\{1,2\}", r"2, 1", True),
    (r"\{1,2\}", r"\{2,1\}", True),
    (r"\{1,2\}", r"2 \text{ and } 1", True),
    (r"\{1,2\}", r"\{1,2,3\}", False),
    (r"5", r"5, -5", False),
    (r"5", r"\pm 5", False),  # rule 11: several answers to a single-valued question
    (r"5", r"5 \text{ or } -5", False),
    (r"2, 3", r"2 \text{ and } 3", True),
    (r"2, 3", r"x=2 \text{ and } x=3", True),
    (r"2, 3", r"2 \text{ or } 3", True),  # rule 1: `or` between all the solutions lists them
]

ORDERED_TUPLES = [
    (r"(-2,1)", r"(-2, 1)", True),
    (r"(-2,1)", r"(1,-2)", False),
    (r"(-2,1)", r"\left(-2,1\right)", True),
    (r"(-2,1)", r"x=-2, y=1", True),
    (r"(-2,1)", r"(x,y)=(-2,1)", True),
    (r"(-2,1)", r"\{-2,1\}", False),  # rule 1: a set does not answer an ordered pair
    (r"(15,-29)", r"(15, -29)", True),
    (r"(15,-29)", r"(-29,15)", False),
    (r"(15,-29)", r"(a,b) = (15,-29)", True),
    (r"(15,-29)", r"a=15, b=-29", True),
    (r"(8,-2)", r"(8,-2)", True),
    (r"(8,-2)", r"(8,2)", False),
    (r"(6,31,-1)", r"(6, 31, -1)", True),
    (r"(6,31,-1)", r"(6,-1,31)", False),
    (r"(6,31,-1)", r"(6,31)", False),
    (r"(1,-16,-4,43)", r"(1, -16, -4, 43)", True),
    (r"(1,-16,-4,43)", r"(1,-16,-4,-43)", False),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3, \frac{\pi}{2})", True),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3, 90^\circ)", False),  # rule 5: the polar angle in degrees for a radian gold
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3,\pi/2)", True),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(\frac{\pi}{2}, 3)", False),
    (r"\left( \frac{3}{2}, -13 \right)", r"(1.5, -13)", True),
    (r"\left( \frac{3}{2}, -13 \right)", r"(3/2,-13)", True),
    (r"\left( \frac{3}{2}, -13 \right)", r"(\frac{3}{2}, 13)", False),
    (r"(-1,6)", r"(-1,6)", True),
    (r"(-1,6)", r"(-1 , 6)", True),
    (r"(-1,6)", r"[-1,6]", False),
    (r"(2,4)", r"(2, 4)", True),
    (r"(2,4)", r"(4,2)", False),
    (r"(2,3)", r"a=2, b=3", True),
    (r"(2,3)", r"(a,b)=(2,3)", True),
    (r"(2,3)", r"a = 3, b = 2", False),  # rule 1: named values in coordinate order give (3, 2)
    (r"(2,3)", r"(3,2)", False),
    (r"(0,0)", r"(0, 0)", True),
    (r"(0,0)", r"0", False),  # rule 1: a scalar is not a pair
]

VECTORS_AND_MATRICES = [
    (r"\begin{pmatrix} -1/3 \\ 2/3 \\ 5/3 \end{pmatrix}", r"\begin{pmatrix} -\frac13 \\ \frac23 \\ \frac53 \end{pmatrix}", True),
    (r"\begin{pmatrix} -1/3 \\ 2/3 \\ 5/3 \end{pmatrix}", r"\frac13\begin{pmatrix} -1 \\ 2 \\ 5 \end{pmatrix}", True),
    (r"\begin{pmatrix} -1/3 \\ 2/3 \\ 5/3 \end{pmatrix}", r"\begin{pmatrix} -1 \\ 2 \\ 5 \end{pmatrix}", False),
    (r"\begin{pmatrix} -1/3 \\ 2/3 \\ 5/3 \end{pmatrix}", r"(-1/3, 2/3, 5/3)", True),
    (r"\begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix}", r"\begin{bmatrix} -2 \\ -14 \\ -7 \end{bmatrix}", True),
    (r"\begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix}", r"\begin{pmatrix}-2\\-14\\-7\end{pmatrix}", True),
    (r"\begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix}", r"\begin{pmatrix} -2 & -14 & -7 \end{pmatrix}", False),  # rule 1: a row is not the column vector
    (r"\begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix}", r"\begin{pmatrix} -2 \\ -7 \\ -14 \end{pmatrix}", False),
    (r"\begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix}", r"\begin{pmatrix} 2 \\ 14 \\ 7 \end{pmatrix}", False),
    (r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}", r"\begin{bmatrix} -1 & 0 \\ 0 & -1 \end{bmatrix}", True),
    (r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}", r"-I", False),  # rule 1: a symbol is not the matrix (I is a variable)
    (r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}", r"\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}", False),
    (r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}", r"-\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}", True),
    (r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}", r"\begin{pmatrix} -1 & 0 & 0 & -1 \end{pmatrix}", False),
    (r"\begin{pmatrix} 1/5 \\ -18/5 \end{pmatrix}", r"\begin{pmatrix} 0.2 \\ -3.6 \end{pmatrix}", True),
    (r"\begin{pmatrix} 1/5 \\ -18/5 \end{pmatrix}", r"\begin{pmatrix} \frac{1}{5} \\ -\frac{18}{5} \end{pmatrix}", True),
    (r"\begin{pmatrix} 1/5 \\ -18/5 \end{pmatrix}", r"\begin{pmatrix} -18/5 \\ 1/5 \end{pmatrix}", False),
    (r"\begin{pmatrix} 16/49 \\ 48/49 \\ 24/49 \end{pmatrix}", r"\frac{8}{49}\begin{pmatrix} 2 \\ 6 \\ 3 \end{pmatrix}", True),
    (r"\begin{pmatrix} 16/49 \\ 48/49 \\ 24/49 \end{pmatrix}", r"\begin{pmatrix} 2 \\ 6 \\ 3 \end{pmatrix}", False),
    (r"\begin{pmatrix} -18 \\ -49 \\ 96 \end{pmatrix}", r"\left(\begin{array}{c} -18 \\ -49 \\ 96 \end{array}\right)", True),
    (r"\begin{pmatrix} -18 \\ -49 \\ 96 \end{pmatrix}", r"(-18,-49,96)", True),
    (r"\begin{pmatrix} -18 \\ -49 \\ 96 \end{pmatrix}", r"\langle -18, -49, 96 \rangle", True),  # rule 11: angle brackets render the same vector
    (r"\begin{pmatrix} -18 \\ -49 \\ 96 \end{pmatrix}", r"\{-18,-49,96\}", False),
    (r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", r"\begin{pmatrix} 1 & 3 \\ 2 & 4 \end{pmatrix}", False),
    (r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", True),
]

EQUATIONS = [
    (r"x=5", r"5", True),
    (r"x=5", r"x = 5", True),
    (r"x=5", r"5=x", True),
    (r"x=5", r"y=5", False),
    (r"x=5", r"x=-5", False),
    (r"x=5", r"2x=10", True),  # rule 1: both are the locus x = 5
    (r"5", r"x=5", True),
    (r"5", r"2x=10", False),  # README rule 1: an equation to solve does not answer a value
    (r"y = 2x + 3", r"2x+3", True),
    (r"y = 2x + 3", r"y=3+2x", True),
    (r"y = 2x + 3", r"y - 2x = 3", True),
    (r"y = 2x + 3", r"2x - y + 3 = 0", True),
    (r"y = 2x + 3", r"y = 2x - 3", False),
    (r"y = 2x + 3", r"y = 3x + 2", False),
    (r"y = -2x", r"y=-2x", True),
    (r"y = -2x", r"2x+y=0", True),
    (r"y = -2x", r"-2x", True),
    (r"y = -2x", r"y=2x", False),
    (r"5x - 7y + 11z + 4 = 0", r"-5x+7y-11z-4=0", True),
    (r"5x - 7y + 11z + 4 = 0", r"10x-14y+22z+8=0", True),
    (r"5x - 7y + 11z + 4 = 0", r"5x-7y+11z-4=0", False),
    (r"5x - 7y + 11z + 4 = 0", r"5x - 7y + 11z = -4", True),
    (r"5x - 7y + 11z + 4 = 0", r"5x-7y+11z+4", False),  # rule 1: an expression is not the plane
    (r"x^2+y^2=25", r"y^2+x^2=25", True),
    (r"x^2+y^2=25", r"x^2+y^2=5", False),
    (r"x+2y=3", r"2x+4y=6", True),  # rule 1: same locus
    (r"x+2y=3", r"2x+4y=3", False),
    (r"2x+1", r"f(x) = 2x+1", True),
    (r"2x+1", r"f(x)=1+2x", True),
    (r"2x+1", r"f(x)=2x-1", False),
    (r"\frac{1}{2}", r"k = \frac{1}{2}", True),
    (r"\frac{1}{2}", r"k=2", False),
    (r"6", r"a+b=6", True),  # README rule 1: `a + b = 6` answers 'find a + b'
    (r"6", r"n=6", True),
    (r"6", r"6 = n", True),
]

SYMBOLIC = [
    (r"p - q", r"-q+p", True),
    (r"p - q", r"p-q", True),
    (r"p - q", r"q-p", False),
    (r"p - q", r"P - Q", False),
    (r"p - q", r"-(q-p)", True),
    (r"x^5 - x^4 + x^3 - x^2 + x - 1", r"(x-1)(x^4+x^2+1)", True),
    (r"x^5 - x^4 + x^3 - x^2 + x - 1", r"x^5-x^4+x^3-x^2+x+1", False),
    (r"x^3+3x-6", r"x^3 + 3x - 6", True),
    (r"x^3+3x-6", r"3x+x^3-6", True),
    (r"x^3+3x-6", r"x^3+3x+6", False),
    (r"2k+2", r"2(k+1)", True),
    (r"2k+2", r"2k+1", False),
    (r"2k+2", r"2K+2", False),
    (r"(a+5)(b+2)", r"ab+2a+5b+10", True),
    (r"(a+5)(b+2)", r"(b+2)(a+5)", True),
    (r"(a+5)(b+2)", r"(a+2)(b+5)", False),
    (r"-13x+3", r"3-13x", True),
    (r"-13x+3", r"-13x-3", False),
    (r"6r^2-4r-24", r"2(3r^2-2r-12)", True),
    (r"6r^2-4r-24", r"6r^2-4r+24", False),
    (r"2k", r"k+k", True),
    (r"2k", r"2", False),
    (r"5r^5", r"5 r^5", True),
    (r"5r^5", r"5r^{5}", True),
    (r"5r^5", r"5r^4", False),
    (r"3R^2", r"3r^2", False),  # rule 9: variables are case-sensitive
    (r"3R^2", r"3R^{2}", True),
    (r"8n^2 + 4n + 1", r"1+4n+8n^2", True),
    (r"8n^2 + 4n + 1", r"8n^2+4n", False),
    (r"15x - 80", r"5(3x-16)", True),
    (r"15x - 80", r"15x-8", False),
    (r"\frac{x+1}{x-1}", r"\frac{-x-1}{1-x}", True),
    (r"\frac{x+1}{x-1}", r"\frac{x-1}{x+1}", False),
    (r"x^8 + x^7 + x^6 + x^5 + x^4 + x^3 + x^2 + x + 1", r"\frac{x^9-1}{x-1}", True),
    (r"\sqrt{x}", r"x^{1/2}", True),
    (r"e^{2x}", r"(e^x)^2", True),
    (r"\ln 6", r"\ln 2 + \ln 3", True),
    (r"\ln 6", r"\log_2 6", False),  # rule 9: a different base is a different number
    (r"ab", r"ba", True),
    (r"a^2b", r"ab^2", False),
]

TRIG = [
    (r"\cot x", r"\frac{\cos x}{\sin x}", True),
    (r"\cot x", r"\frac{1}{\tan x}", True),
    (r"\cot x", r"\tan x", False),
    (r"\cot x", r"\cot(x)", True),
    (r"\cot x", r"\csc x", False),
    (r"-\frac{24}{25}", r"\sin(2\theta) = -\frac{24}{25}", True),  # rule 1: a naming left side (the quantity asked for) is dropped
    (r"-\frac{24}{25}", r"\frac{24}{25}", False),
    (r"\frac{\sqrt{3}}{2}", r"\sin 60^\circ", True),
    (r"\frac{\sqrt{3}}{2}", r"\cos\frac{\pi}{6}", True),
    (r"\frac{\sqrt{3}}{2}", r"\sin 30^\circ", False),
    (r"\frac{1}{2}", r"\sin\frac{\pi}{6}", True),
    (r"\frac{1}{2}", r"\cos 60", False),  # rule 5: cos of 60 radians
    (r"\sin^2 x", r"1-\cos^2 x", True),
    (r"\sin^2 x", r"\sin x^2", False),  # rule 9: sin(x^2) is not sin(x)^2
    (r"\sin 2x", r"2\sin x\cos x", True),
    (r"\sin 2x", r"2\sin x", False),
    (r"\cos 2x", r"\cos^2 x - \sin^2 x", True),
    (r"\cos 2x", r"1-2\sin^2x", True),
    (r"\tan x", r"\frac{\sin x}{\cos x}", True),
    (r"\sec^2 x", r"1+\tan^2 x", True),
    (r"\sec^2 x", r"1-\tan^2 x", False),
    (r"\frac{5}{13}", r"\cos\theta = \frac{5}{13}", True),  # rule 1: `cos θ =` names the asked quantity
    (r"\frac{5}{13}", r"\frac{12}{13}", False),
    (r"\frac{\pi}{6}", r"\arcsin\frac12", True),
    (r"\frac{\pi}{6}", r"\sin^{-1}(1/2)", True),
    (r"\frac{\pi}{6}", r"30^\circ", False),
    (r"\frac{\sqrt{2}}{2}", r"\frac{1}{\sqrt2}", True),
    (r"\frac{\sqrt{2}}{2}", r"\cos 45^\circ", True),
    (r"\frac{\sqrt{2}}{2}", r"0.7071", False),
    (r"\frac{\sqrt{21}}{5}", r"\frac{\sqrt{21}}{5}", True),
    (r"2 - \sqrt{3}", r"\tan 15^\circ", True),
    (r"2 - \sqrt{3}", r"\tan 15", False),  # rule 5: tan of 15 radians
]

TEXT = [
    (r"\text{Evelyn}", r"Evelyn", True),
    (r"\text{Evelyn}", r"\text{evelyn}", True),
    (r"\text{Evelyn}", r"\textbf{Evelyn}", True),
    (r"\text{Evelyn}", r"Emily", False),
    (r"\text{Evelyn}", r"\text{Evelyn and Navin}", False),
    (r"\text{Evelyn}", r"Eve", False),
    (r"\text{east}", r"East", True),
    (r"\text{east}", r"\text{East}", True),
    (r"\text{east}", r"west", False),
    (r"\text{east}", r"\text{north-east}", False),  # rule 8: a different word containing the gold
    (r"\text{east}", r"\text{the east}", True),
    (r"\text{even}", r"\text{even}", True),
    (r"\text{even}", r"\text{Even}", True),
    (r"\text{even}", r"\text{odd}", False),
    (r"\text{even}", r"\text{neither}", False),
    (r"\text{even}", r"\text{even function}", False),  # rule 8: extra words make another text (no synonyms)
    (r"\text{ellipse}", r"\text{Ellipse}", True),
    (r"\text{ellipse}", r"\text{an ellipse}", True),
    (r"\text{ellipse}", r"\text{(D)}", False),  # rule 8: a letter without the options is not the word
    (r"\text{ellipse}", r"\text{circle}", False),
    (r"\text{Navin}", r"\text{Navin}", True),
    (r"\text{Navin}", r"\mathrm{Navin}", True),
    (r"\text{Navin}", r"\text{Navin from Mauritius}", False),
    (r"\text{Devon}", r"Devon", True),
    (r"\text{Devon}", r"\text{Devin}", False),
    (r"\text{yes}", r"Yes", True),
    (r"\text{yes}", r"\text{No}", False),
    (r"\text{odd}", r"odd", True),
    (r"\text{odd}", r"\textbf{odd}", True),
    (r"\text{Tuesday}", r"\text{Tuesday}", True),
    (r"\text{Tuesday}", r"\text{Thursday}", False),
]

MULTIPLE_CHOICE = [
    (r"\text{(C)}", r"C", True),
    (r"\text{(C)}", r"(C)", True),
    (r"\text{(C)}", r"\text{(C)}", True),
    (r"\text{(C)}", r"\textbf{(C)}", True),
    (r"\text{(C)}", r"\mathbf{(C)}", True),
    (r"\text{(C)}", r"\mathrm{(C)}", True),
    (r"\text{(C)}", r"(B)", False),
    (r"\text{(C)}", r"C, D", False),
    (r"\text{(C)}", r"(C) \text{ and } (D)", False),
    (r"\text{(C)}", r"c", True),
    (r"\text{(C)}", r"\text{C}", True),
    (r"\text{(C)}", r"\mathbf{(C)}\ 12", True, P_NUMBERS),
    (r"\text{(C)}", r"\mathbf{(C)}\ 14", False, P_NUMBERS),  # rule 8: the letter with text that is not its option
    (r"\text{(C)}", r"12", True, P_NUMBERS),  # rule 8: the text of option (C) alone
    (r"\text{(C)}", r"14", False, P_NUMBERS),
    (r"\text{(C)}", r"(C) 12", True, P_NUMBERS),
    (r"\text{(C)}", r"\textbf{(C) }12", True, P_NUMBERS),
    (r"\text{(E)}", r"\text{(E)}", True),
    (r"\text{(E)}", r"E", True),
    (r"\text{(E)}", r"(A)", False),
    (r"\text{(E)}", r"\text{(A)} \text{ or } \text{(E)}", False),
    (r"\text{(B)}", r"\boxed{\text{(B)}}", True),
    (r"\text{(B)}", r"B)", True),
    (r"\text{(B)}", r"\textbf{(B)}\ \frac23", True, P_FRACTIONS),
    (r"\text{(B)}", r"\frac23", True, P_FRACTIONS),
    (r"\text{(B)}", r"\frac34", False, P_FRACTIONS),
    (r"\text{(B)}", r"(B) \frac34", False, P_FRACTIONS),  # rule 8: letter B with option C's text
    (r"\text{(B)}", r"\text{B}", True),
    (r"\text{(B)}", r"\text{(B)}.", True),
    (r"\text{(D)}", r"D", True),
    (r"\text{(D)}", r"A", False),
    (r"\text{(D)}", r"\text{Answer: (D)}", True),
    (r"\text{(D)}", r"\text{The answer is (D)}", True),
    (r"12", r"\textbf{(C) } 12", True),
    (r"12", r"(C)", True, P_NUMBERS),  # rule 8: the letter of the option whose text is the gold
    (r"12", r"(D)", False, P_NUMBERS),
    (r"12", r"\mathbf{(D)}\ 14", False),  # rule 8: without options the candidate's own text is its answer
]

BASES = [
    (r"52_8", r"52", True),
    (r"52_8", r"52_8", True),
    (r"52_8", r"52_{8}", True),
    (r"52_8", r"(52)_8", True),
    (r"52_8", r"42", False),
    (r"52_8", r"52_{10}", False),  # rule 7: another explicit base is another number
    (r"52_8", r"42_{10}", True),  # rule 7: the same number written in base ten
    (r"52_8", r"25_8", False),
    (r"52_8", r"101010_2", True),  # rule 7: the same number written in base two
    (r"40_9", r"40_9", True),
    (r"40_9", r"40", True),
    (r"40_9", r"36", False),
    (r"40_9", r"36_{10}", True),
    (r"2516_8", r"2516", True),
    (r"2516_8", r"2516_{8}", True),
    (r"2516_8", r"1358", False),
    (r"2516_8", r"2516_{\text{eight}}", True),
    (r"4210_{5}", r"4210", True),
    (r"4210_{5}", r"4210_5", True),
    (r"4210_{5}", r"4210_6", False),
    (r"4210_{5}", r"555", False),
    (r"204_5", r"204", True),
    (r"204_5", r"54", False),
    (r"204_5", r"204_{5}", True),
    (r"4343_6", r"4343_6", True),
    (r"4343_6", r"4343", True),
    (r"4343_6", r"4334_6", False),
    (r"1011_2", r"1011", True),
    (r"1011_2", r"11", False),
    (r"1011_2", r"11_{10}", True),
    (r"A3_{16}", r"A3", True),
    (r"A3_{16}", r"a3", True),
    (r"A3_{16}", r"163", False),  # rule 7: bare digits are read in the gold's base (163 hex)
]

SCIENTIFIC_AND_LARGE = [
    (r"1500", r"1.5\times 10^{3}", True),
    (r"1500", r"1.5 \times 10^3", True),
    (r"1500", r"1.5e3", True),
    (r"1500", r"1.5E3", True),
    (r"1500", r"15 \times 10^2", True),
    (r"1500", r"1.5\cdot10^3", True),
    (r"1500", r"1.5\times10^{4}", False),
    (r"1500", r"1.5 \times 10^{-3}", False),
    (r"0.0015", r"1.5\times10^{-3}", True),
    (r"2^{100}", r"1267650600228229401496703205376", True),
    (r"2^{100}", r"1267650600228229401496703205377", False),
    (r"2^{100}", r"1.27\times 10^{30}", False),  # rule 3: a rounded value is not the exact integer
    (r"1267650600228229401496703205376", r"2^{100}", True),
    (r"10^{12}", r"1,000,000,000,000", True),
    (r"10^{12}", r"1\text{ trillion}", True),  # README rule 4: magnitude words multiply
    (r"10^{12}", r"10^{11}", False),
    (r"3^{20}", r"3486784401", True),
    (r"3^{20}", r"9^{10}", True),
    (r"3^{20}", r"3^{21}", False),
    (r"6.02\times10^{23}", r"6.02e23", True),
    (r"6.02\times10^{23}", r"602000000000000000000000", True),
    (r"6.02\times10^{23}", r"6.2\times10^{23}", False),
    (r"2^{2024}-1", r"2^{2024}-1", True),
    (r"2^{2024}-1", r"2^{2024}", False),
    (r"2^{2024}-1", r"4^{1012}-1", True),
    (r"100!", r"100!", True),
    (r"100!", r"99!\cdot 100", True),
    (r"100!", r"99!", False),
    (r"5\times10^{-4}", r"0.0005", True),
    (r"5\times10^{-4}", r"0.005", False),
    (r"1.2\times 10^6", r"1.2 \text{ million}", True),
    (r"1.2\times10^6", r"1200000", True),
    (r"1.2\times10^6", r"1,200,000", True),
    (r"1.2\times10^6", r"120000", False),
]

INFINITY_AND_EMPTY = [
    (r"\infty", r"\infty", True),
    (r"\infty", r"+\infty", True),
    (r"\infty", r"\text{infinity}", True),
    (r"\infty", r"-\infty", False),
    (r"\infty", r"∞", True),
    (r"\infty", r"\text{infinitely many}", False),  # judgment call: kept False as test_equivalence_hidden_style asserts (a count word, not the symbol)
    (r"\infty", r"\text{undefined}", False),
    (r"\infty", r"0", False),
    (r"-\infty", r"-\infty", True),
    (r"\emptyset", r"\varnothing", True),
    (r"\emptyset", r"\{\}", True),
    (r"\emptyset", r"\text{no solution}", True),
    (r"\emptyset", r"\text{No solutions}", True),
    (r"\emptyset", r"\text{none}", True),
    (r"\emptyset", r"0", False),
    (r"\emptyset", r"\{0\}", False),  # rule 10: the set containing 0 is not empty
    (r"\emptyset", r"\emptyset", True),
    (r"\text{no solution}", r"\emptyset", True),
    (r"\text{no solution}", r"\varnothing", True),
    (r"\text{no solution}", r"x=0", False),
    (r"\text{no solution}", r"\text{no real solutions}", True),
    (r"\text{no solution}", r"\text{infinitely many solutions}", False),  # rule 10
    (r"0", r"\emptyset", False),
    (r"0", r"\text{no solution}", False),
    (r"\text{DNE}", r"\text{does not exist}", True),
    (r"\text{DNE}", r"0", False),
    (r"(-\infty,\infty)", r"(-\infty, +\infty)", True),
    (r"(-\infty,\infty)", r"\emptyset", False),
    (r"[0,\infty)", r"x \ge 0", True),
    (r"[0,\infty)", r"[0,\infty]", False),
    (r"[0,\infty)", r"\infty", False),
]

NUMERIC_NEAR_MISSES = [
    (r"113", r"113.0000001", False),
    (r"113", r"112.9999999", False),
    (r"\frac{1}{3}", r"0.3333", False),
    (r"\sqrt2", r"1.41421356", False),
    (r"\frac{1}{2^{99}}", r"\frac{1}{2^{98}}", False),  # rule 3: tiny values that differ
    (r"\frac{1}{2^{99}}", r"2^{-99}", True),
    (r"1000", r"999", False),
    (r"1000", r"1001", False),
    (r"1000", r"1000.0", True),
    (r"1000", r"10^3", True),
    (r"0.1", r"0.10000000001", False),
    (r"\pi", r"3.141592653589793", False),
    (r"e", r"2.718281828", False),
    (r"e", r"e", True),
    (r"\frac{22}{7}", r"\pi", False),
    (r"\sqrt{10}", r"\pi", False),
    (r"\sqrt{2}", r"2^{0.5}", True),
    (r"0.5", r"0.50", True),
    (r"0.5", r"0.05", False),
    (r"17", r"-17", False),
    (r"17", r"17^2", False),
    (r"17", r"\sqrt{17}", False),
    (r"\frac{17}{21}", r"\frac{21}{17}", False),
    (r"\frac{17}{21}", r"0.8095", False),
    (r"\frac{17}{21}", r"\frac{34}{42}", True),
    (r"\frac{1}{4}", r"\frac{1}{4}+\epsilon", False),
    (r"\frac{639}{40}", r"15.975", True),
    (r"\frac{639}{40}", r"15.97", False),
    (r"\frac{3840}{289}", r"13.287", False),
    (r"\frac{3840}{289}", r"\frac{3840}{289}", True),
    (r"\frac{2}{1005}", r"\frac{4}{2010}", True),
    (r"\frac{2}{1005}", r"\frac{2}{1006}", False),
    (r"\frac{448}{15625}", r"0.028672", True),  # rule 3: the exact terminating decimal
    (r"\frac{448}{15625}", r"0.02867", False),
    (r"\frac{10}{11}", r"0.\overline{90}", True),  # rule 3: an exact repeating decimal
    (r"\frac{10}{11}", r"0.909", False),
    (r"2\sqrt{5}", r"\sqrt{20}", True),
    (r"2\sqrt{5}", r"4.472", False),
    (r"2\sqrt{5}", r"5\sqrt{2}", False),
]

MALFORMED_AND_ADVERSARIAL = [
    (r"5", r"", False),
    (r"5", r"   ", False),
    (r"5", r"\boxed{5", False),
    (r"5", r"5}", False),
    (r"5", r"{5}", True),
    (r"5", r"\boxed{\boxed{5}}", True),
    (r"5", r"\displaystyle 5", True),
    (r"5", '5 \\\\', True),
    (r"5", r"\left.5\right.", True),
    (r"5", r"5\!", True),
    (r"5", r"**5**", True),
    (r"5", r"`5`", True),
    (r"5", r"5 or 6", False),
    (r"5", r"5, 6", False),
    (r"5", r"\text{5 or 6}", False),
    (r"5", r"__import__('os').system('ls')", False),
    (r"5", r"\input{/etc/passwd}", False),
    (r"5", "5" * 3000, False),  # rule 11 / section 4: a long digit string is another number, decided promptly
    (r"5", r"((((((5))))))", True),
    (r"5", r"5​", True),
    (r"\frac{3}{2}", r"\frac{3}{2} \text{ or } \frac{2}{3}", False),
    (r"\frac{3}{2}", r"3/2 or 2/3", False),
    (r"\frac{3}{2}", r"\frac32", True),
    (r"\frac{3}{2}", r"\dfrac{3}{2}", True),
    (r"\frac{3}{2}", r"\frac{3}{2}}", False),
    (r"\frac{3}{2}", r"\frac{3}{{2}}", True),
    (r"\frac{3}{2}", r"\frac{3}{2", False),
    (r"\frac{3}{2}", r"3 / 2", True),
    (r"\frac{3}{2}", r"\frac{3}{2}.", True),
    (r"\frac{3}{2}", r"$\frac{3}{2}$", True),
    (r"\frac{3}{2}", r"\(\frac{3}{2}\)", True),
    (r"\frac{3}{2}", r"\[\frac{3}{2}\]", True),
    (r"\frac{3}{2}", r"$$\frac32$$", True),
    (r"10", r"1\!0", True),  # rule 11: a negative thin space binds the digits
    (r"10", r"\phantom{0}10", True),
    (r"x+1", r"x+1+", False),
    (r"x+1", r"x++1", False),
    (r"7", r"7^", False),
    (r"7", r"7_", False),
    (r"7", r"\frac{}{}", False),  # rule 11: empty groups are malformed
    (r"7", r"\sqrt{}", False),
    (r"7", r"\boxed{}", False),
]

MODEL_OUTPUTS = [
    (r"3", r"x = 3", True),
    (r"3", r"\boxed{x = 3}", True),
    (r"\frac{\sqrt{3}}{2}", r"\boxed{\dfrac{\sqrt{3}}{2}}", True),
    (r"(2,-1)", r"\boxed{(2, -1)}", True),
    (r"\{1,2\}", r"\boxed{\{1,2\}}", True),
    (r"2, 3", r"\boxed{2 \text{ and } 3}", True),
    (r"18.90", r"\boxed{\$18.90}", True),
    (r"1500", r"\boxed{1.5\times 10^{3}}", True),
    (r"\frac{\pi}{4}", r"\boxed{\pi/4}", True),
    (r"\frac{\pi}{2}", r"\boxed{\frac{1}{2}\pi}", True),
    (r"5", r"\text{The answer is } 5", True),
    (r"5", r"\text{The final answer is } 5", True),
    (r"5", r"\text{Answer: } 5", True),
    (r"12", r"12^\prime", True),  # judgment call, rule 4: a foot mark after a plain-number gold is a unit
    (r"12", r"\frac{1}{36} \approx 0.028", False),
    (r"\frac{1}{36}", r"\frac{1}{36} \approx 0.028", True),
    (r"\frac{1}{36}", r"\approx 0.028", False),
    (r"6", r"2 \cdot 3", True),
    (r"6", r"2 \times 3", True),
    (r"36", r"\boxed{36}^\circ", True),
    (r"36", r"6^2", True),
    (r"10", r"\boxed{10}\text{ cm}", True),
    (r"\frac{5}{2}", r"\frac{5}{2}\text{ units}^2", True),
    (r"4:30", r"\text{4:30 p.m.}", True),
    (r"10000", r"10{,}000", True),
    (r"\frac{7}{2}", r"3.5", True),
    (r"\frac{7}{2}", r"\frac{7}{2} \text{ or } 3.5", True),  # judgment call, rule 11: one value in two forms is a restatement, not a hedge
    (r"\frac{5}{2}", r"\frac52 \text{ or } 2.5", True),  # judgment call, rule 11: a restatement, every reading is the gold
    (r"\frac{1}{2}", r"\frac{1}{2} = 0.5", True),  # rule 1: every member of the equality chain is the gold
    (r"\frac{7}{2}", r"\frac72\ (3.5)", True),  # judgment call, rule 11: a parenthetical decimal restating the value
    (r"\frac{7}{2}", r"\frac72 \text{ or } 4.5", False),  # rule 11: a hedge between two values
    (r"\frac{1}{2}", r"\frac{1}{2} = 0.6", False),  # rule 1: a member of the chain differs
    (r"\frac{1}{3}", r"\frac13 \approx 0.33", True),  # README rule 11: the trailing approximation is dropped
    (r"\frac{1}{3}", r"0.33", False),
    (r"-\frac{3}{8}", r"\boxed{-\frac38}", True),
    (r"-\frac{3}{8}", r"-0.375", True),
    (r"-\frac{3}{8}", r"\frac{3}{8}", False),
]

JUDGMENT_CALLS = [
    (r"12", r"12 m", True),  # judgment call, rule 4: a spaced one-letter unit after a plain-number gold
    (r"5", r"5 g", True),  # judgment call, rule 4: a spaced one-letter unit after a plain-number gold
    (r"12", r"12'", True),  # judgment call, rule 4: a foot mark after a plain-number gold is a unit
    (r"12", r"12''", True),  # judgment call, rule 4: an inch mark is a unit (units are not converted)
    (r"36^\circ", r"36'", False),  # rule 5: against a degree gold a prime means arc minutes
    (r"12", r"12 x", False),  # rule 9: x is no unit; 12x is an expression
    (r"12", r"12 m^2", True),  # judgment call, rule 4: a one-letter unit with its power
    (r"22.5^\circ", r"22^\circ30'", True),  # judgment call, rule 5: degrees and arc minutes, 22 + 30/60
    (r"22.5^\circ", r"22^\circ 30^\prime", True),  # judgment call, rule 5: degrees and arc minutes written with \prime
    (r"22.5", r"22^\circ30'", True),  # rule 5: a degree value answers a bare number gold
    (r"22.5^\circ", r"22^\circ50'", False),  # rule 1: 22 5/6 degrees
]

RESTATED_ANSWERS = [
    (r"\frac{7}{2}", r"\frac72 (3.5)", True),  # judgment call, rule 11: a parenthetical decimal restating the value
    (r"\frac{7}{2}", r"\frac72\ (3.4)", False),  # rule 11: the parenthetical contradicts the answer
    (r"\frac{1}{3}", r"\frac13\ (0.33)", False),  # rule 3: the parenthetical approximation is not a restatement of 1/3
    (r"\frac{7}{2}", r"\frac72, 3.5", True),
    (r"\frac{7}{2}", r"3.5, 4.5", False),
    (r"3", r"3, 3", False),  # rule 1: the same rendering twice is an extra element (as test_equivalence_hidden_style's `2, 2`)
    (r"3", r"x=3, x=3.0", False),  # rule 1: parses to the same element twice, like `2, 2`
    (r"3", r"3 \text{ or } -3", False),
    (r"(2,3)", r"(2,3) \text{ or } (3,2)", False),
    (r"\frac{1}{2}", r"\frac{1}{2} \text{ or } \frac{2}{4}", True),
    (r"\frac12", r"\frac12 \text{ or } 0.49", False),  # rule 11: a hedge
    (r"2", r"2 \text{ or } 2.0", False),  # rule 1: parses to the same element twice, like `2, 2`
    (r"\sqrt{2}", r"\sqrt2 \text{ or } 1.414", False),  # rule 3: the second reading is an approximation
    (r"\frac{1}{4}", r"\frac14 = 25\%", True),  # rule 4: 25% is 1/4, the chain agrees
    (r"5", r"\text{answer: } 5", True),
    (r"-\frac{24}{25}", r"\sin 2\theta = -\frac{24}{25}", True),
    (r"\frac{5}{13}", r"\cos\theta = \frac{12}{13}", False),
    (r"\frac{3}{5}", r"\cos C = \frac35", True),  # rule 1: `cos C =` names the asked quantity
    (r"\frac{\pi}{6}", r"\sin\theta = \frac12", False),  # rule 1: the value of sin θ is not θ
    (r"2", r"\sin x = 2", False),  # rule 1: `\sin x = 2` is an equation to solve (as test_equivalence_hidden_style)
    (r"\frac{1}{2}", r"\tan\alpha = \frac12", True),
    (r"(-\infty, 2] \cup [3, \infty)", r"\mathbb{R}\setminus(2,3)", True),  # rule 10: removing an open interval keeps its endpoints
    (r"(-\infty, 2) \cup (3, \infty)", r"\mathbb{R}\setminus(2,3)", False),  # rule 1: endpoint inclusion differs
    (r"(-\infty, 2) \cup (3, \infty)", r"\mathbb{R}\setminus\{2,3\}", False),  # rule 1: removing two points is not removing [2,3]
    (r"42", r"forty-three", False),
    (r"21", r"twenty-one", True),
    (r"12m", r"12 m", True),
    (r"12", r"12 n", False),  # rule 9: n is no unit
    (r"2", r"2 h", True),
    (r"36^\circ", r"36^\prime", False),  # rule 5: against a degree gold a prime means arc minutes
    (r"13", r"12'", False),
    (r"\frac{\pi}{8}", r"22^\circ30'", False),  # rule 5: degrees never answer a radian gold
    (r"22.5^\circ", r"22.5'", False),  # rule 5: 22.5 arc minutes is not 22.5 degrees
]

MIXED_TRAPS = [
    (r"\frac{1}{2}", r"\frac{1}{2}x", False),
    (r"2", r"2x", False),
    (r"x", r"X", False),
    (r"\{1,2\}", r"(1,2)", False),
    (r"(1,2)", r"\{1,2\}", False),
    (r"[1,2]", r"\{1,2\}", False),
    (r"1,2", r"[1,2]", False),
    (r"1,2", r"(1,2)", False),  # README known limit: `(1,2)` reads as an interval or pair, not the list
    (r"(1,2)", r"1,2", True),  # README rule 8 limits: a bare list answers an ordered pair
    (r"5", r"\{5\}", True),
    (r"\{5\}", r"5", True),  # rule 1: a one-element set and its element
    (r"-5", r"- 5", True),
    (r"-5", r"(-5)", True),
    (r"-5", r"-(5)", True),
    (r"-5", r"5-", False),
    (r"0", r"0.0", True),
    (r"0", r"O", False),
    (r"1", r"l", False),
    (r"100", r"100\%", True),  # README rule 4: a bare gold above 1 reads % as a unit
    (r"1", r"100\%", True),  # rule 4: an explicit % is a factor 1/100
    (r"0.5", r"50\%", True),
    (r"50\%", r"0.5", True),
    (r"50\%", r"\frac{1}{2}", True),
    (r"50\%", r"50", True),
    (r"5\%", r"0.05", True),
    (r"5\%", r"5", True),  # rule 4: the gold carries %
    (r"5\%", r"0.5", False),
    (r"\frac{3}{4}", r"75", False),  # rule 3: no x100 leniency
    (r"75", r"\frac34", False),  # rule 3: no /100 leniency
    (r"\text{(A)}", r"\text{(a)}", True),
    (r"\text{(A)}", r"A.", True),
    (r"\text{(A)}", r"\text{A and B}", False),
    (r"\text{(A)}", r"\text{All of the above}", False),
    (r"\$1.50", r"1.5", True),
    (r"\$1.50", r"150", False),
    (r"\$1.50", r"\$1.50 \text{ per pound}", True),  # rule 4: a unit phrase
    (r"1.50", r"150 \text{ cents}", False),  # README known limit: units are not converted
    (r"4:30", r"4:30 \text{ PM}", True),  # README rule 8: a missing am/pm on one side is accepted
    (r"4:30", r"4:03", False),
    (r"4:30", r"16:30", True),
    (r"4:30 \text{ am}", r"4:30 \text{ pm}", False),
    (r"1:4", r"\frac{1}{4}", True),  # README rule 8: ratios compare by value
    (r"1:4", r"4:1", False),
    (r"3:2", r"6:4", True),
    (r"\frac{1}{4}", r"1:4", True),
    (r"90", r"90^\circ\text{F}", True),
    (r"x^2", r"x^{2}", True),
    (r"x^2", r"x2", False),  # rule 9: x2 is the product 2x
    (r"x^2", r"2x", False),
    (r"2^{10}", r"1024", True),
    (r"2^{10}", r"2^{01}", False),  # rule 6: a leading zero in the exponent, 2^1
    (r"10^{-3}", r"0.001", True),
    (r"10^{-3}", r"10^{3}", False),
    (r"e^2", r"e^{2}", True),
    (r"e^2", r"7.389", False),
    (r"\log_2 8", r"3", True),
    (r"\ln e", r"1", True),
    (r"\binom{5}{2}", r"10", True),
    (r"5!", r"120", True),
    (r"0!", r"1", True),
    (r"\lfloor 2.5 \rfloor", r"2", True),
    (r"|{-3}|", r"3", True),
    (r"\frac{a}{b}", r"a/b", True),
    (r"\frac{a}{b}", r"b/a", False),
    (r"a+b", r"a + b", True),
]

MATH500_GOLD_SHAPES = [
    (r"\frac12", r"\dfrac12", True),
    (r"\frac{\sqrt{3}}{2}", r"\frac{\sqrt 3}2", True),
    (r"\frac{\sqrt{2}}{2}", r"\sqrt{2}/2", True),
    (r"\sqrt{2}", r"2^{\frac{1}{2}}", True),
    (r"5", r"5\text{.}", True),
    (r"5", r"\mathrm{5~cm}", True),
    (r"5", r"5\ \mathrm{cm}", True),
    (r"5", r"5 \mathrm{~cm}^{2}", True),
    (r"5", r"\boxed{5}\,\text{cm}", True),
    (r"18.90", r"18.90\$", True),
    (r"18.90", r"\text{\$}18.90", True),
    (r"18.90", r"18.90 \text{ dollars}", True),
    (r"18.90", r"\$18.90\text{ per hour}", True),
    (r"\pm 5", r"-5 \text{ and } 5", True),
    (r"\pm 5", r"x = -5 \text{ or } 5", True),
    (r"\pm 5", r"x_1 = 5, x_2 = -5", True),
    (r"\pm 5", r"x_1 = 5", False),
    (r"(2,3)", r"(x, y) = (2, 3)", True),
    (r"(2,3)", r"\{(2,3)\}", True),  # rule 1: the set of solutions holding the one pair
    (r"(2,3), (3,2)", r"(3,2), (2,3)", True),
    (r"(2,3), (3,2)", r"(2,3)", False),  # rule 1: a missing solution pair
    (r"\frac{1}{2}, \frac{1}{3}", r"\frac13, \frac12", True),
    (r"\frac{1}{2}, \frac{1}{3}", r"0.5, 0.\overline{3}", True),
    (r"\frac{1}{2}, \frac{1}{3}", r"0.5, 0.33", False),  # rule 3
    (r"025", r"\boxed{25}", True),
    (r"025", r"\boxed{025}", True),
    (r"025", r"\boxed{250}", False),
    (r"27.0", r"\boxed{27}", True),
    (r"27.0", r"27.5", False),
    (r"\$32,\!348", r"\$32{,}348", True),
    (r"\$32,\!348", r"32\,348 \text{ dollars}", True),
    (r"\$32,\!348", r"\$32.348", False),
    (r"x \in [-2,7]", r"\{x \mid -2 \le x \le 7\}", True),
    (r"x \in [-2,7]", r"-2 \leq x \leq 7", True),
    (r"\left( 3, \frac{\pi}{2} \right)", r"\left(3,\dfrac{\pi}{2}\right)", True),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3, 1.5708)", False),  # rule 3: an approximated entry
    (r"y = 2x + 3", r"y=2x+3", True),
    (r"y = 2x + 3", r"f(x) = 2x+3", True),
    (r"p - q", r"p + (-q)", True),
    (r"p - q", r"-q + p", True),
    (r"3\sqrt{3}", r"3 \sqrt 3", True),
    (r"3\sqrt{3}", r"\sqrt{27}", True),
    (r"3\sqrt{3}", r"3^{3/2}", True),
    (r"3\sqrt{3}", r"3\sqrt{3}\text{ units}", True),
    (r"3\sqrt{3}", r"5.196", False),
    (r"11\sqrt2", r"11 \sqrt{2} \approx 15.56", True),
    (r"11\sqrt2", r"15.56", False),
    (r"\text{(C)}", r"\text{C) }12", True),
    (r"\text{(C)}", r"\text{Option C}", True),  # rule 8: the letter named as an option
    (r"\text{(C)}", r"\text{choice (C)}", True),
    (r"\text{Devon}", r"\text{Devon.}", True),
    (r"\text{Devon}", r"\textit{Devon}", True),
    (r"\text{Devon}", r"\text{Devon wins}", False),
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"\begin{pmatrix}1\\2\end{pmatrix}", True),
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"\binom{1}{2}", False),  # rule 1: \binom{1}{2} is a binomial coefficient (0), not a vector
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"(1,2)", True),  # rule 1: the same entries in order
    (r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", r"\begin{pmatrix} 1 & 2 \end{pmatrix}", False),
    (r"4210_{5}", r"4210_{\text{five}}", True),
    (r"4210_{5}", r"(4210)_5", True),
    (r"4210_{5}", r"4210_{(5)}", True),
    (r"4210_{5}", r"560", False),  # rule 7: bare 560 is read in base 5 (invalid digit 6)
    (r"4210_{5}", r"555_{10}", True),  # rule 7: the same number in base ten
]

NOTATION_VARIANTS = [
    (r"1000", r"1{,}000", True),
    (r"1000000", r"1\,000\,000", True),
    (r"1000000", r"1 000 000", True),
    (r"5", r"5.0.", True),  # rule 11: a sentence period after 5.0
    (r"5", r"5e0", True),
    (r"5", r"\num{5}", True),
    (r"1000", r"\num{1000}", True),
    (r"5", r"\SI{5}{cm}", True),  # rule 4/11: siunitx quantity renders as 5 cm
    (r"12", r"12 \text{ sq ft}", True),
    (r"30", r"30 \text{ km/h}", True),
    (r"9.8", r"9.8 \text{ m/s}^2", True),
    (r"9.8", r"9.8 m/s^2", True),  # rule 4: a rate unit with its power
    (r"150", r"150 \text{ min}", True),
    (r"0.25\%", r"\frac14\%", True),  # rule 4: both carry %
    (r"3+4i", r"3 + 4 i", True),
    (r"3+4i", r"(3+4i)", True),
    (r"3+4i", r"3+4\mathrm{i}", True),
    (r"3+4i", r"3+4\,i", True),
    (r"2i", r"\sqrt{-4}", True),  # rule 9: principal root of a negative number
    (r"3+4i", r"3+4\text{i}", True),
    (r"3+4i", r"3+4\mathit{i}", True),
    (r"\text{yes}", r"\text{Yes.}", True),
    (r"5", r"\boxed{\text{5}}", True),
    (r"5", r"\text{5}", True),
    (r"5", r"\mathbf{5}", True),
    (r"5", r"\boldsymbol{5}", True),
    (r"\frac{1}{2}", r"\mathbf{\frac{1}{2}}", True),
    (r"2", r"\frac{4}{2}", True),
    (r"-2", r"\frac{-4}{2}", True),
    (r"0.5", r".5", True),
    (r"-0.5", r"-.5", True),
    (r"1/2", r"\frac{1}{2}", True),
    (r"1/2", r"0.5", True),
    (r"\sqrt{2}", r"\sqrt 2", True),
    (r"\sqrt{2}", r"sqrt(2)", True),
    (r"\sqrt{2}", r"\sqrt(2)", True),
    (r"2\sqrt{2}", r"2 sqrt 2", True),
    (r"\pi", r"pi", True),
    (r"2\pi", r"2 pi", True),
    (r"\frac{\pi}{2}", r"pi/2", True),
    (r"\frac{\pi}{2}", r"\frac{1}{2} \pi", True),
    (r"\frac{\pi}{2}", r"\frac12\pi", True),
    (r"\frac{3}{2}", r"\frac{3}{2}\%", False),  # rule 4: an explicit % divides by 100 (the gold is no percentage)
    (r"x^2+2x+1", r"(x+1)^2", True),
    (r"x^2+2x+1", r"(x+1)^{2}", True),
    (r"x^2+2x+1", r"(x-1)^2", False),
    (r"\frac{1}{x}", r"x^{-1}", True),
    (r"\frac{1}{x}", r"1/x", True),
    (r"\frac{1}{x}", r"-x", False),
    (r"\frac{x}{2}", r"0.5x", True),
    (r"\frac{x}{2}", r"x/2", True),
    (r"\frac{x}{2}", r"\frac12 x", True),
    (r"2^{n}", r"2^n", True),
    (r"2^{n+1}", r"2\cdot 2^n", True),
    (r"2^{n+1}", r"2^n+1", False),  # rule 9: precedence, 2^n + 1
    (r"n(n+1)/2", r"\frac{n(n+1)}{2}", True),
    (r"\binom{n}{2}", r"\frac{n(n-1)}{2}", True),
    (r"n!", r"n!", True),
    (r"(n+1)!", r"(n+1)n!", True),
]

LOCI_AND_NAMED_OPTIONS = [
    (r"\text{(B)}", r"\text{Tuesday}", True, P_DAYS),  # rule 8: the text of option (B)
    (r"\text{(B)}", r"\text{(B) Tuesday}", True, P_DAYS),
    (r"\text{(B)}", r"\text{(B) Monday}", False, P_DAYS),
    (r"\text{(B)}", r"Monday", False, P_DAYS),
    (r"\text{Tuesday}", r"\text{(B)}", True, P_DAYS),  # rule 8: the letter whose option text is the gold
    (r"\text{Tuesday}", r"(A)", False, P_DAYS),
    (r"(x-1)^2+(y+2)^2=9", r"x^2-2x+y^2+4y-4=0", True),  # rule 1: the same circle expanded
    (r"(x-1)^2+(y+2)^2=9", r"(x-1)^2+(y+2)^2=3", False),
    (r"(x-1)^2+(y+2)^2=9", r"(x+1)^2+(y-2)^2=9", False),
    (r"y = \frac{1}{2}x + 3", r"x - 2y + 6 = 0", True),
    (r"y = \frac{1}{2}x + 3", r"y=0.5x+3", True),
    (r"y = \frac{1}{2}x + 3", r"x-2y-6=0", False),
    (r"(-\infty,-3] \cup [3, \infty)", r"x \le -3 \text{ or } x \ge 3", True),
    (r"(-\infty,-3] \cup [3, \infty)", r"|x| \ge 3", True),
    (r"(-\infty,-3] \cup [3, \infty)", r"x \in (-\infty,-3]\cup[3,\infty)", True),
    (r"(-\infty,-3] \cup [3, \infty)", r"|x| > 3", False),  # rule 1: endpoints excluded
    (r"(-\infty,-3] \cup [3, \infty)", r"[-3,3]", False),
    (r"[-3,3]", r"|x|\le 3", True),
    (r"[-3,3]", r"-3 \le x \le 3", True),
    (r"\frac{x^2}{4}+\frac{y^2}{9}=1", r"9x^2+4y^2=36", True),
    (r"\frac{x^2}{4}+\frac{y^2}{9}=1", r"4x^2+9y^2=36", False),
    (r"y^2=4x", r"x=\frac{y^2}{4}", True),
    (r"y^2=4x", r"y=2\sqrt{x}", False),  # rule 1: half the parabola is another locus
    (r"x=2", r"x-2=0", True),
    (r"x=2", r"y=2", False),
    (r"z=3", r"z = 3", True),
    (r"2x-y+3z=8", r"-2x+y-3z+8=0", True),
    (r"2x-y+3z=8", r"2x-y+3z+8=0", False),
    (r"(1,2,3)", r"\begin{pmatrix}1\\2\\3\end{pmatrix}", True),
    (r"(1,2,3)", r"\langle 1,2,3\rangle", True),
    (r"(1,2,3)", r"1\mathbf{i}+2\mathbf{j}+3\mathbf{k}", False),  # known limit (kept False): unit-vector notation is not read
    (r"\begin{pmatrix} 2 & 0 \\ 0 & 2 \end{pmatrix}", r"2I", False),  # rule 1: I is a variable, not the identity
    (r"\begin{pmatrix} 2 & 0 \\ 0 & 2 \end{pmatrix}", r"\begin{bmatrix}2&0\\0&2\end{bmatrix}", True),
    (r"\begin{pmatrix} 2 & 0 \\ 0 & 2 \end{pmatrix}", r"2\begin{pmatrix}1&0\\0&1\end{pmatrix}", True),
    (r"\begin{pmatrix} 2 & 0 \\ 0 & 2 \end{pmatrix}", r"\left[\begin{matrix}2&0\\0&2\end{matrix}\right]", True),
    (r"\begin{pmatrix} 2 & 0 \\ 0 & 2 \end{pmatrix}", r"\begin{pmatrix}2&0\\0&-2\end{pmatrix}", False),
    (r"\begin{pmatrix} 2 & 0 \\ 0 & 2 \end{pmatrix}", r"[[2,0],[0,2]]", True),  # rule 11: bracketed rows are the matrix
]

COUNTS_AND_QUALIFIERS = [
    (r"\frac{\sqrt{3}}{2}", r"\frac{\sqrt{3}}{2}i", False),
    (r"2", r"2!", True),
    (r"1", r"\sin^2 x + \cos^2 x", True),
    (r"x", r"x^1", True),
    (r"a=2", r"2", True),
    (r"\{2\}", r"2", True),
    (r"10", r"10\%", True),  # README rule 4: a bare gold above 1 reads % as a unit
    (r"0.1", r"10\%", True),
    (r"1", r"1\%", False),  # rule 4: a bare gold of 1 is no percentage; 1% is 1/100
    (r"\frac{1}{2}", r"\frac{1}{2}^\circ", True),  # rule 4: a degree mark on a bare gold is a decoration
    (r"5", r"|-5|", True),
    (r"x+y", r"y+x", True),
    (r"x-y", r"y-x", False),
    (r"2", r"\sqrt{4}", True),
    (r"\pm 2", r"\sqrt{4}", False),
    (r"0.3", r"0.\overline{3}", False),  # rule 3: 1/3 is not 0.3
    (r"0.\overline{3}", r"\frac13", True),
    (r"\frac{1}{3}", r"1/3.", True),
    (r"5", r"5 \text{ (or } 6)", False),  # rule 11: a hedge
    (r"5", r"5 \text{ or more}", False),  # rule 1: a bound is not the value
    (r"5", r"\text{at least } 5", False),
    (r"5", r"\le 5", False),  # rule 1: a bound is not the value
    (r"5", r"5+", False),
    (r"5", r"5^+", False),  # rule 1: a one-sided limit mark, not the value
    (r"3", r"3 \text{ (approx.)}", False),  # rule 3: marked as approximate
    (r"4", r"\text{four}", True),
    (r"4", r"\text{Four}", True),
    (r"4", r"IV", False),  # rule 9: roman numerals are letters (case-sensitive variables)
    (r"\frac{1}{2}", r"\text{one half}", False),  # rule 8: no fraction words
    (r"0", r"\text{zero}", True),
    (r"0", r"\text{none}", False),
    (r"1", r"\text{one}", True),
    (r"1", r"\text{once}", False),
    (r"6", r"3!", True),
    (r"24", r"4!", True),
    (r"24", r"4", False),
    (r"\frac{1}{6}", r"\frac{1}{3!}", True),
    (r"720", r"6!", True),
    (r"720", r"6!!", False),  # rule 1: the double factorial 48
]

UNIT_AND_PERCENT_PHRASING = [
    (r"25", r"25\%", True, P_PERCENT),
    (r"25", r"0.25", False, P_PERCENT),  # rule 3: the question asks for a percent; no x100 leniency
    (r"25", r"\frac14", False, P_PERCENT),
    (r"\frac{1}{4}", r"0.25\%", False),  # rule 4: 0.25% is 1/400
    (r"6", r"6 \text{ sq. units}", True),
    (r"6", r"6\text{ units squared}", True),
    (r"6", r"6 \text{ square units}", True),
    (r"6", r"6\,\text{cm}^2", True),
    (r"5", r"$5", True),
    (r"5", r"5$", True),
    (r"\frac{1}{2}", r"\frac{1}{2", False),
    (r"\sqrt{2}", r"\sqrt{2", False),
    (r"5", r"\boxed{5}.", True),
    (r"5", r"\boxed{5}\%", True),  # README rule 4: a bare gold above 1 reads % as a unit
    (r"5", r"-five", False),  # rule 1: a sign in front of a number word is not dropped (read as text, never as 5)
    (r"-5", r"-5 \text{ or } -5.0", False),  # rule 1: parses to the same element twice, like `2, 2`
    (r"5\%", r"\boxed{5}\%", True),
    (r"5", r"5 \text{ cm}.", True),
    (r"5", r"\(\boxed{5}\)", True),
    (r"5", r"The answer is $5$", True),
    (r"5", r"5, i.e. five", False),  # rule 11: two items, the second a word
    (r"12", r"\text{12 inches}", True),
    (r"12", r"\text{twelve}", True),
    (r"12", r"1 \text{ foot}", False),  # README known limit: units are not converted
    (r"2", r"\text{2 hours}", True),
    (r"\frac{9}{2}", r"4.5 \text{ hours}", True),
    (r"\frac{9}{2}", r"4 \text{ hours } 30 \text{ minutes}", False),  # README known limit: compound units are not converted (kept False)
    (r"50", r"50\text{ mph}", True),
    (r"50", r"50\ \text{km}/\text{h}", True),  # rule 4: a rate written as two text units
]

FORMS_OF_ONE_VALUE = [
    (r"26000", r"2.6 \cdot 10^4", True),
    (r"26000", r"2.6*10^4", True),
    (r"26000", r"2.6 × 10^4", True),
    (r"26000", r"26,000", True),
    (r"26000", r"2.60e+04", True),
    (r"0.001", r"1e-3", True),
    (r"0.001", r"1E-03", True),
    (r"26000", r"2.6\times10^{3}", False),
    (r"26000", r"2.6", False),
    (r"i\sqrt{2}", r"\sqrt{2}i", True),
    (r"i\sqrt{2}", r"\sqrt{-2}", True),
    (r"i\sqrt{2}", r"\sqrt{2}", False),
    (r"\pm i", r"i, -i", True),
    (r"\pm i", r"i", False),
    (r"-i", r"\frac{1}{i}", True),  # rule 9: 1/i = -i
    (r"-i", r"i", False),
    (r"1-i", r"\frac{2}{1+i}", True),
    (r"1-i", r"\frac{2}{1-i}", False),
    (r"2+3i", r"(2, 3)", False),  # rule 9: a pair is not a complex number
    (r"11_2", r"3", False),  # rule 7: 3 is no base-2 numeral
    (r"11_2", r"3_{10}", True),
    (r"11_2", r"11", True),
    (r"11_2", r"1011_2", False),
    (r"100_3", r"9", False),  # rule 7: bare 9 is read in base 3
    (r"100_3", r"9_{10}", True),
    (r"\frac{1}{2}", r"50\%", True),
    (r"\frac{1}{2}", r"\frac{1}{2}\text{ (or 50\%)}", True),  # judgment call, rule 11: a parenthetical restatement as a percent
    (r"\frac{1}{2}", r"\frac{2}{4} = \frac{1}{2}", True),
    (r"\frac{1}{2}", r"0.5 = \frac{1}{2}", True),
    (r"\frac{1}{2}", r"\frac12\ (50\%)", True),  # judgment call, rule 11: a parenthetical restatement as a percent
    (r"\frac{1}{2}", r"\frac12 (\text{or } 60\%)", False),  # rule 11: the parenthetical is another value (a hedge)
    (r"6", r"2 (3)", True),  # rule 1: an integer in parentheses is a factor, not a gloss
    (r"\frac{1}{2}", r"\frac{1}{2} = \frac{2}{3}", False),  # rule 1: a false equality chain
]

TABLES = {
    "integer formats": INTEGER_FORMATS,
    "units": UNITS,
    "percent": PERCENT,
    "degrees/radians": DEGREES_RADIANS,
    "decimal vs fraction": DECIMAL_VS_FRACTION,
    "latex fractions": LATEX_FRACTIONS,
    "mixed numbers": MIXED_NUMBERS,
    "radicals": RADICALS,
    "pi": PI,
    "complex numbers": COMPLEX_NUMBERS,
    "intervals and unions": INTERVALS_AND_UNIONS,
    "unordered lists": UNORDERED_LISTS,
    "ordered tuples": ORDERED_TUPLES,
    "vectors/matrices": VECTORS_AND_MATRICES,
    "equations": EQUATIONS,
    "symbolic": SYMBOLIC,
    "trig": TRIG,
    "text": TEXT,
    "multiple choice": MULTIPLE_CHOICE,
    "bases": BASES,
    "scientific/large": SCIENTIFIC_AND_LARGE,
    "infinity/empty": INFINITY_AND_EMPTY,
    "numeric near-misses": NUMERIC_NEAR_MISSES,
    "malformed/adversarial": MALFORMED_AND_ADVERSARIAL,
    "model outputs": MODEL_OUTPUTS,
    "judgment calls": JUDGMENT_CALLS,
    "restated answers": RESTATED_ANSWERS,
    "mixed traps": MIXED_TRAPS,
    "math500 gold shapes": MATH500_GOLD_SHAPES,
    "notation variants": NOTATION_VARIANTS,
    "loci and named options": LOCI_AND_NAMED_OPTIONS,
    "counts and qualifiers": COUNTS_AND_QUALIFIERS,
    "unit and percent phrasing": UNIT_AND_PERCENT_PHRASING,
    "forms of one value": FORMS_OF_ONE_VALUE,
}


@pytest.mark.parametrize(("gold", "candidate", "expected", "problem"), category_params(TABLES))
def test_redteam3_pairs(gold: str, candidate: str, expected: bool, problem: str | None) -> None:
    check(gold, candidate, expected, problem)


def test_every_category_has_true_and_false_rows() -> None:
    assert_both_labels(TABLES)


def test_verdicts_are_deterministic_for_the_judgment_calls() -> None:
    for gold, candidate, expected, *_ in JUDGMENT_CALLS + RESTATED_ANSWERS:
        assert {grade(gold, candidate).equal for _ in range(3)} == {expected}
