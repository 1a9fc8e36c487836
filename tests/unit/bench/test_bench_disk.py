"""The bench refuses, in one line, a world that would fill its disk, before it records anything."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from jobs import bench
from jobs.bench_world import World

AS_OF = date(2024, 3, 20)


def test_the_estimate_follows_the_measured_worlds() -> None:
    two_thousand = World(2000, 49_542, 90, AS_OF)
    # 9.56 M rows were measured; 1.5 GB of answers and 3.2 GB on PostgreSQL.
    assert 4.7 < two_thousand.disk_gb(["postgresql"]) < 6
    # The live and the replay PostgreSQL stores are one database, dropped in between; SQLite files stay.
    assert two_thousand.disk_gb(["postgresql", "postgresql"]) == two_thousand.disk_gb(["postgresql"])
    assert two_thousand.disk_gb(["sqlite", "sqlite"]) > two_thousand.disk_gb(["sqlite"])
    assert two_thousand.disk_gb(["sqlite", "postgresql"]) > two_thousand.disk_gb(["postgresql"])
    assert 90 < World(20_000, 1_000_000, 90, AS_OF).disk_gb(["postgresql", "postgresql"]) < 130


def test_a_compressed_recording_counts_about_a_seventeenth() -> None:
    """The answers compress about 17x with zstd: the 20,000-account, 90-day bench then needs the store and
    a little more (about 34 GB of answers as sent, 2 GB stored)."""
    large = World(20_000, 1_000_000, 90, AS_OF)
    saved = large.disk_gb(["postgresql"]) - large.disk_gb(["postgresql"], compressed=True)
    assert 30 < saved < 34
    # Measured at its peak: a 53.1 GB store, 2.0 GB of answers, 10.3 GB of scratch and 4 GB of WAL.
    assert 66 < large.disk_gb(["postgresql"], compressed=True, wal_gb=4) < 80


def test_a_reused_recording_is_not_counted_again_and_the_wal_only_beside_postgresql() -> None:
    large = World(20_000, 1_000_000, 90, AS_OF)
    recorded, reused = large.disk_gb(["postgresql"]), large.disk_gb(["postgresql"], recording=False)
    assert 30 < recorded - reused < 36  # about 34 GB of answers as sent
    assert large.disk_gb(["postgresql"], wal_gb=8) == large.disk_gb(["postgresql"]) + 8
    assert large.disk_gb(["sqlite"], wal_gb=8) == large.disk_gb(["sqlite"])
    assert large.disk_gb([], wal_gb=8) == 0


def test_the_metrics_scratch_is_counted_once() -> None:
    """DuckDB's spill (10.3 GB at its peak at 20,000 accounts and 90 days) is freed after each metrics run."""
    large = World(20_000, 1_000_000, 90, AS_OF)
    stores = large.disk_gb(["sqlite"], recording=False) + large.disk_gb(["postgresql"], recording=False)
    assert 9 < stores - large.disk_gb(["sqlite", "postgresql"], recording=False) < 12


def test_a_world_too_big_for_the_disk_is_refused_before_any_work(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    monkeypatch.setattr(bench, "record", lambda *a: pytest.fail("recorded despite the refusal"))
    assert bench.main(["--accounts", "20000", "--visitors", "100000000000", "--stores", "postgresql"]) == 1


def test_the_refusal_names_need_and_room(tmp_path: Path) -> None:
    line = bench.disk_refusal(World(20_000, 10 ** 11, 90, AS_OF), ["postgresql"], tmp_path)
    assert line is not None
    assert "\n" not in line
    assert "GB of disk" in line
    assert "GB free" in line
    assert bench.disk_refusal(World(3, 10, 1, AS_OF), ["sqlite"], tmp_path) is None
    assert bench.disk_refusal(World(3, 10 ** 11, 90, AS_OF), [], tmp_path) is None  # nothing written
