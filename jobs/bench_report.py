"""The sync benchmark's arithmetic and tables (pure: numbers in, numbers and text out).

The yardstick is the cost of the data itself: downloading every recorded answer from the replay
server and `json.loads`-ing it ("d+p"). A phase's `x d+p` is its seconds over the whole run's d+p,
so the phases (and "other": start-up, migrations, locks, the run record) add up to the ratio of the
whole sync command. Entities and windows also get the ratio to their own answers' d+p.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# The sync's progress line (pendo_core.pendo.sync.progress.LogProgress), plain or inside a JSON log line.
_PROGRESS = re.compile(r"(\w+) \S+\.\.\S+: (\d+) rows \| windows (\d+)/(\d+) \| (\d+) rows/s \| ETA (\d+)s")
DOWNLOADED = ("entities", "windows")  # the phases that read the recorded answers


def ratio(seconds: float, baseline_s: float) -> float | None:
    """`seconds` as a multiple of `baseline_s` (None when there is no baseline to compare with)."""
    return seconds / baseline_s if baseline_s > 0 else None


def per_second(rows: int, seconds: float) -> float | None:
    """Rows per second (None for a phase that took no measurable time)."""
    return rows / seconds if seconds > 0 else None


@dataclass(frozen=True)
class Progress:
    """How far the usage windows of a run got, from its log: windows done of all, rows, rate, ETA."""

    done: int
    total: int
    rows: int
    rows_per_s: int
    eta_s: int

    def describe(self) -> str:
        """One line for a run stopped before its end."""
        return (f"windows {self.done}/{self.total}, {self.rows:,} rows at {self.rows_per_s:,} rows/s, "
                f"ETA of the windows {self.eta_s:,} s more")


def progress_of(log_text: str) -> Progress | None:
    """The last progress line of a sync log, with the rows of every window logged (None: no window yet)."""
    found = _PROGRESS.findall(log_text)
    if not found:
        return None
    *_, (_, _, done, total, rate, eta) = found
    return Progress(int(done), int(total), sum(int(rows) for _, rows, *_ in found), int(rate), int(eta))


@dataclass
class Phase:
    """One phase of one run."""

    name: str
    seconds: float
    rows: int
    peak_mb: float
    own_baseline_s: float = 0.0  # d+p of the answers this phase read (entities, windows)
    cpu_s: float | None = None

    @property
    def rows_per_s(self) -> float | None:
        """Rows handled per second of this phase."""
        return per_second(self.rows, self.seconds)

    @property
    def own_ratio(self) -> float | None:
        """Seconds over the d+p of this phase's own answers."""
        return ratio(self.seconds, self.own_baseline_s)


