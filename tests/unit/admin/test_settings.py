"""Admin settings: product defaults, one-line validation errors, versions with who/when/what changed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.admin.settings import (
    AppSettings,
    SettingChange,
    SettingsError,
    current_settings,
    parse_settings,
    save_settings,
    settings_at,
    settings_history,
)
from pendo_core.store.models import SettingsVersion


def test_defaults_are_the_product_documents() -> None:
    """Bands red < 70 <= yellow < 85 <= green (back-tested, issue 12), usage drop 20% over 4 weeks or 28 days
    at 90% sure, no login 14 days, 50% of 5."""
    s = AppSettings()
    assert (s.health.red_below, s.health.green_from) == (70, 85)
    assert (s.alerts.usage_drop.sustained_days, s.alerts.usage_drop.confidence) == (28, 0.9)
    assert (s.alerts.usage_drop.drop_pct, s.alerts.usage_drop.baseline_weeks) == (20, 4)
    assert s.alerts.usage_drop.sustained_baseline_weeks == 8
    assert s.alerts.no_login.days == 14
    assert (s.alerts.guide_dismissal.min_share, s.alerts.guide_dismissal.min_seen) == (0.5, 5)
    assert (s.alerts.feature_abandonment.recent_days, s.alerts.feature_abandonment.prior_days,
            s.alerts.feature_abandonment.min_prior_users) == (14, 28, 3)
    assert (s.alerts.champion_inactive.days, s.alerts.champion_inactive.min_team_active) == (14, 1)
    assert sum(s.health.weights.as_dict().values()) > 0


@pytest.mark.parametrize(("data", "fragment"), [
    pytest.param({"health": {"weights": {"engagement": 0, "adoption": 0, "trajectory": 0, "onboarding": 0,
                                         "breadth_change": 0, "attrition": 0, "sustained_trend": 0,
                                         "champion": 0}}},
                 "health.weights: the weights sum to 0", id="weights-sum-to-zero"),
    pytest.param({"health": {"weights": {"adoption": -1}}}, "health.weights.adoption: ", id="negative-weight"),
    pytest.param({"alerts": {"no_login": {"days": -3}}}, "alerts.no_login.days: ", id="negative-threshold"),
    pytest.param({"alerts": {"usage_drop": {"min_daily_users": -1}}}, "alerts.usage_drop.min_daily_users",
                 id="negative-floor"),
    pytest.param({"health": {"red_below": 80, "green_from": 60}}, "red_below (80) is above green_from (60)",
                 id="bands-out-of-order"),
    pytest.param({"alerts": {"guide_dismissal": {"min_share": 1.5}}}, "alerts.guide_dismissal.min_share",
                 id="share-above-one"),
    pytest.param({"alerts": {"champion_inactive": {"days": 0}}}, "alerts.champion_inactive.days: ",
                 id="champion-window-zero"),
])
def test_invalid_settings_are_rejected_with_one_line(data: dict[str, Any], fragment: str) -> None:
    """Bad values raise SettingsError naming the field, in a single line."""
    with pytest.raises(SettingsError) as caught:
        parse_settings(data)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_partial_data_keeps_the_other_defaults() -> None:
    """Settings given in part fill the rest from the defaults."""
    s = parse_settings({"alerts": {"no_login": {"days": 21}}})
    assert s.alerts.no_login.days == 21
    assert s.alerts.usage_drop == AppSettings().alerts.usage_drop


def test_nothing_saved_means_version_zero_and_defaults(sqlite_engine: Engine) -> None:
    """An empty store answers version 0 with the defaults."""
    with Session(sqlite_engine) as session:
        assert current_settings(session) == (0, AppSettings())
        assert settings_history(session) == []


def test_versions_record_who_when_and_what_changed(engine: Engine) -> None:
    """Each save is a new version; the history lists the changes against the version before."""
    first = parse_settings({"alerts": {"no_login": {"days": 21}}})
    second = parse_settings({"alerts": {"no_login": {"days": 21}}, "health": {"green_from": 80}})
    with Session(engine) as session, session.begin():
        v1 = save_settings(session, first, "ada@cscx.io", "longer quiet period")
        v2 = save_settings(session, second, "bo@cscx.io", None)
    with Session(engine) as session:
        assert current_settings(session) == (v2, second)
        assert settings_at(session, v1) == first
        history = settings_history(session)
    assert [h.version for h in history] == [v2, v1]
    assert history[0].created_by == "bo@cscx.io"
    assert history[0].created_at is not None
    assert history[0].changes == [SettingChange("health.green_from", 85.0, 80.0)]
    assert history[1].changes == [SettingChange("alerts.no_login.days", 14, 21)]
    assert history[1].note == "longer quiet period"


def test_saving_needs_who_saves(sqlite_engine: Engine) -> None:
    """A save without an author is refused."""
    with Session(sqlite_engine) as session, pytest.raises(SettingsError, match="who saves"):
        save_settings(session, AppSettings(), "  ", None)


def test_unknown_version_is_a_clear_error(sqlite_engine: Engine) -> None:
    """Asking for a version that does not exist says so."""
    with Session(sqlite_engine) as session, pytest.raises(SettingsError, match="version 7 does not exist"):
        settings_at(session, 7)


# Stored by the release before champion_inactive became a setting: no such key anywhere.
def _before_champion_settings() -> dict[str, Any]:
    """Today's defaults as a row saved before champion_inactive existed (no such key), no_login at 21 days."""
    saved = AppSettings().model_dump(mode="json")
    del saved["alerts"]["champion_inactive"]
    saved["alerts"]["no_login"]["days"] = 21
    return saved


BEFORE_CHAMPION_SETTINGS = _before_champion_settings()


def test_versions_stored_before_the_champion_setting_still_load(engine: Engine) -> None:
    """An older row loads with the champion defaults; the history shows no phantom change; the next
    save records the champion window like any other threshold."""
    with Session(engine) as session, session.begin():
        session.add(SettingsVersion(created_by="ada@cscx.io", settings=BEFORE_CHAMPION_SETTINGS, note=None))
    with Session(engine) as session, session.begin():
        version, loaded = current_settings(session)
        assert (loaded.alerts.no_login.days, loaded.alerts.champion_inactive.days) == (21, 14)
        assert settings_history(session)[0].changes == [SettingChange("alerts.no_login.days", 14, 21)]
        changed = parse_settings({**loaded.model_dump(mode="json"), "alerts": {
            **loaded.alerts.model_dump(mode="json"), "champion_inactive": {"days": 21, "min_team_active": 2}}})
        newer = save_settings(session, changed, "bo@cscx.io")
    with Session(engine) as session:
        assert settings_at(session, newer).alerts.champion_inactive.days == 21
        assert settings_history(session)[0].changes == [
            SettingChange("alerts.champion_inactive.days", 14, 21),
            SettingChange("alerts.champion_inactive.min_team_active", 1, 2)]
        assert settings_at(session, version) == loaded
