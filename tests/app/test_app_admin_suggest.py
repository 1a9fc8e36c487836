"""Admin → Health weights: "Suggest weights" fits the weights to the outcomes (or says why not) and
applies them as a new settings version; the page warns when the saved score's bands point the wrong
way or a naive signal ranks churners better. Admins only, as the whole page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text
from streamlit.testing.v1 import AppTest

from pages.ui import admin_weights
from pendo_core.admin.users import User
from pendo_core.store.models import AuditLog, SettingsVersion
from pendo_core.usage import queries as read
from tests.support.app import open_page, texts, use_store
from tests.support.app_data import ADMIN, CSM, LAST, LEADER, build_hand_built_store
from tests.support.health_alerts import add_customer, table_insert

PAGE = "pages/admin.py"
LEAD_DAY = LAST - timedelta(days=30)  # the back-test's default lead time


@pytest.fixture
def any_store(engine: Engine) -> Iterator[Engine]:
    """The hand-built store on SQLite and on PostgreSQL, with the app pointed at it."""
    build_hand_built_store(engine)
    if engine.dialect.name == "postgresql":  # it writes versions 1 and 2 by hand: the next save must be 3
        with engine.begin() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('app_settings_versions', 'version'), "
                              "(SELECT max(version) FROM app_settings_versions))"))
    with use_store(engine.url.render_as_string(hide_password=False)):
        yield engine


def _outcomes(engine: Engine, rows: list[tuple[float, float, bool]], *, trend_too: bool = False) -> None:
    """Customers with an outcome on LAST and a score 30 days before: (engagement, attrition, churned); with
    `trend_too` the sustained trend equals engagement (so the default weights cover more than the floor)."""
    scores, outcomes = [], []
    for i, (engagement, attrition, churned) in enumerate(rows):
        customer = f"00000000-0000-4000-8000-0000000002{i:02d}"
        add_customer(engine, customer)
        scores.append({"customer_id": customer, "score_date": LEAD_DAY, "engagement": engagement,
                       "attrition": attrition, "sustained_trend": engagement if trend_too else None,
                       "overall": None, "band": "red", "coverage": 1.0,
                       "settings_version": 0, "weights": {}, "inputs": None})
        outcomes.append({"customer_id": customer, "outcome_date": LAST, "outcome": "churned" if churned else "renewed"})
    table_insert(engine, "pendo_health_scores", scores)
    table_insert(engine, "customer_outcomes", outcomes)


def _open(engine: Engine, user: User = ADMIN) -> AppTest:
    at = open_page(PAGE, user)
    if user.role == "admin":
        assert admin_weights.backtest_loader(read.freshness(engine).stamp).wait(10) is not None
        at.run()
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(str(m.value) for m in at.metric if m.label == label)


def test_suggest_refuses_below_the_minimum_of_churned_customers(store: Engine) -> None:
    """The hand-built store has 3 churned outcomes: the page says how many it needs and offers nothing."""
    at = _open(store)
    assert any("at least 10 churned" in t for t in texts(at.caption))
    at.button(key="admin_suggest").click().run()
    assert any("at least 10 churned and 10 renewed" in t and "there are 3 churned" in t for t in texts(at.warning))
    assert not [b for b in at.button if b.key == "admin_suggest_apply"]


def test_suggested_weights_show_and_apply_as_a_new_version(any_store: Engine) -> None:
    """Engagement separates the churners, attrition points the wrong way: the suggestion puts its weight
    on engagement, beats the saved weights' AUC, and one click saves it as an audited version."""
    store = any_store
    _outcomes(store, [(10.0 + 3 * i, 60.0 + 3 * i, True) for i in range(12)]  # every churner's attrition above
              + [(40.0 + 4 * i, 10.0 + 3 * i, False) for i in range(12)])  # every renewal's
    at = _open(store)
    at.button(key="admin_suggest").click().run()
    suggested = float(_metric(at, "AUC, suggested weights (cross-validated)"))
    assert suggested > float(_metric(at, "AUC, saved weights (cross-validated)"))
    assert not [w for w in texts(at.warning) if "within the noise" in w]  # the churners are told apart clearly
    at.button(key="admin_suggest_apply").click().run()
    with store.connect() as conn:
        saved = conn.execute(select(SettingsVersion).order_by(SettingsVersion.version.desc())).first()
        logged = conn.execute(select(AuditLog.action, AuditLog.actor).order_by(AuditLog.id.desc())).first()
    assert saved is not None
    assert saved.created_by == ADMIN.email
    assert "Suggested weights" in (saved.note or "")
    weights = saved.settings["health"]["weights"]
    assert weights["engagement"] > 0
    assert weights["attrition"] == 0.0
    assert sum(weights.values()) == pytest.approx(1.0)
    assert logged is not None
    assert tuple(logged) == ("settings.save", ADMIN.email)
    assert at.slider(key="admin_w_engagement").value == round(100 * weights["engagement"])
    assert any(f"saved as settings version {saved.version}" in t for t in texts(at.success))


