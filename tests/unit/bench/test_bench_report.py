"""The sync benchmark's arithmetic: ratios to download + parse, rows per second, bytes per visitor-day."""

from __future__ import annotations

import pytest

from jobs.bench_report import Phase, Progress, RunFigures, per_second, phase_table, progress_of, ratio, summary_table


def _figures(wall_s: float = 20.0, baseline_s: float = 4.0, store_bytes: int | None = 1_000_000) -> RunFigures:
    phases = [Phase("entities", 1.0, 100, 250.0, own_baseline_s=0.5), Phase("windows", 12.0, 10_000, 300.0, 3.5),
              Phase("metrics", 3.0, 600, 400.0)]
    return RunFigures(store="sqlite", run="backfill", source="replay", wall_s=wall_s, exit_code=0, peak_mb=400.0,
                      baseline_s=baseline_s, download_s=1.0, parse_s=3.0, bytes=5_000_000, requests=7,
                      phases=phases, store_bytes=store_bytes, visitor_days=500, active_visitor_days=200)


@pytest.mark.parametrize(("seconds", "baseline", "expected"), [
    (20.0, 4.0, 5.0), (3.0, 4.0, 0.75), (1.0, 0.0, None),
], ids=["slower", "faster", "no-baseline"])
def test_ratio(seconds: float, baseline: float, expected: float | None) -> None:
    """A time is expressed as a multiple of the baseline; without a baseline there is no ratio."""
    assert ratio(seconds, baseline) == expected


@pytest.mark.parametrize(("rows", "seconds", "expected"), [(1000, 4.0, 250.0), (5, 0.0, None)],
                         ids=["rows-per-second", "no-time"])
def test_per_second(rows: int, seconds: float, expected: float | None) -> None:
    """Rows per second, none for a phase that took no time."""
    assert per_second(rows, seconds) == expected


def test_phase_multiples_add_up_to_the_whole_ratio() -> None:
    """Each phase's seconds over the whole d+p, plus "other", add up to the command's ratio."""
    f = _figures()
    parts = [p.seconds / f.baseline_s for p in f.phases] + [f.other_s / f.baseline_s]
    assert (f.ratio, f.other_s, sum(parts)) == (5.0, 4.0, pytest.approx(5.0))


def test_own_ratio_compares_a_phase_with_its_own_answers() -> None:
    """Windows over the d+p of the window answers only; a phase that read nothing has no own ratio."""
    entities, windows, metrics = _figures().phases
    assert (entities.own_ratio, windows.own_ratio, metrics.own_ratio) == (2.0, 12.0 / 3.5, None)


@pytest.mark.parametrize(("store_bytes", "per_visitor_day", "per_active"), [
    (1_000_000, 2_000.0, 5_000.0), (None, None, None),
], ids=["measured", "store-unknown"])
def test_bytes_per_visitor_day(store_bytes: int | None, per_visitor_day: float | None,
                               per_active: float | None) -> None:
    """Store bytes over visitors x days, and over the visitor-days with activity."""
    f = _figures(store_bytes=store_bytes)
    assert (f.bytes_per_visitor_day, f.bytes_per_active_visitor_day) == (per_visitor_day, per_active)


def test_other_never_goes_negative() -> None:
    """Phases measured inside the process can exceed a rounded wall time; "other" then shows 0."""
    assert _figures(wall_s=15.0).other_s == 0.0


def test_tables_show_the_ratio_and_every_phase() -> None:
    """The summary line carries the ratio; the phase table one line per phase plus "other"."""
    f = _figures()
    assert "| 5.0x |" in summary_table([f])
    assert [line.split("|")[1].strip() for line in phase_table(f).splitlines()[3:]] == \
        ["entities", "windows", "metrics", "other"]


LOG = "\n".join([
    '{"level": "INFO", "msg": "visitor_days 2023-11-22..2023-11-28: 2758 rows | windows 1/47 | 15302 rows/s | ETA 8s"}',
    '{"level": "INFO", "msg": "visitors page 2 committed"}',
    "2026-12-04 16:22:46 INFO pendo_core.pendo.sync: visitor_days 2023-11-29..2023-12-05: 3174 rows | windows 2/47 "
    "| 12211 rows/s | ETA 11s",
])


@pytest.mark.parametrize(("text", "expected"), [
    (LOG, Progress(done=2, total=47, rows=5932, rows_per_s=12211, eta_s=11)),
    ('{"msg": "sync started"}', None),
], ids=["json-and-human-lines", "no-window-yet"])
def test_progress_of_a_stopped_run(text: str, expected: Progress | None) -> None:
    """A run stopped at the deadline reports the last window line: windows done, rows so far, rate and ETA."""
    assert progress_of(text) == expected


def test_a_compressed_recordings_decompression_is_named_beside_the_run() -> None:
    """The replay server's CPU decompressing a compressed recording is printed with the run it served."""
    plain, compressed = _figures(), _figures()
    compressed.baseline_decompress_cpu_s, compressed.replay_decompress_cpu_s = 41.5, 40.25
    assert "decompress" not in phase_table(plain)
    assert ("41.5 s of CPU in download + parse, 40.2 s beside this run"
            in phase_table(compressed).splitlines()[0])
    assert compressed.as_dict()["replay_decompress_cpu_s"] == 40.25
