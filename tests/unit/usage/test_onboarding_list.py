"""Which guides are onboarding guides by default (name or group says "onboarding", any case), the
one rule the metrics and the Admin screen's guide list share. The catalogue on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from pendo_core.usage.onboarding import guide_catalogue, named_onboarding, says_onboarding
from tests.support.health_alerts import table_insert


@pytest.mark.parametrize(("name", "group", "expected"), [
    ("Onboarding: step 1", None, True),
    ("Welcome tour", "Customer ONBOARDING", True),
    ("Welcome tour", "Marketing", False),
    (None, None, False),
    ("Onboard me", "", False),
], ids=["by-name", "by-group-any-case", "neither", "nothing", "near-miss"])
def test_the_default_rule(name: str | None, group: str | None, expected: bool) -> None:
    """The name or the group must contain the whole word "onboarding", in any case."""
    assert says_onboarding(name, group) is expected


def test_named_onboarding_ids_are_sorted() -> None:
    """The ids the rule picks, sorted, as the metrics read them."""
    guides = [("g2", "Onboarding B", None), ("g1", "onboarding a", None), ("g3", "Release notes", "News")]
    assert named_onboarding(guides) == ["g1", "g2"]


def test_the_catalogue_lists_every_guide_by_name_with_the_default(engine: Engine) -> None:
    """Every synced guide, by name, flagged when the default rule makes it an onboarding guide."""
    table_insert(engine, "pendo_guides", [
        {"guide_id": "g1", "name": "Welcome", "group_name": "Onboarding", "state": "public"},
        {"guide_id": "g2", "name": "Announcing exports", "group_name": None, "state": "public"},
        {"guide_id": "g3", "name": "Onboarding checklist", "group_name": None, "state": "draft"}])
    listed = [(g.guide_id, g.named_onboarding) for g in guide_catalogue(engine)]
    assert listed == [("g2", False), ("g3", True), ("g1", True)]
