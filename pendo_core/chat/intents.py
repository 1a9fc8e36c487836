"""What a question asks, as pure functions: the intent, the words that may name a customer, the period.

Deterministic and offline: ordered keyword rules over the question's words (first rule that
holds wins, most specific first), so "usage trend" is a trend and not a summary, and "features
... not using" is a gap list. A customer is found later (entities.py) among the words no rule
claims, so a name that happens to contain a keyword still matches when it is written in full.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

USAGE_SUMMARY = "usage_summary"
FEATURE_GAPS = "feature_gaps"
USAGE_TREND = "usage_trend"
MY_ALERTS = "my_alerts"
HEALTH_WHY = "health_why"
PEER_COMPARE = "peer_compare"
TOP_DROPS = "top_drops"
TOP_USERS = "top_users"
CHAMPION_STATUS = "champion_status"
AT_RISK = "at_risk"
INTENTS = (USAGE_SUMMARY, FEATURE_GAPS, USAGE_TREND, MY_ALERTS, HEALTH_WHY, PEER_COMPARE, TOP_DROPS, TOP_USERS,
           CHAMPION_STATUS, AT_RISK)
NEEDS_CUSTOMER = frozenset({USAGE_SUMMARY, FEATURE_GAPS, USAGE_TREND, HEALTH_WHY, PEER_COMPARE, TOP_USERS,
                            CHAMPION_STATUS})

MONTH_DAYS = 28
WEEK_DAYS = 7

_DROP = {"drop", "dropped", "drops", "dropping", "decline", "declined", "declines", "declining", "decrease",
         "decreased", "fell", "fall", "falling", "shrank", "shrunk", "lost", "losing", "decliners", "fallers"}
_RANKING = {"most", "biggest", "largest", "top", "worst", "which", "who", "whose", "accounts", "customers",
            "decliners", "fallers"}
_NEGATION = {"not", "no", "never", "unused", "missing", "gaps", "gap", "ignoring", "ignore", "ignored",
             "untouched", "havent", "hasnt", "dont", "doesnt", "isnt", "arent", "without", "nt"}
_TREND = {"trend", "trends", "trending", "chart", "plot", "graph", "over", "history", "changed", "changing",
          "change", "evolve", "evolved", "trajectory", "growing", "grown", "dropping", "declining"}
_PEERS = {"peer", "peers", "compare", "compared", "comparison", "comparing", "benchmark", "benchmarks", "vs",
          "versus", "similar", "others", "stack", "stacks", "against", "percentile", "rank"}
_HEALTH = {"health", "healthy", "unhealthy", "score", "scores", "scored", "red", "yellow", "band", "risk",
           "risky", "churn"}
_SUMMARY = {"using", "usage", "use", "uses", "doing", "summary", "summarise", "summarize", "overview", "about",
            "engagement", "engaged", "active", "activity", "dau", "mau", "wau", "stickiness", "adoption", "going"}
_RISK = {"risk", "risky", "churn", "churning", "red", "unhealthy", "struggling", "trouble"}
_BOOK = {"customers", "accounts", "clients", "portfolio", "book"}
_WHICH = {"which", "who", "whose"}
_CHAMPIONS = {"champion", "champions", "sponsor", "sponsors", "stakeholder", "stakeholders"}
_CHAMPION_WORDS = _CHAMPIONS | {"decision", "maker", "makers", "still"}
_PEOPLE = {"users", "user", "visitors", "visitor", "people", "person", "power"}
_TOP_PEOPLE = {"most", "top", "busiest", "heaviest", "power", "who", "whos", "which"}

# Words that never name a customer: question words, the product's vocabulary, and filler.
_FILLER = {
    "a", "an", "the", "how", "is", "are", "was", "were", "be", "been", "what", "whats", "which", "who", "why",
    "where", "when", "do", "does", "did", "has", "have", "had", "for", "of", "to", "in", "on", "at", "by", "with",
    "from", "and", "or", "me", "my", "i", "we", "our", "us", "you", "your", "it", "its", "their", "them", "they",
    "this", "that", "these", "those", "show", "tell", "give", "get", "list", "see", "can", "could", "would",
    "please", "any", "all", "some", "there", "product", "app", "platform", "pendo", "features", "feature",
    "portfolio", "alerts", "alert", "customer", "customers", "account", "accounts", "so", "far", "month", "week",
    "weeks", "months", "days", "day", "last", "past", "time", "low", "high", "lately", "recently", "now", "today",
    "currently", "up", "down", "users", "user", "visitors", "s", "explain", "driving", "behind", "mean", "means",
    "right", "much", "more", "less", "like", "look", "looks", "looking", "hey", "hi", "hello", "lets", "let",
    "quick", "quickly", "current", "latest", "same", "segment", "open", "ones", "most", "used", "quarter", "year",
    "really", "well", "very", "overall", "since", "good", "bad", "poorly", "lot", "lots", "many", "number",
    "numbers", "biggest", "largest", "top", "worst", "than", "being", "getting",
}
_VOCABULARY = (_FILLER | _DROP | _NEGATION | _TREND | _PEERS | _HEALTH | _SUMMARY | _CHAMPION_WORDS | _PEOPLE
               | _TOP_PEOPLE | _RISK | _BOOK | _WHICH)

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_POSSESSIVE = re.compile(r"(\w)'s\b")
_CONTRACTION = re.compile(r"(\w)n't\b")
_WORD = re.compile(r"[^\W_]+(?:[&'.-][^\W_]+)*")


@dataclass(frozen=True)
class Parsed:
    """A parsed question: the intent (None: not understood), its words, and the period in days."""

    intent: str | None
    words: tuple[str, ...]
    period_days: int = MONTH_DAYS

    @property
    def name_runs(self) -> list[str]:
        """Runs of consecutive words no rule claims: the places a customer name may be."""
        runs: list[list[str]] = [[]]
        for word in self.words:
            if word in _VOCABULARY:
                runs.append([])
            else:
                runs[-1].append(word)
        return [" ".join(run) for run in runs if run]


def clean(question: str) -> str:
    """The question casefolded, accents dropped, quotes straightened, possessives and n't split off."""
    folded = unicodedata.normalize("NFKD", question.casefold().translate(_QUOTES))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = _CONTRACTION.sub(r"\1 nt", plain)
    return _POSSESSIVE.sub(r"\1", plain)


