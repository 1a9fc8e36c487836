"""The simulator's SourceProvider: Pendo source rows (pendo-api.md section 3) from a Subscription.

Rows of one calendar day are built from that day's numpy columns only when asked, so a year of
hour rows never sits in memory. Entity rows (features, pages, guides) are the stored objects:
the engine never mutates what a provider yields.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from pendo_sim import names
from pendo_sim.activity import GUIDE_TYPES, Activity
from pendo_sim.catalog import APP_IDS, PAGES, SERVERS, WEB_URL
from pendo_sim.context import QueryError
from pendo_sim.data import Subscription
from pendo_sim.records import account_row, visitor_accounts, visitor_row
from pendo_sim.timeseries import TimeRange

Row = dict[str, Any]
EVENT_SOURCES = ("events", "pageEvents", "featureEvents", "guideEvents", "trackEvents", "pollEvents")
ENTITY_SOURCES = ("visitors", "accounts", "features", "pages", "guides", "trackTypes")
_CELL_FIELDS = ("visitorId", "accountId", "appId", "server", "remoteIp", "userAgent")
_RESTRICT = {
    "pageEvents": ("pageId", "page"),
    "featureEvents": ("featureId", "feat"),
    "guideEvents": ("guideId", ""),
}


def app_indices(params: Mapping[str, Any] | None) -> set[int]:
    """App indices a source's `appId` parameter selects (absent: the default app only)."""
    value = None if params is None else params.get("appId")
    if value is None:
        return {0}
    chosen: set[int] = set()
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and item.replace(" ", "").startswith("expandAppIds("):
            return {0, 1}
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise QueryError(f'appId must be an integer, a list of integers or expandAppIds("*"), got {item!r}')
        try:
            app_id = int(item)
        except ValueError:
            raise QueryError(f"appId {item!r} is not a number") from None
        chosen |= {i for i, known in enumerate(APP_IDS) if known == app_id}
    return chosen


def _id_list(value: Any, what: str) -> set[str]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        raise QueryError(f"{what} must be a string id or a list of them, got {value!r}")
    return set(items)


