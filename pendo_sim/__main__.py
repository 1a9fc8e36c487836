"""`python -m pendo_sim --port P [--seed S] [--accounts N] [--days D] [--as-of D] [--timezone]`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import date
from types import FrameType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pendo_core.common.config import DEMO_KEY
from pendo_sim.data import generate
from pendo_sim.faults import Faults
from pendo_sim.server import start_server


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"unknown timezone {value!r}: use an IANA name such as America/New_York"
        ) from None
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line of the simulator."""
    p = argparse.ArgumentParser(
        prog="python -m pendo_sim",
        description="Serve a synthetic Pendo subscription over the Pendo v1 API.",
    )
    p.add_argument("--port", type=int, required=True, help="TCP port (0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--accounts", type=int, default=300)
    p.add_argument("--visitors", type=int, default=None,
                   help="about this many visitors in all (default: ~25 per account)")
    p.add_argument("--days", type=int, default=180, help="days of history before --as-of")
    p.add_argument("--as-of", type=date.fromisoformat, default=None, help="simulated today (YYYY-MM-DD)")
    p.add_argument("--history-end", type=date.fromisoformat, default=None,
                   help="end the timeline on this later day (--days counts back from it), so runs on "
                        "consecutive --as-of days see the same history")
    p.add_argument("--timezone", type=_timezone, default="UTC", help="subscription timezone (IANA name)")
    p.add_argument("--key", default=DEMO_KEY, help="integration key the server accepts")
    faults = p.add_argument_group("faults")
    faults.add_argument("--fault-429-after", type=int, metavar="N", help="429 once more than N requests/second")
    faults.add_argument("--retry-after", type=int, metavar="S", help="Retry-After seconds sent with a 429")
    faults.add_argument("--fault-error-every", type=int, metavar="K", help="every Kth request answers 5xx")
    faults.add_argument("--fault-delay", type=float, default=0.0, metavar="S", help="wait S seconds before answering")
    faults.add_argument("--fault-cut-after-rows", type=int, metavar="R", help="cut aggregation bodies after R rows")
    faults.add_argument("--fault-reset-every", type=int, metavar="K", help="every Kth connection is reset")
    return p


def faults_from(args: argparse.Namespace) -> Faults:
    """The fault settings the flags ask for."""
    return Faults(
        rate_limit_per_second=args.fault_429_after,
        retry_after=args.retry_after,
        error_every=args.fault_error_every,
        delay_seconds=args.fault_delay,
        cut_after_rows=args.fault_cut_after_rows,
        reset_every=args.fault_reset_every,
    )


def main(argv: list[str] | None = None) -> int:
    """Generate the subscription, serve it until Ctrl-C or SIGTERM."""
    args = build_parser().parse_args(argv)
    if args.history_end:
        # The timeline ends at --history-end (and --days counts back from it); the clock stands at --as-of.
        sub = generate(seed=args.seed, accounts=args.accounts, days=args.days, as_of=args.history_end,
                       tz=args.timezone, now=args.as_of, visitors=args.visitors)
    else:
        sub = generate(seed=args.seed, accounts=args.accounts, days=args.days, as_of=args.as_of, tz=args.timezone,
                       visitors=args.visitors)
    server = start_server(sub, host=args.host, port=args.port, faults=faults_from(args), key=args.key)
    stop = threading.Event()

    def _on_term(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_term)
    print(
        f"Pendo simulator on {server.url} (integration key: {args.key}); {len(sub.accounts)} accounts, "
        f"{len(sub.visitors)} visitors, as of {sub.now_day or sub.as_of} {sub.tz_name}. Ctrl-C stops it.",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
