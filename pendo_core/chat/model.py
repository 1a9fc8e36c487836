"""The plain values the chat passes around: who asks, which customer, and the answer it gives.

Who asks (`Viewer`) and the customers they see (`CustomerRef`) are the access rule's
(`pendo_core.access.rules`), re-exported here for the chat's callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pendo_core.access.rules import CustomerRef, Viewer

__all__ = ["Answer", "Chart", "Choice", "CustomerRef", "Fact", "Link", "Viewer"]


@dataclass(frozen=True)
class Fact:
    """One number an answer rests on: what it is, its value as shown, and the raw value."""

    label: str
    shown: str
    value: float | int | str | None = None


@dataclass(frozen=True)
class Link:
    """The page with the detail (a page file of the app) and the customer to open it on."""

    page: str
    title: str
    customer_id: str | None = None


@dataclass(frozen=True)
class Choice:
    """One option of a short choice: asking again (the same question unless `question` is set) with
    the customer pinned."""

    customer_id: str
    label: str
    question: str | None = None


@dataclass(frozen=True)
class Chart:
    """Chart data (long form: one row per x, series and value) and how to draw it."""

    rows: tuple[dict[str, Any], ...]
    x: str
    y: str
    series: str
    title: str
    y_title: str


@dataclass(frozen=True)
class Answer:
    """A reply: markdown text, the numbers it quotes, their window and definitions, and where to look."""

    intent: str | None
    text: str
    facts: tuple[Fact, ...] = ()
    window: str | None = None
    definitions: tuple[str, ...] = ()
    link: Link | None = None
    customer: CustomerRef | None = None
    choices: tuple[Choice, ...] = ()
    chart: Chart | None = None
    table: tuple[dict[str, Any], ...] = field(default=())
