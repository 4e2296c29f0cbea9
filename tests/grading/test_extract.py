"""Extraction tables for `extract_answer(text, *, fallback_last_number=False)` (issue 2, §2).

Expected strings are compared with all whitespace removed: where the checker keeps or drops a space inside
`\\frac{1}{2}` is not part of the contract; which answer it picked, and what it stripped, is.
"""
from __future__ import annotations

import re

import pytest

from stepkto_eval.grading import extract_answer, grade


def _squash(text: str | None) -> str | None:
    return None if text is None else re.sub(r"\s+", "", text)


def table(rows: list[tuple[str, str | None, str]]) -> list:
    return [pytest.param(text, expected, id=name) for text, expected, name in rows]


def check(text: str, expected: str | None, **kwargs) -> None:
    got = extract_answer(text, **kwargs)
    assert got is None or isinstance(got, str)
    shown = text if len(text) < 300 else f"{text[:120]!r}...({len(text)} chars)"
    assert _squash(got) == _squash(expected), f"extract_answer({shown!r}) -> {got!r}, expected {expected!r}"


BOXED = [
    (r"So the answer is \boxed{5}.", "5", "boxed-integer"),
    (r"\boxed{\frac{1}{2}}", r"\frac{1}{2}", "boxed-fraction"),
    (r"Thus \(\boxed{\frac{\sqrt{3}}{2}}\).", r"\frac{\sqrt{3}}{2}", "nested-braces-in-inline-math"),
    (r"$$\boxed{\left( 3, \frac{\pi}{2} \right)}$$", r"\left( 3, \frac{\pi}{2} \right)", "tuple-with-left-right"),
    (r"\[\boxed{(3,4]}\]", "(3,4]", "half-open-interval-brackets-unbalanced"),
    (r"\boxed{\{1,2\}}", r"\{1,2\}", "escaped-set-braces"),
    (
        r"\[ \boxed{\begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix}} \]",
        r"\begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix}",
        "boxed-matrix",
    ),
    (r"\boxed{10{,}000}", r"10{,}000", "brace-thousands-separator"),
    (r"\boxed{\text{(C)}}", r"\text{(C)}", "boxed-choice"),
    (r"the area is \boxed{5.4 \text{ cents}}", r"5.4 \text{ cents}", "unit-kept-for-the-grader"),
    (r"Hence $\boxed 5$.", "5", "boxed-without-braces"),
    (r"\boxed 7", "7", "boxed-without-braces-at-end"),
    (r"\fbox{7}", "7", "fbox"),
    (r"The result: \fbox{$\frac{3}{4}$}", r"\frac{3}{4}", "fbox-with-dollars-inside"),
    (r"First \boxed{3}, but correcting that: \boxed{4}", "4", "several-boxes-last-wins"),
    (r"\boxed{a} and \boxed{b}", "b", "two-boxes-not-a-set"),
    (r"\boxed{\boxed{12}}", "12", "nested-boxes"),
    (r"We get \boxed{25}.\).pd自如取消 Brig that Bo noon", "25", "degenerate-tail-after-box"),
    (r"The answer is \boxed{9}.", "9", "box-beats-trailing-period"),
    (r"Place $\boxed{\phantom{2}}$ ... so the box holds \(\boxed{4}\).", "4", "box-in-question-then-answer"),
    ("\\boxed{-\\frac{\\pi}{6}}\n", r"-\frac{\pi}{6}", "trailing-newline"),
    (r"\boxed{ 42 }", "42", "inner-spaces"),
    (r"The answer is $\boxed{5}$ cm.", "5", "unit-after-the-box"),
    (r"\boxed{\frac{1}{2}}\boxed{3}", "3", "adjacent-boxes"),
    (r"<answer>\boxed{7}</answer>", "7", "box-inside-answer-tags"),
    (r"\fbox{ 3 }", "3", "fbox-inner-spaces"),
    (r"\boxed{3}.$$", "3", "box-then-period-and-closing-math"),
    (r"\boxed{x \in [1, 2)}", r"x \in [1, 2)", "interval-statement"),
    (r"$\boxed{\text{Evelyn}}$.", r"\text{Evelyn}", "boxed-text-answer"),
]


@pytest.mark.parametrize("text,expected", table(BOXED))
def test_boxed(text, expected):
    check(text, expected)


