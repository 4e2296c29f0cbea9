"""Equivalence of two parsed answers, structure by structure (policy rules 1, 4, 7, 9, 10).

* unordered collections (bare lists "1, 2", sets `\\{1,2\\}`): same multiset of elements;
* ordered ones (tuples, vectors, matrices): same length/shape and equal entries in order; intervals
  additionally need the same bracket on each end; a set never answers a tuple;
* unions of intervals: the same intervals in any order; an inequality in one variable is read as
  the interval it describes (`x>3` is `(3,\\infty)`);
* equations: two equations are equal when one is a nonzero multiple of the other (same locus);
  `y=2x+3` answers `2x+3` and `x=5` answers `5` (a label on the left is ignored);
* `a \\pm b` is the list a+b, a-b; percent is a factor 1/100 but also accepted as a unit when only one
  side writes it; bare digits are read in the base of the gold's subscript;
* `a:b` is the ratio a/b (`1:4` = `2:8` = `0.25`) unless a clock time is involved; `x=1, y=2` is the
  pair (1, 2); `a+b = 7` answers 7 (a named quantity), but `2x = 10` or `x^2 = 4` do not.
"""
from __future__ import annotations

import re
from fractions import Fraction

from .budget import Budget
from .intervals import as_intervals, constrained, interval_like, merge_touching, to_interval
from .parse import Node
from .scalar_value import free_symbols
from .values import Outcome, compare_scalars, proportional

_COLLECTIONS = ("list", "set", "empty")
_INF = ("const", "inf")
MAX_PM_VARIANTS = 16


def _has(node: Node, kind: str) -> bool:
    if not isinstance(node, tuple) or not node:
        return False
    if node[0] == kind:
        return True
    return any(
        _has(child, kind) if child and isinstance(child[0], str) else any(_has(item, kind) for item in child)
        for child in node[1:] if isinstance(child, tuple)
    )


def expand_pm(node: Node) -> list[Node]:
    """All sign choices of the first `\\pm` (recursively): `1 \\pm \\sqrt2` -> [1+√2, 1-√2]."""
    if not _has(node, "pm"):
        return [node]

    def replace(tree: Node, sign: int) -> tuple[Node, bool]:
        if tree[0] == "pm":
            left, right = tree[1], tree[2] if sign > 0 else ("neg", tree[2])
            return (right if left is None else ("add", (left, right))), True
        children, done = [], False
        for child in tree[1:]:
            if not done and isinstance(child, tuple) and child and isinstance(child[0], str):
                child, done = replace(child, sign)
            elif not done and isinstance(child, tuple) and child and isinstance(child[0], tuple):
                items = []
                for item in child:
                    if not done:
                        item, done = replace(item, sign)
                    items.append(item)
                child = tuple(items)
            children.append(child)
        return (tree[0], *children), done

    variants: list[Node] = []
    for sign in (1, -1):
        variants.extend(expand_pm(replace(node, sign)[0]))
        if len(variants) > MAX_PM_VARIANTS:
            break
    return variants[:MAX_PM_VARIANTS]


def _items(node: Node) -> tuple:
    if node[0] in ("list", "set"):
        return node[1]
    return () if node[0] == "empty" else (node,)


def _flatten_pm(node: Node) -> Node:
    if node[0] in ("list", "set"):
        items = tuple(variant for item in node[1] for variant in expand_pm(item))
        return (node[0], items)
    variants = expand_pm(node)
    return variants[0] if len(variants) == 1 else ("list", tuple(variants))


def _is_label(node: Node) -> bool:
    """A left-hand side that names the answer: `x`, `y`, `f(x)`, `P(x, y)`, `f^{-1}(x)`."""
    if node[0] == "sym":
        return True
    if node[0] != "mul" or len(node[1]) != 2:
        return False
    name, argument = node[1]
    if name[0] == "pow" and name[1][0] == "sym" and name[2] == ("neg", ("num", Fraction(1))):
        name = name[1]
    arguments = argument[3] if argument[0] == "seq" else (argument,)
    return name[0] == "sym" and all(item[0] == "sym" for item in arguments)