@dataclass
class RunFigures:
    """One sync command (a backfill or a daily run) on one store, from one source of answers."""

    store: str
    run: str
    source: str  # "replay" or "live" (the simulator answering while recording)
    wall_s: float
    exit_code: int
    peak_mb: float
    baseline_s: float  # download + parse of every answer this run read
    download_s: float
    parse_s: float
    bytes: int
    requests: int
    phases: list[Phase] = field(default_factory=list)
    store_bytes: int | None = None
    visitor_days: int | None = None
    active_visitor_days: int | None = None
    simulator_cpu_s: float | None = None
    tables: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None  # why and where a run was stopped before its end (the bench's deadline)
    cpu_s: float | None = None  # user + system CPU of the sync process
    baseline_cpu_s: float | None = None  # CPU of download + parse
    server_cpu_s: float | None = None  # the PostgreSQL backends' CPU, when the server is on this machine
    # A compressed recording: the replay server's CPU decompressing it, in the yardstick and beside this run
    baseline_decompress_cpu_s: float = 0.0
    replay_decompress_cpu_s: float = 0.0
    beside: dict[str, float] = field(default_factory=dict)  # "phase beside host": seconds inside host's

    @property
    def cpu_ratio(self) -> float | None:
        """The command's CPU over the CPU of download + parse (steadier than wall time on a busy machine)."""
        return None if self.cpu_s is None or self.baseline_cpu_s is None else ratio(self.cpu_s, self.baseline_cpu_s)

    @property
    def ratio(self) -> float | None:
        """The whole command's wall time over download + parse."""
        return ratio(self.wall_s, self.baseline_s)

    @property
    def other_s(self) -> float:
        """Wall time outside the timed phases: interpreter start, imports, migrations, lock, run record."""
        return max(0.0, self.wall_s - sum(p.seconds for p in self.phases))

    @property
    def rows(self) -> int:
        """Rows the run read from Pendo (entities and usage windows)."""
        return sum(p.rows for p in self.phases if p.name in DOWNLOADED)

    @property
    def bytes_per_visitor_day(self) -> float | None:
        """Store size over (visitors x reported days)."""
        return self.store_bytes / self.visitor_days if self.store_bytes and self.visitor_days else None

    @property
    def bytes_per_active_visitor_day(self) -> float | None:
        """Store size over the visitor-days with any activity (rows of pendo_visitor_days)."""
        if not self.store_bytes or not self.active_visitor_days:
            return None
        return self.store_bytes / self.active_visitor_days

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, derived figures included."""
        return {
            "store": self.store, "run": self.run, "source": self.source, "wall_s": round(self.wall_s, 2),
            "exit_code": self.exit_code, "peak_mb": round(self.peak_mb, 1), "rows": self.rows,
            "requests": self.requests, "bytes": self.bytes, "download_s": round(self.download_s, 2),
            "parse_s": round(self.parse_s, 2), "baseline_s": round(self.baseline_s, 2),
            "ratio": _round(self.ratio), "other_s": round(self.other_s, 2), "cpu_s": _round(self.cpu_s),
            "baseline_cpu_s": _round(self.baseline_cpu_s), "cpu_ratio": _round(self.cpu_ratio),
            "server_cpu_s": _round(self.server_cpu_s),
            "baseline_decompress_cpu_s": round(self.baseline_decompress_cpu_s, 2),
            "replay_decompress_cpu_s": round(self.replay_decompress_cpu_s, 2),
            "store_bytes": self.store_bytes, "visitor_days": self.visitor_days,
            "bytes_per_visitor_day": _round(self.bytes_per_visitor_day, 1),
            "bytes_per_active_visitor_day": _round(self.bytes_per_active_visitor_day, 1),
            "simulator_cpu_s": _round(self.simulator_cpu_s, 1), "tables": self.tables, "stopped": self.stopped,
            "phases": [{"name": p.name, "seconds": round(p.seconds, 2), "cpu_s": _round(p.cpu_s), "rows": p.rows,
                        "rows_per_s": _round(p.rows_per_s, 0), "peak_mb": round(p.peak_mb, 1),
                        "x_baseline": _round(ratio(p.seconds, self.baseline_s)),
                        "own_ratio": _round(p.own_ratio)} for p in self.phases],
            "beside": {name: round(seconds, 2) for name, seconds in self.beside.items()},
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def summary_table(figures: list[RunFigures]) -> str:
    """One line per run: wall time, the d+p yardstick, the ratio, memory and store size."""
    lines = [
        "| store | run | source | wall s | CPU s | server CPU s | rows | rows/s | MB downloaded | download s "
        "| json.loads s | ratio | CPU ratio | peak MB | store MB | B per visitor-day | B per active visitor-day |",
        "| --- | --- | --- " + "| ---: " * 14 + "|",
    ]
    for f in figures:
        store_mb = None if f.store_bytes is None else f.store_bytes / 1e6
        lines.append(
            f"| {f.store} | {f.run} | {f.source} | {f.wall_s:.1f} | {_fmt(f.cpu_s, '.1f')} | "
            f"{_fmt(f.server_cpu_s, '.1f')} | {f.rows:,} | "
            f"{_fmt(per_second(f.rows, f.wall_s), ',.0f')} | {f.bytes / 1e6:,.0f} | {f.download_s:.1f} | "
            f"{f.parse_s:.1f} | {_fmt(f.ratio, '.1f')}x | {_fmt(f.cpu_ratio, '.1f')}x | {f.peak_mb:.0f} | "
            f"{_fmt(store_mb, ',.0f')} | {_fmt(f.bytes_per_visitor_day, ',.0f')} | "
            f"{_fmt(f.bytes_per_active_visitor_day, ',.0f')} |"
        )
    return "\n".join(lines)


def phase_table(f: RunFigures) -> str:
    """The phases of one run: seconds, rows, rows/s, peak MB, share of the ratio, own ratio."""
    lines = [f"{f.store} {f.run} ({f.source}): {f.wall_s:.1f} s = {_fmt(f.ratio, '.1f')}x download + parse "
             f"({f.baseline_s:.1f} s)" + ("" if f.simulator_cpu_s is None
                                         else f"; the simulator used {f.simulator_cpu_s:.0f} s of CPU")
             + ("" if not f.baseline_decompress_cpu_s else
                f"; the replay server decompressed the recording: {f.baseline_decompress_cpu_s:.1f} s of CPU in "
                f"download + parse, {f.replay_decompress_cpu_s:.1f} s beside this run")
             + ("" if f.stopped is None else f"; STOPPED: {f.stopped}"),
             "| phase | s | CPU s | rows | rows/s | peak MB | x d+p (adds up to the ratio) | x own d+p |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for p in f.phases:
        lines.append(f"| {p.name} | {p.seconds:.1f} | {_fmt(p.cpu_s, '.1f')} | {p.rows:,} | "
                     f"{_fmt(p.rows_per_s, ',.0f')} | {p.peak_mb:.0f} | "
                     f"{_fmt(ratio(p.seconds, f.baseline_s), '.2f')} | {_fmt(p.own_ratio, '.1f')} |")
    lines.append(f"| other | {f.other_s:.1f} | | | | | {_fmt(ratio(f.other_s, f.baseline_s), '.2f')} | |")
    lines += [f"| ({name}: inside its seconds) | {seconds:.1f} | | | | | | |" for name, seconds in f.beside.items()]
    return "\n".join(lines)
