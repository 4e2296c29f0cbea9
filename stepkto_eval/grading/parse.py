"""Recursive-descent parser from cleaned LaTeX / plain math to a small typed tree.

Nodes are plain tuples (hashable, cheap, comparable), first item the kind:

  ("num", Fraction)              ("sym", name)            ("const", "pi" | "e" | "i" | "inf")
  ("add", (t1, t2, ...))         ("mul", (f1, f2, ...))   ("div", a, b)      ("neg", a)
  ("pow", base, exp)             ("root", a, index)       ("fn", name, a)    ("log", base | None, a)
  ("fact", a)  ("deg", a)        ("pct", a)               ("abs", a)         ("binom", n, k)
  ("base", digits, base)         ("pm", a | None, b)      ("empty",)
  ("seq", open, close, items)    ("set", items)           ("list", items)    ("union", items)
  ("rel", ops, operands)         ("matrix", rows)         ("colon", a, b, ...)  ("setminus", a, b)

Precedence follows LaTeX rendering: `2\\frac12` is the mixed number 5/2, `x^23` is x^2 * 3, `-x^2` is
-(x^2), `\\sin 2x` is sin(2x), implicit multiplication binds like `*`, and `/` is left-associative.
Nothing here evaluates anything; the tree is data.
"""
from __future__ import annotations

from fractions import Fraction

from .budget import MAX_NESTING, Budget
from .lexer import Token, tokenize
from .parse_latex import FUNCTIONS, GREEK, LatexCommands, Node, ParseError

_RELATIONS = {"=": "=", "<": "<", ">": ">", "le": "<=", "ge": ">=", "ne": "!="}
MAX_RATIO_PARTS = 8
_PRIMARY_CMDS = {"frac", "sqrt", "binom", "pi", "infty", "emptyset", "{", "langle", "lfloor", "lceil", "mathbb"}


