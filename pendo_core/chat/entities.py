"""Which customer a question names, written loosely: case, punctuation, legal forms, typos, prefixes.

Two passes over the customers the asker may see (never others, so nothing leaks by name):

1. **Exact**: a customer's normal name (pendo_core.common.names: casefolded, punctuation and legal form
   dropped, so "ACME Corp." is "acme") appears word for word in the question. The longest wins,
   so "Orion Foods" beats "Orion"; customers whose names extend the hit are offered as alternatives.
2. **Loose**: the runs of words no intent claims are scored against every name with rapidfuzz
   (whole name, spaces ignored, or the name's beginning: "silverline" is the start of two names).
   A name of several words scores no better than its weakest word, so a shared word cannot carry a
   different name: "glacier logistics" is not "Helix Logistics" (75 as a whole, 33 for
   glacier/helix), "canyon capitl" is "Canyon Capital" (92) and never "Canyon Retail" (50).
   One clear best at or above ACCEPT is the customer; several within MARGIN of it are a short
   choice; nothing that close is unknown, with the closest names as suggestions.

`read_as` says which customer a loosely written name was read as, so an answer never silently
speaks about a customer other than the one the question named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from pendo_core.chat.model import CustomerRef
from pendo_core.common.names import LEGAL_SUFFIXES, normalise_name

ACCEPT = 75.0  # a one-letter slip in a four-letter word still scores 75; below it a name is not accepted
MARGIN = 4.0  # scores closer than this to the best are a tie: ask which one
SUGGEST = 55.0  # below this a name is not worth suggesting
PARTIAL = 0.9  # a match on the start of a longer name counts a little less than a whole one
MIN_HEAD = 3  # a query shorter than this is too short to match the start of a name
MAX_CHOICES = 6

FOUND = "found"
AMBIGUOUS = "ambiguous"
UNKNOWN = "unknown"
MISSING = "missing"


@dataclass(frozen=True)
class Resolution:
    """The outcome: found (one customer), ambiguous (options), unknown (suggestions) or missing."""

    status: str
    customers: tuple[CustomerRef, ...] = ()
    query: str = ""
    alternatives: tuple[CustomerRef, ...] = ()
    span: tuple[int, int] | None = None  # word positions of an exact hit, to leave out of the intent

    @property
    def customer(self) -> CustomerRef | None:
        """The customer when exactly one was found."""
        return self.customers[0] if self.status == FOUND else None


def name_tokens(name: str) -> tuple[str, ...]:
    """A customer name as comparable tokens (see pendo_core.common.names.normalise_name)."""
    return tuple(normalise_name(name).split())


def _word_tokens(words: Sequence[str]) -> list[tuple[str, int]]:
    """(token, index of the question word it came from), in order."""
    return [(token, i) for i, word in enumerate(words) for token in normalise_name(word).split()]


def _occurrences(tokens: list[tuple[str, int]], target: tuple[str, ...]) -> list[tuple[int, int]]:
    """Token positions [start, end) where target appears in tokens."""
    size = len(target)
    plain = [t for t, _ in tokens]
    return [(s, s + size) for s in range(len(plain) - size + 1) if tuple(plain[s:s + size]) == target]


def _word_span(tokens: list[tuple[str, int]], start: int, end: int) -> tuple[int, int]:
    """The question words covered by tokens [start, end), plus a legal form written after the name."""
    while end < len(tokens) and tokens[end][0] in LEGAL_SUFFIXES:
        end += 1
    return tokens[start][1], tokens[end - 1][1] + 1


def exact(words: Sequence[str], customers: Sequence[CustomerRef]) -> Resolution | None:
    """The customer(s) whose whole normal name appears in the question; the longest name wins."""
    tokens = _word_tokens(words)
    hits: list[tuple[int, tuple[int, int], CustomerRef]] = []
    for customer in customers:
        target = name_tokens(customer.name)
        hits.extend((len(target), span, customer) for span in _occurrences(tokens, target) if target)
    if not hits:
        return None
    longest = max(size for size, _, _ in hits)
    best = [(span, c) for size, span, c in hits if size == longest]
    span = _word_span(tokens, *best[0][0])
    found = tuple(dict.fromkeys(c for _, c in best))
    if len(found) > 1:
        return Resolution(AMBIGUOUS, found[:MAX_CHOICES], " ".join(words[span[0]:span[1]]), span=span)
    extensions = _extensions(found[0], customers)
    longer = _written_extension(words, span, found[0], extensions)
    if longer is not None:
        return longer
    return Resolution(FOUND, found, " ".join(words[span[0]:span[1]]), extensions, span)


def _extensions(hit: CustomerRef, customers: Sequence[CustomerRef]) -> tuple[CustomerRef, ...]:
    """Other customers whose names start with the hit's whole name ("Orion" -> "Orion Foods")."""
    head = name_tokens(hit.name)
    return tuple(c for c in customers
                 if c.customer_id != hit.customer_id and name_tokens(c.name)[:len(head)] == head)[:MAX_CHOICES]


