"""The plain values the chat passes around: who asks, which customer, and the answer it gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("csm", "leader", "admin")


@dataclass(frozen=True)
class Viewer:
    """Who asks: a CSM sees the customers they own (every customer when they switched "show all" on
    in the app, an audited choice); leaders and admins see every customer."""

    email: str
    role: str
    show_all: bool = False

    @property
    def sees_all(self) -> bool:
        """True when every customer is visible (leaders, admins, a CSM showing all)."""
        return self.role in ("leader", "admin") or self.show_all

    @property
    def csm_email(self) -> str | None:
        """The alert filter: "my alerts" stay a CSM's own even when they browse every customer."""
        return None if self.role in ("leader", "admin") else self.email


@dataclass(frozen=True)
class CustomerRef:
    """A CSCX customer as the chat names it."""

    customer_id: str
    name: str
    segment: str | None = None
    csm_email: str | None = None


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
