"""The window a question names (pendo_core.chat.periods), against a frozen today (Friday 4 December
2026): each phrase gives its days, and the phrase is taken out of the question."""

from __future__ import annotations

from datetime import date

import pytest

from pendo_core.chat.periods import find, parse

TODAY = date(2026, 12, 4)  # a Friday


@pytest.mark.parametrize(("question", "first", "last", "days"), [
    pytest.param("How is Acme using the product in the last 90 days?", date(2026, 9, 5), date(2026, 12, 3), 90,
                 id="last-90-days"),
    pytest.param("sessions over the past 30 days", date(2026, 11, 4), date(2026, 12, 3), 30, id="past-30-days"),
    pytest.param("usage last 2 weeks", date(2026, 11, 20), date(2026, 12, 3), 14, id="last-2-weeks"),
    pytest.param("usage in the last two weeks", date(2026, 11, 20), date(2026, 12, 3), 14, id="number-word"),
    pytest.param("usage last 3 months", date(2026, 9, 4), date(2026, 12, 3), 91, id="last-3-months"),
    pytest.param("how is acme doing since 1 March", date(2026, 3, 1), date(2026, 12, 3), 278, id="since-day-month"),
    pytest.param("since March 1st", date(2026, 3, 1), date(2026, 12, 3), 278, id="since-month-day"),
    pytest.param("since 1 december", date(2026, 12, 1), date(2026, 12, 3), 3, id="since-this-month"),
    pytest.param("since 25 december", date(2025, 12, 25), date(2026, 12, 3), 344, id="since-a-day-not-yet-come"),
    pytest.param("since 2026-10-01", date(2026, 10, 1), date(2026, 12, 3), 64, id="since-iso"),
    pytest.param("since 1 march 2025", date(2025, 3, 1), date(2026, 12, 3), 643, id="since-with-year"),
    pytest.param("How was Acme in November?", date(2026, 11, 1), date(2026, 11, 30), 30, id="in-november"),
    pytest.param("usage during feb", date(2026, 2, 1), date(2026, 2, 28), 28, id="month-abbreviation"),
    pytest.param("usage in december", date(2026, 12, 1), date(2026, 12, 31), 31, id="in-this-month"),
    pytest.param("in november 2025", date(2025, 11, 1), date(2025, 11, 30), 30, id="month-with-year"),
    pytest.param("Sessions last week?", date(2026, 11, 23), date(2026, 11, 29), 7, id="last-week-monday-sunday"),
    pytest.param("sessions in the past week", date(2026, 11, 27), date(2026, 12, 3), 7, id="past-week"),
    pytest.param("usage last month", date(2026, 11, 1), date(2026, 11, 30), 30, id="last-month"),
    pytest.param("who logged in yesterday", date(2026, 12, 3), date(2026, 12, 3), 1, id="yesterday"),
])
def test_a_named_window_gives_its_days(question: str, first: date, last: date, days: int) -> None:
    """The phrase names exactly these days (windows counting back end yesterday)."""
    period = parse(question, TODAY)
    assert period is not None
    assert (period.first, period.last, period.days) == (first, last, days)


@pytest.mark.parametrize("question", [
    pytest.param("How is Acme using the product?", id="no-window"),
    pytest.param("Which accounts dropped the most this month?", id="this-month-is-the-drops-default"),
    pytest.param("since 31 february", id="no-such-day"),
    pytest.param("How is Marketo doing?", id="month-inside-a-word"),
    pytest.param("How is Mayfair doing?", id="may-inside-a-word"),
])
def test_no_window_is_named(question: str) -> None:
    """Questions without a window phrase (or with an impossible date) name none."""
    assert parse(question, TODAY) is None


@pytest.mark.parametrize(("question", "rest"), [
    pytest.param("how is acme using the product in the last 90 days?", "how is acme using the product ?",
                 id="counted"),
    pytest.param("sessions last week?", "sessions ?", id="last-week"),
    pytest.param("how was acme in november", "how was acme", id="month"),
])
def test_the_phrase_is_taken_out(question: str, rest: str) -> None:
    """The window's words are removed, so a month or a number is never read as a customer name."""
    assert find(question, TODAY)[1] == rest


def test_the_window_quotes_itself_and_is_cut_to_the_synced_days() -> None:
    """The text names the phrase, both ends and the days; `through` ends it on the last synced day."""
    period = parse("last 90 days", TODAY)
    assert period is not None
    assert period.text == "last 90 days: 2026-09-05 → 2026-12-03 (90 days)"
    assert period.through(date(2026, 12, 1)).last == date(2026, 12, 1)
