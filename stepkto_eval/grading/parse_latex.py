"""LaTeX commands, functions and environments for the answer parser (`parse.py`).

A mixin: `LatexCommands` methods run on the `Parser`'s token stream (`take`, `at`, `script`, ...).
Functions take LaTeX's loose arguments (`\\sin 2x` is sin(2x); `\\sin x \\cos x` is a product of two);
`\\sin^{-1}` is arcsin; a degree mark inside a trig function converts to radians (`\\sin 30°` = 1/2).
"""
from __future__ import annotations

import itertools
from fractions import Fraction

Node = tuple


class ParseError(ValueError):
    """The text is not a well-formed answer."""


FUNCTIONS = {
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "arccot", "sinh", "cosh",
    "tanh", "ln", "log", "exp", "lg", "cis",
}
_INVERSE = {"sin": "arcsin", "cos": "arccos", "tan": "arctan", "cot": "arccot"}
GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma", "Delta",
    "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega", "ell",
}
_MATRIX_ENVS = {"pmatrix", "bmatrix", "Bmatrix", "matrix", "smallmatrix", "array"}


class LatexCommands:
    """Parsing of `\\command` tokens; mixed into `Parser`."""

    def command(self, name: str) -> Node:
        if name == "frac":
            return self.fraction()
        if name == "sqrt":
            index: Node = ("num", Fraction(2))
            if self.at("OP", "["):
                self.take()
                index = self.expr()
                self.expect("OP", "]")
            return ("root", self.script(), index)
        if name == "binom":
            return ("binom", self.script(), self.script())
        if name in ("pi", "infty"):
            return ("const", "pi" if name == "pi" else "inf")
        if name == "emptyset":
            return ("empty",)
        if name in GREEK:
            return ("sym", "\\" + name)
        if name in FUNCTIONS:
            return self.function(name)
        if name == "{":
            items = self.items(closers=(("CMD", "}"),))
            self.expect("CMD", "}")
            return ("set", tuple(items)) if items else ("empty",)
        if name == "langle":
            items = self.items(closers=(("CMD", "rangle"),))
            self.expect("CMD", "rangle")
            return ("seq", "(", ")", tuple(items))
        if name in ("lfloor", "lceil"):
            inner = self.expr()
            self.expect("CMD", "rfloor" if name == "lfloor" else "rceil")
            return ("fn", name[1:], inner)
        if name == "det":
            arg = self.power()  # `\\det\\begin{pmatrix}..\\end{pmatrix}`, `\\det(M)` with M written out
            if arg[0] != "matrix":
                raise ParseError("\\det of something other than a written-out matrix")
            return determinant(arg[1])
        if name in ("sum", "prod"):
            return self.series(name)
        if name == "mathbb":
            letter = self.script_text()
            if letter == "R":
                return ("seq", "(", ")", (("neg", ("const", "inf")), ("const", "inf")))
            raise ParseError(f"unsupported set \\mathbb{{{letter}}}")
        raise ParseError(f"unsupported command \\{name}")

    def function(self, name: str) -> Node:
        exponent = None
        base = None
        if self.at("OP", "^"):
            self.take()
            exponent = self.script()
            if exponent == ("neg", ("num", Fraction(1))) and name in _INVERSE:
                name, exponent = _INVERSE[name], None
        if self.at("OP", "_") and name == "log":
            self.take()
            base = self.script()
        if self.at("OP", "(") or self.at("OP", "["):
            self.take()
            arg = self.expr()
            self.expect("OP", ")")
        else:
            factors = [self.power()]
            while self.starts_primary() and not (self.at("CMD") and self.peek().value in FUNCTIONS):
                factors.append(self.power())
            arg = factors[0] if len(factors) == 1 else ("mul", tuple(factors))
        if name in _TRIG:
            arg = _radians(arg)
        if name == "log" or name == "lg":
            node: Node = ("log", base if name == "log" else ("num", Fraction(10)), arg)
        elif name == "exp":
            node = ("pow", ("const", "e"), arg)
        else:
            node = ("fn", name, arg)
        return node if exponent is None else ("pow", node, exponent)

    def series(self, name: str) -> Node:
        """`\\sum_{k=1}^{5} k^2`, `\\prod_{k=1}^{4} (1+k)`: concrete integer bounds, written out term by term.

        The summand is the following product-level term (`\\sum_{k=1}^3 k + 1` is 6 + 1, as TeX renders it).
        Symbolic bounds (`\\sum_{k=1}^{n}`) are not read: that needs closed forms, not arithmetic.
        """
        lower = upper = None
        for _ in range(2):
            if self.at("OP", "_") and lower is None:
                self.take()
                lower = self.script()
            elif self.at("OP", "^") and upper is None:
                self.take()
                upper = self.script()
        if lower is None or upper is None or lower[0] != "rel" or lower[1] != ("=",) or lower[2][0][0] not in ("sym", "const") \
                or lower[2][0] in (("const", "pi"), ("const", "inf")):  # an index named i or e is the index
            raise ParseError(f"\\{name} without an index and both bounds")
        index, start, stop = lower[2][0], _integer(lower[2][1]), _integer(upper)
        if start is None or stop is None:
            raise ParseError(f"\\{name} with bounds that are not integers")
        if stop - start + 1 > MAX_SERIES_TERMS:
            raise ParseError(f"\\{name} with more than {MAX_SERIES_TERMS} terms")
        body = self.term()
        # Nested sums multiply: the written-out trees of one answer share one node budget.
        self.series_nodes = getattr(self, "series_nodes", 0) + _size(body) * max(stop - start + 1, 0)
        if self.series_nodes > MAX_SERIES_NODES:
            raise ParseError(f"\\{name} written out would exceed {MAX_SERIES_NODES:,} nodes")
        terms = tuple(substitute(body, index, ("num", Fraction(k))) for k in range(start, stop + 1))
        if not terms:  # an empty sum is 0, an empty product 1
            return ("num", Fraction(0 if name == "sum" else 1))
        return terms[0] if len(terms) == 1 else ("add" if name == "sum" else "mul", terms)

    def matrix(self, env: str) -> Node:
        if env == "vmatrix":  # `\\begin{vmatrix}..\\end{vmatrix}` typesets a determinant
            return determinant(self.matrix("pmatrix")[1])
        if env not in _MATRIX_ENVS:
            raise ParseError(f"unsupported environment {env}")
        rows: list[tuple] = []
        row: list[Node] = []
        while True:
            if self.at("END"):
                self.take()
                break
            row.append(self.union())
            if self.at("OP", "&"):
                self.take()
            elif self.at("ROWSEP"):
                self.take()
                rows.append(tuple(row))
                row = []
            elif not self.at("END"):
                raise ParseError(f"unexpected {self.peek().raw if self.peek() else 'end'} in matrix")
        if row:
            rows.append(tuple(row))
        if not rows or len({len(r) for r in rows}) != 1:
            raise ParseError("ragged or empty matrix")
        return ("matrix", tuple(rows))