PROSE_MARKERS = [
    ("The answer is 42.", "42", "answer-is-trailing-period"),
    (r"Therefore, the answer is $\frac{3}{4}$.", r"\frac{3}{4}", "answer-is-dollars"),
    (r"So the answer is \(\frac{1}{2}\).", r"\frac{1}{2}", "answer-is-paren-math"),
    ("Final Answer: The final answer is $x^2+1$. I hope it is correct.", "x^2+1", "minerva-format"),
    ("Final Answer: The final answer is 17. I hope it is correct.", "17", "minerva-format-bare"),
    ("Natalia sold 48 clips.\n#### 72", "72", "gsm8k-hashes"),
    ("#### 1,000", "1,000", "gsm8k-hashes-separator"),
    ("<think>maybe 3</think><answer>12</answer>", "12", "answer-tags"),
    (r"<answer> $\frac{1}{2}$ </answer>", r"\frac{1}{2}", "answer-tags-dollars"),
    (r"The answer is 3. Wait, recheck: \boxed{4}", "4", "box-after-prose-marker"),
    ("The answer is: 12", "12", "answer-is-colon"),
    ("the answer is 7", "7", "lowercase-no-period"),
    ("The answer is 3.5.", "3.5", "decimal-then-period"),
    (r"The answer is $1,000$.", "1,000", "separator-kept-for-the-grader"),
    ("Therefore the answer is (C).", "(C)", "choice-in-prose"),
    (r"So the final answer is: $x=3$.", "x=3", "final-answer-is-colon"),
    ("#### $42$", "42", "gsm8k-hashes-dollars"),
    ("#### 42.", "42", "gsm8k-hashes-period"),
    ("The answer is 5\n\nWait, let me double check. Actually", "5", "marker-then-truncated-tail"),
    ("The answer is 3. Checking again, the answer is 4.", "4", "several-markers-last-wins"),
    ("Final Answer: The final answer is 7.", "7", "minerva-format-without-hope"),
    (r"The answer is $-\frac{1}{2}$.", r"-\frac{1}{2}", "negative-fraction-in-prose"),
    ("<answer>\n42\n</answer>\nsome trailing text", "42", "answer-tags-multiline"),
    ("#### -5", "-5", "gsm8k-negative"),
]


@pytest.mark.parametrize("text,expected", table(PROSE_MARKERS))
def test_prose_markers(text, expected):
    check(text, expected)


NO_ANSWER = [
    ("Let us compute 3+4 = 7 and then multiply by", "truncated-mid-sentence"),
    ("The sum is 7", "number-without-marker"),
    (r"So we need \boxed{\frac{1}{2", "truncated-inside-box"),
    ("", "empty"),
    ("   \n  ", "whitespace-only"),
    ("We cannot determine it from the figure.", "prose-only"),
]


@pytest.mark.parametrize("text", [pytest.param(t, id=name) for t, name in NO_ANSWER])
def test_no_final_answer_marker_yields_none(text):
    # A completion without a final-answer marker must not be credited through its last number by default.
    assert extract_answer(text) is None


FALLBACK = [
    ("we get 3 and then 12.", "12", "last-number"),
    ("Let us compute 3+4 = 7", "7", "truncated-last-number"),
    ("The total is -2.5 dollars", "-2.5", "negative-decimal"),
    (r"so \boxed{5} and later 7", "5", "box-still-wins-over-fallback"),
]


@pytest.mark.parametrize("text,expected", table(FALLBACK))
def test_last_number_fallback_only_when_asked(text, expected):
    check(text, expected, fallback_last_number=True)
    if r"\boxed" not in text:
        assert extract_answer(text) is None


