"""Customers kept for a whole-range recompute: each keep raises a version, and a customer leaves only once
its metrics were written and its scores computed at the version it has."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.pendo.sync import store


def test_a_customer_leaves_only_at_the_version_its_metrics_were_written_for(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        store.keep_stale_score_customers(session, ["a", "b", "a"])
        assert store.stale_score_customers(session) == {"a": (1, None), "b": (1, None)}
        store.forget_stale_score_customers(session, {"a": 1, "b": 1})  # no metrics written yet: both stay
        assert list(store.stale_score_customers(session)) == ["a", "b"]
        store.mark_stale_metrics_written(session, {"a": 1, "b": 1})
        store.keep_stale_score_customers(session, ["b"])  # mapped again while the scores were computed
        assert store.stale_score_customers(session) == {"a": (1, 1), "b": (2, 1)}
        store.mark_stale_metrics_written(session, {"b": 1})  # written for the old version: stays behind
        store.forget_stale_score_customers(session, {"a": 1, "b": 1})
        assert store.stale_score_customers(session) == {"b": (2, 1)}
        store.mark_stale_metrics_written(session, {"b": 2})
        store.forget_stale_score_customers(session, {"b": 2})
        assert store.stale_score_customers(session) == {}


def test_keeping_many_at_once_raises_the_kept_ones_and_adds_the_new(engine: Engine) -> None:
    """One statement for many customers (PostgreSQL's multi-row ON CONFLICT, SQLite's upsert) raises the
    version of each customer already kept and starts the others at 1."""
    with Session(engine) as session, session.begin():
        store.keep_stale_score_customers(session, ["a", "b"])
        store.mark_stale_metrics_written(session, {"a": 1})
        store.keep_stale_score_customers(session, ["c", "b", "a"])
        assert store.stale_score_customers(session) == {"a": (2, 1), "b": (2, None), "c": (1, None)}
