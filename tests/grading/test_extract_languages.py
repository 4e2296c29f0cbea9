"""Answer markers in other languages (issue 11, kind 8): a completion that states its answer with its
language's "the answer is" / "Answer:" gets it extracted; without a marker it still has no answer.

The phrasings are the ordinary ones of each language, written for this test; the math is what a model
would box.
"""
from __future__ import annotations

import pytest

from stepkto_eval.grading import extract_answer, grade

STATED = [
    ("fr-est", "On additionne les deux aires. Donc, la réponse est $12$.", "12"),
    ("fr-colon", "Les racines sont réelles.\nRéponse : $x = 3$", "x = 3"),
    ("fr-nbsp-colon", "**Réponse\u00a0:** 7", "7"),
    ("fr-finale", "Après simplification, la réponse finale est $\\frac{3}{4}$.", "\\frac{3}{4}"),
    ("de-ist", "Wir setzen ein und erhalten die Summe. Die Antwort ist $\\frac{1}{2}$.", "\\frac{1}{2}"),
    ("de-lautet", "Die Antwort lautet also 36.", "36"),
    ("de-colon", "Rechnung siehe oben.\nAntwort: 42", "42"),
    ("es-es", "Por lo tanto, la respuesta es $8$.", "8"),
    ("es-colon", "Sumamos los términos.\nRespuesta final: $2\\sqrt{3}$", "2\\sqrt{3}"),
    ("pt-e", "Portanto, a resposta é 10.", "10"),
    ("ru-colon", "Подставим значения и упростим.\nОтвет: 15", "15"),
    ("ru-dash", "Итак, ответ — $9$.", "9"),
    ("ru-ravno", "Ответ равен $2\\pi$.", "2\\pi"),
    ("ar-hiya", "بجمع الحدود نحصل على الإجابة هي 24", "24"),
    ("ar-colon", "الإجابة النهائية: $6$", "6"),
    ("hi-hai", "अतः उत्तर है 18", "18"),
    ("hi-colon", "सरल करने पर\nउत्तर: $25$", "25"),
    ("zh-wei", "所以答案为 $7$。", "7"),
    ("zh-colon-line", "计算如上。\n答：5", "5"),
    ("ja-wa", "よって答えは $\\frac{1}{3}$ です。", "\\frac{1}{3}"),
    ("ko-eun", "따라서 정답은 4", "4"),
    ("zh-ying-wei", "答案应为 $12$。", "12"),
    ("es-correcta-colon", "Respuesta correcta: 9", "9"),
    ("it-e", "La risposta è quindi $16$.", "16"),
    ("nl-is", "Het antwoord is 17.", "17"),
    ("tr-colon", "Cevap: 18", "18"),
    ("pl-colon", "Odpowiedź: 19", "19"),
    ("vi-colon", "Đáp án: 20", "20"),
    ("id-colon", "Jawaban: 21", "21"),
    ("uk-colon", "Відповідь: 22", "22"),
]

# The new markers, stops and copulas leave English answers as they were.
ENGLISH_UNCHANGED = [
    ("no-solution", "The answer is no solution.", "no solution"),
    ("yes-no", "So the answer is no.", "no"),
    ("copula", "The final answer is that the area is $12$.", "12"),
]

NOT_STATED = [
    ("fr-no-marker", "On calcule 5 + 7 = 12 et on vérifie."),
    ("de-no-marker", "Die Lösung ist schwer, wir rechnen weiter: 3 + 4 = 7"),
    ("de-negated", "Die Antwort ist nicht 5."),
    ("es-judging", "La respuesta es correcta."),
    ("ru-question", "Ответ равен 5? Проверим."),
    ("ru-no-marker", "Подставим x = 2 и получим 9"),
    ("ar-no-marker", "نحسب المجموع 3 + 4 = 7"),
    ("hi-no-marker", "हम 3 और 4 जोड़ते हैं और 7 मिलता है"),
    ("zh-question", "答案是 5？我们再检查一下"),
    ("zh-no-marker", "我们计算 3 + 4 = 7"),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, a, id=i) for i, t, a in STATED])
def test_marker_in_another_language_is_extracted(text: str, expected: str) -> None:
    assert extract_answer(text) == expected


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, a, id=i) for i, t, a in ENGLISH_UNCHANGED])
def test_english_answers_are_unchanged(text: str, expected: str) -> None:
    assert extract_answer(text) == expected


@pytest.mark.parametrize("text", [pytest.param(t, id=i) for i, t in NOT_STATED])
def test_no_marker_or_unusable_marker_gives_none(text: str) -> None:
    assert extract_answer(text) is None


@pytest.mark.parametrize(("gold", "text", "expected"), [
    ("12", "Donc, la réponse est $12$.", True),
    ("12", "Donc, la réponse est $13$.", False),
    ("15", "Ответ: 15", True),
    ("24", "الإجابة هي 24", True),
    ("18", "अतः उत्तर है 17", False),
])
def test_extracted_then_graded(gold: str, text: str, expected: bool) -> None:
    assert grade(gold, extract_answer(text)).equal is expected


@pytest.mark.timeout(60)
@pytest.mark.parametrize("text", [
    pytest.param("la réponse " * 20_000 + "Ответ " * 20_000 + "उत्तर " * 20_000, id="60k-near-markers"),
    pytest.param("die Antwort ist " * 15_000, id="15k-antwort-ist-on-one-line"),
    pytest.param("الإجابة هي " * 15_000, id="15k-arabic-answer-is-on-one-line"),
])
def test_adversarial_sizes_foreign_markers(text: str) -> None:
    # The timeout only catches a hang (a quadratic marker branch); the answer is the point.
    assert extract_answer(text) is None