# Where the exact extracted string is a matter of taste (keep `\\$` or not, keep a trailing `.` inside a box
# or not), the contract is the verdict of extract-then-grade against the gold.
EXTRACT_THEN_GRADE = [
    (r"\$18.90", r"The answer is $\$18.90$.", True, "escaped-dollar-inside-math"),
    ("18.90", r"The total cost is \boxed{\$18.90}.", True, "boxed-dollar-amount"),
    ("2", r"\boxed{2.}", True, "period-inside-box"),
    ("42", "**Final Answer:** 42", True, "bold-final-answer"),
    (r"\frac{3}{4}", r"The answer is \(\dfrac{3}{4}\).", True, "dfrac-in-paren-math"),
    ("10080", r"The answer is $10,\!080$.", True, "spacing-macro-separator"),
    (r"\text{(C)}", "Therefore the answer is (C).", True, "choice-letter"),
    ("025", r"The final answer is $\boxed{025}$.", True, "aime-leading-zeros"),
    ("27.0", r"So they meet \boxed{27} miles from A.", True, "amc-float-gold"),
    ("6", r"\boxed{5} ... no, recomputing: \boxed{6}", True, "last-box-is-the-answer"),
    ("5", r"\boxed{5} ... no, recomputing: \boxed{6}", False, "earlier-box-is-not-the-answer"),
    ("5", "I think the answer is 5, but it could be 6.", False, "hedged-prose-answer"),
    ("5", "The answer is 5 or 6.", False, "hedge-with-or"),
    ("27.0", "So they meet 27 miles from A.", False, "no-marker-not-credited"),
    ("12", "Let me compute: 3*4 = 12", False, "truncated-without-marker"),
    # Red-team rows: where the old extractor took the answer from the wrong place.
    ("3", "<think>maybe \\boxed{3}</think>\nThe answer is 4.", False, "box-inside-think-is-not-the-answer"),
    ("4", "<think>maybe \\boxed{3}</think>\nThe answer is 4.", True, "answer-after-think"),
    ("3", "<think>\nso \\boxed{3}? Let me verify", False, "unclosed-think-not-credited"),
    ("5", r"\boxed{5} ... wait, redo: \boxed{\frac{1", False, "superseded-box-before-unclosed-box"),
    ("12", "<think>\\boxed{10}</think>\n<answer>12</answer>", True, "answer-tag-after-think-box"),
    ("12", "**Answer:** The area is 12 square units.", True, "answer-line-sentence"),
    ("5", "The answer is 5, since 2 + 3 = 5.", True, "explanation-clause-cut"),
    ("7", "The answer is 7 (since 7 is prime).", True, "parenthetical-cut"),
    ("12", "The answer is **12**.", True, "bold-number"),
    ("35", "#### $35", True, "gsm8k-currency"),
    (r"\frac{1}{6}", "**Final Answer:** The probability is $\\dfrac{1}{6}$.", True, "bold-final-answer-span"),
    ("24", "### Final Answer\n\nThe area is $24$ square units.", True, "heading-then-sentence"),
    ("x=5", "So the answer is:\n\\[\nx = 5\n\\]", True, "display-math-on-next-lines"),
    ("(C)", "Therefore, the correct option is **(C)**.", True, "correct-option-is"),
    ("7", "The answer is $5$ or $7$.", False, "hedge-in-two-spans"),
    ("6", "The answer is 5 or $6$.", False, "hedge-mixed-plain-and-span"),
    ("5", "The answer is not 5; it is 7.", False, "negated-marker"),
    ("5", "So the answer is 5? Let me double-check.", False, "questioned-marker"),
    ("1", "#### 1. Set up the equation\nLet x be the width.", False, "markdown-numbered-heading"),
    ("4", "Final Answer: The final answer is", False, "minerva-truncated"),
    ("2", "Fill in: $3 + \\boxed{\\phantom{0}} = 5$. The answer is 2.", True, "placeholder-box-skipped"),
]


@pytest.mark.parametrize(
    "gold,text,expected", [pytest.param(g, t, e, id=name) for g, t, e, name in EXTRACT_THEN_GRADE]
)
def test_extract_then_grade(gold, text, expected):
    extracted = extract_answer(text)
    verdict = grade(gold, extracted) if extracted is not None else None
    got = verdict.equal if verdict is not None else False
    assert got is expected, f"extract_answer -> {extracted!r}; verdict {verdict}"


def test_long_degenerate_completion_keeps_its_box():
    # A 200 kB degenerate completion with the box near the start still yields that box.
    text = r"\boxed{6}" + " \\] garbage" * 20000
    assert _squash(extract_answer(text)) == "6"


# --- Completions in the styles real models write, grouped by phenomenon (red team, issue 2 section 2) -------

# Reasoning models: the answer is in the response after the last </think>; an unclosed <think> has none.
THINK = [
    (
        "<think>\nLet me try x=3: 3^2=9, not 10. Maybe \\boxed{3}? No.\n"
        "Try x=4...\n</think>\n\n"
        r"The solution is $x = 4$, so the answer is $\boxed{4}$.",
        "4",
        "box-after-think",
    ),
    (
        "<think>\nPerhaps the answer is \\boxed{3}.\nWait, recount: 4.\n</think>\n\n"
        "**Final Answer:** 4",
        "4",
        "think-box-vs-final-line",
    ),
    ("<think>\nSo it's 12? Let me check... yes, 12.\n</think>\nThe answer is 12.", "12", "think-then-prose"),
    (
        "<think>\nThe sum is 3+4 = 7. So \\boxed{7}. "
        "Hmm, but the question asks for the product: 12.\n",
        None,
        "unclosed-think-box-is-not-an-answer",
    ),
    (
        "<think>\nOkay, 2+2. That is 4. I'm confident the answer is 4.\n"
        "Let me double check",
        None,
        "unclosed-think-prose",
    ),
    ("Okay, the user asks for 2+2 which is 4.\n</think>\n\n\\[\\boxed{4}\\]", "4", "no-open-tag-in-completion"),
    ("<think>\ncompute... the answer is 6\n</think>\n\n", None, "empty-response-after-think"),
    (
        "<think>a</think><think>the answer is 3</think>\n"
        r"Final answer: \(\frac{2}{3}\)",
        r"\frac{2}{3}",
        "two-think-blocks",
    ),
    ("<think>\n\\boxed{10}\n</think>\n<answer>12</answer>", "12", "think-box-then-answer-tag"),
    ("<THINK>hmm</THINK>\nThe answer is $-2$.", "-2", "upper-case-think-tags"),
    (
        "<think>\nLet me reason.\n</think>\n\n"
        "Solving, $x^2 - 5x + 6 = 0$ gives $x = 2$ or $x = 3$.\n\n"
        r"$$\boxed{2, 3}$$",
        "2, 3",
        "think-then-display-box",
    ),
    ("<think>\nWe want 17 * 3 = 51.\n</think>\nThus, Tom has \\boxed{51} marbles.", "51", "think-units-prose"),
    (
        "<think>x</think>\n### Final Answer\n\\[\n\\boxed{\\dfrac{5}{12}}\n\\]",
        r"\dfrac{5}{12}",
        "think-then-gpt-heading",
    ),
    ("<think>\nlong chain\n</think>\nThe total is 15 dollars.", None, "think-then-no-marker"),
]

