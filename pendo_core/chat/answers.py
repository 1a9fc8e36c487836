"""Answers about one customer, as pure functions of the facts (facts.py, peers.py).

Each answer quotes its numbers (as `Fact`s and in the text), the window they cover, their
definitions, and links to the page with the detail. Nothing here reads the store.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pendo_core.chat import text as t
from pendo_core.chat.facts import GapFacts
from pendo_core.chat.intents import FEATURE_GAPS, HEALTH_WHY, PEER_COMPARE, USAGE_SUMMARY, USAGE_TREND
from pendo_core.chat.model import Answer, Chart, Fact
from pendo_core.chat.peers import PeerFacts
from pendo_core.chat.windows import prior_span, recent_span
from pendo_core.glossary import DEFINITIONS
from pendo_core.health.facts import HealthFacts
from pendo_core.usage.facts import UsageFacts
from pendo_core.usage.measures import STICKINESS_DEFINITION, stickiness_text, trend_definition

MAX_GAPS = 8
NOT_SYNCED = ("has no stored usage for {day}: it has no mapped Pendo account yet, or that day is not synced. "
              "The mapping queue (Admin) shows unmapped accounts.")


def _trend_window(facts: UsageFacts) -> str:
    return (f"{recent_span(facts.day, facts.days).text} vs {prior_span(facts.day, facts.days).text}")


def is_quiet(facts: UsageFacts) -> bool:
    """True when nobody at the customer was active in the 7 days ending the last synced day looked at."""
    return facts.last_active is not None and facts.last_active.is_quiet


def quiet_sentence(facts: UsageFacts) -> str:
    """The silence an answer must lead with: "No one ... has been active since <day> (N days)"; empty when
    someone was active in the 7 days ending the last synced day looked at."""
    found = facts.last_active
    if found is None or not found.is_quiet:
        return ""
    name = facts.customer.name
    if found.day is None:
        return f"**No one at {name} has been active** on any synced day up to {found.through}."
    return (f"**No one at {name} has been active since {found.day}** ({found.quiet_days} days without an "
            f"active visitor, up to {found.through}).")


def _quiet_numbers(facts: UsageFacts) -> list[Fact]:
    found = facts.last_active
    if found is None or not found.is_quiet:
        return []
    day = None if found.day is None else found.day.isoformat()
    return [t.fact("Last active day", day or "–", day),
            t.fact(f"Days without an active visitor, up to {found.through}", t.count(found.quiet_days),
                   found.quiet_days)]


def usage_summary(facts: UsageFacts) -> Answer:
    """How a customer is using the product: the day's active users, sessions, trend and breadth; led by the
    silence when nobody was active in the last 7 days."""
    name, row = facts.customer.name, facts.row
    if row is None:
        return Answer(USAGE_SUMMARY, f"**{name}** " + NOT_SYNCED.format(day=facts.day), customer=facts.customer,
                      link=t.page("usage", facts.customer.customer_id))
    numbers = _usage_numbers(facts, row) + _quiet_numbers(facts)
    shown = {f.label: f.shown for f in numbers}
    lines = [
        quiet_sentence(facts),
        f"**{name}** on {facts.day}: **{shown['DAU']}** daily active users, **{shown['WAU']}** weekly and "
        f"**{shown['MAU']}** monthly; stickiness **{shown['Stickiness']}**.",
        f"Sessions that day: **{shown['Sessions']}** (average **{shown['Average session (min)']}** min).",
        _trend_sentence(facts, shown),
        _breadth_sentence(facts, shown),
    ]
    return Answer(USAGE_SUMMARY, "\n\n".join(line for line in lines if line), tuple(numbers),
                  f"day {facts.day}; trend {_trend_window(facts)}",
                  (DEFINITIONS["dau"], DEFINITIONS["wau"], DEFINITIONS["mau"], STICKINESS_DEFINITION,
                   DEFINITIONS["sessions"], trend_definition(facts.days), DEFINITIONS["breadth"]),
                  t.page("usage", facts.customer.customer_id), facts.customer)


def _usage_numbers(facts: UsageFacts, row: dict[str, Any]) -> list[Fact]:
    numbers = [t.fact("DAU", t.count(row["dau"]), row["dau"]), t.fact("WAU", t.count(row["wau"]), row["wau"]),
               t.fact("MAU", t.count(row["mau"]), row["mau"]),
               t.fact("Stickiness", stickiness_text(facts.stickiness), facts.stickiness),
               t.fact("Sessions", t.count(row["session_count"]), row["session_count"]),
               t.fact("Average session (min)", t.decimal(row["avg_session_minutes"]), row["avg_session_minutes"]),
               t.fact(f"Mean DAU, last {facts.days} days", t.decimal(facts.recent_mean), facts.recent_mean),
               t.fact(f"Mean DAU, {facts.days} days before", t.decimal(facts.prior_mean), facts.prior_mean),
               t.fact("DAU trend", t.percent(facts.trend, signed=True), facts.trend)]
    if facts.breadth is not None:
        used = round(facts.breadth * facts.key_count)
        numbers += [t.fact("Key features used", f"{used} of {facts.key_count}", used),
                    t.fact("Key-feature breadth", t.percent(facts.breadth), facts.breadth)]
    return numbers


def _trend_sentence(facts: UsageFacts, shown: dict[str, str]) -> str:
    if facts.recent_mean is None or facts.prior_mean is None:
        return f"Not enough synced days for a {facts.days}-day trend."
    if facts.prior_mean == 0 and facts.recent_mean == 0:
        return (f"Nobody was active in the last {facts.days} days nor in the {facts.days} days before, so there "
                "is no trend to show.")
    if facts.prior_mean == 0:
        recent = shown[f"Mean DAU, last {facts.days} days"]
        return (f"Over the last {facts.days} days DAU averaged **{recent}**; nobody was "
                f"active in the {facts.days} days before, so there is no trend yet.")
    change = f", **{shown['DAU trend']}**" if facts.trend is not None else ""
    recent, prior = shown[f"Mean DAU, last {facts.days} days"], shown[f"Mean DAU, {facts.days} days before"]
    return (f"Over the last {facts.days} days DAU averaged **{recent}**{change} against "
            f"**{prior}** in the {facts.days} days before.")


def _breadth_sentence(facts: UsageFacts, shown: dict[str, str]) -> str:
    if facts.breadth is None:
        return "No key features are defined, so there is no breadth (mark Core Events in Pendo, or pick them in Admin)."
    return (f"Key features: **{shown['Key features used']}** used in the last 30 days "
            f"(**{shown['Key-feature breadth']}**).")


def usage_trend(facts: UsageFacts, history: pd.DataFrame) -> Answer:
    """The usage trend as a chart of DAU, WAU and MAU, with the 28-day comparison in words."""
    base = usage_summary(facts)
    if facts.row is None and history["dau"].isna().all():
        return Answer(USAGE_TREND, base.text, customer=facts.customer, link=base.link)
    first, last = history["metric_date"].min().date(), history["metric_date"].max().date()
    synced = int(history["dau"].notna().sum())
    shown = {f.label: f.shown for f in base.facts}
    lines = [quiet_sentence(facts),
             f"**{facts.customer.name}**, daily, weekly and monthly active users from {first} to {last} "
             f"({synced} of {len(history)} days synced; gaps are days without data, not zeros).",
             _trend_sentence(facts, shown) if shown else ""]
    numbers = (*base.facts, t.fact("Synced days in the chart", str(synced), synced))
    return Answer(USAGE_TREND, "\n\n".join(line for line in lines if line), numbers,
                  f"chart {first} → {last}; trend {_trend_window(facts)}",
                  (DEFINITIONS["dau"], DEFINITIONS["wau"], DEFINITIONS["mau"], trend_definition(facts.days)),
                  base.link, facts.customer, chart=_trend_chart(history))


def _trend_chart(history: pd.DataFrame) -> Chart:
    rows = []
    for record in history[["metric_date", "dau", "wau", "mau"]].to_dict("records"):
        for metric in ("dau", "wau", "mau"):
            value = record[metric]
            rows.append({"day": record["metric_date"].date().isoformat(), "metric": metric.upper(),
                         "visitors": None if pd.isna(value) else int(value)})
    return Chart(tuple(rows), "day", "visitors", "metric", "Active visitors", "Active visitors")


def feature_gaps(facts: GapFacts) -> Answer:
    """Features the customer did not use in 30 days, most used by its peers first; abandoned key features."""
    name, window = facts.customer.name, recent_span(facts.day, facts.window_days)
    numbers = [t.fact("Features used", f"{facts.used} of {facts.catalogue}", facts.used),
               t.fact("Peers", t.count(facts.peers), facts.peers)]
    lines = [f"**{name}** used **{facts.used} of {facts.catalogue}** features in the {facts.window_days} days ending "
             f"{facts.day}.", ""]
    top = facts.gaps[:MAX_GAPS]
    if not facts.gaps:
        lines.append("It used every feature Pendo knows about.")
    elif facts.peers:
        group = f"segment *{facts.customer.segment}*" if facts.customer.segment else "customers without a segment"
        lines.append(f"Not used, ranked by the share of its **{facts.peers}** peers ({group}) that used them:")
        lines += [f"- {g.name}{' (key)' if g.is_key else ''}: {t.percent(g.peer_share)} of peers" for g in top]
    else:
        lines.append("Not used (no peers to rank them by):")
        lines += [f"- {g.name}{' (key)' if g.is_key else ''}" for g in top]
    numbers += [t.fact(f"Peers using {g.name}", t.percent(g.peer_share), g.peer_share) for g in top]
    lines += _abandoned_lines(facts, numbers)
    table = tuple({"feature_id": g.feature_id, "feature": g.name, "key": g.is_key, "peer_share": g.peer_share}
                  for g in facts.gaps)
    return Answer(FEATURE_GAPS, "\n".join(lines), tuple(numbers), window.text,
                  (DEFINITIONS["adoption"], DEFINITIONS["gap_peers"], DEFINITIONS["abandoned"]),
                  t.page("features", facts.customer.customer_id), facts.customer, table=table)


def _abandoned_lines(facts: GapFacts, numbers: list[Fact]) -> list[str]:
    if not facts.abandoned:
        return []
    numbers += [t.fact(f"Prior users of {a.name or a.feature_id}", str(a.prior_users), a.prior_users)
                for a in facts.abandoned]
    items = ", ".join(f"{a.name or a.feature_id} ({a.prior_users} users before, none since)" for a in facts.abandoned)
    return ["", f"Key features it stopped using in the last 14 days: {items}."]


def health_why(facts: HealthFacts) -> Answer:
    """Why a customer's health score is what it is: the band, each component's measurement, what moved."""
    detail, name = facts.detail, facts.customer.name
    link = t.page("health", facts.customer.customer_id)
    if detail is None:
        return Answer(HEALTH_WHY, f"**{name}** has no health score yet: scores are computed by the daily sync "
                      "for days with usage metrics.", customer=facts.customer, link=link)
    numbers = [t.fact("Health score", t.decimal(detail.overall, 0), detail.overall),
               t.fact("Coverage", t.percent(detail.coverage), detail.coverage)]
    if detail.insufficient:
        head = (f"**{name}** has no usable score on {detail.day}: **insufficient data** (coverage "
                f"**{t.percent(detail.coverage)}** of the weight had data, below the floor).")
    else:
        verdict = "is low" if detail.band == "red" else "is middling" if detail.band == "yellow" else "is not low"
        head = (f"**{name}**'s health score {verdict}: **{t.decimal(detail.overall, 0)}** ({detail.band}) on "
                f"{detail.day}.")
    lines = [head, "", *_component_lines(facts, numbers), "", *facts.moved]
    return Answer(HEALTH_WHY, "\n".join(lines).strip(), tuple(numbers), f"score of {detail.day}",
                  (DEFINITIONS["health"], *(d for d in _component_definitions())), link, facts.customer,
                  table=tuple(facts.components.drop(columns=["nominal"]).to_dict("records")))


def _component_lines(facts: HealthFacts, numbers: list[Fact]) -> list[str]:
    """Weighted components, those costing the most points first, each with the measurement behind it."""
    frame = facts.components[facts.components["nominal"] > 0]  # weighted, with data or not
    lost = frame["weight"].fillna(0.0) * (100 - frame["score"].fillna(100))
    lines = []
    for row in frame.assign(_lost=lost).sort_values("_lost", ascending=False).itertuples():
        score = None if pd.isna(row.score) else float(row.score)
        numbers.append(t.fact(f"{row.component} score", t.decimal(score, 0), score))
        points = "" if pd.isna(row.points) else f", {float(row.points):.1f} points"
        weight = "no weight" if pd.isna(row.weight) else f"weight {float(row.weight):.0%}"
        lines.append(f"- **{row.component}** {t.decimal(score, 0)} ({weight}{points}): {row.measured}")
    return lines


def _component_definitions() -> tuple[str, ...]:
    from pendo_core.health.queries import DEFINITIONS

    return tuple(f"{name.capitalize()}: {text}" for name, text in DEFINITIONS.items())


def peer_compare(facts: PeerFacts) -> Answer:
    """The customer against its peers: value, percentile rank and the peers' median of each measure."""
    group = f"segment *{facts.segment}*" if facts.segment else "all customers (it has no segment)"
    name = facts.customer.name
    if not facts.peers:
        return Answer(PEER_COMPARE, f"**{name}** has no active peers in {group} on {facts.day} to compare with.",
                      customer=facts.customer, link=t.page("usage", facts.customer.customer_id))
    numbers, lines = [t.fact("Peers", str(facts.peers), facts.peers)], []
    for m in facts.measures:
        value, median = _measure(m.key, m.value), _measure(m.key, m.median)
        numbers += [t.fact(m.label, value, m.value), t.fact(f"{m.label}, percentile", t.ordinal(m.percentile),
                                                             m.percentile),
                    t.fact(f"{m.label}, peer median", median, m.median)]
        lines.append(f"- {m.label}: **{value}**, {t.ordinal(m.percentile)} percentile (peer median {median})"
                     if m.value is not None else f"- {m.label}: no value on {facts.day}")
    head = f"**{name}** against its **{facts.peers}** active peers in {group} on {facts.day}:"
    table = tuple({"measure": m.label, "value": m.value, "percentile": m.percentile, "peer_median": m.median}
                  for m in facts.measures)
    return Answer(PEER_COMPARE, "\n".join([head, *lines]), tuple(numbers), f"day {facts.day}",
                  (DEFINITIONS["peers"], *(m.definition for m in facts.measures)),
                  t.page("usage", facts.customer.customer_id), facts.customer, table=table)


def _measure(key: str, value: float | None) -> str:
    if key in ("stickiness",):
        return stickiness_text(value)
    if key in ("trend",):
        return t.percent(value, signed=True)
    if key == "breadth":
        return t.percent(value)
    return t.decimal(value, 0)
