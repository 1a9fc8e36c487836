"""Ask: questions about a customer or the portfolio in plain words, answered from the stored metrics."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from pages.ui import charts, loaders, registry, shared
from pendo_core.access import rules as access
from pendo_core.chat import Answer, Chart, Viewer, example_questions, respond

HISTORY_KEY = "chat_history"
OPEN_KEY = "chat_open"
MAX_TURNS = 30  # older turns are dropped so a long session stays fast to redraw


@dataclass(frozen=True)
class Turn:
    """One question and its answer; `number` keeps widget keys stable when old turns are dropped."""

    number: int
    question: str  # as shown (with the customer picked from a choice)
    answer: Answer
    asked: str  # as typed, to ask again with a picked customer


def _ask(question: str, customer_id: str | None = None, picked: str | None = None) -> None:
    """Answer a question (a choice clicked pins its customer) and keep it in the history."""
    viewer = shared.viewer()
    if viewer is None or not question.strip():
        return
    answer = respond(shared.engine(), viewer, question, customer_id=customer_id,
                     include_anonymous=shared.settings().include_anonymous)
    history: list[Turn] = st.session_state.setdefault(HISTORY_KEY, [])
    shown = f"{question} → *{picked}*" if picked else question
    history.append(Turn(history[-1].number + 1 if history else 0, shown, answer, question))
    del history[:-MAX_TURNS]


def _may_open(path: str) -> bool:
    """True when the signed-in user's role may open the page file `path` (an answer's link may name a
    screen the asker cannot open, such as Portfolio for a CSM showing every customer)."""
    user, target = shared.current_user(), registry.by_path(path)
    return user is not None and target is not None and registry.may_open(user.role, target.key)


def _open(page: str, customer_id: str | None) -> None:
    """Remember which page to open (switching pages from a callback is not allowed)."""
    if customer_id:
        st.session_state[shared.CUSTOMER_KEY] = customer_id
    st.session_state[OPEN_KEY] = page


def _details(answer: Answer, number: int) -> None:
    if not (answer.facts or answer.window or answer.definitions):
        return
    with st.expander("Numbers, window and definitions", icon=":material/calculate:"):
        if answer.window:
            st.markdown(f"**Window:** {answer.window}")
        if answer.facts:
            facts = pd.DataFrame([{"number": f.label, "value": f.shown} for f in answer.facts])
            st.dataframe(facts, hide_index=True, key=f"chat_facts_{number}", width="stretch")
        for definition in answer.definitions:
            st.caption(definition)


def _actions(turn: Turn) -> None:
    answer = turn.answer
    if not (answer.choices or answer.link):
        return
    row = st.container(horizontal=True, gap="small")
    for choice in answer.choices:
        row.button(choice.label, key=f"chat_choice_{turn.number}_{choice.customer_id}", on_click=_ask,
                   args=(choice.question or turn.asked, choice.customer_id, None if choice.question else choice.label),
                   icon=":material/person_search:")
    link = answer.link
    if link is not None and _may_open(link.page):
        row.button(f"Open {link.title}", key=f"chat_link_{turn.number}", on_click=_open, type="primary",
                   args=(link.page, link.customer_id), icon=":material/open_in_new:")


def _chart(chart: Chart, number: int) -> None:
    """An answer's trend chart, in the pages' theme, with the 7-day-average switch of every daily chart."""
    smooth = charts.smoothing_toggle(f"chat_smooth_{number}")
    frame = pd.DataFrame(list(chart.rows))
    charts.show(charts.chat_chart(frame, x=chart.x, y=chart.y, series=chart.series, title=chart.title,
                                  y_title=chart.y_title, smooth=smooth), key=f"chat_chart_{number}")


def _render(turn: Turn) -> None:
    with st.chat_message("user"):
        st.markdown(turn.question)
    with st.chat_message("assistant"):
        st.markdown(turn.answer.text)
        if turn.answer.chart is not None:
            _chart(turn.answer.chart, turn.number)
        _details(turn.answer, turn.number)
        _actions(turn)


def _scope_note(viewer: Viewer | None) -> None:
    """Say which customers the answers cover; a CSM widens them with the sidebar's toggle."""
    if viewer is None or viewer.role in access.SEES_ALL_ROLES:
        return
    if viewer.show_all:
        st.caption("Answers cover every customer (**Show all customers** is on: read-only, recorded).")
    else:
        st.caption("Answers cover your own customers; switch on **Show all customers** in the sidebar to ask "
                   "about every customer.")


def _switch_if_asked() -> None:
    page = st.session_state.pop(OPEN_KEY, None)
    if page:
        try:
            st.switch_page(page)
        except StreamlitAPIException:
            st.info(f"The page {page} is not open to you here; pick it in the navigation.")


def _examples(viewer: Viewer | None) -> None:
    """Example questions about the asker's own customers, as buttons that ask them."""
    if viewer is None:
        return
    st.markdown("Ask about a customer or your portfolio, for example:")
    row = st.container(horizontal=True, gap="small")
    visible = shared.visible_customers()  # the first example names the most at risk, as the customer pages open
    first = loaders.most_at_risk(visible["customer_id"].tolist(), shared.data_through())
    name = visible.loc[visible["customer_id"] == first, "name"]
    for number, example in enumerate(example_questions(shared.engine(), viewer, name.iloc[0] if len(name) else None)):
        row.button(example, key=f"chat_example_{number}", on_click=_ask, args=(example,),
                   icon=":material/chat_bubble:")


def render() -> None:
    """The chat: history, then the input; answers are computed from the store, nothing leaves it."""
    if shared.current_user() is None:
        st.warning("Sign in to ask questions.")
        st.stop()
    _switch_if_asked()
    shared.page_header("Ask")
    _scope_note(shared.viewer())
    history: list[Turn] = list(st.session_state.get(HISTORY_KEY, []))
    if not history:
        _examples(shared.viewer())
    for turn in history:
        _render(turn)
    question = st.chat_input("Ask about a customer or your portfolio", key="chat_input")
    if question:
        _ask(question)
        for turn in st.session_state.get(HISTORY_KEY, [])[len(history):]:
            _render(turn)


render()