# Llama-style "The final answer is: $\\boxed{..}$".
LLAMA = [
    (
        "## Step 1: Add\n3 + 4 = 7.\n\n## Step 2: Multiply\n7 * 2 = 14.\n\n"
        r"The final answer is: $\boxed{14}$",
        "14",
        "llama-steps",
    ),
    (r"The final answer is: $\boxed{\frac{3}{8}}$", r"\frac{3}{8}", "llama-fraction"),
    (
        "## Step 3: Conclude\n"
        r"Therefore, the final answer is: $\boxed{-\sqrt{2}}$. "
        "I hope it is correct.",
        r"-\sqrt{2}",
        "llama-box-and-hope",
    ),
    (r"The final answer is $\boxed{(2, -1)}$.", "(2, -1)", "llama-tuple"),
    ("The final answer is: 14", "14", "llama-no-box"),
    ("The final answer is: $14$", "14", "llama-no-box-dollars"),
    ("## Step 4: ...\nThe final answer is: $\\boxed{\\text{Monday}}$", r"\text{Monday}", "llama-text"),
    (r"The final answer is: $\boxed{10\sqrt{3}}$ square units.", r"10\sqrt{3}", "llama-units-after-box"),
]

# GPT-4o-style markdown: bold answer lines, "### Final Answer" headings, display math on the next lines.
GPT = [
    ("### Step 1\nCompute the area: $6 \\times 2 = 12$.\n\n**Answer:** 12", "12", "bold-answer-line"),
    (r"**Answer:** $\frac{7}{2}$", r"\frac{7}{2}", "bold-answer-dollars"),
    ("### Final Answer\n\\[\n\\boxed{\\frac{\\sqrt{5}}{5}}\n\\]", r"\frac{\sqrt{5}}{5}", "heading-display-box"),
    ("### Final Answer\n\nThe area is $24$ square units.", "24", "heading-then-sentence"),
    ("### Final Answer\n24", "24", "heading-then-bare-line"),
    ("**Final Answer**\n\n$$x = -\\frac{1}{2}$$", r"x = -\frac{1}{2}", "bold-heading-display-dollars"),
    (r"**Final Answer:** The probability is $\dfrac{1}{6}$.", r"\dfrac{1}{6}", "bold-final-answer-sentence"),
    ("**Answer:** The area is 12 square units.", "12 square units", "answer-line-prose-copula"),
    ("**Answer: 42**", "42", "bold-wraps-whole-line"),
    ("#### Final Answer\nThe number of ways is **120**.", "120", "h4-heading-not-gsm8k"),
    (
        "### Step 2: Solve\nWe find $x = 3$.\n\n### Final Answer\n\\[\n\\boxed{3}\n\\]",
        "3",
        "gpt-steps-then-box",
    ),
    ("The answer is **12**.", "12", "bold-number-in-prose"),
    (r"**Final answer:** $\boxed{\textbf{(B)}}$", r"\textbf{(B)}", "bold-line-with-boxed-choice"),
    ("Answer:\n\\[\n(1, 2]\n\\]", "(1, 2]", "answer-line-display-next-line"),
    (
        "So the answer is:\n\\[\nx = \\frac{-1 \\pm \\sqrt{5}}{2}\n\\]",
        r"x = \frac{-1 \pm \sqrt{5}}{2}",
        "answer-is-colon-display",
    ),
    ("> **Answer:** 7", "7", "blockquote-answer"),
    ("__Answer:__ 12", "12", "underscore-bold-answer"),
    ("ANSWER: 5", "5", "upper-case-answer-line"),
    ("The answer is: \n\n**2**", "2", "answer-is-then-bold-next-paragraph"),
    (r"Thus, **the answer is $\boxed{9}$**.", "9", "bold-around-box"),
]

