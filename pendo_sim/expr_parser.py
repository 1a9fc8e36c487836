"""Syntax of the expression language: the syntax tree and a recursive-descent parser that folds constants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pendo_sim.expr_lexer import Token, fail, tokenize
from pendo_sim.expr_ops import BINARY, neg

Step = str | int
_LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%"))
_KEYWORDS = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Path:
    steps: tuple[Step, ...]  # a row field, then member names and indexes


@dataclass(frozen=True)
class Access:
    base: Node
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


Node = Const | Path | Access | Unary | Binary | Call



class Parser:
    """Recursive descent over the token list, one method per precedence level."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    def parse(self) -> Node:
        if self._peek().kind == "end":
            raise fail(self.text, "empty expression", 0)
        node = self._level(0)
        token = self._peek()
        if token.kind == "name" and token.value == "in":
            raise fail(self.text, "'in' is not supported (write a == x || a == y)", token.pos)
        if token.kind != "end":
            raise fail(self.text, f"unexpected {_describe(token)}", token.pos)
        return node

    def _peek(self) -> Token:
        return self.tokens[self.index]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _expect(self, kind: str) -> Token:
        token = self._advance()
        if token.kind != kind:
            raise fail(self.text, f"expected '{kind}' but found {_describe(token)}", token.pos)
        return token

    def _level(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self._unary()
        node = self._level(level + 1)
        while self._peek().kind == "op" and self._peek().value in _LEVELS[level]:
            op = self._advance().value
            node = _fold(Binary(op, node, self._level(level + 1)))
        return node

    def _unary(self) -> Node:
        token = self._peek()
        if token.kind == "op" and token.value in ("!", "-"):
            self._advance()
            return _fold(Unary(token.value, self._unary()))
        return self._postfix(self._primary())

    def _primary(self) -> Node:
        token = self._advance()
        if token.kind in ("num", "str"):
            return Const(token.value)
        if token.kind == "name":
            return self._name(token)
        if token.kind == "(":
            node = self._level(0)
            self._expect(")")
            return node
        if token.kind == "[":
            raise fail(self.text, "list literals are not supported", token.pos)
        raise fail(self.text, f"unexpected {_describe(token)}", token.pos)

    def _name(self, token: Token) -> Node:
        if token.value in _KEYWORDS:
            return Const(_KEYWORDS[token.value])
        if self._peek().kind != "(":
            return Path((token.value,))
        self._advance()
        args: list[Node] = []
        if self._peek().kind != ")":
            args.append(self._level(0))
            while self._peek().kind == ",":
                self._advance()
                args.append(self._level(0))
        self._expect(")")
        return Call(token.value, tuple(args), token.pos)

    def _postfix(self, node: Node) -> Node:
        steps: list[Step] = []
        while self._peek().kind in (".", "["):
            if self._advance().kind == ".":
                steps.append(self._expect("name").value)
            else:
                steps.append(self._index())
        if not steps:
            return node
        if isinstance(node, Path):
            return Path(node.steps + tuple(steps))
        return _fold(Access(node, tuple(steps)))

    def _index(self) -> Step:
        token = self._advance()
        sign = 1
        if token.kind == "op" and token.value == "-":
            sign, token = -1, self._advance()
        if not (token.kind == "num" and type(token.value) is int) and not (token.kind == "str" and sign == 1):
            raise fail(self.text, "an index must be an integer or string literal", token.pos)
        self._expect("]")
        return sign * token.value if token.kind == "num" else str(token.value)


def _describe(token: Token) -> str:
    return "end of expression" if token.kind == "end" else repr(token.value)


def _fold(node: Node) -> Node:
    """Evaluate operators over constants once, at parse time."""
    if isinstance(node, Binary) and isinstance(node.left, Const) and isinstance(node.right, Const):
        left, right = node.left.value, node.right.value
        if node.op in ("&&", "||"):
            return Const(bool(left) and bool(right) if node.op == "&&" else bool(left) or bool(right))
        return Const(BINARY[node.op](left, right))
    if isinstance(node, Unary) and isinstance(node.operand, Const):
        return Const(not node.operand.value if node.op == "!" else neg(node.operand.value))
    if isinstance(node, Access) and isinstance(node.base, Const):
        return Const(walk(node.base.value, node.steps))
    return node


def walk(value: Any, steps: tuple[Step, ...]) -> Any:
    """Follow member names and indexes from value; null as soon as a step does not apply."""
    for step in steps:
        if type(step) is str:
            if not isinstance(value, dict):
                return None
            value = value.get(step)
        elif isinstance(value, list) and -len(value) <= step < len(value):  # type: ignore[operator]
            value = value[step]  # type: ignore[index]
        else:
            return None
    return value


