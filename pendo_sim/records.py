"""Visitor and account objects (aggregation rows and REST bodies) and the metadata schema descriptors."""

from __future__ import annotations

from typing import Any

from pendo_sim import names
from pendo_sim.catalog import APP_IDS, SERVERS
from pendo_sim.data import Subscription, id_hash

_ROLES = ("user", "user", "user", "admin", "viewer")


def _per_app_key(app_id: int) -> str:
    """Pendo's per-app metadata group name: `auto__323232` for app -323232."""
    return "auto_" + str(app_id).replace("-", "_")


def visitor_accounts(sub: Subscription, v: int) -> list[str]:
    """The account ids of a visitor (two for consultants)."""
    vis, ids = sub.visitors, sub.accounts.ids
    second = int(vis.account2[v])
    return [ids[int(vis.account[v])]] + ([ids[second]] if second >= 0 else [])


def visitor_row(sub: Subscription, v: int) -> dict[str, Any]:
    """The `visitors` source row of visitor index `v`."""
    vis = sub.visitors
    vid = vis.ids[v]
    first, last, updated = (int(col[v]) for col in sub.recency)
    accounts = visitor_accounts(sub, v)
    ua = int(vis.ua[v, 0])
    browser, version, system = names.BROWSERS[ua]
    auto = {
        "id": vid,
        "idhash": id_hash(vid),
        "accountid": accounts[0],
        "accountids": accounts,
        "firstvisit": first,
        "lastvisit": last,
        "lastupdated": updated,
        "lastbrowsername": browser,
        "lastbrowserversion": version,
        "lastoperatingsystem": system,
        "lastservername": SERVERS[0],
        "lastuseragent": names.USER_AGENTS[ua],
    }
    agent: dict[str, Any] = {"ipaddress": vis.ips[v][0], "language": "en-US"}
    metadata: dict[str, Any] = {
        "agent": agent,
        "auto": auto,
        _per_app_key(APP_IDS[0]): {"firstvisit": first, "lastvisit": last},
    }
    if not vis.anonymous[v]:
        agent["email"] = vid
        metadata["custom"] = {"title": names.TITLES[int(vis.title[v])], "role": _ROLES[v % len(_ROLES)]}
    if vis.mobile[v]:
        metadata[_per_app_key(APP_IDS[1])] = {"firstvisit": first, "lastvisit": last}
    metadata["pendo"] = {"donotprocess": bool(vis.dnp[v])}
    return {"visitorId": vid, "metadata": metadata}


def account_row(sub: Subscription, a: int) -> dict[str, Any]:
    """The `accounts` source row of account index `a`."""
    accts = sub.accounts
    aid = accts.ids[a]
    first, last, updated = (int(col[a]) for col in sub.account_recency)
    agent: dict[str, Any] = {"name": accts.names[a]}
    custom: dict[str, Any] = {"planlevel": accts.plan[a], "totallicenses": int(accts.licenses[a])}
    if accts.agent_domain[a]:
        agent["domain"] = accts.domains[a]
    else:
        custom["website"] = f"https://www.{accts.domains[a]}"
    auto = {"id": aid, "idhash": id_hash(aid), "firstvisit": first, "lastvisit": last, "lastupdated": updated}
    return {"accountId": aid, "metadata": {"auto": auto, "agent": agent, "custom": custom}}


def visitor_object(sub: Subscription, v: int) -> dict[str, Any]:
    """`GET /api/v1/visitor/{id}` body."""
    row = visitor_row(sub, v)
    return {"id": row["visitorId"], "accountIds": visitor_accounts(sub, v), "metadata": row["metadata"]}


def account_object(sub: Subscription, a: int) -> dict[str, Any]:
    """`GET /api/v1/account/{id}` body."""
    row = account_row(sub, a)
    return {"id": row["accountId"], "metadata": row["metadata"]}


def _field(kind: str, display: str, sample: Any = None) -> dict[str, Any]:
    out = {
        "Type": kind,
        "DisplayName": display,
        "ElementType": "",
        "ElementFormat": "",
        "Dirty": False,
        "isHidden": False,
        "isDeleted": False,
        "isCalculated": False,
        "isPerApp": False,
        "neverIndex": False,
        "isPromoted": False,
    }
    if sample is not None:
        out["sample"] = sample
    return out


_AUTO_TIMES = {"firstvisit": "First Visit", "lastvisit": "Last Visit", "lastupdated": "Last Updated"}


def metadata_schema(kind: str) -> dict[str, Any]:
    """`GET /api/v1/metadata/schema/{visitor|account}`: group -> field -> descriptor."""
    auto = {name: _field("time", label) for name, label in _AUTO_TIMES.items()}
    auto |= {"id": _field("string", "ID"), "idhash": _field("integer", "ID Hash")}
    if kind == "account":
        return {
            "auto": auto,
            "agent": {
                "name": _field("string", "Name", "Acme Corp"),
                "domain": _field("string", "Domain", "acme.com"),
            },
            "custom": {
                "planlevel": _field("string", "Plan Level", "enterprise"),
                "totallicenses": _field("integer", "Total Licenses", 250),
                "website": _field("string", "Website", "https://www.acme.com"),
            },
        }
    auto |= {
        "accountid": _field("string", "Account ID"),
        "lastbrowsername": _field("string", "Last Browser Name"),
        "lastbrowserversion": _field("string", "Last Browser Version"),
        "lastoperatingsystem": _field("string", "Last Operating System"),
        "lastservername": _field("string", "Last Server Name"),
        "lastuseragent": _field("string", "Last User Agent"),
    }
    return {
        "auto": auto,
        "agent": {
            "email": _field("string", "Email", "a@example.com"),
            "ipaddress": _field("string", "IP Address"),
            "language": _field("string", "Language"),
        },
        "custom": {"title": _field("string", "Title"), "role": _field("string", "Role")},
        "pendo": {"donotprocess": _field("boolean", "Do Not Process")},
    }
