"""The phase each post-sync step's time is counted in by the bench's stopwatch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jobs.bench import ROOT, run_peak_mb
from jobs.bench_phases import PhaseClock, _timed_step, step_phase
from pendo_core.common.config import Settings
from pendo_core.pendo.sync.runner import Alongside
from pendo_core.pipeline.run import STEPS, made_steps


def test_every_step_of_the_sync_is_timed_in_its_own_phase() -> None:
    """The read models' steps (snapshot, Portfolio days) are a phase of their own: counted as metrics,
    which is timed inside, they went untimed into "other" (22 s of a 20,000-account daily run)."""
    phases = [(part.__module__, step_phase(part)) for step in made_steps(Settings(), STEPS)
              for part in getattr(step, "parts", (step,))]
    assert phases == [("pendo_core.usage.job", "metrics"), ("pendo_core.usage.snapshot_job", "read_models"),
                      ("pendo_core.alerts.job", "alerts"), ("pendo_core.health.job", "health"),
                      ("pendo_core.usage.portfolio_days", "read_models"), ("pendo_core.alerts.job", "alerts"),
                      ("pendo_core.pendo.sync.retention", "retention")]


def test_a_group_of_steps_run_alongside_counts_in_its_last_part_phase_and_notes_the_others() -> None:
    """The snapshot runs beside the health scores: the group's wall time is the health phase (the phases
    still add up to the run), and the snapshot's own seconds are noted beside it, not added again."""
    ticks = iter(range(100))
    clock = PhaseClock(clock=lambda: float(next(ticks)))

    def snapshot(*_: Any) -> None:
        pass

    def health(*_: Any) -> None:
        pass

    snapshot.__module__, health.__module__ = "pendo_core.usage.snapshot_job", "pendo_core.health.job"
    group = Alongside(snapshot, health)
    timed = _timed_step(clock, group)
    timed(SimpleNamespace(dialect=SimpleNamespace(name="mysql")), None, None)  # a store where it runs in order
    assert set(clock.seconds) == {"health"}
    assert clock.seconds["health"] == 3.0  # started at 0, the snapshot's 1..2 inside, ended at 3
    assert clock.beside == {"read_models beside health": 1.0}


def test_a_phase_timed_on_another_thread_is_noted_beside_the_run_thread_phase() -> None:
    """The entities synced on a thread of their own beside the windows (PostgreSQL): their seconds are
    noted beside the windows, and the windows keep theirs (the phases still add up to the run)."""
    clock = PhaseClock()
    entities = clock.timed("entities", lambda: None)

    def windows() -> None:
        thread = threading.Thread(target=entities)
        thread.start()
        thread.join()

    clock.timed("windows", windows)()
    assert set(clock.seconds) == {"windows"}
    assert set(clock.beside) == {"entities beside windows"}
    clock.timed("entities", lambda: None)()  # on the run's own thread (SQLite): a phase of its own
    assert set(clock.seconds) == {"windows", "entities"}


def test_the_run_peak_is_the_largest_phase_peak_not_what_wait4_reports(tmp_path: Path) -> None:
    """A child that holds 300 MB in its first phase and little in its last, started by a parent holding
    600 MB: wait4 reports the parent's mark (carried across fork and exec), the clock's resets hide the
    child's first phase; the run's peak must be the child's 300 MB phase."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent("""
        import json, sys
        from jobs.bench_phases import PhaseClock
        clock = PhaseClock()
        clock.timed("metrics", lambda: len(bytearray(300 * 2**20)))()
        clock.timed("alerts", lambda: None)()
        print(json.dumps(clock.as_dict()))
    """))
    held = bytearray(600 * 2**20)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = proc.stdout.read() if proc.stdout else b""
    _, _, usage = os.wait4(proc.pid, 0)
    del held
    phases = json.loads(out)
    assert 300 < phases["peak_mb"]["metrics"] < 500
    assert phases["peak_mb"]["alerts"] < phases["peak_mb"]["metrics"]
    assert usage.ru_maxrss / 1024 > 600  # what the bench used to print as the run's peak
    assert run_peak_mb(usage.ru_maxrss / 1024, phases) == phases["peak_mb"]["metrics"]
    assert run_peak_mb(123.0, {}) == 123.0  # no phase recorded: wait4's figure is all there is
