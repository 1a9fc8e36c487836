"""Pure builders for the aggregation requests the sync sends (no I/O).

Only syntax documented in /work/shared/pendo-api.md is used; each builder names the section it
follows. Pendo has no per-account metrics source (§12): per-account usage is the `events`
source grouped by account (§5). Times are integer epoch milliseconds, the safest form (§4.3); a
`dayRange`/`hourRange` window covers every bucket from the one containing `first` to the one
containing `last`, in the subscription's timezone (§4.4).
"""

from __future__ import annotations

from typing import Any, Literal

Period = Literal["dayRange", "hourRange"]
Pipeline = list[dict[str, Any]]

ALL_APPS = 'expandAppIds("*")'  # §1.5: without it Pendo answers for the default app only
_PERIODS: tuple[str, ...] = ("dayRange", "hourRange")
_USAGE_FIELDS = {"numEvents": {"sum": "numEvents"}, "numMinutes": {"sum": "numMinutes"}}
GUIDE_EVENT_FIELDS = ("guideId", "guideStepId", "type", "browserTime", "visitorId", "accountId")


def quote(value: str) -> str:
    """A double-quoted filter literal with `\\` and `"` backslash-escaped (§6; Estuary's escaping)."""
    if not isinstance(value, str):
        raise TypeError(f"filter literals must be str, got {type(value).__name__}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def aggregation_request(pipeline: Pipeline, *, request_id: str | None = None) -> dict[str, Any]:
    """The POST /api/v1/aggregation envelope around `pipeline` (§2.1)."""
    request: dict[str, Any] = {"pipeline": pipeline}
    if request_id is not None:
        request = {"requestId": request_id, **request}
    return {"response": {"mimeType": "application/json"}, "request": request}


def time_series(period: Period, first_ms: int, last_ms: int) -> dict[str, Any]:
    """A `timeSeries` from `first_ms` to `last_ms`, both integer epoch ms (§4.1-4.3)."""
    if period not in _PERIODS:
        raise ValueError(f"period must be one of {_PERIODS}, got {period!r}")
    _require_ms("first_ms", first_ms)
    _require_ms("last_ms", last_ms)
    if first_ms > last_ms:
        raise ValueError(f"first_ms {first_ms} is after last_ms {last_ms}")
    return {"period": period, "first": first_ms, "last": last_ms}


def events_by_visitor_day(first_ms: int, last_ms: int, identified_only: bool) -> Pipeline:
    """Events summed per (account, visitor, day) across all apps (§3.1 events, §5 group), in the store's
    key order (§5 sort)."""
    keys = ["accountId", "visitorId", "day"]
    return _usage("events", "dayRange", first_ms, last_ms, identified_only, keys=keys,
                  order=["day", "accountId", "visitorId"])


def events_by_visitor_hour(first_ms: int, last_ms: int, identified_only: bool) -> Pipeline:
    """Events summed per (account, visitor, hour): the buckets sessions are built from (§3.2, §5)."""
    keys = ["accountId", "visitorId", "hour"]
    return _usage("events", "hourRange", first_ms, last_ms, identified_only, keys=keys)


def page_events_by_account_day(first_ms: int, last_ms: int, identified_only: bool) -> Pipeline:
    """Page events summed per (account, page, day) (§3.1 pageEvents, §5 group), in the store's key order."""
    keys = ["accountId", "pageId", "day"]
    return _usage("pageEvents", "dayRange", first_ms, last_ms, identified_only, keys=keys,
                  order=["day", "accountId", "pageId"])


def feature_events_by_visitor_day(first_ms: int, last_ms: int, identified_only: bool) -> Pipeline:
    """Feature events summed per (account, visitor, feature, day) (§3.1 featureEvents, §5 group), in the
    store's key order."""
    keys = ["accountId", "visitorId", "featureId", "day"]
    return _usage("featureEvents", "dayRange", first_ms, last_ms, identified_only, keys=keys,
                  order=["day", "accountId", "featureId", "visitorId"])


def guide_events(first_ms: int, last_ms: int, identified_only: bool) -> Pipeline:
    """Raw guide events, projected to the fields the guide metrics need (§3.2 guideEvents, §5 select)."""
    pipeline = [_event_source("guideEvents", "dayRange", first_ms, last_ms), *_identified(identified_only)]
    return [*pipeline, {"select": {name: name for name in GUIDE_EVENT_FIELDS}}]


def accounts_since(lastupdated_ms: int, after_id: str | None, limit: int) -> Pipeline:
    """One keyset page of accounts updated at or after `lastupdated_ms` (§3.2 accounts, §6, §10.1)."""
    source = {"source": {"accounts": {"appId": ALL_APPS}}}
    return [source, *_keyset_page("accountId", lastupdated_ms, after_id, limit)]


def visitors_since(lastupdated_ms: int, after_id: str | None, limit: int, identified_only: bool) -> Pipeline:
    """One keyset page of visitors updated at or after `lastupdated_ms` (§3.2 visitors, §6, §10.1)."""
    params: dict[str, Any] | None = {"identified": True} if identified_only else None
    return [{"source": {"visitors": params}}, *_keyset_page("visitorId", lastupdated_ms, after_id, limit)]


# --- shared pieces ------------------------------------------------------------------------------

_CURSOR = "metadata.auto.lastupdated"


def _keyset_page(id_field: str, lastupdated_ms: int, after_id: str | None, limit: int) -> Pipeline:
    """sort + filter + limit: resume strictly after (cursor, id) so equal timestamps never loop."""
    _require_ms("lastupdated_ms", lastupdated_ms)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive int, got {limit!r}")
    if after_id is None:
        condition = f"{_CURSOR} >= {lastupdated_ms}"
    else:
        condition = (
            f"{_CURSOR} > {lastupdated_ms} || "
            f"({_CURSOR} == {lastupdated_ms} && {id_field} > {quote(after_id)})"
        )
    return [{"sort": [_CURSOR, id_field]}, {"filter": condition}, {"limit": limit}]


def _usage(
    source: str, period: Period, first_ms: int, last_ms: int, identified_only: bool, *, keys: list[str],
    order: list[str] | None = None,
) -> Pipeline:
    """`order`: the rows sorted so, as the raw table's key orders them (its index pages then fill, each
    window's rows landing at the key's end in order; the store is exact in any order)."""
    group = {"group": {"group": keys, "fields": dict(_USAGE_FIELDS)}}
    sort = [{"sort": order}] if order else []
    return [_event_source(source, period, first_ms, last_ms), *_identified(identified_only), group, *sort]


def _event_source(source: str, period: Period, first_ms: int, last_ms: int) -> dict[str, Any]:
    """An event source over all apps, with its timeSeries beside it (§3, §1.5)."""
    return {"source": {source: {"appId": ALL_APPS}, "timeSeries": time_series(period, first_ms, last_ms)}}


def _identified(identified_only: bool) -> Pipeline:
    """The `identified` step that drops anonymous visitors (§5, §12), when asked for."""
    return [{"identified": "visitorId"}] if identified_only else []


def _require_ms(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int of epoch milliseconds, got {value!r}")