def _written_extension(words: Sequence[str], span: tuple[int, int], hit: CustomerRef,
                       extensions: Sequence[CustomerRef]) -> Resolution | None:
    """A longer name written loosely after an exact shorter one ("orion food" is Orion Foods, not Orion)."""
    size = len(name_tokens(hit.name))
    best: tuple[float, CustomerRef] | None = None
    for other in extensions:
        extra = name_tokens(other.name)[size:]
        written = normalise_name(" ".join(words[span[1]:span[1] + len(extra)]))
        score = similarity(written, " ".join(extra)) if written else 0.0
        if score >= ACCEPT and (best is None or score > best[0]):
            best = (score, other)
    if best is None:
        return None
    end = span[1] + len(name_tokens(best[1].name)) - size
    return Resolution(FOUND, (best[1],), " ".join(words[span[0]:end]), span=(span[0], end))


def similarity(query: str, name: str) -> float:
    """0-100: how well a normal query matches a normal name, as a whole or as its beginning, and no
    better than its weakest word when both have several."""
    compact_query, compact_name = query.replace(" ", ""), name.replace(" ", "")
    score = max(fuzz.ratio(query, name), fuzz.ratio(compact_query, compact_name))
    if len(compact_query) >= MIN_HEAD and len(compact_name) > len(compact_query):
        score = max(score, PARTIAL * fuzz.ratio(compact_query, compact_name[:len(compact_query)]))
    weakest = _weakest_word(query.split(), name.split())
    return float(score if weakest is None or compact_query == compact_name else min(score, weakest))


def _weakest_word(query: list[str], name: list[str]) -> float | None:
    """The lowest score of the query's words against the name's words in order (the last may be the
    beginning of its word); None unless the query has several words and the name at least as many."""
    if len(query) < 2 or len(query) > len(name):
        return None
    scores = [fuzz.ratio(q, n) for q, n in zip(query[:-1], name, strict=False)]
    last, word = query[-1], name[len(query) - 1]
    head = PARTIAL * fuzz.ratio(last, word[:len(last)]) if MIN_HEAD <= len(last) < len(word) else 0
    return float(min(*scores, max(fuzz.ratio(last, word), head)))


def rank(query: str, customers: Sequence[CustomerRef]) -> list[tuple[float, CustomerRef]]:
    """Customers by similarity to a loosely written name, best first (ties by name)."""
    wanted = normalise_name(query)
    if not wanted:
        return []
    scored = [(similarity(wanted, " ".join(name_tokens(c.name))), c) for c in customers]
    return sorted(scored, key=lambda pair: (-pair[0], pair[1].name.casefold(), pair[1].customer_id))


def loose(runs: Sequence[str], customers: Sequence[CustomerRef]) -> Resolution:
    """The best reading of the candidate word runs (see the module docstring for the rules)."""
    ranked = [(run, rank(run, customers)) for run in runs]
    ranked = [(run, scores) for run, scores in ranked if scores]
    if not ranked:
        return Resolution(MISSING)
    query, scores = max(ranked, key=lambda pair: pair[1][0][0])
    best = scores[0][0]
    if best < ACCEPT:
        return Resolution(UNKNOWN, tuple(c for s, c in scores[:3] if s >= SUGGEST), query)
    close = tuple(c for s, c in scores if s >= ACCEPT and best - s < MARGIN)
    if len(close) == 1:
        return Resolution(FOUND, close, query)
    return Resolution(AMBIGUOUS, close[:MAX_CHOICES], query)


def resolve(words: Sequence[str], runs: Sequence[str], customers: Sequence[CustomerRef]) -> Resolution:
    """The customer a question names: an exact name first, else the closest loose reading."""
    return exact(words, customers) or loose(runs, customers)


def read_as(resolution: Resolution) -> str | None:
    """The customer a differently written name was taken for ("canyon capitl" -> Canyon Capital), else None."""
    customer = resolution.customer
    if customer is None or not resolution.query or resolution.query == customer.customer_id:
        return None  # nothing found, or a clicked choice: the asker picked the customer itself
    return None if normalise_name(resolution.query) == normalise_name(customer.name) else customer.name
