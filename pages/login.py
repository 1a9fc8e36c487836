"""Sign-in page (the screen itself is pages/ui/signin.py)."""

from __future__ import annotations

from pages.ui import signin

signin.render()
