"""The daily charts' 7-day-average switch on Account usage, Portfolio and the chat, for each role that opens
them, and the one legend of active users and stickiness. The charts are read back from what the page sent
(the Vega-Lite spec and its Arrow datasets)."""

from __future__ import annotations

import json
import re
from typing import Any

import altair as alt
import pandas as pd
import pytest
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from pages.ui import charts
from tests.support import REPO
from tests.support.app import app, run
from tests.support.app_data import USERS, Store, customer_ids
from tests.support.charts import datasets as _datasets
from tests.support.charts import series as _series


def _spec(chart: Any) -> str:
    return str(chart.proto.spec)


@pytest.mark.parametrize("role", ["csm", "leader", "admin"])
def test_account_usage_switch_draws_7_day_averages(app_env: Store, role: str) -> None:
    """Off, the DAU line is each day's DAU; on, each day is the mean of it and the 6 days before."""
    customer = customer_ids(app_env, "csm00@bench.cscx")[0]
    at = run(app("pages/account_usage.py", USERS[role], frame_customer=customer))
    daily = _series(at.get("vega_lite_chart")[0], "DAU")
    at.toggle(key="usage_smooth").set_value(True)
    smooth = _series(run(at).get("vega_lite_chart")[0], "DAU")
    expected = daily.rolling(7, min_periods=7).mean()
    pd.testing.assert_series_equal(smooth, expected, check_names=False)
    assert smooth.iloc[:6].isna().all()


def test_users_and_stickiness_share_one_legend(app_env: Store) -> None:
    """The stickiness line (right axis) is a legend entry beside DAU, WAU and MAU."""
    customer = customer_ids(app_env, "csm00@bench.cscx")[0]
    at = run(app("pages/account_usage.py", USERS["csm"], frame_customer=customer))
    spec = json.loads(_spec(at.get("vega_lite_chart")[0]))
    domains = [layer["encoding"]["color"]["scale"]["domain"] for layer in spec["layer"]]
    assert domains == [["DAU", "WAU", "MAU", "Stickiness (right axis)"]] * 2


@pytest.mark.parametrize("role", ["leader", "admin"])
def test_portfolio_switch_smooths_dau_and_keeps_the_7_day_ratio(app_env: Store, role: str) -> None:
    """On, Portfolio's DAU is the 7-day mean and DAU ÷ MAU shows only its 7-day line."""
    at = run(app("pages/portfolio.py", USERS[role]))
    daily = _series(at.get("vega_lite_chart")[0], "DAU")
    assert "Each day" in _spec(at.get("vega_lite_chart")[1]) or any(
        "Each day" in set(f.get("series", [])) for f in _datasets(at.get("vega_lite_chart")[1]))
    at.toggle(key="portfolio_smooth").set_value(True)
    at = run(at)
    smooth = _series(at.get("vega_lite_chart")[0], "DAU")
    pd.testing.assert_series_equal(smooth, daily.rolling(7, min_periods=7).mean(), check_names=False)
    assert not any("Each day" in set(f.get("series", [])) for f in _datasets(at.get("vega_lite_chart")[1]))


def test_smoothed_keeps_a_gap_a_gap() -> None:
    """A week with a day outside the synced data has no 7-day mean; the weekday zig-zag flattens."""
    days = pd.date_range("2026-11-01", periods=16)
    values = [10.0, 10, 10, 10, 10, 2, 2] * 2 + [None, 10.0]
    out = charts.smoothed(pd.DataFrame({"metric_date": days, "dau": values}), ["dau"])["dau"]
    assert out.iloc[6] == pytest.approx(54 / 7)
    assert out.iloc[13] == pytest.approx(54 / 7)
    assert out.iloc[14:].isna().all()


@pytest.mark.parametrize("role", ["csm", "leader", "admin"])
def test_feature_drill_down_switch_draws_7_day_averages(app_env: Store, role: str) -> None:
    """The one-feature daily chart has the switch too: on, each day's clicks are the mean of 7 days."""
    at = run(app("pages/features.py", USERS[role], features_tab="One feature, day by day"))
    daily = _series(at.get("vega_lite_chart")[0], "Clicks")
    at.toggle(key="features_smooth").set_value(True)
    smooth = _series(run(at).get("vega_lite_chart")[0], "Clicks")
    pd.testing.assert_series_equal(smooth, daily.rolling(7, min_periods=7).mean(), check_names=False)


@pytest.mark.parametrize(("days", "step"), [(7, 1), (10, 1), (28, 3), (90, 9)],
                         ids=["week", "ten-days", "four-weeks", "quarter"])
