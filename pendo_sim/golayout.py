"""Go reference-time layouts ("2006-01-02 15:04:05") for the expression function formatTime."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import datetime, timedelta

_Fmt = Callable[[datetime], str]


def _offset(dt: datetime, colon: bool, zulu: bool, hours_only: bool = False) -> str:
    delta = dt.utcoffset() or timedelta(0)
    if zulu and not delta:
        return "Z"
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    if hours_only:
        return f"{sign}{hh:02d}"
    return f"{sign}{hh:02d}{':' if colon else ''}{mm:02d}"


def _hour12(dt: datetime) -> int:
    return dt.hour % 12 or 12


# Longest first, so "2006" wins over "2" and "-07:00" over "-07" (as Go's layout scanner does).
_TOKENS: list[tuple[str, _Fmt]] = sorted(
    [
        ("January", lambda d: d.strftime("%B")),
        ("Jan", lambda d: d.strftime("%b")),
        ("Monday", lambda d: d.strftime("%A")),
        ("Mon", lambda d: d.strftime("%a")),
        ("MST", lambda d: d.tzname() or ""),
        ("2006", lambda d: f"{d.year:04d}"),
        ("06", lambda d: f"{d.year % 100:02d}"),
        ("002", lambda d: f"{d.timetuple().tm_yday:03d}"),
        ("01", lambda d: f"{d.month:02d}"),
        ("1", lambda d: str(d.month)),
        ("02", lambda d: f"{d.day:02d}"),
        ("_2", lambda d: f"{d.day:2d}"),
        ("2", lambda d: str(d.day)),
        ("15", lambda d: f"{d.hour:02d}"),
        ("03", lambda d: f"{_hour12(d):02d}"),
        ("3", lambda d: str(_hour12(d))),
        ("04", lambda d: f"{d.minute:02d}"),
        ("4", lambda d: str(d.minute)),
        ("05", lambda d: f"{d.second:02d}"),
        ("5", lambda d: str(d.second)),
        ("PM", lambda d: "PM" if d.hour >= 12 else "AM"),
        ("pm", lambda d: "pm" if d.hour >= 12 else "am"),
        ("-07:00", lambda d: _offset(d, colon=True, zulu=False)),
        ("-0700", lambda d: _offset(d, colon=False, zulu=False)),
        ("-07", lambda d: _offset(d, colon=False, zulu=False, hours_only=True)),
        ("Z07:00", lambda d: _offset(d, colon=True, zulu=True)),
        ("Z0700", lambda d: _offset(d, colon=False, zulu=True)),
        ("Z07", lambda d: _offset(d, colon=False, zulu=True, hours_only=True)),
    ],
    key=lambda item: -len(item[0]),
)
_FRACTION = re.compile(r"[.,](0+|9+)(?!\d)")


def _fraction(dt: datetime, digits: str) -> str:
    text = f"{dt.microsecond:06d}{'0' * 3}"[: len(digits)]
    if digits[0] == "9":  # Go's ".999": trailing zeros (and a bare dot) are dropped
        text = text.rstrip("0")
        return f".{text}" if text else ""
    return f".{text}"


@functools.lru_cache(maxsize=256)
def _literal(text: str, _dt: datetime) -> str:
    return text


def _compile(layout: str) -> tuple[_Fmt, ...]:
    parts: list[_Fmt] = []
    pos = 0
    while pos < len(layout):
        if match := _FRACTION.match(layout, pos):
            parts.append(functools.partial(_fraction, digits=match.group(1)))
            pos = match.end()
            continue
        token = next((tok for tok in _TOKENS if layout.startswith(tok[0], pos)), None)
        if token is None:
            parts.append(functools.partial(_literal, layout[pos]))
            pos += 1
        else:
            parts.append(token[1])
            pos += len(token[0])
    return tuple(parts)


def format_go(layout: str, dt: datetime) -> str:
    """Render an aware datetime with a Go layout; characters that are not layout tokens stay as is."""
    return "".join(part(dt) for part in _compile(layout))
