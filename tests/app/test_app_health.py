"""The Health page, through the real frame, for each role: the score and band, its components and
what moved it, the history with settings-change markers, the insufficient-data and empty states."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from pendo_core.admin.users import User
from tests.support.app import app, labels, open_page, run, texts
from tests.support.app_data import ACME, ADMIN, CSM, GLOBEX, INITECH, LEADER, UMBRELLA

PAGE = "pages/health.py"


def _chart_rows(at: AppTest) -> list[dict[str, object]]:
    """Every data row of every Altair chart on the page."""
    datasets = [d.data.data for e in at.get("vega_lite_chart") for d in e.proto.datasets]
    frames = [convert_arrow_bytes_to_pandas_df(data) for data in datasets]
    return [row for frame in frames for row in frame.to_dict("records")]


@pytest.mark.parametrize("user", [CSM, LEADER, ADMIN], ids=["csm", "leader", "admin"])
def test_health_renders_score_components_and_history(store: Engine, user: User) -> None:
    """Every role sees the score, band, components table and history of the chosen customer."""
    at = open_page(PAGE, user, frame_customer=ACME)
    assert not at.exception
    assert texts(at.title) == ["Health · Acme Corp"]
    assert [m.label for m in at.metric] == ["Health score", "Health change, 7 days", "Coverage",
                                              "Settings version"]
    assert at.metric[0].value == "70.0 / 100"
    assert "Show components" in labels(at.toggle)
    assert any("What moved it" in t for t in texts(at.markdown))
    assert len(at.dataframe) == 2  # components and daily scores, each with a download button
    assert labels(at.button) == []
    assert len(at.get("download_button")) == 2


def test_history_marks_the_settings_change(store: Engine) -> None:
    """The history chart draws a rule on the first day scored with the new settings version, with its note."""
    at = open_page(PAGE, CSM, frame_customer=ACME)
    rules = [row["what"] for row in _chart_rows(at) if "what" in row]
    assert rules == ["settings v1 → v2 by admin@cscx.io: note 2"]


def test_insufficient_data_is_explained(store: Engine) -> None:
    """A score below the coverage floor says so, with the floor and why each component is missing."""
    at = open_page(PAGE, CSM, frame_customer=UMBRELLA)
    warning = " ".join(texts(at.warning))
    assert at.metric[0].value == "No score"
    assert "Only 10% of the score's weight has data" in warning
    assert "at least 50%" in warning
    assert any("nobody was active in the last 90 days" in t for t in texts(at.markdown))


def test_customer_without_score_gets_an_explaining_empty_state(store: Engine) -> None:
    """A customer never scored explains when scores appear instead of showing an empty chart."""
    at = open_page(PAGE, CSM, frame_customer=INITECH)
    assert not at.exception
    assert not at.metric
    assert any("no health score yet" in t for t in texts(at.info))


def test_csm_cannot_see_another_csms_customer(store: Engine) -> None:
    """A CSM who asks for a colleague's customer (e.g. from an old link) gets one of their own instead."""
    at = open_page(PAGE, CSM, frame_customer=GLOBEX)
    assert texts(at.title) != ["Health · Globex"]
    assert "Globex" not in " ".join(texts(at.title) + texts(at.markdown))


def test_open_alerts_are_linked_from_health(store: Engine) -> None:
    """The health page points to the customer's open alerts."""
    at = open_page(PAGE, CSM, frame_customer=ACME)
    assert [e.proto.label for e in at.get("page_link")] == ["1 open alert(s): see Alerts"]


def test_signed_out_visitor_sees_no_health(store: Engine) -> None:
    """Opened directly without a session, the page script refuses and shows nothing of a customer."""
    at = run(app(PAGE))
    assert texts(at.warning) == ["Sign in to see this page."]
    assert not at.metric