def strip_label(node: Node) -> Node:
    """`y = 2x+3` -> `2x+3`; `f(2) = 5`, `|AB| = 10` -> the value (a named quantity equals a constant)."""
    if node[0] != "rel" or node[1] != ("=",):
        return node
    left, right = node[2]
    if left[0] == "sym" and left[1] in free_symbols(right):
        return node  # `x = 3x - 1` is an equation to solve, not a name for `3x - 1`
    if _is_label(left) or (_named(left) and not free_symbols(right)):
        return right
    if right[0] == "sym" and right[1] not in free_symbols(left):
        return left  # `12 = n`, `3x - 1 = y`: the label written on the right
    return node


def _named(node: Node) -> bool:
    """A quantity's name: `a_5`, `AB`, `f(2)`, `|AB|`, `(x, y)`, `a+b`, `x/y` - letters, no coefficients.

    `2x = 10`, `x^2 = 4` or `5x - 7y + 4 = 0` are equations to solve, not names of the value on the
    right; `a + b = 7` answers "find a + b".
    """
    kind = node[0]
    if kind == "abs":
        return _named(node[1])
    if kind == "fn":  # `\sin 2\theta = -\frac{24}{25}`, `\cos C = ..` name an angle's value;
        names = free_symbols(node)  # `\sin x = 2` is an equation to solve
        return bool(names) and all(n.startswith("\\") or n.isupper() for n in names)
    if kind == "seq":  # `(x, y) = (3, 4)`
        return all(item[0] == "sym" for item in node[3])
    if kind == "add":
        return all(_named(term[1] if term[0] == "neg" else term) for term in node[1])
    if kind in ("div", "colon"):  # `x/y = 3`, `A:B = 2:3`, `AB:BC:CA = 3:4:5`: a ratio of named quantities
        return all(_named(part) for part in node[1:])
    if kind == "mul":  # `AB`, `f(2)`, `f^{-1}(3)`; `AB^2 = 12` or `x^2y = 5` are equations to solve
        head, rest = node[1][0], node[1][1:]
        inverse = head[0] == "pow" and head[1][0] == "sym" and head[2] == ("neg", ("num", Fraction(1)))
        powers = any(f[0] == "pow" and free_symbols(f) for f in rest)
        return (head[0] == "sym" or inverse) and not powers and not _has(node, "add")
    return kind == "sym"


def _not_equal_pm(node: Node) -> Node:
    """`x \\ne \\pm 1` excludes both points: R \\ {1, -1} (not the union of two punctured lines)."""
    if node[0] != "rel" or node[1] != ("!=",) or not _has(node, "pm"):
        return node
    left, right = node[2]
    point = right if left[0] == "sym" else left if right[0] == "sym" else None
    if point is None:
        return node
    return ("setminus", ("seq", "(", ")", (("neg", _INF), _INF)), ("set", tuple(expand_pm(point))))


def _matrix_as_seq(node: Node) -> Node:
    rows = node[1]
    if len(rows) == 1 or all(len(row) == 1 for row in rows):
        return ("seq", "(", ")", tuple(cell for row in rows for cell in row))
    return node


def _bracket_rows(node: Node) -> Node:
    """`[[1, 2], [3, 4]]` (rows in brackets) as the matrix it writes; anything else unchanged."""
    if node[0] == "seq" and node[1] + node[2] == "[]" and len(node[3]) > 1 and all(
            row[0] == "seq" and row[1] + row[2] == "[]" for row in node[3]):
        return ("matrix", tuple(row[3] for row in node[3]))
    return node


