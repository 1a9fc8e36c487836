"""Which Pendo guides are onboarding guides, one rule for the metrics and the Admin screen: the
admin's list (`health.onboarding_guide_ids`, a settings version like the others) when set, else every
guide whose name or group contains "onboarding" (any case)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, select

from pendo_core.store.models import PendoGuide

__all__ = ["GuideEntry", "guide_catalogue", "named_onboarding", "says_onboarding"]


@dataclass(frozen=True)
class GuideEntry:
    """A synced Pendo guide, and whether its name or group makes it onboarding by default."""

    guide_id: str
    name: str | None
    group: str | None
    state: str | None
    named_onboarding: bool


def says_onboarding(name: str | None, group: str | None) -> bool:
    """True when the guide's name or group contains "onboarding" (any case): the default rule."""
    return any(text is not None and "onboarding" in text.lower() for text in (name, group))


def named_onboarding(guides: Iterable[tuple[str, str | None, str | None]]) -> list[str]:
    """The ids, sorted, of the (id, name, group) guides the default rule makes onboarding guides."""
    return sorted(g for g, name, group in guides if says_onboarding(name, group))


def guide_catalogue(engine: Engine) -> list[GuideEntry]:
    """Every synced guide by name (then id), for picking the onboarding list."""
    g = PendoGuide
    with engine.connect() as conn:
        rows = conn.execute(select(g.guide_id, g.name, g.group_name, g.state).order_by(g.name, g.guide_id)).all()
    return [GuideEntry(gid, name, group, state, says_onboarding(name, group)) for gid, name, group, state in rows]
