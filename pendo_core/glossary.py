"""The one wording of each definition the product quotes: chat answers, API field help and page help."""

from __future__ import annotations

from pendo_core.admin.settings import HealthSettings
from pendo_core.usage.measures import BREADTH_DEFINITION

_HEALTH = HealthSettings()  # the defaults an admin starts from
_WEIGHTED = ", ".join(name.replace("_", " ") for name, w in _HEALTH.weights.as_dict().items() if w > 0)

DEFINITIONS = {
    "dau": "DAU = distinct identified visitors active on the day (a Pendo events row with numEvents > 0), "
           "counted once across the customer's Pendo accounts.",
    "wau": "WAU = distinct visitors active on any of the 7 days ending on the day.",
    "mau": "MAU = distinct visitors active on any of the 30 days ending on the day.",
    "sessions": "A session is a run of consecutive active hours of one visitor in one account, counted on the "
                "day it starts; average length = minutes in app that day ÷ sessions.",
    "breadth": BREADTH_DEFINITION,
    "adoption": "A feature is used when the customer has a day of use of it (a pendo_feature_usage row) in the "
                "30 days ending on the day; peer share = share of the peers with at least one such day.",
    "gap_peers": "Peers = the other customers of the same segment (as on the Feature adoption page).",
    "peers": "Peers = customers of the same segment (all customers when it has none) with MAU above 0 on the "
             "day, the customer itself left out; percentile rank = share of peers below plus half of those "
             "equal.",
    "abandoned": "Abandoned key feature = a key feature with at least 3 distinct users in the 28 days before "
                 "the last 14, and no use at all in the last 14 days.",
    "health": f"Health = weighted mean (0–100) of the components with data, weights renormalised over them (by "
              f"default {_WEIGHTED}; admins set the weights); bands red < {_HEALTH.red_below:g} ≤ yellow < "
              f"{_HEALTH.green_from:g} ≤ green unless an admin changed them.",
    "alerts": "Active alerts = open, acknowledged or snoozed; dismissed and resolved ones are left out.",
}
