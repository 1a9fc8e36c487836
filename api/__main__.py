"""`python -m api`: serve the REST API with uvicorn (`make api`, port 8000), and manage API tokens.

    python -m api [serve] [--host H] [--port P]
    python -m api token create EMAIL [--name N] [--days D]   # prints the token once
    python -m api token list
    python -m api token revoke ID

A token acts as an existing app user (`app_users`) with that user's role. Exit 0 on success, else a
one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.context import Connect, pipeline_sync
from pendo_core.admin.secrets import KeyCheck
from pendo_core.admin.tokens import TokenInfo
from pendo_core.compose import open_store
from pendo_core.config import Settings, SettingsError, load_settings
from pendo_core.errors import PipelineError
from pendo_sim import endpoint as demo_endpoint

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m api", description="CSCX Pendo Usage REST API")
    _serve_options(parser, DEFAULT_HOST, DEFAULT_PORT)  # `serve` is the default command
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="serve the API with uvicorn (the default)")
    _serve_options(serve, argparse.SUPPRESS, argparse.SUPPRESS)  # SUPPRESS: keep what the top level read
    token = commands.add_parser("token", help="create, list or revoke API tokens")
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new token acting as an app user")
    create.add_argument("email")
    create.add_argument("--name", default="API token", help="a label, e.g. the system that uses it")
    create.add_argument("--days", type=int, help="valid for this many days (default: until revoked)")
    actions.add_parser("list", help="every token (never the secret)")
    revoke = actions.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    return parser


def _serve_options(parser: argparse.ArgumentParser, host: object, port: object) -> None:
    parser.add_argument("--host", default=host, help=f"interface to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=port, help=f"port (default {DEFAULT_PORT})")


def build_app(settings: Settings, engine: Engine) -> FastAPI:
    """The API over the real edges: the store, syncs through the sync pipeline, Pendo key storage."""
    from api import ApiContext, create_app

    return create_app(ApiContext(engine, settings, run_sync=pipeline_sync(settings, engine),
                                 connect=_key_connector(settings, engine)))


def _key_connector(settings: Settings, engine: Engine) -> Connect:
    def connect(key: str, region: str, base_url: str | None, by: str) -> KeyCheck:
        from pendo_core.admin.secrets import load_cipher, validate_and_store_key

        # create=False: a key stored through the API is no demo; it needs CSCX_SECRET_KEY (503 without).
        cipher = load_cipher(settings, create=False)
        return validate_and_store_key(engine, key, region, base_url, by=by, cipher=cipher)

    return connect


def serve(settings: Settings, engine: Engine, host: str, port: int) -> int:
    """Serve until interrupted."""
    import uvicorn

    uvicorn.run(build_app(settings, engine), host=host, port=port, log_level="info")
    return 0


def _token_state(t: TokenInfo) -> str:
    if t.revoked_at:
        return "revoked"
    return f"expires {t.expires_at:%Y-%m-%d}" if t.expires_at else "active"


def token_command(engine: Engine, args: argparse.Namespace) -> int:
    """Create, list or revoke tokens."""
    from pendo_core.admin.tokens import TokenError, issue_token, list_tokens, revoke_token

    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        try:
            if args.action == "create":
                token, info = issue_token(session, args.email, args.name, by="cli", now=now, days=args.days)
                expiry = f", expires {info.expires_at:%Y-%m-%d}" if info.expires_at else ""
                print(f"token {info.id} for {info.user_email}{expiry} (shown once, keep it secret):\n{token}")
            elif args.action == "revoke":
                if not revoke_token(session, args.id, by="cli", now=now):
                    raise TokenError(f"no active token {args.id} (see `python -m api token list`)")
                print(f"token {args.id} revoked")
            else:
                for t in list_tokens(session):
                    print(f"{t.id}\t{t.prefix}…\t{t.user_email}\t{t.name}\t{_token_state(t)}")
        except TokenError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    demo_endpoint.install()
    try:
        engine = open_store(settings)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.command == "token":
        return token_command(engine, args)
    return serve(settings, engine, args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
