"""Where msgspec's batches could read a row differently from `json.loads` (hypothesis): numbers whose
rounding needs every digit (halfway between two doubles, hundreds of digits long), integers at the
digit limit, and raw characters json refuses in a string. Rows are packed (`},{`) so msgspec reads them.
"""

from __future__ import annotations

import math
import sys
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pendo_core.pendo.client import PendoResponseError
from tests.unit.pendo.test_body_differential import PROBE, expected, outcome, split


def _packed(values: list[str]) -> bytes:
    return ('{"results":[' + ",".join('{"x":' + v + "}" for v in values) + ",{}]}").encode()


@st.composite
def hard_numbers(draw: st.DrawFn) -> str:
    """A decimal near the midpoint of two neighbouring doubles: exact, cut short, or just off it far
    down its digits (where a parser that keeps a few hundred digits would round the wrong way)."""
    low = draw(st.floats(min_value=0.0, allow_nan=False, allow_infinity=False))
    high = math.nextafter(low, math.inf)
    if math.isinf(high):
        low, high = math.nextafter(low, 0.0), low
    with localcontext() as ctx:
        ctx.prec = 1200
        mid = (Decimal(low) + Decimal(high)) / 2
    mantissa, exponent = f"{mid:e}".split("e")
    if "." not in mantissa:
        mantissa += ".0"
    how = draw(st.sampled_from(["exact", "cut", "above", "below"]))
    if how == "cut":
        mantissa = mantissa[:draw(st.integers(3, len(mantissa)))].rstrip(".")
    elif how == "above":
        mantissa += "0" * draw(st.integers(0, 1200)) + "1"
    elif how == "below" and mantissa.rstrip("0")[-1] not in ".0":
        digits = mantissa.rstrip("0")
        mantissa = digits[:-1] + str(int(digits[-1]) - 1) + "9" * draw(st.integers(1, 1200))
    form = draw(st.sampled_from(["e", "E", "plain"]))
    if form == "plain" and abs(int(exponent)) < 30:
        return ("-" if draw(st.booleans()) else "") + f"{Decimal(mantissa + 'e' + exponent):f}"
    return ("-" if draw(st.booleans()) else "") + mantissa + ("E" if form == "E" else "e") + exponent


_LIMIT = sys.get_int_max_str_digits()
integers = st.integers(_LIMIT - 2, _LIMIT + 1).flatmap(
    lambda n: st.tuples(st.sampled_from(["", "-"]), st.integers(1, 9), st.just(n)).map(
        lambda t: t[0] + str(t[1]) * t[2]))


@PROBE
@given(values=st.lists(hard_numbers() | hard_numbers() | integers, min_size=1, max_size=6), data=st.data())
def test_hard_numbers_in_batches_equal_json_loads(values: list[str], data: st.DataObject) -> None:
    """msgspec's float and big-integer reading gives float()'s and int()'s value, repr for repr, or
    refuses (then the scanner reads the rows), in any chunking."""
    body = _packed(values)
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=4))
    assert repr(outcome(split(body, cuts), require_results=True)) == repr(expected(body, require_results=True))


@pytest.mark.parametrize("char", [chr(c) for c in range(0x20)])
def test_a_raw_control_character_in_a_batched_string_is_refused(char: str) -> None:
    """json refuses a raw control character in a string (strict): so does a batch, in any row."""
    for values in (['"' + char + '"', "1", "2"], ["1", '"a' + char + 'b"', "2"], ["1", "2", '"' + char + '"']):
        assert outcome([_packed(values)]) is PendoResponseError