# Minerva: "Final Answer: The final answer is ... I hope it is correct."
MINERVA = [
    (
        "We have $2x = 10$, so $x = 5$.\nFinal Answer: The final answer is $5$. "
        "I hope it is correct.",
        "5",
        "minerva",
    ),
    (
        r"Final Answer: The final answer is $\frac{\pi}{4}$. "
        "I hope it is correct.",
        r"\frac{\pi}{4}",
        "minerva-fraction",
    ),
    ("Final Answer: The final answer is $(3,-2)$. I hope it is correct.", "(3,-2)", "minerva-tuple"),
    ("Final Answer: The final answer is 3.5. I hope it is correct.", "3.5", "minerva-decimal-no-dollars"),
    (r"Final Answer: The final answer is $\text{(E)}$. I hope it is correct.", r"\text{(E)}", "minerva-choice"),
    (r"Final Answer: The final answer is $10,\!000$. I hope it is correct.", r"10,\!000", "minerva-separator"),
    ("Final Answer: The final answer is", None, "minerva-truncated"),
    ("Final Answer: The final answer is $4$.I hope it is correct.", "4", "minerva-no-space"),
    ("Final Answer: The final answer is 12 I hope it is correct.", "12", "minerva-no-period"),
]

# GSM8K's "#### 72" (a markdown "#### Step" heading is not one).
GSM8K = [
    ("Janet sells 16 - 3 - 4 = 9 eggs.\nShe makes 9 * 2 = $18.\n#### 18", "18", "gsm8k"),
    ("He runs 3*60=180 meters.\n#### 540", "540", "gsm8k-plain"),
    ("#### 1,250.50", "1,250.50", "gsm8k-decimal-separator"),
    ("#### $35", "35", "gsm8k-dollar-sign"),
    ("The total is 5+7=12\n#### 12\n", "12", "gsm8k-trailing-newline"),
    ("#### Step 1: find the cost\nIt costs 5.", None, "markdown-h4-not-gsm8k"),
    ("#### 72 clips", "72 clips", "gsm8k-with-unit"),
    ("#### -3", "-3", "gsm8k-negative"),
    ("#### The answer is 5", "5", "hashes-before-prose-marker"),
]

# <answer> tags: the last tag, a box or marker inside it, an unclosed tag cut by a stop string.
TAGS = [
    ("<answer>42</answer>", "42", "tag"),
    ("<answer>\n\\boxed{\\frac{1}{3}}\n</answer>", r"\frac{1}{3}", "tag-with-box"),
    ("<think>Try 5.</think>\n<answer>The answer is 7.</answer>", "7", "tag-with-sentence"),
    ("<answer>$x=2$</answer>", "x=2", "tag-dollars"),
    ("<think>...</think>\n<answer>(C)", "(C)", "tag-cut-by-stop-string"),
    ("<answer>3</answer> wait no <answer>4</answer>", "4", "last-tag"),
    ("\\boxed{3}\n<answer>4</answer>", "4", "tag-after-box"),
    ("<answer>4</answer>\nActually, correcting: \\boxed{5}", "5", "box-after-tag"),
    ("<answer></answer>", None, "empty-tag"),
    ("<Answer> 18 </Answer>", "18", "tag-case"),
]

# Multiple choice: the letter (and its option text) is kept for the grader; restated options are no answer.
CHOICE = [
    ("The answer is (C).", "(C)", "paren-letter"),
    ("The correct answer is **(B) 12**.", "(B) 12", "bold-letter-with-text"),
    ("Therefore, the correct option is (D).", "(D)", "correct-option-is"),
    ("The correct choice is B.", "B", "correct-choice-is"),
    ("Answer: D", "D", "answer-line-letter"),
    (r"$\boxed{\text{(A)}}$", r"\text{(A)}", "boxed-text-choice"),
    (r"\boxed{\textbf{(E) } 24}", r"\textbf{(E) } 24", "boxed-textbf-choice-with-text"),
    (r"So the answer is $\boxed{C}$.", "C", "boxed-letter"),
    (r"The answer is $\textbf{(A)}\ 5$", r"\textbf{(A)}\ 5", "amc-textbf"),
    (
        "Among the options, (A) 3 and (B) 4 are wrong. The answer is (C) 5.",
        "(C) 5",
        "options-listed-then-answer",
    ),
    ("The answer choices are (A) 1, (B) 2, (C) 3.", None, "restated-choices-not-an-answer"),
    ("Therefore, option (C) is correct.", "(C)", "option-is-correct"),
    ("Checking each: choice B is the correct one? No. Choice D is correct.", "D", "choice-is-correct-after-a-question"),
    ("Is option (B) is correct? Let us check.", None, "questioned-option"),
    ("(A) is correct only if x > 0, so we continue.", None, "letter-without-option-word"),
    ("Option (A) is correct. Wait, recheck: the answer is (B).", "(B)", "later-marker-wins-over-option"),
]

