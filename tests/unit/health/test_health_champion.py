"""The champion component on both stores: key contacts active in the last 14 days, and when it has no data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, delete, select

from pendo_core.admin.settings import parse_settings
from pendo_core.health import score
from pendo_core.health.job import compute_health
from pendo_core.store.models import HealthScore, UsageMetric
from tests.support.health_alerts import LAST, add_customer, add_usage, history
from tests.support.people import add_contacts, add_days, add_visitors

WEIGHTS = {"engagement": 0.25, "breadth_change": 0.2, "attrition": 0.35, "sustained_trend": 0.2, "champion": 0.2}


def _every_day(since: int, until: int = 0) -> list[date]:
    """The days from `since` to `until` days before LAST, inclusive."""
    return [LAST - timedelta(days=k) for k in range(until, since + 1)]


def _team(engine: Engine, customer: str, champion_until: int | None, *, contact: bool = True) -> None:
    """A customer of one account: a champion active until `champion_until` days before LAST (None: every day),
    a decision maker and a colleague active every day, 70 synced days of usage."""
    account = f"acct-{customer}"
    add_customer(engine, customer, accounts=[account])
    add_usage(engine, customer, history(70, 3, 1), mau=3, active=3)
    champion, boss, colleague = (f"{who}@{customer}.com" for who in ("champ", "boss", "colleague"))
    add_visitors(engine, {champion: champion, boss: boss, colleague: colleague}, [account])
    add_days(engine, account, champion, _every_day(69, champion_until or 0))
    add_days(engine, account, boss, _every_day(69))
    add_days(engine, account, colleague, _every_day(69))
    if contact:
        add_contacts(engine, customer, [("Cam Champ", champion, "champion"), ("Bo Boss", boss, "decision_maker"),
                                        ("Col League", colleague, "user")])


def _scores(engine: Engine) -> dict[tuple[str, date], dict[str, Any]]:
    table = HealthScore.__table__
    with engine.connect() as conn:
        return {(r.customer_id, r.score_date): dict(r._mapping) for r in conn.execute(select(table))}


@pytest.mark.parametrize(("quiet_for", "expected"), [
    pytest.param(None, 100.0, id="every-key-contact-active"),
    pytest.param(13, 100.0, id="champion-active-13-days-ago"),
    pytest.param(14, 50.0, id="champion-quiet-14-days-team-active"),
    pytest.param(30, 50.0, id="champion-gone-for-a-month"),
])
def test_champion_scores_the_share_of_key_contacts_active(engine: Engine, quiet_for: int | None,
                                                          expected: float) -> None:
    """Champion = 100 x key contacts (champion, decision maker) active in the last 14 days / matched ones; a
    plain user is not a key contact."""
    _team(engine, "acme", None if quiet_for is None else quiet_for)
    compute_health(engine, LAST, LAST)
    row = _scores(engine)[("acme", LAST)]
    assert row["champion"] == expected
    assert (row["inputs"]["key_contacts"], row["inputs"]["key_contacts_active"]) == (2, expected / 50)


def test_champion_moves_day_by_day_over_a_backfill(engine: Engine) -> None:
    """Over a scored range each day reads its own 14 days: 100 while the champion's last day is inside them."""
    _team(engine, "acme", 20)
    compute_health(engine, LAST - timedelta(days=10), LAST)
    rows = _scores(engine)
    got = {k: rows[("acme", LAST - timedelta(days=k))]["champion"] for k in (10, 7, 6, 0)}
    assert got == {10: 100.0, 7: 100.0, 6: 50.0, 0: 50.0}  # last active 20 days ago: in [d-13, d] until d = LAST-7


@pytest.mark.parametrize("case", ["no-contacts", "contact-matches-no-visitor"])
def test_without_a_matched_contact_there_is_no_data_and_the_score_is_as_before(engine: Engine, case: str) -> None:
    """No data (NaN -> NULL) without a matched key contact; the weight is renormalised away, so the overall
    equals the overall with the champion weight at 0."""
    _team(engine, "acme", 30, contact=False)
    if case == "contact-matches-no-visitor":
        add_contacts(engine, "acme", [("Gone Person", "nobody@acme.com", "champion")])
    compute_health(engine, LAST, LAST, app_settings=parse_settings({"health": {"weights": WEIGHTS}}))
    with_weight = _scores(engine)[("acme", LAST)]
    compute_health(engine, LAST, LAST, app_settings=parse_settings(
        {"health": {"weights": {**WEIGHTS, "champion": 0}}}))
    without = _scores(engine)[("acme", LAST)]
    assert with_weight["champion"] is None
    assert with_weight["overall"] == without["overall"]
    assert with_weight["coverage"] < 1.0


def test_an_unsynced_day_in_the_window_is_unknown_not_quiet(engine: Engine) -> None:
    """A day of the last 14 without a usage row makes the component unknown (NULL), not 50."""
    _team(engine, "acme", 30)
    with engine.begin() as conn:
        conn.execute(delete(UsageMetric).where(UsageMetric.metric_date == LAST - timedelta(days=5)))
    compute_health(engine, LAST, LAST)
    assert _scores(engine)[("acme", LAST)]["champion"] is None


def test_a_silent_team_scores_its_quiet_champion_0(engine: Engine) -> None:
    """Nobody active in the 14 days (DAU 0 on synced days): the champion is quiet too, so 0 of 1 active scores
    0 (the page says "0 of 1 active"; it was "no data" while the page said the champion was quiet)."""
    add_customer(engine, "acme", accounts=["acct-acme"])
    add_usage(engine, "acme", history(70, 3, 1, change=lambda i, d: 0 if i < 20 else 3), mau=0, active=3)
    add_visitors(engine, {"champ@acme.com": "champ@acme.com"}, ["acct-acme"])
    add_days(engine, "acct-acme", "champ@acme.com", _every_day(69, 20))
    add_contacts(engine, "acme", [("Cam Champ", "champ@acme.com", "champion")])
    compute_health(engine, LAST, LAST)
    assert _scores(engine)[("acme", LAST)]["champion"] == 0.0


def test_a_contact_matches_a_visitor_id_in_other_case(engine: Engine) -> None:
    """A visitor whose id, lowercased, is the contact's e-mail (no synced e-mail) is the contact."""
    add_customer(engine, "acme", accounts=["acct-acme"])
    add_usage(engine, "acme", history(70, 2, 1), mau=2, active=2)
    add_visitors(engine, {"Champ@Acme.com": None, "other@acme.com": None}, ["acct-acme"])
    add_days(engine, "acct-acme", "Champ@Acme.com", _every_day(69))
    add_days(engine, "acct-acme", "other@acme.com", _every_day(69))
    add_contacts(engine, "acme", [("Cam Champ", "champ@acme.com", "champion")])
    compute_health(engine, LAST, LAST)
    assert _scores(engine)[("acme", LAST)]["champion"] == 100.0


def test_the_pure_mapping() -> None:
    """score.champion: share x 100, NaN without contacts or where the team is unknown."""
    got = score.champion([2, 1, 0, 1, 1], [2, 2, 0, 2, 1], [True, True, True, False, True])
    np.testing.assert_array_equal(got, [100.0, 50.0, np.nan, np.nan, 100.0])
