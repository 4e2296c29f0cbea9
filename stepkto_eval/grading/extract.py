"""Final-answer extraction from a model completion (policy section 2 of issue 2).

Where the answer is looked for, in order:
1. Reasoning models: only the text after the last `</think>` is the response. A completion that opens
   `<think>` and never closes it stopped while thinking: a box in there is a guess under test, not an answer.
2. The last complete `\\boxed{...}` / `\\fbox{...}` (nested braces, also `\\boxed 5`), or the last
   `<answer>...</answer>` when that comes after the last box (a final `<answer>` left open counts:
   `</answer>` is a common stop string). Several boxes: the last one is the answer,
   never a set of all of them. A last box that never closes (truncated output) means no answer -- an
   earlier, superseded box is not credited. Placeholder boxes (`\\boxed{}`, `\\boxed{\\phantom{2}}`, the
   blank of a fill-in question) are not answers.
3. Prose markers, the last usable one wins: "the answer is ...", "Final Answer: The final answer is ...
   I hope it is correct.", an "Answer:" / "**Final Answer**" line or heading, GSM8K's "#### 42",
   "option (C) is correct". The answer's sentence is cut at its end or at an explanation ("5, since
   ..."); one math span is the answer, several stay together ("$3$ or $4$" is a hedge). A negated ("the answer is not 5"), questioned ("the answer is 5?") or judging ("the answer is
   correct") marker is not an answer.
4. Nothing found: None, unless the caller asks for the last number explicitly, so an unfinished
   solution is never credited through a stray number.

Every step is linear in the completion's length (no regex with an unbounded tail at every occurrence,
no rescanning per box), and answers longer than `MAX_ANSWER_CHARS` are refused: a 200 kB completion, or
50,000 unclosed `\\boxed{`, extracts in milliseconds.
"""
from __future__ import annotations

import re

from .normalize import strip_wrappers

# A final answer longer than this is not a plausible answer (MATH's longest golds are short matrices);
# refusing it also keeps the quadratic corners of downstream normalisation out of reach.
MAX_ANSWER_CHARS = 1_000
# Prose markers are tried from the last one backwards; a completion whose last 16 markers are all
# unusable ("the answer is correct", "... is 5?") is degenerate, and giving up keeps the cost bounded.
MAX_MARKERS_TRIED = 16

_BOX = re.compile(r"\\(?:boxed|fbox|framebox)(?![A-Za-z])\s*")
# `\boxed 5`, `\boxed\pi`, `\boxed A` -- but not the prose of "put it in \boxed notation".
_BOX_TOKEN = re.compile(r"\\[A-Za-z]+|[-+]?\d[\d.,/]*|[A-Za-z](?![A-Za-z])")
_BRACE_TOKEN = re.compile(r"\\.|[{}]", re.DOTALL)  # `\{`, `\}` and `\\` are escapes, not braces
_PLACEHOLDER = re.compile(r"(?:\s|\\phantom\{[^{}]*\}|\\q?quad\b|\\[ ,;:!])*")
_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)
_THINK_ANY = re.compile(r"</?think>", re.IGNORECASE)
_TAG_OPEN = re.compile(r"<answer>", re.IGNORECASE)
_TAG_CLOSE = re.compile(r"</answer>", re.IGNORECASE)