# Several boxes: the last outermost box is the answer, never a set of all of them.
SEVERAL_BOXES = [
    (r"Part (a): \boxed{3}. Part (b): \boxed{5}.", "5", "two-part-last-box"),
    (r"$\boxed{a=1}$ and $\boxed{b=2}$", "b=2", "two-boxes-one-line"),
    (r"First guess \boxed{12}. Let me recheck: the area is 6*3=18. \boxed{18}", "18", "correction-box"),
    (r"\boxed{1}\boxed{2}\boxed{3}", "3", "three-adjacent"),
    (r"The roots are $\boxed{2}$ and $\boxed{-3}$.", "-3", "roots-in-two-boxes-last-wins"),
    (r"\boxed{5} is the answer. To verify: 2+3 = \boxed{5}.", "5", "repeated-box"),
    (
        r"Case 1 gives \boxed{x=1}; case 2 gives \boxed{x = 4}, so the answer is \boxed{4}.",
        "4",
        "cases-then-final",
    ),
    (
        r"\[\boxed{\frac{1}{2}} \quad \text{and} \quad \boxed{\frac{3}{4}}\]",
        r"\frac{3}{4}",
        "two-boxes-display",
    ),
]

# Box shapes: nested and escaped braces, `\\boxed 5`, `\\fbox`, empty and placeholder boxes.
BOX_SHAPES = [
    (r"\boxed{\left\{ 1, 2, 3 \right\}}", r"\left\{ 1, 2, 3 \right\}", "left-brace-set"),
    (r"\boxed{\{-2, 5\}}", r"\{-2, 5\}", "escaped-brace-set"),
    (r"\boxed{f(x) = \frac{x^{2}+1}{x_{1}}}", r"f(x) = \frac{x^{2}+1}{x_{1}}", "deep-nesting"),
    (
        r"\boxed{\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}}",
        r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}",
        "matrix",
    ),
    (
        r"\boxed{\begin{array}{c} 1 \\}\end{array}}",
        r"\begin{array}{c} 1",
        "line-break-before-brace-is-not-an-escape",
    ),
    (r"\boxed 5", "5", "boxed-space-token"),
    (r"$\boxed5$", "5", "boxed-no-space"),
    (r"\boxed \pi", r"\pi", "boxed-command-token"),
    (r"\boxed {7}", "7", "space-before-brace"),
    ("\\boxed\n{7}", "7", "newline-before-brace"),
    (r"\fbox{12}", "12", "fbox"),
    (r"\framebox{12}", "12", "framebox"),
    (r"\boxed{}", None, "empty-box"),
    (r"Fill in: $3 + \boxed{\phantom{0}} = 5$. The answer is 2.", "2", "placeholder-box-then-prose"),
    (r"\boxed{\text{(C)}}", r"\text{(C)}", "text-choice"),
    (r"\boxed{\$1.25}", r"\$1.25", "escaped-dollar-in-box"),
    (r"\boxed{\{\}}", r"\{\}", "empty-set-braces"),
    (r"\boxed{x^{2}}}", "x^{2}", "extra-closing-brace-after"),
    (r"\boxed{ \dfrac{1}{2} }.", r"\dfrac{1}{2}", "spaces-period"),
    (r"\boxedfoo{3} \boxed{4}", "4", "boxed-prefix-command-is-not-a-box"),
    (r"\boxed{\boxed{\boxed{7}}}", "7", "triple-nested"),
]

# Math delimiters around a prose answer; several spans stay together (a hedge or a list).
DELIMITERS = [
    (r"The answer is $$\frac{9}{4}$$", r"\frac{9}{4}", "answer-is-double-dollar"),
    (r"The answer is \[\frac{9}{4}.\]", r"\frac{9}{4}", "answer-is-display-bracket-period-inside"),
    (r"The answer is \(\sqrt{2}\).", r"\sqrt{2}", "answer-is-paren"),
    (r"$$\boxed{12}$$", "12", "boxed-in-double-dollar"),
    (r"\(\boxed{12}\)", "12", "boxed-in-paren"),
    ("The answer is $x = 3$ or $x = -3$.", "x = 3 or x = -3", "two-spans-kept-together"),
    ("The answers are $3$ and $4$.", "3 and 4", "answers-are-two-spans"),
    (r"The answer is $\$18.90$.", r"\$18.90", "escaped-dollar-span"),
    ("The answer is $5$, which is prime.", "5", "span-then-which-clause"),
]

