"""The truth a CSM needs first (both backends): a customer nobody uses any more is said to be silent before
any number, with its open alerts; "what should I do" answers with the alerts' suggested actions; counts
agree with what is listed; the at-risk answer leads with the top 5.

The quiet store is tests/support/chat_api.py's, with Umbrella Corp's raw activity after SILENT_SINCE
deleted and the product's metric, health and alert jobs run again, so every number stays the jobs' own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, column, delete, select, table

from pendo_core.alerts.job import evaluate_alerts
from pendo_core.alerts.kinds import label
from pendo_core.book.inbox import inbox
from pendo_core.chat import Answer, Viewer, intents, respond
from pendo_core.chat.assistant import understand
from pendo_core.chat.facts import ChampionFacts
from pendo_core.chat.model import CustomerRef
from pendo_core.chat.people_answers import champion_status
from pendo_core.chat.risk_answers import at_risk
from pendo_core.customers.people import ChampionStatus, Stakeholder
from pendo_core.health import compute_health
from pendo_core.health.queries import sustained_trend_text, weekly_visitor_days
from pendo_core.store.models import UsageAlert, UsageMetric
from pendo_core.usage import compute_metrics
from tests.conftest import _sqlite_store
from tests.support.chat_api import ACME, ANA, AS_OF, BEN, FIRST, LAST, LEE, NOW, UMBRELLA, build_store
from tests.support.store import wipe

SILENT_SINCE = LAST - timedelta(days=17)  # Umbrella's last active day in the quiet store
RAW = ("pendo_visitor_days", "pendo_visitor_hours", "pendo_feature_visitor_days", "pendo_page_days")


def _silence_umbrella(engine: Engine) -> None:
    """Delete Umbrella's raw activity after SILENT_SINCE and run the product's jobs again."""
    with engine.begin() as conn:
        for name in RAW:
            raw = table(name, column("account_id"), column("day"))
            conn.execute(delete(raw).where(raw.c.account_id == "umbrella-1", raw.c.day > SILENT_SINCE))
    compute_metrics(engine, first_day=FIRST, last_day=LAST)
    compute_health(engine, LAST - timedelta(days=29), LAST)
    evaluate_alerts(engine, AS_OF, clock=lambda: NOW)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def quiet(request: pytest.FixtureRequest, migrated_sqlite: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The chat store with Umbrella Corp silent since SILENT_SINCE, once per backend and module."""
    if request.param == "sqlite":
        engine = _sqlite_store(migrated_sqlite, tmp_path_factory)
    else:
        engine = request.getfixturevalue("pg_engine")
        wipe(engine)
    build_store(engine)
    _silence_umbrella(engine)
    yield engine
    if request.param == "sqlite":
        engine.dispose()
    else:
        wipe(engine)


def _facts(answer: Answer) -> dict[str, Any]:
    return {f.label: f.value for f in answer.facts}


def _open_kinds(engine: Engine, customer: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(UsageAlert.kind).where(UsageAlert.customer_id == customer,
                                                              UsageAlert.status == "open")).scalars())


# --- silence first ---------------------------------------------------------------------------------


def test_the_quiet_store_is_what_the_tests_say(quiet: Engine) -> None:
    """Umbrella's stored DAU is 0 after SILENT_SINCE and not on it, and its no_login alert is open."""
    u = UsageMetric
    with quiet.connect() as conn:
        dau = dict(conn.execute(select(u.metric_date, u.dau).where(u.customer_id == UMBRELLA)).all())
    assert dau[SILENT_SINCE] > 0
    assert all(dau[SILENT_SINCE + timedelta(days=i)] == 0 for i in range(1, (LAST - SILENT_SINCE).days + 1))
    assert "no_login" in _open_kinds(quiet, UMBRELLA)


def test_how_is_a_silent_customer_leads_with_the_silence_and_its_open_alerts(quiet: Engine) -> None:
    """"How is Umbrella using the product?" says first that nobody has been active since its last active
    day (and how many days), then its health and open alerts by kind, then the day's numbers."""
    answer = respond(quiet, Viewer(ANA, "csm"), "How is Umbrella using the product?")
    paragraphs = answer.text.split("\n\n")
    days = (LAST - SILENT_SINCE).days
    assert paragraphs[0] == (f"**No one at Umbrella Corp has been active since {SILENT_SINCE}** ({days} days "
                             f"without an active visitor, up to {LAST}).")
    assert all(label(kind) in paragraphs[1] for kind in _open_kinds(quiet, UMBRELLA))
    assert paragraphs[2].startswith(f"**Umbrella Corp** on {LAST}: **0** daily active users")
    facts = _facts(answer)
    assert facts["Last active day"] == SILENT_SINCE.isoformat()
    assert facts[f"Days without an active visitor, up to {LAST}"] == days