# "The answer is" / "Answer:" in French, German, Spanish, Portuguese, Russian, Arabic, Hindi, Chinese,
# Japanese and Korean (our own list of the usual phrasings; every branch is a fixed phrase with bounded
# gaps, so the search stays linear). Hindi avoids `\b`: its vowel signs are not word characters.
_COLON = r"[ \t*_\u00a0\u202f]*[:：]"
_FOREIGN = (
    r"\b(?:(?:la\s+)?(?:bonne\s+)?réponse(?:\s+finale)?\s+est|réponse(?:\s+finale)?" + _COLON
    + r"|(?:die\s+)?(?:endgültige\s+|richtige\s+)?antwort\s+(?:ist|lautet)|(?:endgültige\s+)?antwort" + _COLON
    + r"|(?:la\s+)?respuesta(?:\s+final|\s+correcta)?\s+es|respuesta(?:\s+final|\s+correcta)?" + _COLON
    + r"|(?:la\s+)?risposta(?:\s+finale)?\s+è|risposta(?:\s+finale)?" + _COLON  # Italian
    + r"|(?:het\s+)?antwoord\s+is|antwoord" + _COLON  # Dutch
    + r"|(?:cevap|yanıt|odpowiedź|jawaban|đáp\s+án|відповідь)" + _COLON  # Turkish, Polish, Indonesian, ...
    + r"|resposta(?:\s+final|\s+correta)?\s+é|resposta(?:\s+final)?" + _COLON
    + r"|(?:окончательный\s+)?ответ(?:\s*[—–]|\s+(?:равен|будет|является))|(?:окончательный\s+)?ответ" + _COLON
    + r"|(?:الإجابة|الجواب)(?:\s+(?:النهائية|الصحيحة))?(?:\s+(?:هي|هو)|" + _COLON + r"))"
    + r"|(?:अंतिम\s+)?उत्तर(?:\s+है|" + _COLON + r")"
    + r"|答え(?:は|" + _COLON + r")|^[ \t]*答[:：]|정답(?:은|" + _COLON + r")"
)
# Marker heads only (the answer is cut afterwards within MAX_ANSWER_CHARS), so finditer stays linear.
_MARKER = re.compile(
    r"(?:\b(?:final\s+)?(?:answers?|option|choice)(?:\s+to\s+(?:the|this)\s+(?:problem|question))?"
    r"\s+(?:is|are)\b[ \t]*[:：]?"  # "the answer is", "the correct option is"
    r"|\bfinal\s+answer\b[ \t*_]*[:：]"  # "... Final answer: 12" anywhere
    r"|^[ \t>#*_-]*answer\b[ \t*_]*[:：]"  # "Answer: 12", "**Answer:** 12" at a line start
    r"|^[ \t>#*_-]*final\s+answer[ \t*_:：]*$"  # a "### Final Answer" heading; the answer follows
    r"|^[ \t]*####[ \t]*(?=[-+$\\.\d])(?!\d+[.)]\s+[A-Za-z])"  # GSM8K "#### 72", not "#### 1. Setup"
    r"|答案(?:应该?)?(?:是|为)|答案[:：])"
    r"|(?P<foreign>" + _FOREIGN + ")",
    re.IGNORECASE | re.MULTILINE,
)
# "option (C) is correct": the answer comes before its marker. The "option"/"choice" word is required,
# so "(B) is correct?" in a check of one statement is not read as an answer.
_CHOICE_IS_CORRECT = re.compile(
    r"\b(?:option|choice)\s*(\(?[A-J]\)?)\s+is\s+(?:the\s+)?(?:correct|right)\b(?!\s*\?)", re.IGNORECASE
)
# Where an answer's sentence stops (outside math): end of sentence or line, an explanation, a Minerva coda.
_STOP = (
    r"[.;!?](?=\s|$)|[。！？؟।]|\n"
    r"|,?\s+(?:because|since|as|which|where|so|hence|thus|therefore|for)\b"
    r"|\s\((?=[A-Za-z]{3,}\b|i\.e\.|e\.g\.)|\.?\s*I hope it is correct"
)
# Escapes, math delimiters and stops, in one pass; `\\` and `\$` are escapes, not delimiters.
_TOKEN = re.compile(rf"\\[\\$]|(?P<math>\$\$|\$|\\[()\[\]])|(?P<stop>{_STOP})", re.IGNORECASE)
_CLOSER = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}
_FILLER = re.compile(  # words between a marker and its answer: "the answer is therefore 9"
    r"^(?:(?:therefore|thus|then|so|simply|just|clearly|indeed|exactly|equal\s+to|that|as\s+follows"
    r"|donc|alors|also|daher|somit|entonces|por\s+lo\s+tanto|portanto|quindi|dunque|dus|итак|тогда)\b"
    r"[\s,:]*)+",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_COPULA = re.compile(  # English, and the copulas of the languages `_FOREIGN` covers that put it before the value
    r"\s(?:is|are|equals|was|were|est|ist|lautet|es|é|è|равен|равна|равно|هي|هو)(?:\s|$)", re.IGNORECASE
)
_NOT_AN_ANSWER = re.compile(
    r"(?:not|n't|nicht|не)\b.*|(?:in)?correct[ae]?|correta|richtig|falsch|верн\w*|правильн\w*|неверн\w*|right|wrong|valid|invalid|consistent|confirmed|verified|reasonable"
    r"|as follows|below|above|given by|the following|clear|obvious|unknown|unclear",
    re.IGNORECASE | re.DOTALL,
)
# A number, a `p/q` or `\\frac{p}{q}` fraction (`-3/4` is one answer, not the 4 after its slash).
_LAST_NUMBER = re.compile(
    r"-?\\[dt]?frac\s*\{\s*\d+\s*\}\s*\{\s*\d+\s*\}|-?\\[dt]?frac\s*\d\d"
    r"|-?(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)(?:\s*/\s*\d+(?!\d|[.,]\d))?"
)


def _response(text: str) -> str | None:
    """The part of a completion that states the answer: after the last `</think>`; None mid-thought."""
    if _THINK_ANY.search(text) is None:
        return text  # the common case, in one scan
    closes = [m.end() for m in _THINK_CLOSE.finditer(text)]
    if closes:
        return text[closes[-1]:]
    return None if _THINK_OPEN.search(text) else text


def _closing_braces(text: str, start: int) -> dict[int, int]:
    """Position of each `{` at or after `start` -> position of its matching `}` (unclosed ones absent).

    One stack pass over brace tokens only, so the cost is linear however many boxes there are.
    """
    closing: dict[int, int] = {}
    stack: list[int] = []
    for match in _BRACE_TOKEN.finditer(text, start):
        token = match.group(0)
        if token == "{":
            stack.append(match.start())
        elif token == "}" and stack:
            closing[stack.pop()] = match.start()
    return closing


def _boxes(text: str) -> list[tuple[int, int, int | None]]:
    """(start, content start, content end or None when unclosed) of every box, in order of appearance.

    Positions only: slicing every nested box's content would copy the text once per nesting level.
    """
    heads = list(_BOX.finditer(text))
    if not heads:
        return []
    closing = _closing_braces(text, heads[0].end())
    found: list[tuple[int, int, int | None]] = []
    for head in heads:
        rest = head.end()
        if rest < len(text) and text[rest] == "{":
            found.append((head.start(), rest + 1, closing.get(rest)))
        else:
            token = _BOX_TOKEN.match(text, rest)
            if token:
                found.append((head.start(), rest, token.end()))
    return found


def _last_box(text: str) -> tuple[int, str | None] | None:
    """(start, content) of the last outermost box; content None when that box never closes.

    A box inside another box is part of it (`\\boxed{\\boxed{12}}`); placeholder boxes are skipped.
    """
    last: tuple[int, str | None] | None = None
    outer_end = -1
    for start, content_start, content_end in _boxes(text):
        if start < outer_end:
            continue  # nested in the previous outermost box
        if content_end is None:
            last = (start, None)
            continue  # an unclosed box swallows nothing: later boxes still stand on their own
        content = text[content_start:content_end]
        if _PLACEHOLDER.fullmatch(content):
            continue
        outer_end = content_end
        last = (start, content)
    return last


def last_boxed(text: str) -> str | None:
    """Content of the last outermost complete box, or None."""
    found = _last_box(text)
    return None if found is None else found[1]


def _last_tag(text: str) -> tuple[int, str] | None:
    """(start, content) of the last `<answer>` tag. Unclosed at the very end counts: `</answer>` is a
    common stop string, which inference servers cut from the output."""
    opens = list(_TAG_OPEN.finditer(text))
    if not opens:
        return None
    start = opens[-1].end()
    close = _TAG_CLOSE.search(text, start)
    return opens[-1].start(), text[start : close.start() if close else len(text)]


def _final(answer: str | None) -> str | None:
    """The answer as returned: wrappers (`$..$`, nested boxes, a trailing period) stripped; None when
    empty or longer than MAX_ANSWER_CHARS."""
    if answer is None or len(answer) > MAX_ANSWER_CHARS:
        return None
    return strip_wrappers(answer) or None


def _segment(text: str, start: int) -> str:
    """The text a prose marker introduces: from `start`, past blank lines, at most MAX_ANSWER_CHARS."""
    window = text[start : start + MAX_ANSWER_CHARS + 1]
    return window.lstrip(" \t\n*_:：")


def _scan(text: str, *, stop: bool = True) -> tuple[list[tuple[int, int]], int, str]:
    """Math spans of `text` (start, end), and where its sentence stops (index, stop text; len(text), "").

    A delimiter that never closes is plain text (a currency `$`). Linear: the next closer of each kind
    is looked up, not searched for, so a thousand unclosed `\\(` cost a thousand steps, not a million.
    """
    tokens = list(_TOKEN.finditer(text))
    following: dict[str, list[int | None]] = {}
    for closer in set(_CLOSER.values()):  # following[c][i]: index of the first token c at or after i
        nxt: int | None = None
        column: list[int | None] = [None] * (len(tokens) + 1)
        for i in range(len(tokens) - 1, -1, -1):
            nxt = i if tokens[i].group(0) == closer else nxt
            column[i] = nxt
        following[closer] = column
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.group("stop") is not None and stop:
            return spans, token.start(), token.group(0).strip()
        close = following[_CLOSER[token.group(0)]][i + 1] if token.group("math") in _CLOSER else None
        if close is not None:
            spans.append((token.start(), tokens[close].end()))
            i = close
        i += 1
    return spans, len(text), ""


def _after_copula(sentence: str) -> str:
    """ "The area is $12$ square units" -> "$12$ square units": a sentence that opens with words names
    its answer after its last "is"/"are"/"equals" outside math."""
    if not sentence[:1].isalpha():
        return sentence
    spans, _, _ = _scan(sentence, stop=False)
    cuts = [m.end() for m in _COPULA.finditer(sentence) if not any(a <= m.start() < b for a, b in spans)]
    return sentence[cuts[-1] :] if cuts else sentence


def _unwrap_spans(sentence: str, spans: list[tuple[int, int]]) -> str:
    """The sentence with each math span replaced by its content ("$3$ or $4$" -> "3 or 4")."""
    pieces, last = [], 0
    for start, end in spans:
        pieces += [sentence[last:start], strip_wrappers(sentence[start:end])]
        last = end
    return "".join(pieces + [sentence[last:]])


def _tidy(segment: str) -> str | None:
    """A marker's answer from its segment: its one math span, else the sentence's words.

    Several math spans stay together ("$3$ or $4$" is a hedge the grader must see, not a 3), and so do
    a span and a bare number ("5 or $6$").
    """
    segment = _FILLER.sub("", segment.replace("**", "").strip())
    _, end, stop = _scan(segment)
    if stop in ("?", "？", "؟"):
        return None  # "so the answer is 5? Let me check" asks, it does not answer
    sentence = _after_copula(segment[:end].strip()).strip()
    if sentence.startswith("$") and sentence.count("$") == 1:
        sentence = sentence[1:]  # a currency sign ("#### $35"), not an unclosed math span
    spans, _, _ = _scan(sentence, stop=False)
    if len(spans) == 1 and not _DIGIT.search(sentence[: spans[0][0]] + sentence[spans[0][1] :]):
        answer = sentence[spans[0][0] : spans[0][1]]
    else:
        answer = _unwrap_spans(sentence, spans)
    answer = answer.strip().rstrip(".,:;").strip()
    if not answer.strip("$.,:; ") or _NOT_AN_ANSWER.fullmatch(answer):  # nothing but delimiters
        return None
    return _final(answer)


def _from_markers(text: str) -> str | None:
    """The last usable prose marker's answer."""
    heads = list(_MARKER.finditer(text))[-MAX_MARKERS_TRIED:]
    choices = list(_CHOICE_IS_CORRECT.finditer(text))[-1:]
    for head in sorted(heads + choices, key=lambda match: match.start(), reverse=True):
        answer = head.group(1) if head.re is _CHOICE_IS_CORRECT else _tidy(_segment(text, head.end()))
        if answer is not None:
            return answer
    return None


def _from_tag(content: str) -> str | None:
    """An `<answer>` tag's content: a box inside it, a marker inside it, else the whole content."""
    if len(content) > 4 * MAX_ANSWER_CHARS:
        return None
    box = _last_box(content)
    if box is not None:
        return _final(box[1])
    return _from_markers(content) or _final(content.strip())


def extract_answer(text: str, *, fallback_last_number: bool = False) -> str | None:
    """The final answer of a completion as a string, or None when it states none.

    With `fallback_last_number=True` a completion without any marker yields its last number (or
    `p/q`, `\\frac{p}{q}`) instead of None -- a lenient mode the caller must ask for.
    """
    if not text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    response = _response(text)
    answer = _from_response(response) if response is not None else None
    if answer is None and fallback_last_number:
        numbers = _LAST_NUMBER.findall(response if response is not None else text)
        return numbers[-1] if numbers else None
    return answer


def _from_response(text: str) -> str | None:
    """The answer of the response part: the last box or a later `<answer>` tag, else prose markers."""
    box = _last_box(text)
    tag = _last_tag(text)
    if tag is not None and (box is None or box[0] < tag[0]):
        return _from_tag(tag[1])
    if box is None:
        return _from_markers(text)
    if box[1] is None:
        # The last box never closes (truncated, or a typo): earlier boxes are superseded, so only a
        # prose marker written after it can still answer.
        return _from_markers(text[box[0]:])
    return _final(box[1])
