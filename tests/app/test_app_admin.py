"""The Admin page: admins only (also opened directly), weights with a live back-test and band
preview then saved as a version, thresholds, the connection test, the mapping queue and syncs."""

from __future__ import annotations

import json
import threading
from datetime import date
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from pages.ui import admin_sync, admin_weights, charts
from pendo_core.admin.users import User
from pendo_core.store.models import AccountMapping, AuditLog, MappingRejection, SettingsVersion, StoredSecret
from pendo_core.usage import queries as read
from pendo_sim.data import generate
from pendo_sim.server import start_server
from tests.support.app import app, labels, open_page, run, texts
from tests.support.app_data import ADMIN, CSM, GLOBEX, INITECH, LEADER

PAGE = "pages/admin.py"
SIM_KEY = "sim-key-0123456789abcdef"  # long enough to get an ending hint
TABS = ["Health weights", "Thresholds", "Onboarding guides", "Delivery", "Users", "API tokens", "Imports", "Access log",
        "Pendo connection", "Account mapping", "Sync"]


def _open_admin(store: Engine) -> AppTest:
    """The admin page once its background back-test read has finished."""
    at = open_page(PAGE, ADMIN)
    assert admin_weights.backtest_loader(read.freshness(store).stamp).wait(10) is not None
    return at.run()


def _metric(at: AppTest, label: str) -> str:
    return next(str(m.value) for m in at.metric if m.label == label)


def _newest_settings(engine: Engine) -> SettingsVersion:
    with engine.connect() as conn:
        return conn.execute(select(SettingsVersion).order_by(SettingsVersion.version.desc())).first()  # type: ignore


def test_admin_sees_every_tab_and_its_controls(store: Engine) -> None:
    """Weights, thresholds, connection, mapping and sync are all there for an admin, without errors."""
    at = _open_admin(store)
    assert not at.exception
    assert [t.label for t in at.tabs] == TABS
    assert labels(at.slider)[:4] == ["Engagement", "Adoption", "Trajectory", "Onboarding"]
    assert {"Test connection", "Test and save key", "Confirm mapping", "Unmap", "Sync now"} <= set(labels(at.button))
    metrics = {m.label for m in at.metric}
    assert {"AUC, candidate", "Customers changing band", "Unmapped accounts", "Last run"} <= metrics


@pytest.mark.parametrize("user", [CSM, LEADER], ids=["csm", "leader"])
@pytest.mark.parametrize("how", ["through-the-frame", "page-script-alone"])
def test_non_admins_are_refused_even_opening_the_page_directly(store: Engine, user: User, how: str) -> None:
    """Opened by URL through the frame, or as the bare page script, Admin refuses anyone but an admin."""
    at = open_page(PAGE, user) if how == "through-the-frame" else run(app(PAGE, user))
    assert any("not open to your role" in t for t in texts(at.error))
    assert not at.tabs
    assert not at.slider
    assert "Sync now" not in labels(at.button)


def test_moving_a_weight_updates_the_backtest_and_saving_makes_a_version(store: Engine) -> None:
    """The back-test and band preview answer the slider at once; saving stores a new version (weights
    normalised to sum to 1) with a note."""
    at = _open_admin(store)
    before = (_metric(at, "AUC, candidate"), _metric(at, "Customers changing band"))
    assert at.button(key="admin_weights_save").disabled
    at.slider(key="admin_w_engagement").set_value(0).run()
    at.slider(key="admin_w_adoption").set_value(30).run()
    at.slider(key="admin_w_trajectory").set_value(0).run()
    for name in ("breadth_change", "attrition", "sustained_trend", "champion"):
        at.slider(key=f"admin_w_{name}").set_value(0).run()
    after = (_metric(at, "AUC, candidate"), _metric(at, "Customers changing band"))
    assert after != before
    at.text_input(key="admin_weights_note").input("adoption only, for a test")
    at.button(key="admin_weights_save").click().run()
    saved = _newest_settings(store)
    weights = saved.settings["health"]["weights"]
    assert (saved.created_by, saved.note, weights["engagement"], weights["adoption"]) == (
        ADMIN.email, "adoption only, for a test", 0.0, 1.0)
    assert any(f"saved as settings version {saved.version}" in t for t in texts(at.success))


def _colour_ranges(node: Any) -> list[list[str]]:
    """Every colour scale's range in a Vega-Lite spec."""
    if isinstance(node, list):
        return [r for item in node for r in _colour_ranges(item)]
    if not isinstance(node, dict):
        return []
    colour = node.get("color")
    scale = colour.get("scale") if isinstance(colour, dict) else None
    found = [scale["range"]] if isinstance(scale, dict) and "range" in scale else []
    return found + [r for value in node.values() for r in _colour_ranges(value)]


