"""Whether a window's answer may replace what the store holds for its days. Pure.

A re-read window replaces its days, because Pendo restates recent days. A broken answer must not:
applied, it would delete stored rows and put nothing, or the wrong thing, in their place. So a
window is *suspect*, and not applied, when its answer

- is not a list of rows (`results` null or missing; the client raises that one),
- holds a row we cannot store (a null id, a count that is text, a bucket off the window...): the
  stored row it stands for would be lost,
- repeats a key Pendo groups by (a grouped answer has one row per key), or
- would keep fewer than KEEP_SHARE of the rows stored for a day that held at least
  MIN_STORED_ROWS: a real restatement moves a day's count a little; an answer that empties most
  of a busy day is far likelier broken.

Raw guide events are only ever added, so a bad row costs nothing stored: theirs are skipped and
counted, and only an answer whose rows are all bad is suspect. An operator who knows Pendo really
restated the data applies such windows anyway with `python -m jobs sync --accept-restatement`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

KEEP_SHARE = 0.5
MIN_STORED_ROWS = 10


@dataclass(frozen=True)
class AnswerFacts:
    """What a window's answer held, beside what the store holds for the same days."""

    rows: int
    bad: int
    bad_reason: str | None
    repeated: int
    new_per_day: Mapping[date, int]
    stored_per_day: Mapping[date, int]


def suspicion(facts: AnswerFacts, *, replaces: bool) -> str | None:
    """Why the answer must not be applied, in a few words; None when it may."""
    if facts.bad and (replaces or not facts.rows):
        share = "all" if not facts.rows else f"{facts.bad:,} of"
        return f"{share} {facts.rows + facts.bad:,} rows unusable ({facts.bad_reason})"
    if not replaces:
        return None
    if facts.repeated:
        return f"{facts.repeated:,} rows repeat a key Pendo groups by"
    return shrinking_day(facts.stored_per_day, facts.new_per_day)


def shrinking_day(stored: Mapping[date, int], new: Mapping[date, int]) -> str | None:
    """The first busy day the answer would mostly empty, said in a few words; else None."""
    for day in sorted(stored):
        before, after = stored[day], new.get(day, 0)
        if before >= MIN_STORED_ROWS and after < KEEP_SHARE * before:
            return f"{day} would keep {after:,} of its {before:,} stored rows (under {KEEP_SHARE:.0%})"
    return None