def words(question: str) -> tuple[str, ...]:
    """The question's words (inner dots, hyphens, ampersands and apostrophes stay inside a word)."""
    return tuple(w.replace("'", "") for w in _WORD.findall(clean(question)))


def _has(found: set[str], vocabulary: set[str]) -> bool:
    return bool(found & vocabulary)


def _is_alerts(found: set[str], text: str) -> bool:
    return _has(found, {"alert", "alerts", "alerting", "warnings", "flags", "flagged"})


def _is_drops(found: set[str], text: str) -> bool:
    return _has(found, _DROP) and _has(found, _RANKING)


def _is_health(found: set[str], text: str) -> bool:
    return _has(found, _HEALTH) or "at risk" in text


def _is_at_risk(found: set[str], text: str) -> bool:
    """Which customers are at risk: a risk word about several customers ("customers", "portfolio"), or
    "which"/"who" with risk or churn ("who is at risk?"; "which ... red" may be about one customer)."""
    risky = _has(found, {"risk", "risky", "churn", "churning"})
    return (_has(found, _RISK) and _has(found, _BOOK)) or (risky and _has(found, _WHICH))


def _is_peers(found: set[str], text: str) -> bool:
    return _has(found, _PEERS) or "stack up" in text


def _is_champions(found: set[str], text: str) -> bool:
    return _has(found, _CHAMPIONS) or "decision maker" in text


def _is_top_users(found: set[str], text: str) -> bool:
    """People ranked ("top users", "who are the most active users"), or "who ... the most"."""
    return (_has(found, _PEOPLE) and _has(found, _TOP_PEOPLE)) or (_has(found, {"who", "whos"}) and "most" in found)


def _is_gaps(found: set[str], text: str) -> bool:
    feature_words = _has(found, {"feature", "features", "functionality", "modules", "capabilities"})
    return (feature_words and _has(found, _NEGATION)) or _has(found, {"unused", "gaps", "gap"})


def _is_trend(found: set[str], text: str) -> bool:
    return _has(found, _TREND)


def _is_summary(found: set[str], text: str) -> bool:
    return _has(found, _SUMMARY) or text.startswith(("how is ", "how are ", "how s ", "hows "))


