"""Labelled story worlds: every account carries its story, the alerts it must raise and its renewal,
and the simulated activity does what the story says."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pendo_sim.activity import DISMISSED, SEEN, generate_origin_day
from pendo_sim.stories import (
    BY_NAME,
    CHAMPION_LEFT,
    LOSING,
    STORIES,
    Label,
    World,
    build_world,
    expected_visitor_days,
    key_contacts,
    key_contacts_by_account,
)

SEED = 4


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SEED, 120)


def _of(world: World, story: str) -> list[tuple[int, Label]]:
    return [(a, lab) for a, lab in enumerate(world.labels) if lab.story == story]


def test_every_story_is_told_and_the_world_is_reproducible(world: World) -> None:
    """Each story gets accounts in proportion to its share; the same seed gives the same labels."""
    counts = {s.name: len(_of(world, s.name)) for s in STORIES}
    assert all(counts[s.name] >= 3 for s in STORIES)
    assert sum(counts.values()) + len(_of(world, CHAMPION_LEFT)) == 120
    assert build_world(SEED, 120).labels == world.labels


@pytest.mark.parametrize(("story", "expected"), [
    ("sudden_silence", {"no_login"}),
    ("breadth_lost", {"feature_abandonment"}),
    ("steady", set()),
    ("holiday_dip", set()),
    ("false_decline", set()),
    ("weekday_only", set()),
    ("silent_churner", set()),
], ids=lambda v: v if isinstance(v, str) else None)
def test_labels_say_which_alerts_a_story_must_raise(world: World, story: str, expected: set[str]) -> None:
    """Silence must raise no_login, lost breadth feature_abandonment; look-alikes nothing; champion_inactive
    exactly when a key contact left (users of any story but the look-alikes may leave)."""
    for _, label in _of(world, story):
        rejects = {"guide_dismissal"} if label.rejected else set()  # the guide overlay on flat stories
        left = {"champion_inactive"} if label.gone else set()
        assert set(label.expected) - {"usage_drop"} - rejects == expected | left
        if BY_NAME[story].hard_negative:
            assert not label.gone
        if BY_NAME[story].hard_negative:
            assert "usage_drop" not in label.expected | label.allowed


def test_declines_require_usage_drop_when_the_expected_use_fell_enough(world: World) -> None:
    """A slide or cut of more than 25% over 28 days that still holds is a required usage_drop."""
    declines = [lab for s in ("sustained_decline", "sudden_drop") for _, lab in _of(world, s)]
    assert declines
    for label in declines:
        assert ("usage_drop" in label.expected) == (label.sustained or label.change_7d <= -0.30)
    assert all(lab.change_28d <= -0.2 for _, lab in _of(world, "sustained_decline"))


def test_breadth_lost_drops_key_features_the_account_used(world: World) -> None:
    """Two or three key features the account used stop being used 16-35 days before the end."""
    sub = world.subscription
    ids = [f["id"] for f in sub.catalog.features]
    for a, label in _of(world, "breadth_lost"):
        assert 2 <= len(label.abandoned) <= 3
        for feature_id in label.abandoned:
            f = ids.index(feature_id)
            assert sub.catalog.feature_core[f]
            assert sub.adopted[a, f]
            assert 16 <= sub.days - sub.abandon[a, f] <= 36


def test_guide_rejection_labels_a_web_guide_its_users_dismiss(world: World) -> None:
    """Some flat accounts' users are shown one web guide (not a tour) since 10-25 days ago and dismiss most
    views; their label requires guide_dismissal on it; every other account's guide events are exactly what
    they would be without the overlay."""
    sub = world.subscription
    assert sub.rejects is not None
    ids = [g["id"] for g in sub.catalog.guides]
    rejecting = [(a, lab) for a, lab in enumerate(world.labels) if lab.rejected]
    assert len(rejecting) >= 2
    assert {lab.story for _, lab in rejecting} <= {"steady", "big_steady", "growing", CHAMPION_LEFT}  # both overlays
    for a, label in rejecting:
        assert "guide_dismissal" in label.expected
        (guide,) = (ids.index(g) for g in label.rejected)
        assert sub.catalog.guide_app[guide] == 0
        assert not sub.catalog.guide_onboarding[guide]
        assert 10 <= sub.days - sub.rejects[a, guide] <= 25
    day = sub.days - 1
    act = generate_origin_day(sub, day)
    account = sub.account_of(act.v[act.g_cell], act.slot[act.g_cell])
    theirs = np.isin(account, [a for a, _ in rejecting])
    rejected = np.isin(act.g_guide, [ids.index(lab.rejected[0]) for _, lab in rejecting]) & theirs
    seen, dismissed = (int((rejected & (act.g_type == t)).sum()) for t in (SEEN, DISMISSED))
    assert seen > 0
    assert dismissed >= 0.5 * seen
    plain = generate_origin_day(replace(sub, rejects=None), day)
    plain_account = sub.account_of(plain.v[plain.g_cell], plain.slot[plain.g_cell])
    others, plain_others = ~theirs, ~np.isin(plain_account, [a for a, _ in rejecting])
    for column in ("g_cell", "g_guide", "g_type", "g_time"):
        assert np.array_equal(getattr(act, column)[others], getattr(plain, column)[plain_others])


def test_champion_left_takes_the_champion_and_nothing_else(world: World) -> None:
    """Some flat accounts' champion leaves 21-49 days before the end and their label requires champion_inactive
    on that e-mail; without the overlay the world is the same but for those accounts' churn, their champion and
    their own story: every other label, team, curve and drawn session is unchanged."""
    plain = build_world(SEED, 120, champion_left=False)
    sub = world.subscription
    left = [a for a, lab in enumerate(world.labels) if lab.story == CHAMPION_LEFT]
    assert len(left) >= 3
    assert {plain.labels[a].story for a in left} <= set(LOSING)
    assert sub.departed is not None
    gone = [key_contacts(sub, a)[0][1] for a in left]
    for a, champion in zip(left, gone, strict=True):
        assert 21 <= sub.days - sub.departed[champion] <= 49
        assert sub.visitors.ids[champion] in world.labels[a].gone  # (its decision maker may have left too)
        assert "champion_inactive" in world.labels[a].expected
    others = [a for a in range(120) if a not in left]
    assert [world.labels[a] for a in others] == [plain.labels[a] for a in others]
    curve, plain_curve = expected_visitor_days(sub, 56), expected_visitor_days(plain.subscription, 56)
    assert np.array_equal(curve[others], plain_curve[others])
    act, before = generate_origin_day(sub, sub.days - 1), generate_origin_day(plain.subscription, sub.days - 1)
    assert not np.isin(act.v, gone).any()
    assert np.isin(before.v, gone).any()
    kept = ~np.isin(before.v, gone)
    for column in ("v", "events", "minutes", "hour"):
        assert np.array_equal(getattr(act, column), getattr(before, column)[kept])
    plain_features = before.feat[kept[before.feat_cell]]
    assert np.array_equal(act.feat, plain_features)


def test_contacts_are_the_most_engaged_users_there_from_the_start(world: World) -> None:
    """Every account of two or more users has a champion; four or more, a decision maker too; both among its
    identified users there from the start, the champion the most engaged."""
    vis = world.subscription.visitors
    rows = world.contacts()
    for a, label in enumerate(world.labels):
        mine = [r for r in rows if r["customer_id"] == label.customer_id]
        team = np.flatnonzero((vis.account == a) & ~vis.anonymous & ~vis.dnp & (vis.start == 0))
        assert len(mine) == (2 if len(team) >= 4 else 1 if len(team) >= 2 else 0)
        if mine:
            assert mine[0]["role"] == "champion"
            assert vis.ids.index(mine[0]["email"]) == team[np.argmax(vis.engagement[team])]


def test_activity_follows_the_story(world: World) -> None:
    """Expected visitor-days: a silent account is empty lately, weekday-only teams are empty on weekends."""
    sub = world.subscription
    curve = expected_visitor_days(sub, 56)
    days = [sub.day_of_index(i) for i in range(sub.days - 56, sub.days)]
    weekend = np.array([d.weekday() >= 5 for d in days])
    for a, _ in _of(world, "sudden_silence"):
        assert curve[a, -15:].sum() == 0
    for a, _ in _of(world, "weekday_only"):
        assert curve[a, weekend].sum() == 0
        assert curve[a, ~weekend].sum() > 0
    tiny = [int(((sub.visitors.account == a) & ~sub.visitors.anonymous).sum()) for a, _ in _of(world, "tiny_team")]
    assert all(1 <= n <= 5 for n in tiny)


def test_outcomes_and_customers_cover_every_account(world: World) -> None:
    """One customer per account with its account id listed; silent churners all churn; renewals lie ahead."""
    customers, outcomes = world.customers(), world.outcomes()
    assert [c["pendo_account_ids"] for c in customers] == [lab.account_id for lab in world.labels]
    assert {o[0] for o in outcomes} == {c["customer_id"] for c in customers}
    assert all(lab.churned for _, lab in _of(world, "silent_churner"))
    assert all(lab.outcome_date > world.last_day for lab in world.labels)
    assert all(lab.unsynced for _, lab in _of(world, "unsynced_days"))


def test_every_accounts_key_contacts_found_in_one_pass_are_each_accounts(world: World) -> None:
    """The bench's contacts for 20,000 accounts come from one pass over the visitors; they must be the
    ones found account by account (the demo's and the labelled worlds')."""
    sub = world.subscription
    one_by_one = {a: key_contacts(sub, a) for a in range(120)}
    assert key_contacts_by_account(sub) == {a: found for a, found in one_by_one.items() if found}
    assert sum(len(found) == 2 for found in one_by_one.values()) >= 10  # teams with a decision maker too
