"""Admin → Thresholds: the alert rules' thresholds, escalation, and which features count as key."""

from __future__ import annotations

import re
from typing import Any

import streamlit as st
from pydantic.fields import FieldInfo

from pages.ui import admin_settings, shared
from pendo_core.admin import users as auth
from pendo_core.admin.settings import AppSettings, SettingsError, parse_settings
from pendo_core.alerts.kinds import CUSTOMER_KINDS, label

HAND_MADE = ("usage_drop", "feature_abandonment", "no_login", "guide_dismissal")  # the sections below


def _usage_drop(cfg: dict[str, Any]) -> None:
    st.markdown(f"**{label('usage_drop')}**: sudden (the last 7 complete days against the same weekdays of the weeks "
                "before) or sustained (the last 28 days against the 8 weeks before), beyond the team's own noise.")
    c = st.columns(4)
    cfg["drop_pct"] = c[0].number_input("Drop of more than (%)", 1.0, 100.0, float(cfg["drop_pct"]), 5.0,
                                        key="admin_t_drop_pct")
    cfg["baseline_weeks"] = c[1].number_input("Baseline weeks", 1, 12, int(cfg["baseline_weeks"]),
                                              key="admin_t_baseline_weeks")
    cfg["min_daily_users"] = c[2].number_input("Minimum daily users", 0.0, 10_000.0, float(cfg["min_daily_users"]),
                                               1.0, key="admin_t_min_daily", help="Below this baseline the "
                                               "account is too small for a drop to mean anything.")
    cfg["hold_days"] = c[3].number_input("Must hold for (days)", 1, 14, int(cfg["hold_days"]), key="admin_t_hold")
    c = st.columns(4)
    cfg["confidence"] = c[0].number_input("Sure it is beyond noise (%)", 50.0, 99.9, 100 * float(cfg["confidence"]),
                                          1.0, key="admin_t_drop_sure") / 100
    cfg["sustained_baseline_weeks"] = c[1].number_input(
        "Sustained: weeks before", 1, 12, int(cfg["sustained_baseline_weeks"]), key="admin_t_sustained_weeks",
        help="The last 28 days are compared with this many weeks before them (the 28 days before while "
        "the history is shorter).")


def _other_rules(alerts: dict[str, Any]) -> None:
    fa, nl, gd = alerts["feature_abandonment"], alerts["no_login"], alerts["guide_dismissal"]
    st.markdown(f"**{label('feature_abandonment')}**: a key feature used by enough people before, by nobody lately.")
    c = st.columns(4)
    fa["min_prior_users"] = c[0].number_input("Users before (at least)", 1, 10_000, int(fa["min_prior_users"]),
                                              key="admin_t_prior_users")
    fa["prior_days"] = c[1].number_input("Days before", 1, 90, int(fa["prior_days"]), key="admin_t_prior_days")
    fa["recent_days"] = c[2].number_input("Unused for (days)", 1, 60, int(fa["recent_days"]), key="admin_t_recent")
    fa["confidence"] = c[3].number_input("Sure it is not chance (%)", 0.0, 99.9, 100 * float(fa["confidence"]), 0.5,
                                         key="admin_t_abandon_sure", help="How unlikely the silence must be, "
                                         "given how often the feature was used before.") / 100
    st.markdown(f"**{label('no_login')}** and **{label('guide_dismissal')}**")
    c = st.columns(4)
    nl["days"] = c[0].number_input("No visitor active for (days)", 1, 89, int(nl["days"]), key="admin_t_no_login")
    gd["min_share"] = c[1].number_input("Dismissed by at least (%)", 1, 100, round(100 * gd["min_share"]),
                                        key="admin_t_share") / 100
    gd["min_seen"] = c[2].number_input("Of at least (viewers, 30 days)", 1, 10_000, int(gd["min_seen"]),
                                       key="admin_t_seen")
    gd["min_excess"] = c[3].number_input("Above other customers by (points)", 0, 100, round(100 * gd["min_excess"]),
                                         key="admin_t_excess", help="Against the guide's dismissal share across "
                                         "the other customers.") / 100
    c = st.columns(4)
    gd["confidence"] = c[1].number_input("Sure it is above them (%)", 0.0, 99.9, 100 * float(gd["confidence"]), 0.5,
                                         key="admin_t_dismiss_sure") / 100


