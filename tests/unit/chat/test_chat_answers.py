"""Chat answers on a real store (both backends): every number quoted is checked against the stored
metrics, health scores and alerts; the asker's role limits what can be asked about."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pendo_core.chat import Answer, Viewer, respond
from pendo_core.chat.intents import FEATURE_GAPS, HEALTH_WHY, MY_ALERTS, PEER_COMPARE, TOP_DROPS, USAGE_TREND
from pendo_core.store.models import Customer, HealthScore, UsageAlert, UsageMetric
from pendo_core.usage import peer_summary
from tests.support.chat_api import (
    ACME,
    ANA,
    BEN,
    FIRST,
    LABS,
    LAST,
    LEE,
    UMBRELLA,
    SharedStore,
    build_store,
)


@pytest.fixture
def store(shared_store: SharedStore) -> Engine:
    """The shared built store (read-only tests)."""
    return shared_store.fresh().engine


def _facts(answer: Answer) -> dict[str, Any]:
    return {f.label: f.value for f in answer.facts}


def _usage(engine: Engine, customer: str) -> dict[Any, dict[str, Any]]:
    u = UsageMetric
    with engine.connect() as conn:
        rows = conn.execute(select(u).where(u.customer_id == customer)).mappings().all()
    return {r["metric_date"]: dict(r) for r in rows}


def _mean(values: list[int]) -> float:
    return sum(values) / len(values)


def test_usage_summary_quotes_the_stored_row_and_windows(store: Engine) -> None:
    """DAU, WAU, MAU and sessions are the stored row of the last day; stickiness and trend its windows."""
    answer = respond(store, Viewer(ANA, "csm"), "How is acme using the product?")
    rows, facts = _usage(store, ACME), _facts(answer)
    row = rows[LAST]
    week = _mean([rows[LAST - timedelta(days=i)]["dau"] for i in range(7)])
    recent = _mean([rows[LAST - timedelta(days=i)]["dau"] for i in range(28)])
    prior = _mean([rows[LAST - timedelta(days=28 + i)]["dau"] for i in range(28)])
    assert (facts["DAU"], facts["WAU"], facts["MAU"], facts["Sessions"]) == (
        row["dau"], row["wau"], row["mau"], row["session_count"])
    assert facts["Stickiness"] == pytest.approx(week / row["mau"])
    assert facts["DAU trend"] == pytest.approx(recent / prior - 1)
    assert f"**{row['dau']}** daily active users" in answer.text
    assert (answer.link.page, answer.link.customer_id) == ("pages/account_usage.py", ACME)  # type: ignore[union-attr]
    assert LAST.isoformat() in (answer.window or "")
    assert answer.definitions


def test_summary_counts_a_visitor_of_two_accounts_once(store: Engine) -> None:
    """Acme's DAU on a weekday is its 8 distinct visitors across both accounts (a1 uses both)."""
    facts = _facts(respond(store, Viewer(ANA, "csm"), "acme"))
    assert (facts["DAU"], facts["Key features used"]) == (8, 2)


def test_trend_answer_charts_the_stored_days_and_leaves_gaps(store: Engine) -> None:
    """The chart holds DAU, WAU and MAU of every stored day; days before the synced range are empty."""
    answer = respond(store, Viewer(ANA, "csm"), "Show usage trend for Acme")
    assert answer.intent == USAGE_TREND
    assert answer.chart is not None
    rows = _usage(store, ACME)
    charted = {(r["day"], r["metric"]): r["visitors"] for r in answer.chart.rows}
    assert all(charted[(d.isoformat(), "DAU")] == r["dau"] and charted[(d.isoformat(), "MAU")] == r["mau"]
               for d, r in rows.items())
    assert charted[((FIRST - timedelta(days=1)).isoformat(), "DAU")] is None
    assert len(charted) == 90 * 3


def test_gaps_are_ranked_by_how_many_peers_use_them(store: Engine) -> None:
    """Acme's unused features come most-used-by-peers first: all 3 SMB peers export, 1 shares, none administers."""
    answer = respond(store, Viewer(ANA, "csm"), "What features is Acme not using?")
    assert answer.intent == FEATURE_GAPS
    assert [(row["feature"], pytest.approx(row["peer_share"], abs=0.01)) for row in answer.table] == [
        ("Export CSV", 1.0), ("Share Dashboard", 1 / 3), ("Admin Console", 0.0)]
    assert _facts(answer)["Peers"] == 3


def test_gaps_name_the_key_features_a_customer_dropped(store: Engine) -> None:
    """Acme Labs clicked Export (4 users) until 19 days ago: it is named as abandoned."""
    answer = respond(store, Viewer(ANA, "csm"), "which features isn't acme labs using")
    assert _facts(answer)["Prior users of Export CSV"] == 4
    assert "Export CSV (4 users before, none since)" in answer.text


def test_health_answer_quotes_the_stored_score(store: Engine) -> None:
    """Umbrella's score and band are the stored ones of the last day, and the answer says it is low."""
    answer = respond(store, Viewer(ANA, "csm"), "Why is umbrella's health score low?")
    with store.connect() as conn:
        overall, band = conn.execute(select(HealthScore.overall, HealthScore.band).where(
            HealthScore.customer_id == UMBRELLA, HealthScore.score_date == LAST)).one()
    assert (answer.intent, _facts(answer)["Health score"], band) == (HEALTH_WHY, overall, "red")
    assert f"is low: **{overall:.0f}** (red)" in answer.text
    assert answer.link is not None
    assert answer.link.page == "pages/health.py"
    # Umbrella has no key contacts: the weighted component without data is still listed, with no weight and why
    assert "- **Key contacts** – (no weight): no data: no champion or decision maker on record" in answer.text


