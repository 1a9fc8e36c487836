"""Admin → Imports: upload the customers, contacts or outcomes CSV. The same parsers and upserts as
`python -m jobs import-customers|import-contacts|import-outcomes`, so the same line-numbered
problems: bad lines are listed by number and skipped, good lines land, and the counts are reported."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.ui import admin_weights, shared
from pendo_core.admin import users as auth
from pendo_core.customers.uploads import HEADERS, KINDS, UploadReport, text_lines, upload_csv

REPORT = "admin_imp_report"
MAX_MB = 50
ABOUT = {
    "customers": "Customers and their CSMs (upserted on customer_id; pendo_account_ids optional, joined by ;). "
                 "Pendo accounts are matched again afterwards.",
    "contacts": "Stakeholders per customer (role champion, decision_maker, admin or user), matched to Pendo "
                "visitors by e-mail. Their customers must be imported first.",
    "outcomes": "Renewal outcomes (renewed or churned, YYYY-MM-DD) for the health back-test. Their customers must "
                "be imported first.",
}


def _import(kind: str, by: str) -> None:
    upload = st.session_state.get(f"admin_imp_file_{kind}")
    if upload is None:
        st.session_state[REPORT] = (upload, None)
        return
    report = upload_csv(shared.engine(), kind, text_lines(upload.getvalue()), by=by, file_name=upload.name)
    st.cache_data.clear()  # customers, contacts and outcomes feed every page
    if kind == "outcomes":
        admin_weights.backtest_loader.clear()  # read again now, so Suggest weights sees them at once
    st.session_state[REPORT] = (upload.name, report)


def _report(name: str | None, report: UploadReport | None) -> None:
    if report is None:
        st.error("Choose a CSV file first.")
        return
    if report.imported:
        (st.warning if report.rejected else st.success)(f"{name}: {report.summary()}.")
    else:
        st.error(f"{name}: {report.summary()}. Fix the lines below and upload the file again.")
    if report.problems:
        errors = set(map(id, report.errors))
        frame = pd.DataFrame([{"line": p.line_no, "kind": "skipped" if id(p) in errors else "warning",
                               "problem": p.message} for p in report.problems])
        st.dataframe(frame, hide_index=True, key="admin_imp_problems", column_config={
            "line": st.column_config.NumberColumn("Line", format="%d"), "kind": "Outcome",
            "problem": st.column_config.TextColumn("Problem", width="large")})
        st.caption("Line numbers count the header as line 1, as a spreadsheet does. Skipped lines did not land; "
                   "warnings did.")


def render(user: auth.User) -> None:
    """The imports tab."""
    st.markdown("#### Import a CSV")
    kind = st.radio("The file holds", KINDS, format_func=str.title, horizontal=True, key="admin_imp_kind")
    st.caption(f"{ABOUT[kind]} Header: `{HEADERS[kind]}` (any column order). UTF-8; importing a file twice "
               "changes nothing.")
    st.file_uploader(f"{kind.title()} CSV", type=["csv"], key=f"admin_imp_file_{kind}", max_upload_size=MAX_MB)
    st.button(f"Import {kind}", key="admin_imp_run", type="primary", on_click=_import, args=(kind, user.email),
              icon=":material/upload:")
    shown = st.session_state.get(REPORT)
    if shown is not None:
        _report(*shown)