# Units and prose after the answer: explanations are cut, units are left to the grader.
UNITS_PROSE = [
    ("The answer is 12 square units.", "12 square units", "units-kept"),
    ("The answer is 5, since 2 + 3 = 5.", "5", "since-clause"),
    ("The answer is 5 because the pattern repeats.", "5", "because-clause"),
    ("The answer is 7 (since 7 is prime).", "7", "parenthetical-clause"),
    ("The answer is therefore 9.", "9", "filler-therefore"),
    ("So the answer is 30 degrees.", "30 degrees", "degrees-word"),
    (r"The answer is $30^\circ$.", r"30^\circ", "degree-symbol"),
    ("The answer is 1, 2, 3.", "1, 2, 3", "list-kept"),
    ("The answer is 5 or 6.", "5 or 6", "hedge-kept"),
    ("The answer is 4; the other root is extraneous.", "4", "semicolon"),
    ("The answer is $12$ dollars! Great.", "12", "exclamation"),
    ("The answer to the problem is 8.", "8", "answer-to-the-problem-is"),
    ("Answer: There are 12 apples.", "12 apples", "answer-line-there-are"),
    ("The answer is equal to 6.", "6", "equal-to-filler"),
    ("The answer is 0.5 (i.e., 1/2).", "0.5", "ie-parenthetical"),
    (r"The answer is $-\frac{1}{2}$ (or $-0.5$).", r"-\frac{1}{2} (or -0.5)", "or-parenthetical-kept-as-possible-hedge"),
    ("So, the answer is 12 cm^2.", "12 cm^2", "caret-unit"),
    ("The answer is $(1, 2)$, which lies in the first quadrant.", "(1, 2)", "which-clause-after-tuple"),
    ("Final answer: 5 apples", "5 apples", "final-answer-inline-unit"),
]

# Truncated or marker-less completions: None, never a stray number or a superseded box.
TRUNCATED = [
    ("Let's compute step by step. First, 3 * 4 = 12. Then 12 + 5 = 17. Next we", None, "mid-solution"),
    (r"We need \boxed{\frac{3}{", None, "unclosed-box"),
    (r"First attempt \boxed{12}. Recheck: the real total is \boxed{1", None, "earlier-box-then-unclosed-last"),
    ("The sum of the roots is 5 and the product is 6", None, "numbers-without-marker"),
    ("So x = 4.", None, "statement-without-marker"),
    ("The answer is", None, "marker-without-answer"),
    ("The answer is $", None, "marker-then-lone-dollar"),
    ("Final Answer:", None, "final-answer-colon-only"),
    ("### Final Answer\n", None, "heading-only"),
    ("<answer>", None, "open-tag-only"),
    ("**Answer:**", None, "bold-answer-only"),
    (r"Therefore the area equals $\frac{1}{2}bh = 24$", None, "math-without-marker"),
]

# Completions that restate the problem (numbers, placeholder boxes).
RESTATED = [
    (
        "Problem: A train travels 60 miles in 1.5 hours. What is its speed?\n"
        "Solution: 60/1.5 = 40.",
        None,
        "restated-without-answer",
    ),
    (
        "We are told that 3 apples cost 6 dollars and asked for 5 apples. "
        "Each costs 2, so 5 apples cost 10.",
        None,
        "restated-numbers",
    ),
    (
        "The question asks: if $x + 3 = 7$, what is $x$? Subtracting, $x = 4$. "
        "The answer is $4$.",
        "4",
        "restated-then-answer",
    ),
    (
        r"Given $\boxed{\phantom{X}} + 2 = 9$, the box holds $7$. "
        "So the answer is 7.",
        "7",
        "restated-placeholder-box",
    ),
    ("Recall the problem: 'Find the answer: 2+2.' We get 4.", None, "restated-answer-word-no-marker"),
]

# Negated, questioned and judging markers are not answers; revisions are.
NEGATED = [
    ("The answer is not 5; it is 7.", None, "negated-marker"),
    ("Is the answer 5? Let's check: 2 + 3 = 5. The answer is 5.", "5", "question-then-answer"),
    ("So the answer is 5? Let me double-check.", None, "questioned-marker"),
    ("The answer is 5. Let me verify: 5 * 2 = 10. Yes, the answer is correct.", "5", "judging-marker-skipped"),
    ("The answer is 6. Hmm, that isn't right. The answer is 8.", "8", "revised-marker"),
    ("I initially thought the answer is 3, but the answer is actually 4.", "actually 4", "actually-kept"),
    ("The answer is as follows:\n\\[\\boxed{5}\\]", "5", "as-follows-then-box"),
    ("The answer is as follows: 6.", "6", "as-follows-filler"),
    (r"The answer is not an integer, it is $\frac{7}{2}$.", r"\frac{7}{2}", "negated-then-restated"),
]

# Unicode, CRLF, full-width punctuation, Chinese markers.
UNICODE_CRLF = [
    ("The answer is 5.\r\n", "5", "crlf"),
    ("Step 1\r\nFinal Answer:\r\n42\r\n", "42", "crlf-heading"),
    (r"所以答案是 $\frac{1}{2}$。", r"\frac{1}{2}", "chinese-answer-is"),
    ("答案：12", "12", "chinese-colon"),
    ("答案是：5", "5", "chinese-answer-is-fullwidth-colon"),
    ("The answer is −3.", "−3", "unicode-minus"),
    ("The answer is π/4.", "π/4", "unicode-pi"),
    ("Answer： 7", "7", "fullwidth-colon"),
    (r"\boxed{√2}", "√2", "unicode-sqrt-in-box"),
    ("The answer is 5\xa0cm.", "5\xa0cm", "nbsp-unit"),
]

