"""Ask in plain words: deterministic intent and customer parsing, answers built from stored facts.

`respond(engine, viewer, question)` is the whole surface a page needs; `Phraser` is the seam for
an optional language model that may only reword an answer (see phrasing.py).
"""

from __future__ import annotations

from pendo_core.chat.assistant import example_questions, respond, understand
from pendo_core.chat.model import Answer, Chart, Choice, CustomerRef, Fact, Link, Viewer
from pendo_core.chat.phrasing import Phraser

__all__ = [
    "Answer",
    "Chart",
    "Choice",
    "CustomerRef",
    "Fact",
    "Link",
    "Phraser",
    "Viewer",
    "example_questions",
    "respond",
    "understand",
]
