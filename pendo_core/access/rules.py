"""Who sees which customer: the one rule every page, endpoint and chat answer applies.

- A CSM sees the customers they own: a customer's `csm_email` compared with theirs after one
  normalisation (`normalise_email`: surrounding spaces stripped, case folded).
- "Show all customers" widens a CSM's view to every customer, read-only: what they may act on
  (acknowledge an alert, say) stays their own, and asking for it is recorded in the audit log
  (`access_sql.record_scope`). The app's sidebar toggle, the API's `?scope=all` and the chat
  (the same toggle) all ask for it the same way.
- Leaders and admins see, and may act on, every customer.

Pure: plain values in, plain values out; the SQL form of the rule is `access_sql.customer_filter`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

SEES_ALL_ROLES = frozenset({"leader", "admin"})


def normalise_email(email: str) -> str:
    """E-mails compare without surrounding spaces and case-insensitively (casefolded)."""
    return email.strip().casefold()


@dataclass(frozen=True)
class Viewer:
    """Who looks: their e-mail, role, and whether a CSM asked to see every customer (read-only)."""

    email: str
    role: str
    show_all: bool = False

    @property
    def key(self) -> str:
        """The viewer's e-mail as compared with a customer's CSM e-mail."""
        return normalise_email(self.email)

    @property
    def sees_all(self) -> bool:
        """True when every customer is visible: leaders, admins, and a CSM showing all."""
        return self.role in SEES_ALL_ROLES or self.show_all

    @property
    def widened(self) -> bool:
        """True when "show all" widens the view (a CSM's): what the audit log records."""
        return self.show_all and self.role not in SEES_ALL_ROLES

    @property
    def acting(self) -> Viewer:
        """The viewer as they may act: "show all" is read-only, so it is dropped."""
        return replace(self, show_all=False) if self.show_all else self

    def sees(self, *csm_emails: str | None) -> bool:
        """True when the viewer may see what one of these CSM e-mails owns (a customer, or an alert
        routed to that CSM); a missing e-mail is nobody's."""
        if self.sees_all:
            return True
        me = self.key
        return bool(me) and any(isinstance(e, str) and normalise_email(e) == me for e in csm_emails)

    def may_act_on(self, *csm_emails: str | None) -> bool:
        """True when the viewer may act on what these CSM e-mails own (never widened by "show all")."""
        return self.acting.sees(*csm_emails)


@dataclass(frozen=True)
class CustomerRef:
    """A CSCX customer as a viewer is shown it."""

    customer_id: str
    name: str
    segment: str | None = None
    csm_email: str | None = None


def visible_customer_ids(customers: Iterable[tuple[str, str | None]], viewer: Viewer) -> list[str]:
    """The ids of the (customer_id, csm_email) pairs the viewer sees, in their order."""
    return [cid for cid, csm in customers if viewer.sees(csm)]
