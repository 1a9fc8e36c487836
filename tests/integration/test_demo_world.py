"""`python -m jobs demo` shows the judgments (issue 12 item 4), on a small demo store loaded as the command
does (its story world, customers, contacts and outcomes, then the 90-day backfill through the pipeline):
declining customers carry usage_drop, the People data holds champions and a champion who went quiet
raises champion_inactive, and the admin back-test on the demo's own outcomes ranks churn red > yellow >
green."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jobs import commands
from pendo_core.admin.settings import current_settings
from pendo_core.common.config import Settings
from pendo_core.customers.people import contact_matches
from pendo_core.health.backtest import load_backtest, run_backtest
from pendo_core.pipeline import DEMO_HISTORY_DAYS, open_store
from pendo_core.store import models
from pendo_sim import endpoint
from pendo_sim.demo_world import demo_world, world_customers
from pendo_sim.stories import DROP, World

pytestmark = pytest.mark.slow

AS_OF = date(2026, 3, 19)
ACCOUNTS = 90


@dataclass
class Demo:
    engine: Engine
    world: World
    story: dict[str, str]  # customer_id -> its story
    expects_drop: set[str]  # customers whose story requires usage_drop


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A demo store of ACCOUNTS accounts as of AS_OF, loaded by the demo command's own loader."""
    work = tmp_path_factory.mktemp("demo")
    settings = Settings(database_url=f"sqlite:///{work / 'demo.db'}", pendo_integration_key=None,
                        pendo_timezone="UTC", demo_accounts=ACCOUNTS, demo_seed=7)
    endpoint.install()
    engine = open_store(settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        commands._load_demo(settings, engine, as_of=AS_OF)
    world = demo_world(7, ACCOUNTS, AS_OF, "UTC", DEMO_HISTORY_DAYS)
    listed = world_customers(world)
    story = {row["customer_id"]: world.labels[accounts[0]].story for accounts, row in listed}
    drop = {row["customer_id"] for accounts, row in listed if DROP in world.labels[accounts[0]].expected}
    yield Demo(engine, world, story, drop)
    engine.dispose()


def _open(engine: Engine, kind: str) -> dict[str, set[str]]:
    """customer_id -> subjects of its open alerts of `kind`."""
    alert = models.UsageAlert
    out: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for customer, subject in conn.execute(select(alert.customer_id, alert.subject)
                                              .where(alert.kind == kind, alert.status == "open")):
            out.setdefault(customer, set()).add(subject or "")
    return out


def test_declining_demo_customers_carry_usage_drop(demo: Demo) -> None:
    """Most customers whose story is a real decline (a slide or cut of more than 25%, still down) have a
    usage_drop alert (recall 0.84-0.85 on the labelled worlds; the misses are small teams within their noise);
    a steady one has none."""
    dropped = _open(demo.engine, "usage_drop")
    assert len(demo.expects_drop) >= 5
    assert len(demo.expects_drop & set(dropped)) >= 0.7 * len(demo.expects_drop)
    steady = {c for c, s in demo.story.items() if s in ("steady", "big_steady")}
    assert steady
    assert not steady & set(dropped)


def test_the_demo_has_champions_and_a_quiet_one_raises_champion_inactive(demo: Demo) -> None:
    """Most customers have a champion matched to a Pendo visitor; every champion_inactive alert names a
    contact with no activity in the 14 days before the last synced day."""
    last = AS_OF - timedelta(days=1)
    with Session(demo.engine) as session:
        customers = session.scalar(select(func.count()).select_from(models.Customer))
        champions = session.scalar(select(func.count()).where(models.Contact.role == "champion"))
    assert customers
    assert (champions or 0) >= 0.8 * customers
    some = next(iter(demo.story))
    matched = contact_matches(demo.engine, some, last, roles=["champion"])
    assert matched
    assert matched[0].visitor_ids
    quiet = _open(demo.engine, "champion_inactive")
    assert quiet
    vd = models.VisitorDay
    with demo.engine.connect() as conn:
        for emails in quiet.values():
            for email in emails:
                recent = conn.scalar(select(func.count()).select_from(vd).where(
                    func.lower(vd.visitor_id) == email, vd.day > last - timedelta(days=14), vd.num_events > 0))
                assert recent == 0, email


@pytest.mark.parametrize("lead", [30, 90])
def test_the_admin_backtest_on_the_demo_ranks_churn_red_yellow_green(demo: Demo, lead: int) -> None:
    """The outcomes come from the same stories: with the saved weights and bands the churn rate falls
    from red to yellow to green at the admin page's default lead, and red leads with every outcome scored."""
    with Session(demo.engine) as session:
        _, saved = current_settings(session)
        outcomes = session.scalar(select(func.count()).select_from(models.Outcome))
    assert outcomes == len(demo.story)
    health = saved.health
    report = run_backtest(load_backtest(demo.engine), health.weights.as_dict(), lead, red_below=health.red_below,
                          green_from=health.green_from, coverage_floor=health.coverage_floor)
    rate = {b.band: b.churn_rate or 0.0 for b in report.bands}
    assert report.scored >= 20
    assert min(b.customers for b in report.bands if b.band in ("red", "yellow", "green")) > 0
    if lead == 30:
        assert rate["red"] > rate["yellow"] > rate["green"]
    else:
        # 90 days ahead, on this 90-account demo, yellow and green tie within a customer (5 of 12 against
        # 26 of 62 with the weights of 2026-12-05, which added the champion), and the 300-account demo loaded
        # on 2026-12-05 inverts red and yellow there (README, "What a CSM sees on the demo data"), so here only
        # red must lead.
        assert rate["red"] > max(rate["yellow"], rate["green"])