def test_weights_charts_are_on_the_shared_palette(store: Engine) -> None:
    """The back-test's churn by band and the band preview draw saved and candidate in the pages' theme."""
    at = _open_admin(store)
    specs = [json.loads(str(chart.proto.spec)) for chart in at.get("vega_lite_chart")]
    ranges = [r for spec in specs for r in _colour_ranges(spec)]
    assert len(ranges) >= 2  # the churn-by-band chart and the band preview
    assert all(r == list(charts.COMPARED) for r in ranges), ranges
    assert set(charts.COMPARED) <= set(charts.PALETTE)


def test_first_render_does_not_wait_for_the_backtest(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the back-test data is still being read, the page draws everything else and says so."""
    release, real_read = threading.Event(), admin_weights.load_backtest

    def slow_read(engine: Engine) -> object:
        release.wait(5)
        return real_read(engine)

    monkeypatch.setattr(admin_weights, "load_backtest", slow_read)
    at = open_page(PAGE, ADMIN)
    assert any("Reading renewal outcomes" in t for t in texts(at.info))
    assert "Confirm mapping" in labels(at.button)
    release.set()
    admin_weights.backtest_loader(read.freshness(store).stamp).wait(5)
    assert "AUC, candidate" in {m.label for m in at.run().metric}


def test_thresholds_are_saved_as_a_version(store: Engine) -> None:
    """Changing an alert threshold and saving stores it with the other settings unchanged."""
    at = open_page(PAGE, ADMIN)
    at.number_input(key="admin_t_drop_pct").set_value(30.0).run()
    at.checkbox(key="admin_t_escalate").uncheck().run()
    at.button(key="admin_thresholds_save").click().run()
    alerts = _newest_settings(store).settings["alerts"]
    assert (alerts["usage_drop"]["drop_pct"], alerts["escalation_days"], alerts["no_login"]["days"]) == (30.0, None, 14)


def test_each_registered_rule_reads_in_words_with_its_values(store: Engine) -> None:
    """The thresholds tab states each registered kind's rule with its saved values, not the code's field names."""
    at = open_page(PAGE, ADMIN)
    said = " ".join(m.value for m in at.markdown)
    assert "no activity for 14 complete days while at least 1 colleagues were active" in said
    assert "fell at least 15 points in 28 days" in said
    assert "`" not in said.split("**Health drop**")[1].split("\n")[0]


def test_abandonment_and_guide_tests_are_thresholds(store: Engine) -> None:
    """How sure usage_drop, feature_abandonment and guide_dismissal must be, and how far above other customers a
    guide's dismissals must be, are set on the thresholds tab and saved."""
    at = open_page(PAGE, ADMIN)
    assert at.number_input(key="admin_t_abandon_sure").value == 99.0
    at.number_input(key="admin_t_abandon_sure").set_value(95.0).run()
    at.number_input(key="admin_t_drop_sure").set_value(80.0).run()
    assert at.number_input(key="admin_t_sustained_weeks").value == 8
    at.number_input(key="admin_t_sustained_weeks").set_value(6).run()
    at.number_input(key="admin_t_excess").set_value(30).run()
    at.number_input(key="admin_t_dismiss_sure").set_value(99.0).run()
    at.button(key="admin_thresholds_save").click().run()
    alerts = _newest_settings(store).settings["alerts"]
    assert (alerts["feature_abandonment"]["confidence"], alerts["usage_drop"]["confidence"]) == (0.95, 0.8)
    assert alerts["usage_drop"]["sustained_baseline_weeks"] == 6
    assert (alerts["guide_dismissal"]["min_excess"], alerts["guide_dismissal"]["confidence"]) == (0.3, 0.99)


def test_champion_thresholds_show_and_save_as_a_version(store: Engine) -> None:
    """The champion window and team minimum are on the thresholds tab, with the registry's label, and saved."""
    at = open_page(PAGE, ADMIN)
    assert any("**Champion inactive**" in t for t in texts(at.markdown))
    assert at.number_input(key="admin_t_champion_inactive_days").value == 14
    at.number_input(key="admin_t_champion_inactive_days").set_value(21).run()
    at.number_input(key="admin_t_champion_inactive_min_team_active").set_value(2).run()
    at.button(key="admin_thresholds_save").click().run()
    alerts = _newest_settings(store).settings["alerts"]
    assert (alerts["champion_inactive"], alerts["no_login"]["days"]) == ({"days": 21, "min_team_active": 2}, 14)


@pytest.mark.parametrize(("key", "base_url", "message"), [
    ("", "", "Enter the integration key"),
    ("some-key-123", "http://127.0.0.1:9", "Cannot reach http://127.0.0.1:9"),
], ids=["no-key", "unreachable-host"])
def test_connection_test_names_the_problem_and_forgets_the_key(store: Engine, key: str, base_url: str,
                                                               message: str) -> None:
    """The test says what is wrong; the typed key is cleared from the session and never shown."""
    at = open_page(PAGE, ADMIN)
    at.text_input(key="admin_key").input(key)
    at.text_input(key="admin_base_url").input(base_url)
    at.button(key="admin_test_connection").click().run()
    errors = " ".join(texts(at.error))
    assert message in errors
    assert at.session_state["admin_key"] == ""
    assert not key or key not in errors


def test_test_and_save_stores_the_key_encrypted(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key Pendo accepts is stored encrypted with its region; the page then names it by its ending only."""
    monkeypatch.setenv("CSCX_SECRET_KEY", Fernet.generate_key().decode())
    server = start_server(generate(seed=3, accounts=2, days=3, as_of=date(2026, 3, 19)), key=SIM_KEY)
    try:
        at = open_page(PAGE, ADMIN)
        at.text_input(key="admin_key").input(SIM_KEY)
        at.text_input(key="admin_base_url").input(server.url)
        at.button(key="admin_save_key").click().run()
    finally:
        server.stop()
    assert any("it is stored encrypted" in t for t in texts(at.success))
    with store.connect() as conn:
        stored = conn.execute(select(StoredSecret.name, StoredSecret.ciphertext, StoredSecret.updated_by)).one()
    assert (stored.name, stored.updated_by) == ("pendo_integration_key", ADMIN.email)
    assert SIM_KEY not in stored.ciphertext
    page_text = " ".join(texts(at.caption) + texts(at.success) + texts(at.markdown))
    assert SIM_KEY not in page_text
    assert "the stored key ending …" in page_text


@pytest.mark.parametrize(("account", "choice", "customer"), [
    ("acct-new", GLOBEX, GLOBEX),
    ("acct-lone", "__by_hand__", INITECH),
], ids=["confirm-suggestion", "pick-by-hand"])
def test_confirming_a_mapping(store: Engine, account: str, choice: str, customer: str) -> None:
    """A suggestion is confirmed, or a customer picked by hand; the mapping is stored as manual, by whom."""
    at = open_page(PAGE, ADMIN)
    at.selectbox(key="admin_map_account").set_value(account).run()
    at.radio(key="admin_map_choice").set_value(choice).run()
    if choice == "__by_hand__":
        at.selectbox(key="admin_map_customer").set_value(customer).run()
    at.button(key="admin_map_confirm").click().run()
    with store.connect() as conn:
        row = conn.execute(select(AccountMapping).where(AccountMapping.pendo_account_id == account)).one()
    assert (row.customer_id, row.method, row.mapped_by) == (customer, "manual", ADMIN.email)


def test_unmapping_is_recorded(store: Engine) -> None:
    """Unmapping removes the mapping, remembers the refusal and audits it."""
    at = open_page(PAGE, ADMIN)
    at.selectbox(key="admin_unmap_account").set_value("acct-acme").run()
    at.button(key="admin_unmap").click().run()
    with store.connect() as conn:
        assert conn.execute(select(AccountMapping.pendo_account_id)).scalars().all() == []
        assert conn.execute(select(MappingRejection.pendo_account_id)).scalars().all() == ["acct-acme"]
        assert conn.execute(select(AuditLog.action)).scalars().all() == ["mapping.unmap"]


def test_sync_history_shows_streams_and_bad_rows(store: Engine) -> None:
    """The sync tab lists runs, rows per stream and the bad rows with their reason."""
    at = open_page(PAGE, ADMIN)
    frames = [df.value for df in at.dataframe]
    streams = next(f for f in frames if "stream" in f.columns and "rows" in f.columns)
    bad = next(f for f in frames if "reason" in f.columns)
    assert dict(zip(streams["stream"], streams["rows"], strict=True)) == {"accounts": 3, "visitor_days": 120}
    assert bad["reason"].tolist() == ["missing visitorId"]


def test_sync_now_runs_in_the_background_and_reports(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """"Sync now" starts the run off the page (the page says it runs); when it ends the page says how it went."""
    release = threading.Event()

    def fake_sync() -> str:
        release.wait(5)
        return "Sync 2 finished: days a → b."

    monkeypatch.setattr(admin_sync, "_run_sync", fake_sync)
    at = open_page(PAGE, ADMIN)
    at.button(key="admin_sync_now").click().run()
    assert any("Sync running since" in t for t in texts(at.info))
    assert at.button(key="admin_sync_now").disabled
    release.set()
    assert admin_sync.sync_job().wait(5).status == "success"
    at.run()
    assert "Sync 2 finished: days a → b." in texts(at.success)


def test_mapping_scores_show_on_their_0_to_100_scale(store: Engine) -> None:
    """The queue's Score bar runs to 100, the scale suggestions are scored on (a 71 is not a full bar)."""
    at = open_page(PAGE, ADMIN)
    queue = next(d for d in at.dataframe if "score" in d.value.columns)
    config = json.loads(queue.proto.columns)["score"]
    assert (config["type_config"]["min_value"], config["type_config"]["max_value"]) == (0, 100)
    scores = queue.value["score"].dropna()
    assert not scores.empty
    assert scores.between(0, 100).all()
    assert scores.max() > 1  # on 0-100, not shares