MAX_SERIES_TERMS = 1_000  # a written-out sum stays a small tree
MAX_SERIES_NODES = 20_000


def _size(node) -> int:
    return 1 + sum(_size(child) for child in node if isinstance(child, tuple)) if isinstance(node, tuple) else 0
MAX_DETERMINANT_SIZE = 4  # 24 products at most


def _integer(node: Node) -> int | None:
    if node[0] == "num" and node[1].denominator == 1:
        return int(node[1])
    if node[0] == "neg" and node[1][0] == "num" and node[1][1].denominator == 1:
        return -int(node[1][1])
    return None


def substitute(node, old: Node, new: Node):
    """`node` with every subtree equal to `old` replaced by `new`."""
    if node == old:
        return new
    if not isinstance(node, tuple):
        return node
    return tuple(substitute(child, old, new) if isinstance(child, tuple) else child for child in node)


def determinant(rows: tuple) -> Node:
    """The determinant of a written-out square matrix as a sum of signed products (Leibniz), up to 4x4."""
    size = len(rows)
    if size > MAX_DETERMINANT_SIZE or any(len(row) != size for row in rows):
        raise ParseError("a determinant of a non-square or larger than 4x4 matrix")
    terms = []
    for perm in itertools.permutations(range(size)):
        inversions = sum(perm[i] > perm[j] for i in range(size) for j in range(i + 1, size))
        product = ("mul", tuple(rows[i][perm[i]] for i in range(size))) if size > 1 else rows[0][0]
        terms.append(("neg", product) if inversions % 2 else product)
    return terms[0] if size == 1 else ("add", tuple(terms))


_TRIG = {"sin", "cos", "tan", "cot", "sec", "csc", "cis"}  # cis t = cos t + i sin t
_DEGREE = ("div", ("const", "pi"), ("num", Fraction(180)))


def _radians(node: Node) -> Node:
    """Inside a trig function a degree mark is a unit conversion: x° -> x * pi/180."""
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
        return node
    if node[0] == "deg":
        return ("mul", (_radians(node[1]), _DEGREE))
    return (node[0],) + tuple(
        _radians(child) if isinstance(child, tuple) and child and isinstance(child[0], str)
        else tuple(_radians(item) for item in child) if isinstance(child, tuple) else child
        for child in node[1:]
    )