def _scale_matrix(node: Node) -> Node:
    """`\\frac13\\begin{pmatrix}-1\\\\2\\end{pmatrix}`, `-M`: a scalar times a matrix is its scaled entries.

    `M^T` is the transposed matrix (`(1,2)^T` is the vector itself).  Only a product with exactly one matrix and otherwise plain scalars is distributed (`AB` of two
    matrices is a matrix product, which is not evaluated).
    """
    if node[0] == "pow" and node[2] == ("sym", "T") and node[1][0] in ("matrix", "seq"):
        base = _bracket_rows(node[1])  # `(1,2)^T`, `M^T`: a transpose (a vector's orientation is not compared)
        return base if base[0] == "seq" else ("matrix", tuple(zip(*base[1], strict=True)))
    if node[0] == "neg" and node[1][0] == "matrix":
        return ("matrix", tuple(tuple(("neg", cell) for cell in row) for row in node[1][1]))
    if node[0] != "mul":
        return node
    matrices = [factor for factor in node[1] if factor[0] == "matrix"]
    scalars = tuple(factor for factor in node[1] if factor[0] != "matrix")
    if len(matrices) != 1 or any(_has(f, kind) for f in scalars for kind in _NOT_SCALAR):
        return node
    return ("matrix", tuple(tuple(("mul", (*scalars, cell)) for cell in row) for row in matrices[0][1]))


_NOT_SCALAR = ("matrix", "seq", "list", "set", "rel", "union", "setminus", "empty", "pm")