# Most specific first: the first rule that holds names the intent.
RULES: tuple[tuple[str, Callable[[set[str], str], bool]], ...] = (
    (MY_ALERTS, _is_alerts),
    (CHAMPION_STATUS, _is_champions),
    (TOP_DROPS, _is_drops),
    (FEATURE_GAPS, _is_gaps),
    (TOP_USERS, _is_top_users),
    (AT_RISK, _is_at_risk),
    (HEALTH_WHY, _is_health),
    (PEER_COMPARE, _is_peers),
    (USAGE_TREND, _is_trend),
    (USAGE_SUMMARY, _is_summary),
)


def period_days(found: tuple[str, ...]) -> int:
    """The comparison window a question asks for: a week, else a month (28 days, the trend window)."""
    return WEEK_DAYS if {"week", "weekly", "7"} & set(found) else MONTH_DAYS


def parse_words(found: tuple[str, ...]) -> Parsed:
    """The intent of a question given as words (a customer name already taken out, if one was found)."""
    text = " ".join(found)
    intent = next((name for name, rule in RULES if rule(set(found), text)), None)
    return Parsed(intent, found, period_days(found))


def parse(question: str) -> Parsed:
    """The intent of a question and the words that may name a customer."""
    return parse_words(words(question))


# --- questions about a window of days (issue 13): appended, so the rules above keep their order ---

LAST_LOGIN = "last_login"
GUIDE_DISMISSALS = "guide_dismissals"
SESSIONS = "sessions"
WINDOW_INTENTS = (LAST_LOGIN, GUIDE_DISMISSALS, SESSIONS)  # INTENTS lists the ones above
NEEDS_CUSTOMER = NEEDS_CUSTOMER | {LAST_LOGIN, GUIDE_DISMISSALS}

_LOGIN = {"login", "logins", "logged", "log", "signed", "sign", "seen"}
_GUIDES = {"guide", "guides", "tour", "tours", "walkthrough", "walkthroughs"}
_DISMISS = {"dismiss", "dismissed", "dismisses", "dismissal", "dismissals", "closed", "skipped", "skip"}
_SESSIONS = {"session", "sessions"}
_VOCABULARY = _VOCABULARY | _LOGIN | _GUIDES | _DISMISS | _SESSIONS | {"yesterday", "november", "since"}


def _is_last_login(found: set[str], text: str) -> bool:
    """"When did X last log in", "last login", "last seen", "who logged in"."""
    return bool(found & {"login", "logins", "logged"}) or "log in" in text or "sign in" in text or (
        "last seen" in text or "signed in" in text)


def _is_guide_dismissals(found: set[str], text: str) -> bool:
    return _has(found, _GUIDES) and _has(found, _DISMISS)


def _is_sessions(found: set[str], text: str) -> bool:
    return _has(found, _SESSIONS)


RULES = (*RULES, (LAST_LOGIN, _is_last_login), (GUIDE_DISMISSALS, _is_guide_dismissals), (SESSIONS, _is_sessions))


# Phrases said in one word before the customer is looked for: "X last log in" must not offer "last" to
# the name matcher (it is one letter from "labs"), and "last active" asks for the last login.
_PHRASES = (
    (re.compile(r"\blast\s+(?:log(?:ged)?\s+in(?:to)?|login|signed\s+in|sign\s+in|seen|active|visited)\b"), "login"),
)


def normalise(text: str) -> str:
    """The cleaned question with multi-word phrases said in one word ("last logged in" -> "login")."""
    for pattern, word in _PHRASES:
        text = pattern.sub(word, text)
    return text


# --- what to do about a customer: the suggested actions of its alerts (appended; checked first) ---

NEXT_STEPS = "next_steps"

_ADVICE = {"suggest", "suggested", "suggestion", "suggestions", "recommend", "recommended", "recommendation",
           "recommendations", "advice", "advise", "playbook", "action", "actions"}
_VOCABULARY = _VOCABULARY | _ADVICE | {"should", "next", "step", "steps", "fix", "save", "tackle", "handle"}


def _is_next_steps(found: set[str], text: str) -> bool:
    """"What should I do about X", "what to do", "next steps", "suggested actions", "any advice"."""
    asks_to_do = "should" in found and _has(found, {"do", "fix", "save", "tackle", "handle"})
    return asks_to_do or "what to do" in text or "next step" in text or _has(found, _ADVICE)


RULES = ((NEXT_STEPS, _is_next_steps), *RULES)