def test_daily_axes_tick_on_whole_days(days: int, step: int) -> None:
    """The chat's chart (and every daily line chart) ticks on whole days, at most 10 labels: left to Vega,
    a week-long axis ticked every 12 hours and printed each date twice ("23 Nov 23 Nov ...")."""
    first = pd.Timestamp("2026-11-23")
    rows = [{"day": (first + pd.Timedelta(days=i)).date().isoformat(), "metric": m, "visitors": 0}
            for i in range(days) for m in ("DAU", "WAU", "MAU")]
    chat = charts.chat_chart(pd.DataFrame(rows), x="day", y="visitors", series="metric", title="t", y_title="y")
    frame = pd.DataFrame({"metric_date": pd.date_range(first, periods=days), "dau": 1, "wau": 2, "mau": 3,
                          "stickiness": 0.5, "dau_mau": 0.5})
    usage = charts.users_with_stickiness(frame).to_dict()
    for spec in (chat.to_dict(), *usage["layer"]):
        axis = spec["encoding"]["x"]["axis"]
        assert axis["tickCount"] == {"interval": "day", "step": step}
        assert axis["format"] == "%d %b"


_DAYS = pd.DataFrame({"metric_date": pd.date_range("2026-11-01", periods=30), "dau": range(30), "wau": range(30),
                      "mau": range(30, 60), "stickiness": 0.25, "dau_mau": 0.2})
_BARS = pd.DataFrame({"name": ["Export", "Search"], "share": [0.4, 0.7], "settings": ["Today", "Candidate"],
                      "band": ["red", "red"], "customers": [3, 5]})
_CHARTS = {
    "lines": lambda: charts.lines(_DAYS, {"dau": "DAU", "wau": "WAU"}, "Visitors", faint=("wau",), points=True),
    "users-with-stickiness": lambda: charts.users_with_stickiness(_DAYS),
    "gauge": lambda: charts.gauge(0.31, {"Segment": 0.2, "All": None}),
    "heatmap": lambda: charts.heatmap(_BARS, x="band", y="name", value="share", x_title="Band", y_title="Feature",
                                      value_title="Share", x_sort=["red", "green"]),
    "bars": lambda: charts.bars(_BARS, x="share", y="name", x_title="Share", fmt=".0%", domain=(0, 1)),
    "compared-bars": lambda: charts.compared_bars(_BARS, x="band", x_order=["red"], series="settings",
                                                  order=["Today", "Candidate"], y=alt.Y("customers:Q"),
                                                  tooltip=["customers:Q"], label="customers"),
}


@pytest.mark.parametrize("make", list(_CHARTS.values()), ids=list(_CHARTS))
@pytest.mark.parametrize("validate", [False, True], ids=["unchecked", "checked"])
def test_show_draws_the_spec_st_altair_chart_draws(make: Any, validate: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """charts.spec (what charts.show draws) is the spec Streamlit's own Altair conversion makes, datasets and
    their names included, whether or not it checks the schema."""
    monkeypatch.setattr(charts, "VALIDATE", validate)
    chart = make()
    assert charts.spec(chart) == _convert_altair_to_vega_lite_spec(chart)


def test_a_spec_outside_the_schema_fails_only_when_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """With VALIDATE on (the tests), a chart Vega-Lite would not draw raises instead of drawing blank."""
    broken = alt.Chart(_DAYS).mark_line().encode(x="metric_date:T", y=alt.Y("dau:Q", axis=alt.Axis(format=3)))
    monkeypatch.setattr(charts, "VALIDATE", False)
    assert charts.spec(broken)["encoding"]["y"]["axis"]["format"] == 3
    monkeypatch.setattr(charts, "VALIDATE", True)
    with pytest.raises(alt.utils.schemapi.SchemaValidationError):
        charts.spec(broken)


def test_every_chart_goes_through_show() -> None:
    """No page draws an Altair chart with st.altair_chart (it checks the schema on every render)."""
    callers = [str(p.relative_to(REPO)) for p in [*(REPO / "pages").rglob("*.py"), REPO / "app.py"]
               if re.search(r"\.altair_chart\(", p.read_text())]
    assert callers == []


@pytest.mark.parametrize(("columns", "angle"), [(12, -35), (25, -60)])
def test_a_heatmap_names_every_column(columns: int, angle: int) -> None:
    """Every column label is drawn (Vega-Lite's default hid every other overlapping one), steeper past 12 columns."""
    frame = pd.DataFrame({"customer": [f"Customer {i}" for i in range(columns)], "feature": "Export",
                          "share": 0.5})
    spec = charts.heatmap(frame, x="customer", y="feature", value="share", x_title="Customer", y_title="Feature",
                          value_title="Share").to_dict(validate=False)
    axis = spec["encoding"]["x"]["axis"]
    assert (axis["labelOverlap"], axis["labelAngle"]) == (False, angle)


def test_the_health_history_writes_days_as_every_day_axis() -> None:
    """Its day axis and tooltips use the charts' one date format, not Vega-Lite's mix ("Mon 07", "October")."""
    from datetime import date

    from pages.ui import health_charts

    history = pd.DataFrame({"score_date": pd.to_datetime(["2026-11-01", "2026-11-02"]), "overall": [60.0, 62.0],
                            "band": ["red", "red"], "coverage": [1.0, 1.0], "settings_version": [1, 1]})
    chart = health_charts.history_chart(history, pd.DataFrame(), red_below=70, green_from=85, show_components=False,
                                        first=date(2026, 11, 1), last=date(2026, 11, 2))
    spec = json.dumps(chart.to_dict(validate=False))
    assert '"format": "%d %b"' in spec
    assert '"format": "%d %b %Y"' in spec
