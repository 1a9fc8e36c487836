"""Where a Pendo account keeps its display name and domain: the `agent` and `custom` metadata groups,
under any of several keys (compared case-, space-, dash- and underscore-insensitively)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pendo_core.common.names import normalise_domain

NAME_KEYS = ("name", "accountname", "companyname", "company", "customername", "organizationname",
             "organisationname", "organization", "organisation", "orgname", "displayname")
DOMAIN_KEYS = ("domain", "accountdomain", "companydomain", "emaildomain", "website", "websiteurl",
               "url", "homepage")
_GROUPS = ("agent", "custom")


def account_name_and_domain(metadata: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """The account's display name and normalised domain from its Pendo metadata, when present."""
    fields = _flat_fields(metadata)
    name = next((fields[k] for k in NAME_KEYS if k in fields), None)
    domains = (normalise_domain(fields[k]) for k in DOMAIN_KEYS if k in fields)
    return name, next((d for d in domains if d is not None), None)


def _flat_fields(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """Non-empty string fields of agent then custom, keyed by squashed key; agent wins a tie."""
    fields: dict[str, str] = {}
    for group in _GROUPS:
        values = (metadata or {}).get(group)
        if not isinstance(values, Mapping):
            continue
        for key, value in values.items():
            if isinstance(key, str) and isinstance(value, str) and value.strip():
                fields.setdefault(_squash_key(key), value.strip())
    return fields


def _squash_key(key: str) -> str:
    return key.casefold().replace("_", "").replace("-", "").replace(" ", "")