def test_warns_when_bands_point_the_wrong_way_and_a_naive_signal_ranks_better(store: Engine) -> None:
    """Churners scoring higher than renewals: churn rises from red to green and the AUC is below the naive
    signals' (a coin toss here, without usage rows); both are said on the page. (Engagement and attrition alone
    are 48% of the default weights, under the coverage floor, so the sustained trend is stored too.)"""
    _outcomes(store, [(90.0, 90.0, True)] * 10 + [(20.0, 20.0, False)] * 10, trend_too=True)
    at = _open(store)
    warnings = texts(at.warning)
    assert any("bands do not mean what they say" in t for t in warnings)
    assert any("ranks churners worse than a single naive signal" in t for t in warnings)


def test_a_gain_within_the_noise_is_said(store: Engine) -> None:
    """Outcomes the components barely tell apart: the suggestion comes with the warning that its gain may be noise."""
    rows = [(50.0 + (i % 5), 50.0 + ((i * 7) % 11), i % 2 == 0) for i in range(24)]
    _outcomes(store, rows, trend_too=True)
    at = _open(store)
    at.button(key="admin_suggest").click().run()
    assert [w for w in texts(at.warning) if "The gain is within the noise of" in w]


def test_no_warning_when_the_saved_score_ranks_well(store: Engine) -> None:
    """The hand-built store's saved score has monotone bands and beats the naive signals: no warning."""
    at = _open(store)
    assert not [t for t in texts(at.warning) if "Saved score" in t]


@pytest.mark.parametrize("user", [CSM, LEADER], ids=["csm", "leader"])
def test_non_admins_see_neither_the_button_nor_the_warnings(store: Engine, user: User) -> None:
    """The suggestion and the warnings live on the admin page, which refuses other roles."""
    _outcomes(store, [(90.0, 90.0, True)] * 10 + [(20.0, 20.0, False)] * 10)
    at = _open(store, user)
    assert any("not open to your role" in t for t in texts(at.error))
    assert not [b for b in at.button if b.key in ("admin_suggest", "admin_suggest_apply")]
    assert not [t for t in texts(at.warning) if "Saved score" in t]


def test_outcomes_imported_on_the_page_reach_the_suggestion_at_once(store: Engine) -> None:
    """The back-test data is kept per sync; an outcomes upload reads it again, so the fit sees the new churners."""
    _outcomes(store, [(10.0 + 3 * i, 50.0, False) for i in range(24)])  # scores, all renewed so far
    at = _open(store)
    at.button(key="admin_suggest").click().run()
    assert any("there are 3 churned" in t for t in texts(at.warning))
    rows = "".join(f"00000000-0000-4000-8000-0000000002{i:02d},churned,{LAST}\n" for i in range(12))
    at.radio(key="admin_imp_kind").set_value("outcomes").run()
    at.file_uploader(key="admin_imp_file_outcomes").set_value(
        ("outcomes.csv", f"customer_id,outcome,outcome_date\n{rows}".encode(), "text/csv")).run()
    at.button(key="admin_imp_run").click().run()
    assert admin_weights.backtest_loader(read.freshness(store).stamp).wait(10) is not None
    at.run().button(key="admin_suggest").click().run()
    assert float(_metric(at, "AUC, suggested weights (cross-validated)")) > 0.5
