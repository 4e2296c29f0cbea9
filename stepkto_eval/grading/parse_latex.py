"""LaTeX commands, functions and environments for the answer parser (`parse.py`).

A mixin: `LatexCommands` methods run on the `Parser`'s token stream (`take`, `at`, `script`, ...).
Functions take LaTeX's loose arguments (`\\sin 2x` is sin(2x); `\\sin x \\cos x` is a product of two);
`\\sin^{-1}` is arcsin; a degree mark inside a trig function converts to radians (`\\sin 30°` = 1/2).
"""
from __future__ import annotations

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

    def matrix(self, env: str) -> Node:
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
