"""Inequalities, `\\ne`, `|x - c| < r` and `\\mathbb{R} \\setminus \\{..\\}` read as unions of intervals (policy rule 10).

An interval is the tree ("seq", open, close, (low, high)) with `\\infty` as ("const", "inf"); a union is a
list of them, compared in any order by `structure_equality.py`.  `x > 3` is (3, inf), `1 < x \\le 2` is (1, 2],
`x \\ne a` is (-inf, a) U (a, inf), `|x| \\ge r` is (-inf, -r] U [r, inf) for a constant r > 0.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import mpmath

from .budget import GradingError
from .parse import Node
from .scalar_value import DPS, approx, exact, free_symbols, precision
from .values import close

_INF = ("const", "inf")


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
# Exact test points of `polynomial`: a degree-2 fit that holds at all seven is the polynomial itself unless the
# answer hides a degree-7 term vanishing exactly here (nobody writes that).
_POINTS = tuple(Fraction(p) for p in (0, 1, -1, 2, -3, Fraction(1, 3), 10))


@lru_cache(maxsize=2048)  # the same inequality is solved for interval_like, to_interval and constrained
def polynomial(node: Node, name: str) -> tuple[Fraction, Fraction, Fraction] | None:
    """(a, b, c) with `node` = a*name^2 + b*name + c (exact rationals), or None when it is not such a polynomial."""
    try:
        values = [exact(node, None, {name: point}) for point in _POINTS]
    except (GradingError, ArithmeticError, ValueError, TypeError, RecursionError):
        return None
    c, a = values[0], (values[1] + values[2]) / 2 - values[0]
    b = (values[1] - values[2]) / 2
    if any(a * p * p + b * p + c != v for p, v in zip(_POINTS, values, strict=True)):
        return None
    return a, b, c


def _is_quantity(node: Node) -> bool:
    """What an inequality bounds: a variable, or a function value written `f(x)` (`0 < f(x) < 1`)."""
    if node[0] == "sym":
        return True
    if node[0] != "mul" or len(node[1]) != 2 or node[1][0][0] != "sym":
        return False
    argument = node[1][1]
    return argument[0] == "sym" or argument[0] == "seq" and all(item[0] == "sym" for item in argument[3])


def linearize(node: Node) -> Node:
    """`-x > -1` -> `x < 1`, `3 < 2x + 1 \\le 7` -> `1 < x \\le 3`: an inequality whose only non-constant side is
    linear in one variable (rational coefficients) is solved for it; anything else is returned unchanged."""
    if node[0] != "rel" or any(op in ("=", "!=") for op in node[1]) or len(node[1]) > 2:
        return node
    ops, operands = node[1], node[2]
    varying = [k for k, operand in enumerate(operands) if free_symbols(operand)]
    if len(varying) != 1 or _is_quantity(operands[varying[0]]):
        return node
    k = varying[0]
    names = free_symbols(operands[k])
    if len(names) != 1 or len(ops) == 2 and k != 1:
        return node
    (name,) = names
    fit = polynomial(operands[k], name)
    if fit is None or fit[0] != 0 or fit[1] == 0:
        return node
    _, slope, offset = fit
    solved = tuple(("sym", name) if j == k else ("div", ("add", (operand, ("num", -offset))), ("num", slope))
                   for j, operand in enumerate(operands))
    return ("rel", tuple(_FLIP[op] for op in ops) if slope < 0 else ops, solved)


def quadratic_intervals(node: Node) -> list[Node] | None:
    """`x^2 < 9` -> (-3, 3); `x^2 - 3x + 2 \\ge 0` -> (-inf, 1] U [2, inf): one inequality between a degree-2
    polynomial in one variable (rational coefficients) and a constant, solved exactly (roots may be surds).

    An empty solution set or a single point is not read (None); the whole line and the line minus a point are."""
    if node[0] != "rel" or len(node[1]) != 1 or node[1][0] not in _FLIP:
        return None
    (op,), (left, right) = node[1], node[2]
    names = free_symbols(left) | free_symbols(right)
    if len(names) != 1:
        return None
    (name,) = names
    fit = polynomial(("add", (left, ("neg", right))), name)
    if fit is None or fit[0] == 0:
        return None
    a, b, c = fit
    if a < 0:
        a, b, c, op = -a, -b, -c, _FLIP[op]
    disc = b * b - 4 * a * c
    line = ("seq", "(", ")", (("neg", _INF), _INF))
    if disc < 0:
        return [line] if op in (">", ">=") else None
    if disc == 0:
        root = ("num", -b / (2 * a))
        if op == ">=":
            return [line]
        return [("seq", "(", ")", (("neg", _INF), root)), ("seq", "(", ")", (root, _INF))] if op == ">" else None
    surd = ("root", ("num", disc), ("num", Fraction(2)))
    low = ("div", ("add", (("num", -b), ("neg", surd))), ("num", 2 * a))
    high = ("div", ("add", (("num", -b), surd)), ("num", 2 * a))
    closed = op in ("<=", ">=")
    if op in ("<", "<="):
        return [("seq", "[" if closed else "(", "]" if closed else ")", (low, high))]
    return [("seq", "(", "]" if closed else ")", (("neg", _INF), low)), ("seq", "[" if closed else "(", ")", (high, _INF))]


def to_interval(node: Node) -> Node | None:
    """`x > 3` -> ("seq", "(", ")", (3, inf)); `1 < x <= 2` -> (1, 2]; None if not such an inequality."""
    if node[0] != "rel" or any(op in ("=", "!=") for op in node[1]):
        return None
    node = linearize(node)
    ops, operands = node[1], node[2]
    syms = [k for k, operand in enumerate(operands) if _is_quantity(operand) and free_symbols(operand)]
    if len(syms) != 1:
        return None
    k = syms[0]
    if len(ops) == 2 and k == 1 and ops[0][0] == ops[1][0]:
        low, high = (operands[0], operands[2]) if ops[0][0] == "<" else (operands[2], operands[0])
        low_op, high_op = (ops[0], ops[1]) if ops[0][0] == "<" else (ops[1], ops[0])
        closed = ("<=", ">=")  # `5 \\ge x > -2` is (-2, 5]: the written direction does not matter
        return ("seq", "[" if low_op in closed else "(", "]" if high_op in closed else ")", (low, high))
    if len(ops) != 1:
        return None
    op, other = ops[0], operands[1 - k]
    if k == 1:  # "3 < x" reads as "x > 3"
        op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}[op]
    if op in ("<", "<="):
        return ("seq", "(", "]" if op == "<=" else ")", (("neg", _INF), other))
    return ("seq", "[" if op == ">=" else "(", ")", (other, _INF))


def _not_equal_intervals(node: Node) -> list[Node] | None:
    """`x \\ne a` is (-inf, a) U (a, inf)."""
    if node[0] != "rel" or node[1] != ("!=",):
        return None
    left, right = node[2]
    point = right if left[0] == "sym" else left if right[0] == "sym" else None
    if point is None:
        return None
    return [("seq", "(", ")", (("neg", _INF), point)), ("seq", "(", ")", (point, _INF))]


def _positive_constant(node: Node) -> bool:
    if free_symbols(node):
        return False
    try:
        with precision(DPS):
            value = approx(node, {})
            return bool(mpmath.im(value) == 0 and value > 0)
    except (GradingError, TypeError, ValueError, ZeroDivisionError):
        return False


def _abs_chain(node: Node) -> list[Node] | None:
    """`1 \\le |z| \\le 2` read over the reals: [-2, -1] U [1, 2] (constant bounds 0 < low < high)."""
    ops, operands = node[1], node[2]
    if len(ops) != 2 or ops[0] not in _FLIP or ops[0][0] != ops[1][0] or operands[1][0] != "abs":
        return None
    low, high = (operands[0], operands[2]) if ops[0][0] == "<" else (operands[2], operands[0])
    low_closed, high_closed = (ops[0], ops[1]) if ops[0][0] == "<" else (ops[1], ops[0])
    low_closed, high_closed = low_closed in ("<=", ">="), high_closed in ("<=", ">=")
    if not (_positive_constant(low) and _positive_constant(("add", (high, ("neg", low))))):
        return None
    inner, center = operands[1][1], ("num", Fraction(0))
    if inner[0] == "add" and len(inner[1]) == 2 and inner[1][0][0] == "sym" and not free_symbols(inner[1][1]):
        inner, center = inner[1][0], ("neg", inner[1][1])
    if inner[0] != "sym":
        return None
    minus = lambda r: ("add", (center, ("neg", r)))  # noqa: E731
    plus = lambda r: ("add", (center, r))  # noqa: E731
    o, c = ("[" if high_closed else "("), ("]" if low_closed else ")")
    return [("seq", o, c, (minus(high), minus(low))),
            ("seq", "[" if low_closed else "(", "]" if high_closed else ")", (plus(low), plus(high)))]


def _abs_intervals(node: Node) -> list[Node] | None:
    """`|x - c| < r` -> (c-r, c+r); `|x| \\ge r` -> (-inf, -r] U [r, inf) (for a constant r > 0)."""
    if node[0] == "rel" and len(node[1]) == 2:
        return _abs_chain(node)
    if node[0] != "rel" or len(node[1]) != 1 or node[1][0] not in ("<", "<=", ">", ">="):
        return None
    (op,), (left, right) = node[1], node[2]
    if left[0] != "abs" and right[0] == "abs":  # `3 > |x|` reads as `|x| < 3`
        op, left, right = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}[op], right, left
    if left[0] != "abs" or not _positive_constant(right):
        return None
    inner, center = left[1], ("num", Fraction(0))
    if inner[0] == "add" and len(inner[1]) == 2 and inner[1][0][0] == "sym" and not free_symbols(inner[1][1]):
        inner, center = inner[1][0], ("neg", inner[1][1])
    if inner[0] != "sym":
        # `|2x - 1| < 3`: a linear inside (rational coefficients) is |m| * |x - c| with c = -q/m.
        names = free_symbols(inner)
        fit = polynomial(inner, next(iter(names))) if len(names) == 1 else None
        if fit is None or fit[0] != 0 or fit[1] == 0:
            return None
        center, right = ("num", -fit[2] / fit[1]), ("div", right, ("num", abs(fit[1])))
    low, high = ("add", (center, ("neg", right))), ("add", (center, right))
    if op in ("<", "<="):
        bracket = ("[", "]") if op == "<=" else ("(", ")")
        return [("seq", *bracket, (low, high))]
    closed = op == ">="
    return [("seq", "(", "]" if closed else ")", (("neg", _INF), low)),
            ("seq", "[" if closed else "(", ")", (high, _INF))]


def _punctured(node: Node) -> list[Node] | None:
    """`\\mathbb{R} \\setminus \\{a, b\\}` -> (-inf, a) U (a, b) U (b, inf) for numeric a < b."""
    base, removed = node[1], node[2]
    if base == ("seq", "(", ")", (("neg", _INF), _INF)) and removed[0] == "seq" and len(removed[3]) == 2 \
            and removed[1] in "[(" and removed[2] in "])" and not free_symbols(removed):
        # `\mathbb{R} \setminus [2, 3]` -> (-inf, 2) U (3, inf): a removed interval flips the inclusion
        low, high = removed[3]
        return [("seq", "(", ")" if removed[1] == "[" else "]", (("neg", _INF), low)),
                ("seq", "(" if removed[2] == "]" else "[", ")", (high, _INF))]
    if base != ("seq", "(", ")", (("neg", _INF), _INF)) or removed[0] not in ("set", "list", "num", "neg"):
        return None
    points = removed[1] if removed[0] in ("set", "list") else (removed,)
    try:
        with precision(DPS):
            ordered = sorted(points, key=lambda p: mpmath.mpf(approx(p, {})))
    except (GradingError, TypeError, ValueError):
        return None
    edges = [("neg", _INF), *ordered, _INF]
    return [("seq", "(", ")", (low, high)) for low, high in zip(edges, edges[1:], strict=False)]


def _value(node: Node):
    if node == _INF:
        return mpmath.inf
    if node == ("neg", _INF):
        return -mpmath.inf
    value = approx(node, {})
    if mpmath.im(value) != 0:
        raise ValueError("a complex endpoint")
    return mpmath.re(value)


def _difference(node: Node) -> list[Node] | None:
    """`(0,2] \\setminus \\{1\\}`, `[0,3] \\setminus (1,2)`: an interval (or union) minus points or an interval.

    Endpoints must be numeric; each piece is cut at the removed points (a removed closed endpoint opens it)
    or clipped by the removed interval, so the result is again a list of intervals.
    """
    base, removed = as_intervals(node[1]), node[2]
    if base is None or free_symbols(removed) or any(free_symbols(piece) for piece in base):
        return None
    if removed[0] == "seq" and len(removed[3]) == 2 and removed[1] in "[(" and removed[2] in "])":
        cuts = [("interval", removed)]
    elif removed[0] in ("set", "list", "num", "neg", "div"):
        cuts = [("point", p) for p in (removed[1] if removed[0] in ("set", "list") else (removed,))]
    else:
        return None
    try:
        with precision(DPS):
            # A piece: [low value, low node, low closed, high value, high node, high closed].
            pieces = [[_value(p[3][0]), p[3][0], p[1] == "[", _value(p[3][1]), p[3][1], p[2] == "]"] for p in base]
            for kind, cut in cuts:
                pieces = [out for piece in pieces for out in _cut(piece, kind, cut)]
    except (GradingError, TypeError, ValueError, ZeroDivisionError):
        return None
    return [("seq", "[" if p[2] else "(", "]" if p[5] else ")", (p[1], p[4])) for p in pieces]


def _cut(piece: list, kind: str, cut: Node) -> list[list]:
    low, low_node, low_closed, high, high_node, high_closed = piece
    if kind == "point":
        at = _value(cut)
        if close(at, low) and low_closed:
            return [[low, low_node, False, high, high_node, high_closed]] if not close(low, high) else []
        if close(at, high) and high_closed:
            return [[low, low_node, low_closed, high, high_node, False]]
        if low < at < high and not close(at, low) and not close(at, high):
            return [[low, low_node, low_closed, at, cut, False], [at, cut, False, high, high_node, high_closed]]
        return [piece]
    a_node, b_node = cut[3]
    a, b, a_closed, b_closed = _value(a_node), _value(b_node), cut[1] == "[", cut[2] == "]"
    out = []
    # The part left of the removed interval: the piece up to a (a kept when the cut leaves it out).
    if high < a and not close(high, a):
        left = [high, high_node, high_closed]
    elif close(high, a):
        left = [high, high_node, high_closed and not a_closed]
    else:
        left = [a, a_node, not a_closed]
    if low < left[0] and not close(low, left[0]) or close(low, left[0]) and low_closed and left[2]:
        out.append([low, low_node, low_closed, *left])
    # The part right of it: the piece from b on.
    if low > b and not close(low, b):
        right = [low, low_node, low_closed]
    elif close(low, b):
        right = [low, low_node, low_closed and not b_closed]
    else:
        right = [b, b_node, not b_closed]
    if right[0] < high and not close(right[0], high) or close(right[0], high) and right[2] and high_closed:
        out.append([*right, high, high_node, high_closed])
    return out


def _excluded_points(node: Node) -> tuple | None:
    """`x \\ne -1, 2` or `x \\ne -1, x \\ne 2` ("... and ..."): every listed point is excluded at once."""
    rels = node[1] if node[0] == "list" else (node,)
    points: list[Node] = []
    names = set()
    for rel in rels:
        if names and rel[0] not in ("rel", "list", "set", "seq"):
            points.append(rel)  # `x \\ne -1, 2`: the list continues the excluded points
            continue
        if rel[0] != "rel" or rel[1] != ("!=",) or rel[2][0][0] != "sym":
            return None
        names.add(rel[2][0])
        right = rel[2][1]
        points.extend(right[1] if right[0] == "list" else (right,))
    if len(names) != 1 or len(points) < 2 or any(free_symbols(point) for point in points):
        return None
    return tuple(points)


def _bounded_and_excluded(node: Node) -> list[Node] | None:
    """`x > 0, x \\ne 1` ("... and ..."): one interval of bounds on a variable, minus the excluded points."""
    rels = node[1]
    if not all(rel[0] == "rel" for rel in rels) or len({frozenset(constrained(rel)) for rel in rels}) != 1:
        return None
    excluded = [r for r in rels if r[1] == ("!=",) and r[2][0][0] == "sym" and not free_symbols(r[2][1])]
    bounds = tuple(r for r in rels if r[1] != ("!=",))
    if not excluded or not bounds or len(excluded) + len(bounds) != len(rels):
        return None
    base = as_intervals(("list", bounds) if len(bounds) > 1 else bounds[0])
    if base is None or len(base) != 1:
        return None
    points = tuple(p for r in excluded for p in (r[2][1][1] if r[2][1][0] == "list" else (r[2][1],)))
    return _difference(("setminus", base[0], ("set", points)))


def as_intervals(node: Node) -> list[Node] | None:
    if node[0] == "list" and len(node[1]) > 1:
        mixed = _bounded_and_excluded(node)
        if mixed is not None:
            return mixed
    points = _excluded_points(node) if node[0] in ("rel", "list") else None
    if points is not None:
        return _punctured(("setminus", ("seq", "(", ")", (("neg", _INF), _INF)), ("set", points)))
    parts = node[1] if node[0] in ("union", "list") else (node,)
    out = []
    for part in parts:
        if part[0] == "setminus":
            pieces = _punctured(part) or _difference(part)
            if pieces is None:
                return None
            out.extend(pieces)
            continue
        split = _not_equal_intervals(part) or _abs_intervals(part) or (
            quadratic_intervals(part) if to_interval(part) is None else None)
        if split is not None:
            out.extend(split)
            continue
        interval = to_interval(part) if part[0] == "rel" else part
        if interval is None or interval[0] != "seq" or len(interval[3]) != 2:
            return None
        out.append(interval)
    if node[0] == "list" and all(part[0] == "rel" for part in parts):
        ups, downs = sum(part[3][1] == _INF for part in out), sum(part[3][0] == ("neg", _INF) for part in out)
        if ups > 1 or downs > 1:
            return None  # `x > 3, x > 4`: two bounds on one side are two answers, not one set
        if len(out) == 2:
            return _overlap(out[0], out[1]) or out
    return out


def _overlap(first: Node, second: Node) -> list[Node] | None:
    """`x > -2, x < 2` (or "... and ..."): a lower and an upper bound that overlap mean (-2, 2).

    Read as a union they would be the whole line, which nobody writes that way; bounds that do not
    overlap (`x < -2, x > 2`) stay a union of two rays.
    """
    lower, upper = (first, second) if first[3][1] == _INF else (second, first)
    if lower[3][1] != _INF or upper[3][0] != ("neg", _INF) or upper is lower:
        return None
    low, high = lower[3][0], upper[3][1]
    if not _positive_constant(("add", (high, ("neg", low)))):
        return None
    return [("seq", lower[1], upper[2], (low, high))]


def merge_touching(parts: list[Node]) -> list[Node]:
    """`[1,2] \\cup [2,3]` is `[1,3]`: overlapping pieces, or pieces sharing a closed endpoint, are one interval.

    Only numeric endpoints are merged (`(0,9) \\cup (9,36)` stays two pieces: 9 is in neither).
    """
    if len(parts) < 2 or any(free_symbols(part) for part in parts):
        return parts
    try:
        with precision(DPS):
            ends = [(mpmath.re(approx(p[3][0], {})), mpmath.re(approx(p[3][1], {})), p) for p in parts]
            ends.sort(key=lambda item: (item[0], item[2][1] != "["))
            merged = [list(ends[0])]
            for low, high, part in ends[1:]:
                last = merged[-1]
                touching = close(low, last[1]) and (last[2][2] == "]" or part[1] == "[")
                if not (low < last[1] and not close(low, last[1])) and not touching:
                    merged.append([low, high, part])
                    continue
                keep_last = last[1] > high or close(last[1], high) and last[2][2] == "]"
                upper = last[2] if keep_last else part
                last[1] = last[1] if keep_last else high
                last[2] = ("seq", last[2][1], upper[2], (last[2][3][0], upper[3][1]))
    except (GradingError, TypeError, ValueError, ZeroDivisionError):
        return parts
    return [item[2] for item in merged]


def constrained(node: Node) -> frozenset:
    """The variables that inequalities bound: {x} for `x > 2a`, `x < 1 \\text{ or } x > 2`; {} for `(1, 2)`."""
    if node[0] in ("list", "union"):
        return frozenset().union(*(constrained(part) for part in node[1]))
    if node[0] != "rel":
        return frozenset()
    node = linearize(node)  # `-y > -1` bounds y
    names = frozenset(o[1] for o in node[2] if o[0] == "sym")
    return names or frozenset(n for o in node[2] if o[0] != "sym" and _is_quantity(o) for n in free_symbols(o))


def interval_like(node: Node) -> bool:
    if node[0] in ("union", "setminus"):
        return True
    if node[0] == "rel":
        return any(f(node) is not None
                   for f in (to_interval, _not_equal_intervals, _abs_intervals, quadratic_intervals))
    if node[0] == "list":  # `x \\le -3, x \\ge 3` ("... or ...") lists the pieces of a union
        return all(item[0] == "rel" and interval_like(item) for item in node[1])
    return node[0] == "seq" and len(node[3]) == 2
