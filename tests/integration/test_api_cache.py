"""The API's short-lived cache (`python -m api --cache-seconds`): kept answers expire, are bounded, and
never widen what a caller may see; verified tokens are kept by their hash."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select

from api import ApiContext, create_app
from api.cache import TtlCache
from pendo_core.admin.tokens import hash_token
from pendo_core.common.config import Settings
from pendo_core.store.models import UsageMetric
from tests.integration.test_api_endpoints import _alert_id
from tests.support.chat_api import ACME, ANA, BEN, GLOBEX, LEE, NOW, SharedStore, add_users, build_store


class FakeClock:
    """Seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("seconds", "wait", "expected_calls"), [
    (5, 4.9, 1), (5, 5.0, 2), (0, 0.0, 2)], ids=["fresh-kept", "expired-recomputed", "off-never-kept"])
def test_an_answer_is_kept_for_its_seconds_only(seconds: float, wait: float, expected_calls: int) -> None:
    """A second ask within the time reuses the answer; at the time, or with caching off, it is computed again."""
    clock, calls = FakeClock(), []
    cache = TtlCache(seconds, clock=clock)
    cache.get_or_compute("k", lambda: calls.append(1) or "answer")
    clock.now += wait
    assert (cache.get_or_compute("k", lambda: calls.append(1) or "answer"), len(calls)) == ("answer", expected_calls)


@pytest.mark.parametrize("first_fails", [False, True], ids=["one-computation", "first-fails"])
def test_callers_missing_one_key_at_once_share_one_computation(first_fails: bool) -> None:
    """Ten threads asking for an expired key at once: one computes and the others get its answer; when that
    computation fails, each waiting caller computes for itself (the failure is not kept)."""
    cache, calls, lock = TtlCache(60), [], threading.Lock()
    start = threading.Barrier(10)

    def compute() -> str:
        with lock:
            calls.append(1)
            failing = first_fails and len(calls) == 1
        time.sleep(0.2)  # long enough for every other thread to arrive and wait
        if failing:
            raise RuntimeError("the first computation fails")
        return "answer"

    def ask() -> str:
        start.wait()
        try:
            return cache.get_or_compute("k", compute)
        except RuntimeError as exc:
            return str(exc)

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: ask(), range(10)))
    assert sorted(set(answers)) == (["answer", "the first computation fails"] if first_fails else ["answer"])
    assert len(calls) == (answers.count("answer") + 1 if first_fails else 1)


def test_the_least_recently_used_answer_goes_first() -> None:
    """At most `max_entries` are kept; the one asked for least recently is dropped."""
    cache = TtlCache(60, max_entries=2, clock=FakeClock())
    for key in ("a", "b"):
        cache.put(key, key)
    cache.get("a")
    cache.put("c", "c")
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == ("a", None, "c", 2)


def _client(store: SharedStore, seconds: float) -> tuple[TestClient, ApiContext]:
    ctx = ApiContext(store.engine, Settings(pendo_timezone="UTC"), clock=lambda: NOW,
                     answers=TtlCache(seconds), tokens=TtlCache(seconds))
    return TestClient(create_app(ctx)), ctx


def _get(client: TestClient, token: str, path: str) -> Any:
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


CACHED_PATHS = ["/api/pendo/accounts/globex-1/usage", "/api/pendo/accounts/globex-1/features",
                "/api/pendo/accounts/globex-1/guides", "/api/pendo/accounts/globex-1/visitors",
                f"/api/pendo/customer/{GLOBEX}/metrics"]