def test_peer_comparison_ranks_against_the_stored_values_of_the_segment(store: Engine) -> None:
    """MAU's percentile and median are computed over the other SMB customers' stored MAU."""
    answer = respond(store, Viewer(ANA, "csm"), "Compare Acme to its peers")
    mau = {c: _usage(store, c)[LAST]["mau"] for c in (ACME, LABS, UMBRELLA, "00000000-0000-4000-8000-000000000004")}
    rank, median = peer_summary(mau.pop(ACME), mau.values())
    facts = _facts(answer)
    assert answer.intent == PEER_COMPARE
    assert (facts["Peers"], facts["Monthly active users (MAU), percentile"],
            facts["Monthly active users (MAU), peer median"]) == (3, rank, median)


def test_drops_rank_the_largest_fall_first_with_stored_means(store: Engine) -> None:
    """Umbrella fell from six daily users to one: first, with the means of its stored rows."""
    answer = respond(store, Viewer(LEE, "leader"), "Which accounts dropped the most this month?")
    rows = _usage(store, UMBRELLA)
    recent = _mean([rows[LAST - timedelta(days=i)]["dau"] for i in range(28)])
    prior = _mean([rows[LAST - timedelta(days=28 + i)]["dau"] for i in range(28)])
    top = answer.table[0]
    assert (answer.intent, top["customer_id"]) == (TOP_DROPS, UMBRELLA)
    assert (top["recent_mean_dau"], top["prior_mean_dau"], top["change"]) == pytest.approx(
        (recent, prior, recent / prior - 1))


@pytest.mark.parametrize(("viewer", "expected"), [
    (Viewer(ANA, "csm"), 2), (Viewer(BEN, "csm"), 0), (Viewer(LEE, "leader"), 2)], ids=["owner", "other-csm", "leader"])
def test_alerts_answer_counts_the_askers_active_alerts(store: Engine, viewer: Viewer, expected: int) -> None:
    """The count is the stored active alerts on the asker's customers (all of them for a leader)."""
    with store.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(UsageAlert).join(
            Customer, Customer.customer_id == UsageAlert.customer_id).where(
            UsageAlert.status == "open", Customer.csm_email == ANA)).scalar()
    answer = respond(store, viewer, "Any usage alerts for my portfolio?")
    assert (answer.intent, _facts(answer)["Active alerts"]) == (MY_ALERTS, expected)
    assert stored == 2  # Acme Labs' abandoned feature and Umbrella's sustained usage drop


@pytest.mark.parametrize(("viewer", "found"), [
    (Viewer(BEN, "csm"), False), (Viewer(BEN, "csm", show_all=True), True), (Viewer(LEE, "leader"), True)],
    ids=["other-csm", "csm-showing-all", "leader"])
def test_a_csm_cannot_ask_about_another_csms_customer(store: Engine, viewer: Viewer, found: bool) -> None:
    """Ben does not own Acme: the chat does not know it for him (nor suggests it) unless he shows all."""
    answer = respond(store, viewer, "How is Acme Corp using the product?")
    assert (answer.customer is not None) is found
    assert found or ("don't know" in answer.text and ACME not in {c.customer_id for c in answer.choices})


def test_a_clicked_choice_answers_for_that_customer(store: Engine) -> None:
    """'acm' is ambiguous; asking again with one of the offered ids answers for it."""
    viewer = Viewer(ANA, "csm")
    first = respond(store, viewer, "how is acm doing")
    assert {c.customer_id for c in first.choices} == {ACME, LABS}
    assert respond(store, viewer, "how is acm doing", customer_id=LABS).customer.customer_id == LABS  # type: ignore[union-attr]


def test_an_unanswerable_question_lists_what_can_be_asked(store: Engine) -> None:
    """Small talk gets the list of questions the chat answers."""
    answer = respond(store, Viewer(ANA, "csm"), "what's the weather like?")
    assert answer.intent is None
    assert "Which accounts dropped the most this month?" in answer.text


def test_a_language_model_cannot_change_the_numbers(store: Engine) -> None:
    """A provider that invents a number is ignored; the deterministic answer stands."""
    plain = respond(store, Viewer(ANA, "csm"), "How is acme using the product?")
    reworded = respond(store, Viewer(ANA, "csm"), "How is acme using the product?",
                       phraser=lambda q, a: "Acme has 999 daily users.")
    assert reworded.text == plain.text


def test_without_metrics_the_chat_says_to_sync(engine: Engine) -> None:
    """A store with customers but no metrics answers how to get data, not a wrong zero."""
    build_store(engine)
    with engine.begin() as conn:
        conn.execute(UsageMetric.__table__.delete())
    answer = respond(engine, Viewer(ANA, "csm"), "How is acme using the product?")
    assert "Run a sync" in answer.text


def test_a_csm_without_customers_is_told_so(store: Engine) -> None:
    """Someone who owns no customer learns why nothing can be answered."""
    answer = respond(store, Viewer("new@cscx.io", "csm"), "How is acme using the product?")
    assert "No customers are assigned to new@cscx.io" in answer.text