# Unclosed boxes, prompt echoes, `\\boxed` as a word, bare CR.
BOX_EDGES = [
    ("\\boxed{\\frac{1}{2} \\]\nThe answer is $\\frac12$.", r"\frac12", "unclosed-box-then-prose"),
    (r"The answer is 12. Then \boxed{\frac{3", None, "prose-then-unclosed-box"),
    ("#### 1. Find the slope\nThe slope is 2.", None, "h4-numbered-heading"),
    ("The answer is 5 or $6$.", "5 or 6", "mixed-hedge"),
    (r"I will write the result in \boxed notation. So x = 4.", None, "boxed-as-a-word"),
    (r"Please reason step by step, and put your final answer within \boxed{}.", None, "prompt-echo-empty-box"),
    (
        "\\boxed{7}\n\nHuman: Please put your final answer within \\boxed{}.",
        "7",
        "echoed-instruction-after-answer",
    ),
    (r"\boxed A", "A", "boxed-letter-token"),
    (
        "```python\nprint(2 + 3)\n```\n```output\n5\n```\nThe answer is $\\boxed{5}$.",
        "5",
        "tool-output-then-box",
    ),
    ("```python\nprint(2 + 3)\n```\n```output\n5\n```", None, "tool-output-is-not-an-answer"),
    ("The answer is 5.\rNext", "5", "bare-cr"),
]


STYLES = {
    "think": THINK,
    "llama": LLAMA,
    "gpt": GPT,
    "minerva": MINERVA,
    "gsm8k": GSM8K,
    "tags": TAGS,
    "choice": CHOICE,
    "several-boxes": SEVERAL_BOXES,
    "box-shapes": BOX_SHAPES,
    "box-edges": BOX_EDGES,
    "delimiters": DELIMITERS,
    "units-prose": UNITS_PROSE,
    "truncated": TRUNCATED,
    "restated": RESTATED,
    "negated": NEGATED,
    "unicode-crlf": UNICODE_CRLF,
}


@pytest.mark.parametrize(
    "text,expected",
    [pytest.param(t, e, id=f"{group}/{name}") for group, rows in STYLES.items() for t, e, name in rows],
)
def test_completion_styles(text, expected):
    check(text, expected)


def test_style_tables_are_all_collected():
    # Guards the dict: every phenomenon table defined after it is collected, and the red team's size holds.
    other = {"BOXED", "PROSE_MARKERS", "NO_ANSWER", "FALLBACK", "EXTRACT_THEN_GRADE", "ADVERSARIAL"}
    tables = {key for key, value in globals().items() if key.isupper() and isinstance(value, list)} - other
    assert tables == {key for key, value in globals().items() if any(value is rows for rows in STYLES.values())}
    assert sum(map(len, STYLES.values())) >= 150


# --- Adversarial sizes: linear-time extraction (a quadratic regression would hang these, hence the guard) ---
ADVERSARIAL = [
    ("\\boxed{" * 50_000, None, "50k-unclosed-boxes"),
    ("{" * 100_000, None, "100k-open-braces"),
    ("\\boxed{" * 25_000 + "7" + "}" * 25_000, None, "25k-nested-boxes-refused-as-absurd"),
    ("\\boxed{" * 5 + "7" + "}" * 5, "7", "5-nested-boxes"),
    ("\\boxed{1}" * 20_000 + "\\boxed{2}", "2", "20k-closed-boxes"),
    ("\\boxed 5 " * 20_000, "5", "20k-brace-less-boxes"),
    ("the answer is " * 15_000, None, "15k-answer-is-on-one-line"),
    ("The final answer is " * 10_000 + "5", "5", "10k-minerva-heads-without-hope"),
    ("The answer is " + "\\(" * 50_000, None, "50k-unclosed-paren-math"),
    ("The answer is " + "$$" * 30_001, None, "odd-double-dollars"),
    ("#### " * 40_000, None, "40k-hashes"),
    ("<answer>" * 30_000, None, "30k-open-answer-tags"),
    ("<think>" + "x " * 100_000 + "</think>\nThe answer is 3.", "3", "200kB-thought"),
    ("\\boxed{" + " " * 100_000 + "x}", None, "100kB-box-content-refused"),
    (("the answer is " + "\\(" * 600 + "\n") * 100, None, "100-markers-of-unclosed-paren-math"),
    (("the answer is $$" + "\\[" * 600 + "\n") * 100, None, "100-markers-of-unclosed-display-math"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("text,expected", table(ADVERSARIAL))
def test_adversarial_sizes_extract(text, expected):
    # Measured ratios against a normal completion are in benchmarks/bench_extract.py; here the point is the
    # answer, and the timeout only catches a hang (the quadratic version took minutes on these).
    check(text, expected)
