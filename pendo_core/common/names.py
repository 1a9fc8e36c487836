"""Normal forms of company names and domains, shared by the customer import and account matching.

- A **name** is casefolded, accents removed, `&` read as `and`, apostrophes and dots dropped
  (`L.L.C.` -> `llc`), other punctuation turned into spaces, and legal-form words removed from the
  end (`Acme Corp.` == `ACME Corporation` == `acme`); a name made only of such words keeps its last.
- A **domain** is lowercased with the scheme, user, `www.`, path, query, port and trailing dot
  removed (`https://www.Acme.com:443/x` -> `acme.com`); an e-mail address gives its domain.
- A domain's **root** is its registrable label without a public-suffix list: the label before the
  last, or before the last two when they look like a country second level (`acme.co.uk` -> `acme`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

LEGAL_SUFFIXES = frozenset({
    "inc", "incorporated", "corp", "corporation", "llc", "llp", "lp", "ltd", "limited", "gmbh",
    "co", "company", "plc", "sa", "ag", "bv", "nv", "pty", "pte", "srl", "sarl", "spa", "kg",
})

# Mailbox providers: a shared domain says nothing about which customer an account belongs to.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "msn.com",
    "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de",
    "web.de", "yandex.ru", "mail.ru", "qq.com", "163.com",
})

# Second-level labels under a two-letter country code that are not registrable on their own.
_COUNTRY_SECOND_LEVELS = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "ltd"})

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_DROPPED = str.maketrans("", "", "'’.")
_DOMAIN_LABEL = re.compile(r"^[^\W_](?:[\w-]*[^\W_])?$")


@lru_cache(maxsize=1 << 16)  # matching asks for the same names several times per run
def normalise_name(name: str | None) -> str:
    """The comparable form of a company name ('' when nothing is left)."""
    if not name:
        return ""
    folded = unicodedata.normalize("NFKD", name.casefold().replace("&", " and "))
    plain = "".join(c for c in folded if not unicodedata.combining(c)).translate(_DROPPED)
    tokens = "".join(c if c.isalnum() else " " for c in plain).split()
    while len(tokens) > 1 and tokens[-1] in LEGAL_SUFFIXES:
        tokens.pop()
    return " ".join(tokens)


def compact_name(normalised: str) -> str:
    """A normalised name without spaces, to compare with a domain label (`acme labs` ~ acmelabs)."""
    return normalised.replace(" ", "")


@lru_cache(maxsize=1 << 16)
def normalise_domain(value: str | None) -> str | None:
    """The bare lowercase host of a domain, URL or e-mail address; None when nothing usable."""
    text = (value or "").strip().lower()
    text = _SCHEME.sub("", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1]  # user@host in a URL, or an e-mail address
    text = re.sub(r":\d*$", "", text).rstrip(".")
    text = text.removeprefix("www.")
    return text if looks_like_domain(text) else None


def looks_like_domain(text: str) -> bool:
    """True for a dotted host name made of letters, digits and inner hyphens (not an IP address)."""
    labels = text.split(".")
    valid = len(labels) >= 2 and all(_DOMAIN_LABEL.match(label) for label in labels)
    return valid and not labels[-1].isdigit()


def domain_root(domain: str | None) -> str | None:
    """The registrable label of a normalised domain (`shop.acme.co.uk` -> `acme`)."""
    labels = (domain or "").split(".")
    if len(labels) < 2:
        return None
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _COUNTRY_SECOND_LEVELS:
        return labels[-3]
    return labels[-2]
