"""The REST GET endpoints of pendo-api.md section 8, as plain functions: (status, JSON body)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import numpy as np

from pendo_sim import names
from pendo_sim.activity import GUIDE_TYPES, Activity
from pendo_sim.catalog import APP_IDS, DEFAULT_APP_ID, PAGES, WEB_URL
from pendo_sim.data import Subscription
from pendo_sim.records import account_object, metadata_schema, visitor_object

Reply = tuple[int, Any]
NOT_FOUND: Reply = (404, None)
_LISTS = {"feature": "features", "page": "pages", "guide": "guides"}
_SCHEMAS = {
    "visitor": "visitor",
    "account": "account",
    "VisitorMetadata": "visitor",
    "AccountMetadata": "account",
}
DAY_MS = 86_400_000


def route_get(sub: Subscription, parts: list[str], query: Mapping[str, list[str]], base64_ids: bool) -> Reply:
    """Answer GET /api/v1/<parts...>; `parts` are the raw (still URL-encoded) path segments."""
    head, rest = (parts[0] if parts else ""), parts[1:]
    if head in _LISTS:
        return _objects(sub, head, [_decode_id(p, base64_ids) for p in rest], query)
    if head == "metadata" and len(rest) == 2 and rest[0] == "schema" and rest[1] in _SCHEMAS:
        return 200, metadata_schema(_SCHEMAS[rest[1]])
    fixed = {("token", "verify"): {"valid": True, "writeAccess": True}, ("report",): []}
    if tuple(parts) in fixed:
        return 200, fixed[tuple(parts)]
    if head in ("account", "visitor") and rest:
        return _person(sub, head, _decode_id(rest[0], base64_ids), rest[1:], query)
    return NOT_FOUND


def _objects(sub: Subscription, kind: str, ids: list[str], query: Mapping[str, list[str]]) -> Reply:
    if not ids:
        return 200, _list(sub, kind, query)
    return _one(sub, kind, ids[0]) if len(ids) == 1 else NOT_FOUND


def _person(sub: Subscription, kind: str, key: str, more: list[str], query: Mapping[str, list[str]]) -> Reply:
    """An account or visitor by id, or a visitor's history."""
    if kind == "account":
        found = not more and key in sub.account_index
        return (200, account_object(sub, sub.account_index[key])) if found else NOT_FOUND
    if key not in sub.visitor_index:
        return NOT_FOUND
    v = sub.visitor_index[key]
    if not more:
        return 200, visitor_object(sub, v)
    return _history(sub, v, query) if more == ["history"] else NOT_FOUND


def _decode_id(segment: str, base64_ids: bool) -> str:
    text = unquote(segment)
    if not base64_ids:
        return text
    try:
        padded = text + "=" * (-len(text) % 4)
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_")).decode()
    except (binascii.Error, UnicodeDecodeError):
        return text


def _list(sub: Subscription, kind: str, query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = getattr(sub.catalog, _LISTS[kind])
    if "*" not in query.get("expand", []):
        objects = [o for o in objects if o["appId"] == DEFAULT_APP_ID]
    wanted = {part for value in query.get("id", []) for part in value.split(",") if part}
    if wanted:
        objects = [o for o in objects if o["id"] in wanted]
    states = set(query.get("state", []))
    if kind == "guide" and states:
        objects = [o for o in objects if o["state"] in states]
    return objects


def _one(sub: Subscription, kind: str, object_id: str) -> Reply:
    objects: list[dict[str, Any]] = getattr(sub.catalog, _LISTS[kind])
    found = [o for o in objects if o["id"] == object_id]
    return (200, found[0]) if found else NOT_FOUND


def _history(sub: Subscription, v: int, query: Mapping[str, list[str]]) -> Reply:
    """About one day of a visitor's activity from `starttime`: pages, features and guides, by time."""
    try:
        start = int(query.get("starttime", [""])[0])
    except ValueError:
        return 400, "starttime must be epoch milliseconds"
    end = start + DAY_MS
    items: list[dict[str, Any]] = []
    for i in range(max(0, sub.index_of_ms(start)), min(sub.days, sub.index_of_ms(end - 1)) + 1):
        act = sub.daybook.hours(i)
        mine = act.v == v
        items += _page_items(sub, act, mine) + _feature_items(sub, act, mine) + _guide_items(sub, act, mine)
    return 200, sorted((item for item in items if start <= item["ts"] < end), key=lambda item: item["ts"])


def _page_items(sub: Subscription, act: Activity, mine: np.ndarray) -> list[dict[str, Any]]:
    items = []
    for k in np.flatnonzero(mine[act.page_cell]).tolist():
        cell, page = int(act.page_cell[k]), int(act.page[k])
        browser, version, system = names.BROWSERS[int(sub.visitors.ua[act.v[cell], act.ua[cell]])]
        first, last = int(act.first[cell]), int(act.last[cell])
        uri = WEB_URL + PAGES[page][1].replace("*", "42")
        items.append(
            {
                "type": "page",
                "ts": first,
                "lastTs": last,
                "duration": last - first,
                "uri": uri,
                "pageId": sub.catalog.pages[page]["id"],
                "appId": APP_IDS[int(act.ua[cell] == 2)],
                "parsedUserAgent": {"name": browser, "version": version, "os": system},
            }
        )
    return items


def _feature_items(sub: Subscription, act: Activity, mine: np.ndarray) -> list[dict[str, Any]]:
    return [
        {
            "type": "feature",
            "ts": int(act.last[cell]),
            "featureId": sub.catalog.features[feature]["id"],
            "appId": APP_IDS[int(act.ua[cell] == 2)],
        }
        for k in np.flatnonzero(mine[act.feat_cell]).tolist()
        for cell, feature in [(int(act.feat_cell[k]), int(act.feat[k]))]
    ]


def _guide_items(sub: Subscription, act: Activity, mine: np.ndarray) -> list[dict[str, Any]]:
    cat = sub.catalog
    return [
        {
            "type": "guide",
            "ts": int(act.g_time[k]),
            "guideId": cat.guides[int(act.g_guide[k])]["id"],
            "guideStepId": cat.guide_steps[int(act.g_guide[k])][int(act.g_step[k])],
            "eventType": GUIDE_TYPES[int(act.g_type[k])],
        }
        for k in np.flatnonzero(mine[act.g_cell]).tolist()
    ]
