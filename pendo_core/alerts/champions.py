"""The `champion_inactive` rule: a champion or decision maker gone quiet while their team still works.

Rule (pure, per contact of role champion or decision_maker, `last_day` the last complete day):
- **fire** when the contact matches a Pendo visitor, none of its visitors was active in the customer's
  accounts in the last `days` days (default 14), and at least `min_team_active` of the customer's other
  identified visitors were;
- **clear** when the contact was active, when the team is quiet too (that is `no_login`'s to say, and
  when `no_login` fires every champion finding is cleared: never two alerts for one silence), or when
  no visitor carries the contact's e-mail (a data problem, listed by `people.unmatched_contacts`);
- **unknown** (that contact's alert stays as it is) when one of those days is not synced.

The subject is the contact's e-mail; a contact who is no longer a champion or decision maker has no
finding, so its alert resolves. The kind is evaluated with every other kind by the alerts job
(`kinds.py` registers it, `inputs.py` reads the contacts' activity).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pendo_core.alerts.rules import Finding
from pendo_core.alerts.settings import ChampionSettings

if TYPE_CHECKING:

    pass

KIND = "champion_inactive"
ROLE_LABELS = {"champion": "champion", "decision_maker": "decision maker"}
CHAMPION_ACTION = ("Check in with them: a new role or a departure puts the renewal at risk; if they moved on, find "
                   "and enable a new champion.")


@dataclass(frozen=True)
class StakeholderWindow:
    """What the rule knows of one champion or decision maker."""

    email: str
    name: str
    role: str
    title: str | None
    matched: bool
    last_active: date | None  # None: not active in the lookback
    team_active: int  # the customer's other visitors active in the rule's window
    lookback_days: int  # how far back last_active was looked for (the people lookback)


def champion_inactive(person: StakeholderWindow, last_day: date, synced: bool, cfg: ChampionSettings) -> Finding:
    """Fire when a matched champion or decision maker was idle for cfg.days while the team was not."""
    if not person.matched:
        return Finding(KIND, "clear", person.email, details={"unmatched": True})
    if not synced:
        return Finding(KIND, "unknown", person.email)
    since = last_day - timedelta(days=cfg.days - 1)
    if person.last_active is not None and person.last_active >= since:
        return Finding(KIND, "clear", person.email)
    if person.team_active < cfg.min_team_active:
        return Finding(KIND, "clear", person.email, details={"team_quiet": True})
    quiet = (last_day - person.last_active).days if person.last_active else None
    severity = "high" if quiet is None or quiet >= 2 * cfg.days else "medium"
    return Finding(KIND, "fire", person.email, severity, _details(person, quiet, cfg), _action(person, quiet))


def _details(person: StakeholderWindow, quiet: int | None, cfg: ChampionSettings) -> dict[str, Any]:
    return {"contact_name": person.name, "contact_email": person.email, "role": person.role, "title": person.title,
            "last_active_day": person.last_active.isoformat() if person.last_active else None,
            "days_inactive": quiet, "window_days": cfg.days, "team_active_visitors": person.team_active,
            "lookback_days": person.lookback_days}


def _action(person: StakeholderWindow, quiet: int | None) -> str:
    who = f"{person.name} ({ROLE_LABELS.get(person.role, person.role)}{', ' + person.title if person.title else ''})"
    since = (f"since {person.last_active.isoformat()} ({quiet} days)" if person.last_active
             else f"in the last {person.lookback_days} days")
    team = f"{person.team_active} colleague{'s' if person.team_active != 1 else ''}"
    return f"{who} has not used the product {since} while {team} still did. {CHAMPION_ACTION}"


def champion_numbers(details: Mapping[str, Any]) -> str:
    """A champion_inactive alert's numbers in one line."""
    who = f"{details.get('contact_name')} ({ROLE_LABELS.get(str(details.get('role')), details.get('role'))})"
    quiet = (f"no activity for {details['days_inactive']} days (last active {details.get('last_active_day')})"
             if details.get("days_inactive") is not None else f"no activity in {details.get('lookback_days')} days")
    team = f"{details.get('team_active_visitors')} colleague(s) active in the last {details.get('window_days')} days"
    return f"{who}: {quiet}; {team}"


def evaluate_champions(people: list[StakeholderWindow], dau: Mapping[date, int], last_day: date,
                       cfg: ChampionSettings) -> list[Finding]:
    """Every key contact's finding for one customer (the registry then lets no_login silence them)."""
    synced = all(last_day - timedelta(days=i) in dau for i in range(cfg.days))
    return [champion_inactive(p, last_day, synced, cfg) for p in people]