@pytest.mark.parametrize("path", CACHED_PATHS, ids=["usage", "features", "guides", "visitors", "metrics"])
def test_a_kept_answer_is_the_fresh_one_and_never_shown_outside_scope(shared_store: SharedStore, path: str) -> None:
    """Once Ben (Globex's CSM) has read an answer, it equals the uncached one, and Ana still gets 404."""
    store = shared_store.fresh()
    cached, ctx = _client(store, 60)
    fresh, _ = _client(store, 0)
    first = _get(cached, store.tokens[BEN], path)
    assert len(ctx.answers) == 2  # the answer, and the newest synced day its range defaulted to
    assert _get(cached, store.tokens[BEN], path).json() == first.json() == _get(fresh, store.tokens[BEN], path).json()
    assert _get(cached, store.tokens[ANA], path).status_code == 404
    assert _get(cached, store.tokens[ANA], path.replace("globex-1", "acme-1").replace(GLOBEX, ACME)).status_code == 200


@pytest.mark.parametrize(("seconds", "moves"), [(60, False), (0, True)], ids=["kept", "not-cached"])
def test_the_newest_day_is_kept_with_the_answers(shared_store: SharedStore, seconds: float, moves: bool) -> None:
    """The default end of a range (the newest synced day) is read once per `--cache-seconds`, not per
    request: a day synced meanwhile shows once the kept answers expire (at once without a cache)."""
    store = shared_store.fresh()
    client, _ = _client(store, seconds)
    path = f"/api/pendo/customer/{ACME}/metrics"
    before = _get(client, store.tokens[LEE], path).json()["last"]
    with store.engine.begin() as conn:
        last = conn.scalar(select(func.max(UsageMetric.metric_date)))
        row = conn.execute(select(UsageMetric).where(UsageMetric.metric_date == last).limit(1)).mappings().one()
        conn.execute(insert(UsageMetric).values({**row, "metric_date": last + timedelta(days=1)}))
    after = _get(client, store.tokens[LEE], path).json()["last"]
    assert after == (last + timedelta(days=1) if moves else last).isoformat()
    assert before == last.isoformat()


def test_verified_tokens_are_kept_by_hash_and_bad_ones_not_at_all(shared_store: SharedStore) -> None:
    """A good token is kept under its SHA-256 (never the token itself); a wrong one is not kept."""
    store = shared_store.fresh()
    client, ctx = _client(store, 60)
    _get(client, store.tokens[LEE], "/api/pendo/health-scores")
    _get(client, "cscx_not-a-token", "/api/pendo/health-scores")
    assert ctx.tokens.get(hash_token(store.tokens[LEE])).email == LEE
    assert (ctx.tokens.get(store.tokens[LEE]), ctx.tokens.get(hash_token("cscx_not-a-token")), len(ctx.tokens)) == (
        None, None, 1)


@pytest.mark.parametrize("path", ["/api/pendo/accounts", "/api/pendo/health-scores", "/api/pendo/alerts"],
                         ids=["accounts", "health-scores", "alerts"])
def test_a_kept_list_is_kept_per_callers_view(shared_store: SharedStore, path: str) -> None:
    """Lists are kept per caller's view: after the leader's list, Ana and Ben each get their own, as uncached."""
    store = shared_store.fresh()
    cached, _ = _client(store, 60)
    fresh, _ = _client(store, 0)
    for who in (LEE, ANA, BEN, ANA):
        assert _get(cached, store.tokens[who], path).json() == _get(fresh, store.tokens[who], path).json()


def test_an_alert_action_is_seen_at_once_in_the_kept_list(engine: Engine) -> None:
    """Acknowledging through the API clears the kept answers: the next list shows the new status."""
    build_store(engine)
    tokens = add_users(engine)
    ctx = ApiContext(engine, Settings(pendo_timezone="UTC"), clock=lambda: NOW, answers=TtlCache(60))
    client, alert = TestClient(create_app(ctx)), _alert_id(engine)
    before = _get(client, tokens[ANA], "/api/pendo/alerts").json()["items"]
    client.post(f"/api/pendo/alerts/{alert}/acknowledge", headers={"Authorization": f"Bearer {tokens[ANA]}"})
    after = _get(client, tokens[ANA], "/api/pendo/alerts").json()["items"]
    status = {a["id"]: a["status"] for a in after}
    assert ({a["id"]: a["status"] for a in before}[alert], status[alert]) == ("open", "acknowledged")
