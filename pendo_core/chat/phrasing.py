"""The seam for an optional language model: it may reword an answer, never change its numbers.

No provider ships with the product and nothing here touches the network. A provider is any
callable `(question, answer) -> str` (see `Phraser`) handed to `assistant.respond`; it receives
the finished answer (text, facts, window, definitions) and returns new wording for the text only.
The reworded text is used only when every number in it already appears in the answer (text, facts
or window); otherwise, or when the provider fails, the answer keeps its own text. Facts, window,
definitions, link, chart and choices always come from the deterministic answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace

from pendo_core.chat.model import Answer

log = logging.getLogger("pendo_core.chat")

Phraser = Callable[[str, Answer], str]

_NUMBER = re.compile(r"\d{4}-\d{2}-\d{2}|\d[\d,]*(?:\.\d+)?")


def numbers_in(text: str) -> set[str]:
    """The numbers written in a text, normalised (thousands separators and trailing zeros dropped)."""
    found = set()
    for token in _NUMBER.findall(text):
        plain = token.replace(",", "")
        if "." in plain and "-" not in plain:
            plain = plain.rstrip("0").rstrip(".")
        found.add(plain)
    return found


def allowed_numbers(answer: Answer) -> set[str]:
    """Every number the answer itself states: in its text, its facts and its window."""
    sources = [answer.text, answer.window or "", *(f.shown for f in answer.facts), *(f.label for f in answer.facts)]
    return set().union(*(numbers_in(s) for s in sources))


def keeps_numbers(answer: Answer, candidate: str) -> bool:
    """True when the candidate wording states no number the answer does not."""
    return numbers_in(candidate) <= allowed_numbers(answer)


def rephrase(question: str, answer: Answer, phraser: Phraser | None) -> Answer:
    """The answer in the provider's words when it kept to the answer's numbers; else unchanged."""
    if phraser is None:
        return answer
    try:
        candidate = phraser(question, answer).strip()
    except Exception as exc:  # a provider is optional: its failure must never cost the answer
        log.warning("answer rephrasing failed, keeping the plain answer: %s", type(exc).__name__)
        return answer
    if not candidate or not keeps_numbers(answer, candidate):
        log.warning("answer rephrasing dropped: it stated numbers the facts do not hold")
        return answer
    return replace(answer, text=candidate)
