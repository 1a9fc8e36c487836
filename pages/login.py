"""Sign-in page (the screen itself is pages/signin.py)."""

from __future__ import annotations

from pages import signin

signin.render()
