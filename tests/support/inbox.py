"""Driving the Alerts inbox in an AppTest: the app's today, which customers its table lists, and
selecting rows by alert id (what a click on a row does in the browser)."""

from __future__ import annotations

from datetime import date

from streamlit.testing.v1 import AppTest


def app_today() -> date:
    """Today as the app sees it (the date actions and renewals are counted from)."""
    from pages.ui import panel_ui

    return panel_ui.today()


def table_key(at: AppTest) -> str:
    """The widget key of the inbox table (it names the rows shown, so it changes with them)."""
    element_id = str(at.dataframe[0].proto.id)
    return element_id.rsplit("-", maxsplit=1)[-1]


def table_ids(at: AppTest) -> list[int]:
    """The alert ids of the table's rows, top to bottom."""
    return [int(i) for i in at.dataframe[0].value["id"]]


def table_customers(at: AppTest) -> list[str]:
    """The customers of the table's rows, each once, in order."""
    return list(dict.fromkeys(str(c) for c in at.dataframe[0].value["customer"]))


def select_alerts(at: AppTest, alert_ids: list[int]) -> AppTest:
    """Select the table rows of these alerts and rerun."""
    rows = [table_ids(at).index(i) for i in alert_ids]
    at.session_state[table_key(at)] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()