class Comparer:
    """Holds the budget for one comparison; `compare` is the entry point."""

    def __init__(self, budget: Budget, percent_question: bool = False, clock: bool = False,
                 problem: str | None = None):
        self.budget = budget
        self.problem = problem  # labelled values against a bare tuple follow the problem's order
        self.clock = clock  # one side is a clock time `h:mm`: a colon is then not a ratio
        # A bare gold in a "what percent" problem is a percentage whose % sign the dataset dropped.
        self.percent_question = percent_question

    def compare(self, gold: Node, cand: Node) -> Outcome:
        self.budget.check()
        gold, cand = _flatten_pm(_not_equal_pm(gold)), _flatten_pm(_not_equal_pm(cand))
        gold, cand = _scale_matrix(gold), _scale_matrix(cand)
        if gold[0] == "matrix":
            cand = _bracket_rows(cand)  # `[[2, 0], [0, 2]]`: rows in brackets
        if gold[0] == "matrix" and cand[0] == "seq" and cand[1] + cand[2] == "[]":
            cand = ("seq", "(", ")", cand[3])  # a vector gold: `[1, 2]` is that vector, not an interval
        if gold[0] == "matrix" and cand[0] != "matrix":
            gold = _matrix_as_seq(gold)
        if cand[0] == "matrix" and gold[0] != "matrix":
            cand = _matrix_as_seq(cand)
        if {"union", "setminus"} & {gold[0], cand[0]} or (
            interval_like(gold) and interval_like(cand) and (gold[0] != "seq" or cand[0] != "seq")
        ):
            return self.intervals(gold, cand)
        if gold[0] in _COLLECTIONS or cand[0] in _COLLECTIONS:
            return self.collections(gold, cand)
        if gold[0] == "rel" or cand[0] == "rel":
            return self.relations(gold, cand)
        if gold[0] != cand[0] and "seq" in (gold[0], cand[0]):
            return Outcome(False, "structure", f"a {cand[0]} does not answer a {gold[0]}")
        if gold[0] == "seq":
            return self.sequences(gold, cand)
        if gold[0] == "matrix" or cand[0] == "matrix":
            return self.matrices(gold, cand)
        if gold[0] == "colon" or cand[0] == "colon":
            return self.ratios(gold, cand)
        return self.scalars(gold, cand)

    def ratios(self, gold: Node, cand: Node) -> Outcome:
        """`a:b` is the ratio a/b (`1:4` = `2:8` = `\\frac14`), except for clock times (`4:30`)."""
        if gold[0] == cand[0]:
            outcome = self.elementwise(gold[1:], cand[1:], "ratio")
            if outcome.equal or self.clock:
                return outcome
        elif self.clock:
            return Outcome(False, "structure", "a clock time does not match a single value")
        if len(gold) > 3 or len(cand) > 3:  # `3:4:5` = `6:8:10`: the same parts up to one common factor
            if gold[0] != cand[0] or len(gold) != len(cand):
                return Outcome(False, "ratio", "ratios with different numbers of parts")
            zero = ("num", Fraction(0))
            ref = next((k for k in range(1, len(gold)) if not compare_scalars(gold[k], zero, self.budget).equal), None)
            if ref is None or compare_scalars(cand[ref], zero, self.budget).equal:
                return Outcome(False, "ratio", "no common nonzero factor")  # `0:0:0` is no ratio of `3:4:5`
            for g, c in zip(gold[1:], cand[1:], strict=True):
                cross = compare_scalars(("mul", (g, cand[ref])), ("mul", (c, gold[ref])), self.budget)
                if not cross.equal:
                    return Outcome(False, "ratio", "different ratios")
            return Outcome(True, "ratio", "the same ratio up to a common factor")
        quotient = lambda node: ("div", node[1], node[2]) if node[0] == "colon" else node  # noqa: E731
        outcome = compare_scalars(quotient(gold), quotient(cand), self.budget)
        return Outcome(outcome.equal, "ratio", "same ratio a:b = a/b" if outcome.equal else "different ratios")

    def scalars(self, gold: Node, cand: Node) -> Outcome:
        if gold[0] == "base" and cand[0] == "num":
            return self.bare_digits(gold, cand)
        outcome = compare_scalars(gold, cand, self.budget)
        if outcome.equal or (gold[0] == "pct") == (cand[0] == "pct"):
            return outcome
        # Only one side wrote `%`.  The factor reading (25% = 1/4) was tried above; the unit reading
        # (25% vs 25) applies when the gold is a percentage: it has `%`, or the problem asks for one,
        # or the gold is a plain number >= 1 answered with `%` (no probability or fraction is >= 1;
        # MATH stores "express it as a percentage" golds without the sign, e.g. `10` for `10\%`).
        if gold[0] == "pct":
            stripped = compare_scalars(gold[1], cand, self.budget)
        elif self.percent_question or (gold[0] == "num" and gold[1] > 1 and cand[0] == "pct"):
            stripped = compare_scalars(gold, cand[1], self.budget)
        else:
            return outcome
        if stripped.equal:
            return Outcome(True, "percent", "equal once the percent sign is read as a unit")
        return outcome

    def bare_digits(self, gold: Node, cand: Node) -> Outcome:
        digits, base = gold[1], gold[2]
        value = cand[1]
        if value.denominator != 1 or value < 0:
            return Outcome(False, "base", f"{value} is not a base-{base} numeral")
        text = str(value.numerator)
        if any(int(char) >= base for char in text):
            return Outcome(False, "base", f"{text} is not a valid base-{base} numeral")
        equal = int(text, base) == int(digits, base)
        return Outcome(equal, "base", f"bare digits read in base {base} {'match' if equal else 'differ'}")

    def elementwise(self, golds, cands, what: str) -> Outcome:
        if len(golds) != len(cands):
            return Outcome(False, what, f"{len(cands)} entries where {len(golds)} are expected")
        for index, (g, c) in enumerate(zip(golds, cands, strict=True)):
            outcome = self.compare(g, c)
            if not outcome.equal:
                return Outcome(False, what, f"entry {index + 1} differs: {outcome.reason}")
        return Outcome(True, what, f"all {len(golds)} entries agree in order")

    def sequences(self, gold: Node, cand: Node) -> Outcome:
        if (gold[1], gold[2]) != (cand[1], cand[2]):
            return Outcome(False, "interval-ends", f"brackets {gold[1]}..{gold[2]} vs {cand[1]}..{cand[2]}")
        return self.elementwise(gold[3], cand[3], "tuple")

    def matrices(self, gold: Node, cand: Node) -> Outcome:
        if gold[0] != cand[0] or [len(r) for r in gold[1]] != [len(r) for r in cand[1]]:
            return Outcome(False, "matrix", "matrix shapes differ")
        flat = lambda m: tuple(cell for row in m[1] for cell in row)  # noqa: E731
        return self.elementwise(flat(gold), flat(cand), "matrix")

    def collections(self, gold: Node, cand: Node) -> Outcome:
        if gold[0] == "empty" or cand[0] == "empty":
            equal = gold[0] == cand[0]
            return Outcome(equal, "empty-set", "both empty" if equal else "only one side is the empty set")
        if {gold[0], cand[0]} == {"set", "seq"}:
            single = gold if gold[0] == "set" else cand
            if len(single[1]) == 1 and single[1][0][0] == "seq" and single[1][0][1] == "(":  # `\{(2,3)\}`
                return self.compare(*((single[1][0], cand) if single is gold else (gold, single[1][0])))
            return Outcome(False, "structure", "a set does not answer an ordered tuple")
        g_named, c_named = _named_values(gold), _named_values(cand)
        if g_named and not c_named and (cand[0] == "list" or cand[0] == "seq" and cand[1] + cand[2] == "()"):
            # `x=1, y=2` is the pair (1, 2) written with its coordinate names.
            return self.elementwise(self.by_name(gold), cand[1] if cand[0] == "list" else cand[3], "tuple")
        if gold[0] == "list" and cand[0] == "seq":
            if cand[1] + cand[2] == "()" and len(cand[3]) > 2:
                # `(1, 2, 3)` for the solutions `1, 2, 3`: three or more entries cannot be an interval.
                return self.unordered(gold[1], cand[3])
            return Outcome(False, "structure", "a tuple or interval does not answer a list of values")
        if gold[0] == "seq" and cand[0] == "list":
            # `-2, 1` or `x=-2, y=1` for the pair `(-2,1)`: the same sequence without its parentheses.
            if gold[1] + gold[2] != "()" or (_has(gold, "const") and not c_named):
                return Outcome(False, "structure", "a list does not answer an interval")
            return self.elementwise(gold[3], self.by_name(cand) if c_named else cand[1], "tuple")
        golds, cands = _items(gold), _items(cand)
        if len(golds) == 1 and len(cands) > 1:
            if len(set(cands)) == len(cands) and all(self.compare(golds[0], c).equal for c in cands):
                # `\frac52 \text{ or } 2.5`: one value written in several forms is a restatement, not a hedge.
                return Outcome(True, "restatement", f"{len(cands)} renderings of the same value")
            return Outcome(False, "several-answers", f"{len(cands)} answers given for a single answer")
        return self.unordered(golds, cands)

    def by_name(self, node: Node) -> tuple:
        """Values of `x=1, y=2` (a list of distinct labels) in the order of `label_order`."""
        values = {item[2][0][1]: item[2][1] for item in node[1]}
        return tuple(values[name] for name in label_order(list(values), self.problem))

    def unordered(self, golds, cands) -> Outcome:
        if len(golds) != len(cands):
            return Outcome(False, "set-unordered", f"{len(cands)} elements where {len(golds)} are expected")
        unused = list(range(len(cands)))
        for g in golds:
            match = next((k for k in unused if self.compare(g, cands[k]).equal), None)
            if match is None:
                return Outcome(False, "set-unordered", "an expected element is missing")
            unused.remove(match)
        return Outcome(True, "set-unordered", f"the same {len(golds)} elements in some order")

    def intervals(self, gold: Node, cand: Node) -> Outcome:
        if constrained(gold) and constrained(cand) and constrained(gold) != constrained(cand):
            return Outcome(False, "variables", "the inequalities constrain different variables")  # `x>3`, `y>3`
        golds, cands = as_intervals(gold), as_intervals(cand)
        if golds is None or cands is None:
            return Outcome(False, "interval", "not comparable as unions of intervals")
        if len(golds) != len(cands):
            golds, cands = merge_touching(golds), merge_touching(cands)
        outcome = self.unordered(golds, cands)
        return Outcome(outcome.equal, "interval-union", outcome.reason.replace("elements", "intervals"))

    def relations(self, gold: Node, cand: Node) -> Outcome:
        chain = self.equality_chain(gold, cand)
        if chain is not None:
            return chain
        g_eq = gold[0] == "rel" and gold[1] == ("=",)
        c_eq = cand[0] == "rel" and cand[1] == ("=",)
        if g_eq and c_eq:
            locus = proportional(_difference(gold), _difference(cand), self.budget)
            if locus.equal or not (_is_label(gold[2][0]) and _is_label(cand[2][0])):
                return locus
            if gold[2][0][0] == cand[2][0][0] == "sym":
                return locus  # `x = 5` vs `y = 5`: different variables, different loci
            rhs = self.compare(gold[2][1], cand[2][1])
            return Outcome(rhs.equal, "equation", "right-hand sides " + ("agree" if rhs.equal else "differ"))
        if g_eq != c_eq and (gold[0] != "rel" or g_eq) and (cand[0] != "rel" or c_eq):
            g2, c2 = strip_label(gold), strip_label(cand)
            if g2 is gold and c2 is cand:
                return Outcome(False, "equation", "an equation does not answer a value")
            return self.compare(g2, c2)
        if gold[0] == cand[0] == "rel" and len(gold[1]) == len(cand[1]):
            g_int, c_int = to_interval(gold), to_interval(cand)
            if g_int is not None and c_int is not None:
                return self.compare(g_int, c_int)
            return self.elementwise(gold[2], cand[2], "relation") if gold[1] == cand[1] else \
                Outcome(False, "relation", "different relations")
        return Outcome(False, "relation", "a relation does not answer this")

    def equality_chain(self, gold: Node, cand: Node) -> Outcome | None:
        """`\\frac68 = \\frac34` (or `x = \\frac68 = \\frac34`) against a value: every member must equal it."""
        if gold[0] == "rel" or cand[0] != "rel" or set(cand[1]) != {"="}:
            return None
        members = cand[2][1:] if _is_label(cand[2][0]) else cand[2]
        if len(members) < 2 or any(free_symbols(m) for m in members):
            return None
        for member in members:
            outcome = self.compare(gold, member)
            if not outcome.equal:
                return Outcome(False, "equation", f"a member of the equality chain differs: {outcome.reason}")
        return Outcome(True, "equation", f"all {len(members)} members of the equality chain agree")