def test_what_changed_last_week_at_a_silent_customer_is_not_read_as_new(quiet: Engine) -> None:
    """Both 7-day windows empty: the answer leads with the silence and does not say "no trend yet"."""
    answer = respond(quiet, Viewer(ANA, "csm"), "What changed at Umbrella last week?")
    assert answer.intent == intents.USAGE_TREND
    assert answer.text.startswith(f"**No one at Umbrella Corp has been active since {SILENT_SINCE}**")
    assert "no trend yet" not in answer.text
    assert "Nobody was active in the last 7 days nor in the 7 days before" in answer.text


def test_an_active_customer_gets_no_silence_line(quiet: Engine) -> None:
    """Acme was active on the last day: no silence line, the status stays at the end."""
    answer = respond(quiet, Viewer(ANA, "csm"), "How is Acme Corp using the product?")
    assert "No one at" not in answer.text
    assert answer.text.startswith(f"**Acme Corp** on {LAST}")
    assert "Last active day" not in _facts(answer)


# --- what should I do ------------------------------------------------------------------------------


CUSTOMERS = [CustomerRef(ACME, "Acme Corp", "SMB", ANA), CustomerRef(UMBRELLA, "Umbrella Corp", "SMB", ANA)]


@pytest.mark.parametrize(("question", "intent"), [
    ("What should I do about Umbrella Corp?", intents.NEXT_STEPS),
    ("what to do about umbrella", intents.NEXT_STEPS),
    ("Next steps for Umbrella Corp", intents.NEXT_STEPS),
    ("Any suggested actions for Umbrella Corp?", intents.NEXT_STEPS),
    ("How is Umbrella Corp doing?", intents.USAGE_SUMMARY),
    ("Any usage alerts for Umbrella Corp?", intents.MY_ALERTS),
    ("Show usage trend for Umbrella Corp", intents.USAGE_TREND),
], ids=["should-i-do", "what-to-do", "next-steps", "suggested-actions", "summary-stays", "alerts-stay",
        "trend-stays"])
def test_what_to_do_is_its_own_question(question: str, intent: str) -> None:
    """Asking what to do is not a usage summary; the other questions keep their intents."""
    parsed, resolution = understand(question, CUSTOMERS)
    assert parsed.intent == intent
    assert resolution.customer is not None
    assert resolution.customer.customer_id == UMBRELLA


def test_what_should_i_do_lists_the_open_alerts_actions_most_urgent_first(quiet: Engine) -> None:
    """The answer is the suggested actions of Umbrella's open alerts, in the Alerts inbox's order."""
    viewer = Viewer(ANA, "csm")
    answer = respond(quiet, viewer, "What should I do about Umbrella?")
    found = inbox(quiet, viewer, include_closed=False, today=AS_OF)
    expected = found[(found["customer_id"] == UMBRELLA) & found["status"].isin(("open", "acknowledged"))]
    assert answer.intent == intents.NEXT_STEPS
    assert not expected.empty
    assert [r["id"] for r in answer.table] == expected["id"].head(5).tolist()
    items = [line for line in answer.text.splitlines() if line[:1].isdigit()]
    assert len(items) == len(answer.table)
    for line, action, kind in zip(items, expected["suggested_action"], expected["kind"], strict=False):
        assert action
        assert action in line
        assert f"**{label(kind)}**" in line
    assert _facts(answer)["Alerts needing someone"] == len(expected)
    assert answer.link is not None
    assert answer.link.page == "pages/alerts.py"


def test_what_should_i_do_across_my_customers_goes_by_priority(quiet: Engine) -> None:
    """No customer named: the asker's alerts needing someone, highest priority first, each with its customer."""
    viewer = Viewer(LEE, "leader")
    answer = respond(quiet, viewer, "What should I do next?")
    found = inbox(quiet, viewer, include_closed=False, today=AS_OF)
    waiting = found[found["status"].isin(("open", "acknowledged"))]
    assert len(waiting) >= 2
    expected = waiting.sort_values("priority", ascending=False, kind="stable").head(5)
    assert [r["id"] for r in answer.table] == expected["id"].tolist()
    priorities = [r["priority"] for r in answer.table]
    assert priorities == sorted(priorities, reverse=True)
    items = [line for line in answer.text.splitlines() if line[:1].isdigit()]
    assert all(line.split("**")[1] == name for line, name in zip(items, expected["customer"], strict=True))


def test_what_should_i_do_keeps_the_access_rule(quiet: Engine) -> None:
    """Ben does not own Umbrella: he is told so and gets no alert or action of it; a leader gets them."""
    answer = respond(quiet, Viewer(BEN, "csm"), "What should I do about Umbrella Corp?")
    assert "not one of yours" in answer.text
    assert not answer.table
    assert respond(quiet, Viewer(LEE, "leader"), "What should I do about Umbrella Corp?").table


