"""Tokens of Pendo's expression language: numbers, strings, names, operators, brackets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pendo_sim.context import QueryError

_NUMBER = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%")
_PUNCT = {"(": "(", ")": ")", "[": "[", "]": "]", ",": ",", ".": "."}
# Go's strconv escapes, minus the octal/\x forms nobody sends in a filter.
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


@dataclass(frozen=True)
class Token:
    """One token: kind is num, str, name, op, a punctuation character, or end."""

    kind: str
    value: Any
    pos: int


def fail(text: str, message: str, pos: int) -> QueryError:
    """A QueryError naming the problem, its position and the expression."""
    return QueryError(f"{message} at position {pos} in expression {text!r}")


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens; QueryError on a character or string it cannot read."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        token, pos = _next_token(text, pos)
        tokens.append(token)
    tokens.append(Token("end", None, len(text)))
    return tokens


def _next_token(text: str, pos: int) -> tuple[Token, int]:
    char = text[pos]
    if char == '"':
        value, end = _double_quoted(text, pos)
        return Token("str", value, pos), end
    if char == "`":
        end = text.find("`", pos + 1)
        if end < 0:
            raise fail(text, "unterminated string", pos)
        return Token("str", text[pos + 1 : end], pos), end + 1
    if match := _NUMBER.match(text, pos):
        return Token("num", _number(match.group()), pos), match.end()
    if match := _NAME.match(text, pos):
        return Token("name", match.group(), pos), match.end()
    if char in _PUNCT:
        return Token(char, char, pos), pos + 1
    return _operator(text, pos)


def _operator(text: str, pos: int) -> tuple[Token, int]:
    for op in _OPERATORS:
        if text.startswith(op, pos):
            return Token("op", op, pos), pos + len(op)
    if text[pos] == "=":
        raise fail(text, "unexpected '=' (use '==' to compare)", pos)
    raise fail(text, f"unexpected character {text[pos]!r}", pos)


def _number(literal: str) -> int | float:
    if any(c in literal for c in ".eE"):
        return float(literal)
    return int(literal)


def _double_quoted(text: str, start: int) -> tuple[str, int]:
    """Read a "..." literal from start (the opening quote); return its value and the end position."""
    out: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return "".join(out), pos + 1
        if char != "\\":
            out.append(char)
            pos += 1
            continue
        escaped, pos = _escape(text, pos)
        out.append(escaped)
    raise fail(text, "unterminated string", start)


def _escape(text: str, pos: int) -> tuple[str, int]:
    """Decode the backslash escape at pos; return the character and the position after it."""
    code = text[pos + 1 : pos + 2]
    if code in _ESCAPES and code:
        return _ESCAPES[code], pos + 2
    if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[pos + 2 : pos + 6]):
        return chr(int(text[pos + 2 : pos + 6], 16)), pos + 6
    if not code:
        raise fail(text, "unterminated string", pos)
    raise fail(text, f"invalid escape '\\{code}'", pos)
