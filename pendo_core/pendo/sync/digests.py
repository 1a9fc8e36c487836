"""Per-day digests of a stream's stored rows, so a re-read day that came back as stored is known as soon
as its answer is read, without sending it to the store or reading the stored rows.

A day's digest is its row count and the sum, modulo 2**64, of a 64-bit hash of each row (xxh3 of the
converted row's msgpack encoding, seeded with the time zone, which decides each row's day): it does not
depend on the order Pendo returns the rows in, and any changed, added or removed row changes it (but for
a 1 in 2**64 chance).

The store keeps a day's digest (`pendo_day_digests`) only while the day's stored rows are exactly the
rows digested: the sync's guarded window writes record it in the window's own transaction, for every
day of the window (a day with no rows has the digest of none); any other write of a day's rows (a
restatement applied with `--accept-restatement`, the retention purge) forgets it first, and a window
written under another time zone than the stream's digests forgets them all (`store.hold_digest_zone`:
an hour's row then moves off a day outside the window). A day without a digest is compared row by row
as before (staging.py). Raw guide events are only added: no digests.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import IO, Any
from zoneinfo import ZoneInfo

import msgspec
import xxhash
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pendo_core.common.timeutil import days_between
from pendo_core.pendo.sync.plan import Window
from pendo_core.pendo.sync.streams import EventStream, Row
from pendo_core.store import models
from pendo_core.store.upsert import upsert

_TABLE = models.table_of(models.DayDigest)
_MASK = (1 << 64) - 1
_BATCH = 5_000
_LENGTH = struct.Struct("<I")


@dataclass(frozen=True)
class Digest:
    """A day's rows: how many, and the sum of their hashes (a signed 64-bit value, as the store keeps it)."""

    rows: int
    value: int


NONE = Digest(0, 0)  # a day with no rows


def load(session: Session, stream: EventStream, window: Window) -> dict[date, Digest]:
    """The stored digests of the window's days (a day without one is missing)."""
    rows = session.execute(select(_TABLE.c.day, _TABLE.c.rows, _TABLE.c.digest).where(
        _TABLE.c.stream == stream.name, _TABLE.c.day.between(window.first, window.last)))
    return {day: Digest(n, value) for day, n, value in rows}


def record(session: Session, stream: EventStream, window: Window, days: Mapping[date, Digest]) -> None:
    """Keep the digests of the window's days whose stored rows are now the rows digested (`days`); the
    window's other days, written but not digested, lose theirs."""
    rows = [{"stream": stream.name, "day": day, "rows": d.rows, "digest": d.value} for day, d in days.items()]
    upsert(session, _TABLE, rows, keys=("stream", "day"))
    if len(days) < window.days:
        session.execute(delete(_TABLE).where(_TABLE.c.stream == stream.name,
                                             _TABLE.c.day.between(window.first, window.last),
                                             _TABLE.c.day.not_in(list(days))))


def forget(session: Session, stream: str | None, *, first: date | None = None, last: date | None = None) -> None:
    """Drop the digests of days whose rows are about to be written some other way (a stream's, or every
    stream's when None; from `first` and to `last` when given)."""
    stmt = delete(_TABLE)
    if stream is not None:
        stmt = stmt.where(_TABLE.c.stream == stream)
    if first is not None:
        stmt = stmt.where(_TABLE.c.day >= first)
    if last is not None:
        stmt = stmt.where(_TABLE.c.day <= last)
    session.execute(stmt)


def changed_days(window: Window, known: Mapping[date, Digest], answer: Mapping[date, Digest]) -> list[date]:
    """The window's days whose answer's digest (`answer`: every day's) differs from the stored one, or
    that have none stored."""
    return [day for day in days_between(window.first, window.last) if known.get(day) != answer[day]]


class Spool:
    """A window's converted rows as they pass: counted per day, digested on the days from `digest_from`
    (every day when None, or when keeping) and, when `keep`, written to a temporary file (msgpack
    batches) to be read back for the days that changed. Memory stays flat.

    A day before `digest_from` is final once this run has written it (plan.py) and is never compared
    again, so a backfill hashes only the days its next run will read again."""

    def __init__(self, stream: EventStream, rows: Iterable[Row], tz: ZoneInfo, *, keep: bool = False,
                 digest_from: date | None = None) -> None:
        self.stream, self.rows = stream, rows
        self.seed = xxhash.xxh3_64_intdigest(tz.key.encode())
        self.digest_from = None if keep else digest_from
        self.sums: dict[date, list[int]] = {}  # day: [rows, sum of hashes, 1 if digested]
        self.file: IO[bytes] | None = tempfile.TemporaryFile() if keep else None  # noqa: SIM115 (close())

    def __iter__(self) -> Iterator[Row]:
        """The rows, digested as they pass (and kept, when keeping)."""
        encode, hash64, seed = msgspec.msgpack.Encoder().encode, xxhash.xxh3_64_intdigest, self.seed
        sums, index, batch, keep, start = self.sums, self.stream.day_index, [], self.file is not None, self.digest_from
        for row in self.rows:
            day = sums.get(row[index])
            if day is None:
                day = sums[row[index]] = [0, 0, start is None or row[index] >= start]
            day[0] += 1
            if day[2] or keep:
                encoded = encode(row)
                if day[2]:
                    day[1] += hash64(encoded, seed)
                if keep:
                    batch.append(encoded)
                    if len(batch) == _BATCH:
                        self._write(batch)
                        batch = []
            yield row
        if batch:
            self._write(batch)

    def drain(self) -> None:
        """Read the rows to the end (into the file, when keeping)."""
        for _ in self:
            pass

    def digests(self, window: Window) -> dict[date, Digest]:
        """The digest of each of the window's days that is digested (a day without rows: NONE)."""
        start, sums = self.digest_from, self.sums
        return {day: Digest(sums[day][0], _signed(sums[day][1] & _MASK)) if day in sums else NONE
                for day in days_between(window.first, window.last) if start is None or day >= start}

    @property
    def counts(self) -> dict[date, int]:
        """Rows per day among the rows passed so far."""
        return {day: counted[0] for day, counted in self.sums.items()}

    @property
    def sent(self) -> int:
        return sum(counted[0] for counted in self.sums.values())

    @property
    def keeps(self) -> bool:
        return self.file is not None

    def read(self, days: Collection[date]) -> Iterator[Row]:
        """The kept rows of `days`, in the order they came."""
        assert self.file is not None, "read() needs a Spool made with keep=True"
        decode = msgspec.msgpack.Decoder(_batch_type(self.stream)).decode
        index, file = self.stream.day_index, self.file
        file.seek(0)
        while header := file.read(_LENGTH.size):
            for row in decode(file.read(_LENGTH.unpack(header)[0])):
                if row[index] in days:
                    yield row

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    def _write(self, batch: list[bytes]) -> None:
        assert self.file is not None
        body = _array_header(len(batch)) + b"".join(batch)
        self.file.write(_LENGTH.pack(len(body)) + body)


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _array_header(n: int) -> bytes:
    """msgpack's header of an array of n items (n < 2**32)."""
    if n < 16:
        return bytes([0x90 | n])
    if n < 1 << 16:
        return b"\xdc" + n.to_bytes(2, "big")
    return b"\xdd" + n.to_bytes(4, "big")


def _batch_type(stream: EventStream) -> Any:
    """The type msgspec decodes a kept batch as: a list of tuples of the python type of each of the
    stream's columns (dates come back as dates)."""
    types = tuple(stream.table.c[name].type.python_type for name in stream.columns)
    return list.__class_getitem__(tuple.__class_getitem__(types))
