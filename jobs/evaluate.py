"""`python -m jobs evaluate [--seeds N]`: how far the judgments can be trusted, on labelled worlds.

Runs the simulator's story worlds end to end (pendo_sim/evaluate.py) on held-out seeds 1..N (the
default weights and bands were chosen on other seeds) and prints alert precision and recall per
kind, the sustained-decline recall, the churn AUC of the health score beside the naive signals, and
churn by band. Each world syncs into its own temporary SQLite store; the configured store is not touched.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from pendo_core.common.config import Settings


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register `evaluate` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "evaluate", help="score alerts and the health score on the simulator's labelled worlds")
    parser.add_argument("--seeds", type=int, default=3, help="how many held-out worlds (default 3)")
    parser.add_argument("--first-seed", type=int, default=1, help="the first world's seed (default 1)")
    parser.add_argument("--accounts", type=int, default=150, help="accounts per world (default 150)")
    parser.add_argument("--without-champion-left", action="store_true",
                        help="the same worlds without the champion_left story (to see what it adds)")
    parser.add_argument("--dump", metavar="FILE.csv",
                        help="also write one row per account (story, churned, health, band, components, naive "
                             "signals) so weights can be refitted without syncing again")
    return parser


def evaluate(settings: Settings, args: argparse.Namespace) -> int:
    """The command body: run the worlds, print the report."""
    from jobs.commands import JobError
    from pendo_core.evaluation import case_frame, report, story_lines
    from pendo_sim.evaluate import KINDS, evaluate_seeds

    if args.seeds < 1 or args.accounts < 20:
        raise JobError("--seeds must be at least 1 and --accounts at least 20 (every story needs a few accounts)")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    logging.getLogger("pendo_core").setLevel(logging.WARNING)  # the worlds' syncs would drown the report
    cases = evaluate_seeds(seeds, args.accounts, progress=lambda line: print(line, flush=True),
                           champion_left=not args.without_champion_left)
    if args.dump:
        case_frame(cases).to_csv(args.dump, index=False)
    print(f"{len(cases)} accounts in {len(seeds)} world(s), seeds {seeds[0]}..{seeds[-1]}")
    print("\n".join(report(cases, KINDS)))
    print("\n".join(story_lines(cases, KINDS)))
    return 0
