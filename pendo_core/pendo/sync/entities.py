"""Entity streams: accounts and visitors (incremental on `lastupdated`), features, pages, guides."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import CTE, Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from pendo_core.pendo.account_metadata import account_name_and_domain
from pendo_core.pendo.client import PendoClient, PendoQueryError, queries
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.rows import BadRow, BadRows, dig, optional_ms, optional_text, unstorable
from pendo_core.pendo.sync.rows import text as req_text
from pendo_core.store import models
from pendo_core.store.upsert import upsert, upsert_many

PAGE_SIZE = 10_000
ALL_APPS = {"appId": 'expandAppIds("*")'}
KeysetQuery = Callable[[int, "str | None", int], list[dict[str, Any]]]


def _account(row: Mapping[str, Any]) -> dict[str, Any]:
    metadata = row.get("metadata") if isinstance(row.get("metadata"), Mapping) else {}
    name, domain = account_name_and_domain(dict(metadata or {}))
    return {
        "account_id": req_text(row, "accountId"),
        "name": name,
        "domain": domain,
        "metadata": metadata,
        "first_visit": optional_ms(dig(row, "metadata.auto") or {}, "firstvisit"),
        "last_visit": optional_ms(dig(row, "metadata.auto") or {}, "lastvisit"),
        "last_updated": optional_ms(dig(row, "metadata.auto") or {}, "lastupdated"),
    }


def _visitor(row: Mapping[str, Any]) -> dict[str, Any]:
    visitor_id = req_text(row, "visitorId")
    auto = dig(row, "metadata.auto") or {}
    email = dig(row, "metadata.agent.email")
    if not isinstance(email, str) or "@" not in email:
        email = visitor_id if "@" in visitor_id else None
    ids = auto.get("accountids") or ([auto["accountid"]] if auto.get("accountid") else [])
    return {
        "visitor_id": visitor_id,
        "email": email.lower() if email else None,
        "account_ids": [str(i) for i in ids] if isinstance(ids, list) else None,
        "first_visit": optional_ms(auto, "firstvisit"),
        "last_visit": optional_ms(auto, "lastvisit"),
        "last_updated": optional_ms(auto, "lastupdated"),
    }


def _keyset_sync(
    client: PendoClient, sessions: sessionmaker[Session], *, stream: str, query: KeysetQuery,
    id_key: str, table: Table, convert: Callable[[Mapping[str, Any]], dict[str, Any]], bad: BadRows,
) -> int:
    """Pages through `lastupdated >= watermark`, committing each page before moving the watermark.

    The next page is asked for as soon as this one is read (its cursor is this page's last row), on a
    worker thread while this one is converted and written: the store's upsert of 10,000 visitors and the
    download and parse of the next 10,000 overlap. A page that fails to read fails the sync after the
    pages before it committed, as before; one that fails to write drops the page read ahead."""
    with sessions() as session:
        since = int(store.get_watermark(session, stream) or 0)
    total = 0
    with ThreadPoolExecutor(1, thread_name_prefix=f"cscx-{stream}") as reader:

        def read(since: int, after: str | None) -> tuple[int, list[Any]]:
            return since, client.aggregate_all(query(since, after, PAGE_SIZE), request_id=f"cscx-{stream}")

        ahead = reader.submit(read, since, None)
        while True:
            since, page = ahead.result()
            full = len(page) == PAGE_SIZE
            if full:
                last = page[-1]
                ahead = reader.submit(read, int(dig(last, "metadata.auto.lastupdated") or since), str(last.get(id_key)))
            try:
                rows = _convert_all(page, convert, stream, bad, table)
                with sessions.begin() as session:
                    upsert_many(session, table, rows, keys=(table.primary_key.columns.keys()[0],))
                    newest = max((r["last_updated"] or 0 for r in rows), default=since)
                    store.set_watermark(session, stream, str(max(since, newest)))
            except BaseException:
                ahead.cancel()
                raise
            total += len(rows)
            if not full:
                return total


def _convert_all(page: Sequence[Any], convert: Callable[[Mapping[str, Any]], dict[str, Any]], stream: str,
                 bad: BadRows, table: Table) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for raw in page:
        try:
            if not isinstance(raw, Mapping):
                raise BadRow("row is not an object")
            row = convert(raw)
            reason = unstorable(table, row)
            if reason:
                raise BadRow(reason)
        except BadRow as exc:
            bad.add(stream, exc.reason, raw)
            continue
        rows[next(iter(row.values()))] = row
    return list(rows.values())


def sync_accounts(client: PendoClient, sessions: sessionmaker[Session], bad: BadRows) -> int:
    return _keyset_sync(client, sessions, stream="accounts", query=queries.accounts_since, id_key="accountId",
                        table=models.table_of(models.PendoAccount), convert=_account, bad=bad)


def sync_visitors(client: PendoClient, sessions: sessionmaker[Session], bad: BadRows, *,
                  identified_only: bool = True) -> int:
    def query(since: int, after: str | None, limit: int) -> list[dict[str, Any]]:
        return queries.visitors_since(since, after, limit, identified_only)

    return _keyset_sync(client, sessions, stream="visitors", query=query, id_key="visitorId",
                        table=models.table_of(models.PendoVisitor), convert=_visitor, bad=bad)


# --- definitions: features, pages, guides ----------------------------------------------------


def _definitions(client: PendoClient, source: str, rest_path: str) -> list[dict[str, Any]]:
    """All objects of a kind, via the aggregation source; the REST list if that source is refused."""
    pipeline: list[dict[str, Any]] = [{"source": {source: dict(ALL_APPS)}}, {"sort": ["lastUpdatedAt"]}]
    try:
        return client.aggregate_all(pipeline, request_id=f"cscx-{source}")
    except PendoQueryError:
        listed = client.get_json(rest_path, params={"expand": "*"})
        return [row for row in listed if isinstance(row, dict)] if isinstance(listed, list) else []


def _group_name(row: Mapping[str, Any]) -> str | None:
    group = row.get("group")
    return optional_text(group, "name") if isinstance(group, Mapping) else None


def _feature(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "feature_id": req_text(row, "id"),
        "name": optional_text(row, "name"),
        "page_id": optional_text(row, "pageId"),
        "app_id": optional_ms(row, "appId"),
        "group_name": _group_name(row),
        "is_core_event": row.get("isCoreEvent") is True,
        "last_updated_at": optional_ms(row, "lastUpdatedAt"),
    }


def _page(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "page_id": req_text(row, "id"),
        "name": optional_text(row, "name"),
        "app_id": optional_ms(row, "appId"),
        "group_name": _group_name(row),
        "last_updated_at": optional_ms(row, "lastUpdatedAt"),
    }


def _guide(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "guide_id": req_text(row, "id"),
        "name": optional_text(row, "name"),
        "state": optional_text(row, "state"),
        "group_name": _group_name(row),
        "is_multi_step": row.get("isMultiStep") is True,
        "last_updated_at": optional_ms(row, "lastUpdatedAt"),
    }


def _steps(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    steps = row.get("steps") if isinstance(row.get("steps"), list) else []
    guide_id = req_text(row, "id")
    return [
        {"step_id": req_text(step, "id"), "guide_id": guide_id,
         "rank": int(step["rank"]) if isinstance(step.get("rank"), int | float) else index,
         "name": optional_text(step, "name")}
        for index, step in enumerate(steps or [])
        if isinstance(step, Mapping)
    ]


def sync_definitions(client: PendoClient, sessions: sessionmaker[Session], bad: BadRows) -> dict[str, int]:
    """Features, pages and guides (with ranked steps): full refresh, upserted."""
    counts: dict[str, int] = {}
    for source, path, table, convert in (
        ("features", "/api/v1/feature", models.table_of(models.PendoFeature), _feature),
        ("pages", "/api/v1/page", models.table_of(models.PendoPage), _page),
        ("guides", "/api/v1/guide", models.table_of(models.PendoGuide), _guide),
    ):
        raw = _definitions(client, source, path)
        rows = _convert_all(raw, convert, source, bad, table)
        with sessions.begin() as session:
            upsert(session, table, rows, keys=tuple(table.primary_key.columns.keys()))
            if source == "guides":
                _replace_steps(session, raw, bad)
        counts[source] = len(rows)
    return counts


def _replace_steps(session: Session, guides: Sequence[Any], bad: BadRows) -> None:
    steps: list[dict[str, Any]] = []
    for guide in guides:
        try:
            steps.extend(_steps(guide) if isinstance(guide, Mapping) else [])
        except BadRow as exc:
            bad.add("guides", f"step: {exc.reason}", guide)
    upsert(session, models.table_of(models.PendoGuideStep), steps, keys=("step_id",))


def add_accounts_seen_in_activity(session: Session) -> None:
    """Accounts that only appear in events still reach the mapping queue.

    The visitor days' distinct accounts are found by walking their primary key's first column, one index
    probe per account (`_accounts_in_activity`), not by reading every row: `SELECT DISTINCT` read the whole
    table each run, 5.3 s of a 20,000-account daily run over 30 days (and growing with the days kept)."""
    accounts = models.table_of(models.PendoAccount)
    seen = _accounts_in_activity()
    known = select(accounts.c.account_id).where(accounts.c.account_id == seen.c.account_id)
    session.execute(accounts.insert().from_select(
        ["account_id"], select(seen.c.account_id).where(seen.c.account_id.is_not(None), ~known.exists())))


def _accounts_in_activity() -> CTE:
    """The distinct accounts of the visitor days, in key order (and one NULL, the end), as a recursive
    CTE: each row is the least account after the one before, which the (account_id, day) index answers at
    once."""
    days = models.table_of(models.VisitorDay)
    seen = select(func.min(days.c.account_id).label("account_id")).cte("seen_accounts", recursive=True)
    following = select(func.min(days.c.account_id)).where(days.c.account_id > seen.c.account_id)
    return seen.union_all(select(following.scalar_subquery()).where(seen.c.account_id.is_not(None)))