class SimProvider:
    """Serves every source the simulator knows from one Subscription."""

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub
        cat = sub.catalog
        self._page_ids = [p["id"] for p in cat.pages]
        self._feature_ids = [f["id"] for f in cat.features]
        self._guide_ids = [g["id"] for g in cat.guides]
        self._ua = np.array(names.USER_AGENTS, dtype=object)
        self._guide_urls = [_guide_url(g, self._page_ids) for g in cat.guides]

    def rows(self, name: str, params: Mapping[str, Any] | None, time_range: TimeRange | None) -> Iterator[Row]:
        """Rows of source `name`; QueryError for an unknown source or a bad parameter."""
        if name in ENTITY_SOURCES:
            return self._entities(name, params)
        if name not in EVENT_SOURCES:
            raise QueryError(f"unknown source {name!r}")
        if time_range is None:
            raise QueryError(f"source {name!r} needs a timeSeries")
        apps = app_indices(params)
        if name in ("trackEvents", "pollEvents"):
            return iter(())  # the simulated product tracks no custom events and runs no polls
        only = self._restriction(name, params)
        if name == "guideEvents":
            return self._guide_events(apps, only, time_range)
        return self._aggregates(name, apps, only, time_range)

    def _restriction(self, name: str, params: Mapping[str, Any] | None) -> set[int] | None:
        if name not in _RESTRICT or not params or params.get(_RESTRICT[name][0]) is None:
            return None
        key = _RESTRICT[name][0]
        wanted = _id_list(params[key], key)
        ids = {"pageId": self._page_ids, "featureId": self._feature_ids, "guideId": self._guide_ids}[key]
        return {i for i, object_id in enumerate(ids) if object_id in wanted}

    def _entities(self, name: str, params: Mapping[str, Any] | None) -> Iterator[Row]:
        sub = self.sub
        if name == "visitors":
            identified = bool(params and params.get("identified"))
            keep = ~sub.visitors.anonymous if identified else np.ones(len(sub.visitors), bool)
            return (visitor_row(sub, v) for v in np.flatnonzero(keep).tolist())
        if name == "accounts":
            return (account_row(sub, a) for a in range(len(sub.accounts)))
        if name == "trackTypes":
            return iter(())
        app_ids = {APP_IDS[i] for i in app_indices(params)}
        objects = {
            "features": sub.catalog.features,
            "pages": sub.catalog.pages,
            "guides": sub.catalog.guides,
        }[name]
        return (obj for obj in objects if obj["appId"] in app_ids)

    def _days(self, time_range: TimeRange) -> range:
        first = max(0, self.sub.index_of_ms(time_range.start_ms))
        last = min(self.sub.days, self.sub.index_of_ms(time_range.end_ms - 1))
        return range(first, last + 1)

    def _aggregates(self, name: str, apps: set[int], only: set[int] | None, time_range: TimeRange) -> Iterator[Row]:
        bucket = time_range.period
        for i in self._days(time_range):
            act = self.sub.daybook.day(i) if bucket == "day" else self.sub.daybook.hours(i)
            cells = self._cell_mask(act, apps, time_range)
            if name == "events":
                yield from self._cell_rows(act, np.flatnonzero(cells), bucket, None)
                continue
            prefix = _RESTRICT[name][1]
            cell_ref, target = getattr(act, f"{prefix}_cell"), getattr(act, prefix)
            keep = cells[cell_ref]
            if only is not None:
                keep &= np.isin(target, list(only))
            yield from self._cell_rows(act, np.flatnonzero(keep), bucket, prefix)

    def _cell_mask(self, act: Activity, apps: set[int], time_range: TimeRange) -> np.ndarray:
        in_app = np.isin((act.ua == 2).astype(np.int64), list(apps))
        return in_app & (act.hour >= time_range.start_ms) & (act.hour < time_range.end_ms)

    def _cell_rows(self, act: Activity, idx: np.ndarray, bucket: str, prefix: str | None) -> Iterator[Row]:
        """Rows for cells (prefix None) or for page/feature sub-rows `idx`."""

        def own(col: str) -> np.ndarray:  # a column of the rows themselves: cells, or page/feature rows
            values: np.ndarray = getattr(act, col if prefix is None else f"{prefix}_{col}")[idx]
            return values

        cell = idx if prefix is None else own("cell")
        names: tuple[str, ...] = (*_CELL_FIELDS, bucket, "numEvents", "numMinutes", "firstTime", "lastTime")
        columns = [
            *self._cell_columns(act, cell),
            act.hour[cell].tolist(),
            own("events").tolist(),
            own("minutes").tolist(),
            act.first[cell].tolist(),
            act.last[cell].tolist(),
        ]
        if prefix is not None:
            key, ids = ("pageId", self._page_ids) if prefix == "page" else ("featureId", self._feature_ids)
            names += (key,)
            columns.append([ids[t] for t in getattr(act, prefix)[idx].tolist()])
        if prefix == "page":
            names += ("parameters",)
            columns.append([None] * len(idx))
        return (dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True))

    def _cell_columns(self, act: Activity, cell: np.ndarray) -> list[list[Any]]:
        """Per cell: visitor id, account id, appId, server, remote IP and user agent (as Python lists)."""
        sub, vis = self.sub, self.sub.visitors
        v, ua = act.v[cell], act.ua[cell]
        app = (ua == 2).astype(np.int64)
        acct = sub.account_of(v, act.slot[cell]).tolist()
        ips = vis.ips
        return [
            [vis.ids[x] for x in v.tolist()],
            [sub.accounts.ids[a] for a in acct],
            [APP_IDS[a] for a in app.tolist()],
            [SERVERS[a] for a in app.tolist()],
            [ips[x][y] for x, y in zip(v.tolist(), (ua != 0).astype(np.int64).tolist(), strict=True)],
            self._ua[vis.ua[v, ua]].tolist(),
        ]

    def _guide_events(self, apps: set[int], only: set[int] | None, time_range: TimeRange) -> Iterator[Row]:
        for i in self._days(time_range):
            act = self.sub.daybook.hours(i)
            cell = act.g_cell
            keep = np.isin((act.ua[cell] == 2).astype(np.int64), list(apps))
            keep &= (act.g_time >= time_range.start_ms) & (act.g_time < time_range.end_ms)
            if only is not None:
                keep &= np.isin(act.g_guide, list(only))
            idx = np.flatnonzero(keep)
            yield from self._guide_rows(act, idx[np.argsort(act.g_time[idx], kind="stable")])

    def _guide_rows(self, act: Activity, idx: np.ndarray) -> Iterator[Row]:
        sub, cat = self.sub, self.sub.catalog
        cell = act.g_cell[idx]
        vid, aid, app, server, ip, ua = self._cell_columns(act, cell)
        v = act.v[cell].tolist()
        geo = sub.accounts.geo[sub.visitors.account[act.v[cell]]].tolist()
        cols = (
            act.g_guide[idx].tolist(),
            act.g_step[idx].tolist(),
            act.g_type[idx].tolist(),
            act.g_prefixed[idx].tolist(),
            act.g_time[idx].tolist(),
            act.g_lag[idx].tolist(),
            act.g_load[idx].tolist(),
        )
        for k, (g, step, kind, prefixed, t, lag, load) in enumerate(zip(*cols, strict=True)):
            country, region, lat, lon = names.GEOS[geo[k]]
            yield {
                "guideId": self._guide_ids[g],
                "guideStepId": cat.guide_steps[g][step],
                "type": ("ui:web:" if prefixed else "") + GUIDE_TYPES[kind],
                "browserTime": t,
                "guideTimestamp": t + lag,
                "visitorId": vid[k],
                "accountId": aid[k],
                "accountIds": visitor_accounts(sub, v[k]),
                "appId": app[k],
                "url": self._guide_urls[g],
                "remoteIp": ip[k],
                "serverName": server[k],
                "userAgent": ua[k],
                "country": country,
                "region": region,
                "latitude": lat,
                "longitude": lon,
                "loadTime": load,
            }


def _guide_url(guide: Mapping[str, Any], page_ids: list[str]) -> str:
    """The URL of the page a guide's first step shows on."""
    page = PAGES[page_ids.index(guide["steps"][0]["pageId"])]
    host = WEB_URL if page[3] == 0 else f"app://{SERVERS[1]}"
    return host + page[1].replace("*", "42")
