"""The app's screens, declared once: each page's key (its file is pages/<key>.py), menu title, icon,
section, the sidebar pickers it needs and the roles that may open it; and the screen each role lands on.

The frame builds the menu from this list, every page refuses roles this list does not name, and the
Ask page offers a link only to a screen the asker may open. To add a screen: write pages/<key>.py,
add one PageSpec below, and add it to the menus in tests/app/test_registry.py. A declared screen
whose file is missing stops the app at start-up (`check_files`) instead of vanishing from the menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pendo_core.admin.users import ROLES

ROOT = Path(__file__).resolve().parents[2]
EVERYONE = frozenset(ROLES)
LEADERS = frozenset({"leader", "admin"})
ADMINS = frozenset({"admin"})


class MissingPageError(RuntimeError):
    """A declared screen has no page file; the message names the file and the fix."""


@dataclass(frozen=True)
class PageSpec:
    """One screen: where it sits in the menu, which sidebar pickers it needs, who may open it."""

    key: str
    title: str
    icon: str
    section: str
    roles: frozenset[str]
    customer: bool = False  # the sidebar's customer picker
    dates: bool = False  # the sidebar's date range

    def __post_init__(self) -> None:
        unknown = sorted(self.roles - EVERYONE)  # a misspelt role would close the screen to everyone
        if unknown:
            raise ValueError(f"screen {self.key!r} names unknown role(s) {unknown}; roles are {', '.join(ROLES)}")

    @property
    def path(self) -> str:
        """The page file, relative to the repository (what st.Page and st.switch_page take)."""
        return f"pages/{self.key}.py"


PAGES: tuple[PageSpec, ...] = (
    PageSpec("my_customers", "My customers", ":material/groups:", "Customer", EVERYONE),
    PageSpec("account_usage", "Account usage", ":material/monitoring:", "Customer", EVERYONE, customer=True,
             dates=True),
    PageSpec("features", "Feature adoption", ":material/ads_click:", "Customer", EVERYONE, customer=True, dates=True),
    PageSpec("guides", "Guides", ":material/tour:", "Customer", EVERYONE, customer=True, dates=True),
    PageSpec("health", "Health", ":material/favorite:", "Customer", EVERYONE, customer=True, dates=True),
    PageSpec("alerts", "Alerts", ":material/notifications:", "Customer", EVERYONE),
    PageSpec("chat", "Ask", ":material/chat:", "Customer", EVERYONE),
    PageSpec("portfolio", "Portfolio", ":material/dashboard:", "Leadership", LEADERS, dates=True),
    PageSpec("admin", "Admin", ":material/settings:", "Settings", ADMINS),
)
LOGIN = "pages/login.py"  # the sign-in screen: open to everyone, so not in the menu
# The screen each role opens on: a CSM's day starts from their book, a leader's (and an admin's: they see
# every customer too, and sync trouble shows in every sidebar) from the Portfolio.
LANDING = {"csm": "my_customers", "leader": "portfolio", "admin": "portfolio"}


def by_path(path: str) -> PageSpec | None:
    """The screen whose file is `path` (as in `PageSpec.path`), or None."""
    return next((page for page in PAGES if page.path == path), None)


def may_open(role: str, key: str) -> bool:
    """True when `role` may open the screen `key`; undeclared screens are closed to everyone."""
    return any(page.key == key and role in page.roles for page in PAGES)


def pages_for(role: str) -> list[PageSpec]:
    """The screens `role` may open, in menu order."""
    return [page for page in PAGES if role in page.roles]


def landing(role: str) -> PageSpec | None:
    """The screen `role` opens on (LANDING; else its first screen), or None when it may open none."""
    shown = pages_for(role)
    return next((page for page in shown if page.key == LANDING.get(role)), shown[0] if shown else None)


def roles_for(key: str) -> list[str]:
    """The roles that may open the screen `key`, in the order of ROLES."""
    return [role for role in ROLES if may_open(role, key)]


def check_files(root: Path = ROOT) -> None:
    """Raise MissingPageError when a declared screen (or the sign-in screen) has no file under `root`."""
    missing = [path for path in (LOGIN, *(p.path for p in PAGES)) if not (root / path).is_file()]
    if missing:
        raise MissingPageError(f"page file(s) missing: {', '.join(missing)}. Restore them, or remove their "
                               "PageSpec from pages/ui/registry.py.")
