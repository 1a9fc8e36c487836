"""`python -m jobs create-user EMAIL --name N --role csm|leader|admin`: local sign-in users.

The password is read from stdin when it is not a terminal (first line, for scripts:
`echo "$PW" | python -m jobs create-user ...`), else asked twice without echo. It is stored as an
scrypt hash (pendo_core.admin.users); running the command again for the same e-mail updates the user.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TextIO

from sqlalchemy.orm import Session

from jobs.commands import JobError
from pendo_core.access.rules import normalise_email
from pendo_core.admin import users as auth
from pendo_core.common.config import Settings
from pendo_core.pipeline import open_store


def read_password(stdin: TextIO, ask: Callable[[str], str] = getpass.getpass) -> str:
    """The new password: stdin's first line when piped, else typed twice at a prompt."""
    if not stdin.isatty():
        password = stdin.readline().rstrip("\r\n")
    else:
        password = ask("Password: ")
        if ask("Password again: ") != password:
            raise JobError("the two passwords differ: run the command again")
    if not password:
        raise JobError("no password given: pipe it on stdin or type it at the prompt")
    return password


def create_user(settings: Settings, args: argparse.Namespace, stdin: TextIO | None = None) -> int:
    """Create or update one user; prints what it did (never the password)."""
    password = read_password(stdin or sys.stdin)
    engine = open_store(settings)
    try:
        with Session(engine) as session, session.begin():
            created = auth.upsert_user(session, args.email, args.name or args.email.strip(), args.role, password)
    except auth.AuthError as exc:
        raise JobError(str(exc)) from exc
    print(f"user {normalise_email(args.email)} {'created' if created else 'updated'} (role {args.role})")
    return 0