def test_what_should_i_do_without_alerts_says_so(quiet: Engine) -> None:
    """No open alert on Acme Labs: no invented action, and the usage question to ask instead."""
    answer = respond(quiet, Viewer(ANA, "csm"), "What should I do about Acme Labs?")
    expected = inbox(quiet, Viewer(ANA, "csm"), include_closed=False, today=AS_OF)
    waiting = expected[(expected["customer"] == "Acme Labs") & expected["status"].isin(("open", "acknowledged"))]
    if waiting.empty:
        assert answer.text.startswith("No open alert on **Acme Labs** suggests an action")
        assert [c.question for c in answer.choices] == ["How is Acme Labs using the product?"]
    else:
        assert [r["id"] for r in answer.table] == waiting["id"].head(5).tolist()


# --- counts that match what is listed --------------------------------------------------------------


def _person(name: str, role: str, last: date | None) -> Stakeholder:
    return Stakeholder(f"{name.lower()}@x.io", name, None, role, ("v",), last, 0, 0, 0)


def test_one_champion_and_a_decision_maker_are_counted_as_such() -> None:
    """One champion plus one decision maker: "only champion", never "1 champions", and who is listed."""
    status = ChampionStatus("c1", LAST, 14, [_person("Wei", "champion", LAST - timedelta(days=24)),
                                             _person("Linda", "decision_maker", LAST - timedelta(days=27))])
    answer = champion_status(ChampionFacts(CustomerRef("c1", "Acme Dynamics", None, ANA), status))
    head = answer.text.splitlines()[0]
    assert "1 champions" not in answer.text
    assert head.startswith("**No**: **Acme Dynamics**'s only champion was not active in the 14 days")
    assert head.endswith("Listed: 1 champion and 1 decision maker.")
    assert len([line for line in answer.text.splitlines() if line.startswith("- ")]) == 2


def _book(risky: int, total: int) -> pd.DataFrame:
    return pd.DataFrame([{"customer_id": f"c{i}", "name": f"Customer {i}", "band": "red", "score": 10.0 + i,
                          "risk_reasons": f"renewal in {30 + i} days; usage −{50 - i}% in 28 days",
                          "arr": 1000.0 * (i + 1), "at_risk": i < risky} for i in range(total)])


def test_at_risk_leads_with_the_top_five_and_their_reasons_then_the_count() -> None:
    """31 of 50 at risk: the first five in the book's order with why, then "31 of your 50"."""
    answer = at_risk(_book(31, 50), Viewer(ANA, "csm"), LAST)
    lines = [line for line in answer.text.splitlines() if line]
    assert [line.split("**")[1] for line in lines[1:6]] == [f"Customer {i}" for i in range(5)]
    assert all("renewal in" in line for line in lines[1:6])
    assert all("usage −" in line for line in lines[1:6])
    assert lines[6] == "**31** of your **50** customers are at risk: the 5 above and 26 more on My customers."
    assert len(lines) == 7


# --- the health trend never reads as impossible ----------------------------------------------------


@pytest.mark.parametrize(("trend", "shown", "hidden"), [
    (-1.61, "falling to zero", "161%"),
    (-1.0, "falling to zero", "−100%"),
    (-0.35, "trending -35% over 4 weeks", "falling to zero"),
], ids=["steeper-than-zero", "exactly-zero", "ordinary-fall"])
def test_the_sustained_trend_wording_stops_at_zero(trend: float, shown: str, hidden: str) -> None:
    """A least-squares line over 4 weeks can fall more than 100% of the mean: said as falling to zero."""
    text = sustained_trend_text(trend, [31.0, 12.0, 4.0, 0.0])
    assert shown in text
    assert hidden not in text
    assert text.endswith("visitor-days a week, oldest first: 31 → 12 → 4 → 0")


def test_weekly_visitor_days_are_the_stored_weeks(quiet: Engine) -> None:
    """The weekly totals quoted are the DAU sums of the 8 weeks ending the score's day (all synced here),
    and the health answer quotes them beside the trend."""
    u = UsageMetric
    with quiet.connect() as conn:
        dau = dict(conn.execute(select(u.metric_date, u.dau).where(u.customer_id == UMBRELLA)).all())
    by_hand = [float(sum(dau[LAST - timedelta(days=7 * k + i)] for i in range(7))) for k in range(7, -1, -1)]
    assert weekly_visitor_days(quiet, UMBRELLA, LAST) == by_hand
    answer = respond(quiet, Viewer(ANA, "csm"), "Why is Umbrella's health score low?")
    trend_line = next(line for line in answer.text.splitlines() if line.startswith("- **Sustained trend**"))
    assert trend_line.endswith(" → ".join(f"{v:,.0f}" for v in by_hand))


def test_the_health_answer_writes_stickiness_in_percent(quiet: Engine) -> None:
    """The engagement line quotes stickiness as the pages do ("NN%"), not as a decimal."""
    answer = respond(quiet, Viewer(ANA, "csm"), "Why is Acme Corp's health score low?")
    line = next(line for line in answer.text.splitlines() if line.startswith("- **Engagement**"))
    assert "stickiness 0." not in line
    assert "% (7-day mean DAU" in line