def _named_values(node: Node) -> bool:
    """`x=1, y=2`: a list of equations whose left sides are distinct single variables."""
    if node[0] != "list":
        return False
    items = node[1]
    if not all(i[0] == "rel" and i[1] == ("=",) and i[2][0][0] == "sym" for i in items):
        return False
    return len({i[2][0][1] for i in items}) == len(items)


_CONVENTIONAL = ("x", "y", "z", "w", "r", "\\theta", "\\phi")  # coordinates: (x, y, z), polar (r, theta)
_QUESTION = re.compile(r"\b(?:find|compute|determine|what|which|solve|evaluate|give|express|enter|calculate)\b",
                       re.IGNORECASE)
MAX_PROBLEM_CHARS = 20_000


def _mention(name: str, text: str) -> int | None:
    hit = re.search(r"(?<![A-Za-z\\])" + re.escape(name) + r"(?![A-Za-z])", text)
    return None if hit is None else hit.start()


def label_order(names: list[str], problem: str | None) -> list[str]:
    """The order in which labelled values (`b=1, a=2`) fill a bare tuple - the order the problem asks for.

    1. a tuple of exactly these names in the problem (`$(a, b)$`) gives its order;
    2. else, for coordinate names, the conventional order (`y=2, x=1` is (1, 2));
    3. else the order in which the problem's question (the text after its last "find", "compute", ...)
       first mentions them, when it mentions all;
    4. else the order written - never the labels sorted.
    """
    problem = problem if problem and len(problem) <= MAX_PROBLEM_CHARS else None
    if problem:
        inner = r"\s*,\s*".join(r"(?P<n%d>%s)" % (k, "|".join(re.escape(n) for n in names)) for k in range(len(names)))
        for match in re.finditer(r"\(\s*" + inner + r"\s*\)", problem):
            found = [match.group(f"n{k}") for k in range(len(names))]
            if sorted(found) == sorted(names):
                return found
    if all(name in _CONVENTIONAL for name in names):
        return sorted(names, key=_CONVENTIONAL.index)
    if problem:
        questions = list(_QUESTION.finditer(problem))
        tail = problem[questions[-1].start():] if questions else ""
        first = {name: _mention(name, tail) for name in names}
        if None not in first.values() and len(set(first.values())) == len(names):
            return sorted(names, key=first.__getitem__)
    return names


def _difference(rel: Node) -> Node:
    left, right = rel[2]
    return ("add", (left, ("neg", right)))