class Parser(LatexCommands):
    """One pass over the token list; `parse_answer` is the entry point."""

    def __init__(self, tokens: list[Token], budget: Budget | None = None):
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.abs_depth = 0
        self.budget = budget
        self.split_at: set[int] = set()  # positions of digits split off a one-token argument

    # -- token helpers -------------------------------------------------------------------------
    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def at(self, kind: str, value: object = None) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == kind and (value is None or tok.value == value)

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise ParseError("unexpected end of answer")
        self.pos += 1
        return tok

    def expect(self, kind: str, value: object) -> None:
        tok = self.take()
        if tok.kind != kind or tok.value != value:
            raise ParseError(f"expected {value!r}, found {tok.raw!r}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ParseError("nested too deeply")
        if self.budget is not None:
            self.budget.check()

    # -- grammar -------------------------------------------------------------------------------
    def answer(self) -> Node:
        groups: list[list[Node]] = [[]]  # entries between top-level semicolons
        while self.peek() is not None:
            groups[-1].append(self.union())
            if self.at("OP", ";"):
                self.take()
                groups.append([])
            elif self.at("OP", ","):
                self.take()
            elif self.peek() is not None:
                raise ParseError(f"unexpected {self.peek().raw!r}")
        groups = [group for group in groups if group]
        if not groups:
            raise ParseError("empty answer")
        if len(groups) > 1 and any(len(group) > 1 for group in groups):
            # `p=5, q=2; p=7, q=2`: semicolons separate solutions, commas the values of one solution.
            items = [group[0] if len(group) == 1 else _solution(group) for group in groups]
        else:
            items = [item for group in groups for item in group]
        return items[0] if len(items) == 1 else ("list", tuple(items))

    def items(self, closers: tuple) -> list[Node]:
        """Comma/semicolon separated entries up to one of `closers` (not consumed)."""
        items: list[Node] = []
        while self.peek() is not None and not self._closing(closers):
            items.append(self.union())
            if self.at("OP", ",") or self.at("OP", ";"):
                self.take()
            elif self.peek() is not None and not self._closing(closers):
                raise ParseError(f"unexpected {self.peek().raw!r}")
        return items

    def _closing(self, closers: tuple) -> bool:
        tok = self.peek()
        return tok is not None and (tok.kind, tok.value) in closers

    def union(self) -> Node:
        parts = [self.difference()]
        while self.at("CMD", "cup"):
            self.take()
            parts.append(self.difference())
        return parts[0] if len(parts) == 1 else ("union", tuple(parts))

    def difference(self) -> Node:
        node = self.relation()
        while self.at("CMD", "setminus") or self.at("CMD", "backslash"):
            self.take()
            node = ("setminus", node, self.relation())
        return node

    def relation(self) -> Node:
        operands, ops = [self.ratio()], []
        while True:
            tok = self.peek()
            op = _RELATIONS.get(tok.value) if tok is not None and tok.kind in ("OP", "CMD") else None
            if op is None:
                break
            self.take()
            ops.append(op)
            operands.append(self.ratio())
        return operands[0] if not ops else ("rel", tuple(ops), tuple(operands))

    def ratio(self) -> Node:
        """`a:b`, also as a side of an equation (`A:B = 2:3`, `V_1:V_2 = 11:21`)."""
        parts = [self.expr()]
        while self.at("OP", ":") and len(parts) < MAX_RATIO_PARTS:
            self.take()
            parts.append(self.expr())
        return parts[0] if len(parts) == 1 else ("colon", *parts)  # `3:4:5` has three parts

    def expr(self) -> Node:
        terms = [self.unary()]
        while True:
            if self.at("OP", "+"):
                self.take()
                terms.append(self.term())
            elif self.at("OP", "-"):
                self.take()
                terms.append(("neg", self.term()))
            elif self.at("CMD", "pm") or self.at("CMD", "mp"):
                sign = self.take().value
                rest = self.term()
                left = terms[0] if len(terms) == 1 else ("add", tuple(terms))
                terms = [("pm", left, rest if sign == "pm" else ("neg", rest))]
            else:
                break
        return terms[0] if len(terms) == 1 else ("add", tuple(terms))

    def unary(self) -> Node:
        self.enter()
        try:
            return self._unary()
        finally:
            self.depth -= 1

    def _unary(self) -> Node:
        if self.at("OP", "-"):
            self.take()
            return ("neg", self.unary())
        if self.at("OP", "+"):
            self.take()
            return self.unary()
        if self.at("CMD", "pm"):
            self.take()
            return ("pm", None, self.unary())
        return self.term()

    def term(self) -> Node:
        node = self.power()
        factors = [node]
        while True:
            if self.at("OP", "*") or self.at("CMD", "cdot") or self.at("CMD", "times"):
                self.take()
                factors.append(self.signed_power())
            elif self.at("OP", "/") or self.at("CMD", "div"):
                self.take()
                left = factors[0] if len(factors) == 1 else ("mul", tuple(factors))
                factors = [("div", left, self.signed_power())]
            elif self.starts_primary():
                if self.at("NUM") and self.tokens[self.pos - 1].kind == "NUM" and self.pos not in self.split_at:
                    raise ParseError("two numbers side by side")  # "1 2" is not 12, nor 1*2
                factors.append(self.power())
            else:
                break
        return factors[0] if len(factors) == 1 else ("mul", tuple(factors))

    def signed_power(self) -> Node:
        if self.at("OP", "-"):
            self.take()
            self.enter()
            try:
                return ("neg", self.signed_power())
            finally:
                self.depth -= 1
        return self.power()

    def power(self) -> Node:
        node = self.primary()
        while True:
            if self.at("OP", "^"):
                self.take()
                node = ("pow", node, self.script())
            elif self.at("OP", "!"):
                self.take()
                node = ("fact", node)
            elif self.at("OP", "%") or self.at("CMD", "%"):
                self.take()
                node = ("pct", node)
            elif self.at("OP", "\u00b0"):
                self.take()
                node = ("deg", node)
            else:
                return node

    def starts_primary(self) -> bool:
        tok = self.peek()
        if tok is None:
            return False
        if tok.kind in ("NUM", "BASE", "SYM", "BEGIN"):
            return True
        if tok.kind == "OP":
            return tok.value in "({" or (tok.value == "|" and self.abs_depth == 0)
        return tok.kind == "CMD" and (tok.value in _PRIMARY_CMDS or tok.value in FUNCTIONS or tok.value in GREEK)

    def primary(self) -> Node:
        self.enter()
        try:
            return self._primary()
        finally:
            self.depth -= 1

    def _primary(self) -> Node:
        tok = self.take()
        if tok.kind == "NUM":
            return self.maybe_mixed(tok)
        if tok.kind == "BASE":
            return ("base",) + tok.value
        if tok.kind == "SYM":
            return self.symbol(tok.value)
        if tok.kind == "BEGIN":
            return self.matrix(tok.value)
        if tok.kind == "OP":
            if tok.value in "([":
                return self.bracket(tok.value)
            if tok.value == "{":
                items = self.items(closers=(("OP", "}"),))
                self.expect("OP", "}")
                if not items:
                    raise ParseError("empty group")
                return items[0] if len(items) == 1 else ("list", tuple(items))
            if tok.value == "|":
                self.abs_depth += 1
                inner = self.expr()
                self.abs_depth -= 1
                self.expect("OP", "|")
                return ("abs", inner)
        if tok.kind == "CMD":
            return self.command(tok.value)
        raise ParseError(f"unexpected {tok.raw!r}")

    def maybe_mixed(self, tok: Token) -> Node:
        """`2\\frac{1}{2}` (a whole number then a fraction of two whole numbers) is 2 + 1/2."""
        whole = ("num", tok.value)
        if not (tok.raw.isdigit() and self.at("CMD", "frac")):
            return whole
        start = self.pos
        self.take()
        frac = self.fraction()
        if frac[1][0] == "num" and frac[2][0] == "num" and _is_natural(frac[1][1]) and _is_natural(frac[2][1]):
            if frac[2][1] != 0:
                return ("num", tok.value + frac[1][1] / frac[2][1])
        self.pos = start
        return whole

    def symbol(self, letter: str) -> Node:
        if self.at("OP", "_"):
            self.take()
            return ("sym", f"{letter}_{self.script_text()}")
        if letter == "e":
            return ("const", "e")
        if letter == "i":
            return ("const", "i")
        return ("sym", letter)

    def script_text(self) -> str:
        if self.at("OP", "{"):
            self.take()
            raws = []
            while not self.at("OP", "}"):
                raws.append(self.take().raw)
            self.take()
            return "".join(raws)
        tok = self.take()
        if tok.kind == "NUM" and tok.raw.isdigit() and len(tok.raw) > 1:
            self.split_number()
            return tok.raw[0]
        return tok.raw

    def split_number(self) -> None:
        """LaTeX reads only the first digit as a one-token argument: `\\frac12`, `x^23`."""
        tok = self.tokens[self.pos - 1]
        head, rest = tok.raw[0], tok.raw[1:]
        self.tokens[self.pos - 1] = Token("NUM", Fraction(int(head)), head)
        self.tokens.insert(self.pos, Token("NUM", Fraction(int(rest)), rest))
        self.split_at = {p + 1 if p >= self.pos else p for p in self.split_at} | {self.pos}

    def script(self) -> Node:
        """A one-token or braced argument (of `^`, `\\frac`, `\\sqrt`)."""
        if self.at("OP", "{"):
            self.take()
            self.enter()
            node = self.relation()
            self.depth -= 1
            self.expect("OP", "}")
            return node
        if self.at("OP", "-"):
            self.take()
            return ("neg", self.script())
        tok = self.peek()
        if tok is not None and tok.kind == "NUM" and tok.raw.isdigit() and len(tok.raw) > 1:
            self.take()
            self.split_number()
            self.pos -= 1
        return self.primary()

    def fraction(self) -> Node:
        return ("div", self.script(), self.script())
    def bracket(self, opener: str) -> Node:
        items = self.items(closers=(("OP", ")"), ("OP", "]")))
        closer = self.take().value
        if not items:
            raise ParseError("empty brackets")
        if len(items) == 1 and (opener + closer) in ("()", "[]"):
            return items[0]
        if len(items) == 1:
            raise ParseError("mismatched brackets")
        return ("seq", opener, closer, tuple(items))

def _solution(values: list[Node]) -> Node:
    """One solution of several values: labelled values stay a list (matched by label), bare ones a tuple."""
    if all(v[0] == "rel" and v[1] == ("=",) and v[2][0][0] == "sym" for v in values):
        return ("list", tuple(values))
    return ("seq", "(", ")", tuple(values))


def _is_natural(value: Fraction) -> bool:
    return value.denominator == 1 and value >= 0


def parse_math(text: str, budget: Budget | None = None) -> Node:
    """Parse cleaned answer text; raises ParseError/LexError on malformed input."""
    return Parser(tokenize(text), budget).answer()