def _escalation(alerts: dict[str, Any]) -> None:
    st.markdown("**Escalation**: an open alert nobody acknowledged also goes to the CSM's manager.")
    c = st.columns(4, vertical_alignment="bottom")
    escalate = c[0].checkbox("Escalate to the CSM's manager", alerts["escalation_days"] is not None,
                             key="admin_t_escalate")
    days = c[1].number_input("After (days unacknowledged)", 1, 60, int(alerts["escalation_days"] or 3),
                             key="admin_t_escalation_days", disabled=not escalate)
    alerts["escalation_days"] = int(days) if escalate else None


def _registered(alerts: dict[str, Any]) -> None:
    """Every other registered kind: a number input per int or float field of its settings model."""
    for kind in CUSTOMER_KINDS:
        if kind.key in HAND_MADE:
            continue
        st.markdown(f"**{kind.label}**: {described(kind.settings.__doc__ or '', alerts[kind.key])}")
        fields = [(n, f) for n, f in kind.settings.model_fields.items() if f.annotation in (int, float)]
        cols = st.columns(4)
        for i, (name, info) in enumerate(fields):
            alerts[kind.key][name] = _number(cols[i % 4], info, alerts[kind.key][name], f"admin_t_{kind.key}_{name}")


def described(doc: str, values: dict[str, Any]) -> str:
    """A settings model's docstring on one line, each `field` replaced by its saved value ("no activity for 14
    complete days"), so an admin reads the rule, not the code's names."""
    return re.sub(r"`(\w+)`", lambda m: f"{values[m[1]]:g}" if m[1] in values else m[1], " ".join(doc.split()))


def _number(where: Any, info: FieldInfo, value: float, key: str) -> float:
    """A number input for one field, within the field's own bounds."""
    cast = int if info.annotation is int else float
    bounds = {k: cast(getattr(m, k)) for m in info.metadata for k in ("ge", "gt", "le") if hasattr(m, k)}
    picked = where.number_input(info.title or key, bounds.get("ge", bounds.get("gt")), bounds.get("le"), cast(value),
                                help=info.description, key=key, format=None if cast is int else "%.1f")
    return float(picked)


def _key_features(health: dict[str, Any]) -> None:
    features = shared.feature_catalogue()
    st.markdown("**Key features** (adoption score and the abandonment alert)")
    if features.empty:
        st.caption("No Pendo features synced yet.")
        return
    names = dict(zip(features["feature_id"], features["name"], strict=True))
    core = features.loc[features["is_key"], "feature_id"].tolist()
    custom = st.toggle("Pick key features by hand (instead of Pendo's Core Events)",
                       health["key_feature_ids"] is not None, key="admin_t_custom_keys")
    if not custom:
        st.caption(f"Using Pendo's {len(core)} Core Events: " + ", ".join(names[f] for f in core))
        health["key_feature_ids"] = None
        return
    chosen = st.multiselect("Key features", list(names), default=list(health["key_feature_ids"] or core),
                            format_func=names.__getitem__, key="admin_t_keys")
    health["key_feature_ids"] = chosen


def render(user: auth.User) -> None:
    """The thresholds tab: edit, then save all of it as one new settings version."""
    version, saved = admin_settings.load_settings()
    data = saved.model_dump(mode="json")
    st.caption(f"Settings version {version or '0 (product defaults)'}. Changes apply from the next sync.")
    _usage_drop(data["alerts"]["usage_drop"])
    _other_rules(data["alerts"])
    _registered(data["alerts"])
    _escalation(data["alerts"])
    st.divider()
    _key_features(data["health"])
    try:
        candidate: AppSettings | None = parse_settings(data)
    except SettingsError as exc:
        candidate = None
        st.error(f"These thresholds cannot be used: {exc}")
    note = st.text_input("Note for this version", key="admin_thresholds_note", placeholder="Why the change")
    changed = candidate is not None and candidate != saved
    if st.button("Save thresholds as a new version", key="admin_thresholds_save", type="primary",
                 disabled=not changed, icon=":material/save:") and candidate is not None:
        admin_settings.save(candidate, user.email, note, "Thresholds")
        st.rerun()
