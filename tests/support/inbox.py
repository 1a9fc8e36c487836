"""Driving the Alerts inbox in an AppTest: which alerts and customers its table lists, and
selecting rows by alert id (what a click on a row does in the browser)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


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
