"""`python -m api`: serve the REST API with uvicorn (`make api`, port 8000), and manage API tokens.

    python -m api [serve] [--host H] [--port P] [--workers N] [--cache-seconds S]
    python -m api token create EMAIL [--name N] [--days D]   # prints the token once
    python -m api token list
    python -m api token revoke ID

A token acts as an existing app user (`app_users`) with that user's role. Exit 0 on success, else a
one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.context import Connect, pipeline_sync
from pendo_core.admin.secrets import KeyCheck
from pendo_core.admin.tokens import TokenInfo
from pendo_core.common.config import Settings, SettingsError, load_settings
from pendo_core.pipeline import PipelineError, open_store
from pendo_sim import endpoint as demo_endpoint

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_CACHE_SECONDS = 5.0  # how stale a caller-independent answer may be under load (api.cache)
TOKEN_CACHE_SECONDS = 10.0  # a revoked token or changed role takes effect within this
CACHE_ENV = "CSCX_API_CACHE_SECONDS"  # hands --cache-seconds to worker processes, which uvicorn starts bare


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m api", description="CSCX Pendo Usage REST API")
    _serve_options(parser, DEFAULT_HOST, DEFAULT_PORT)  # `serve` is the default command
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="serve the API with uvicorn (the default)")
    # SUPPRESS: keep what the top level read
    _serve_options(serve, argparse.SUPPRESS, argparse.SUPPRESS, argparse.SUPPRESS, argparse.SUPPRESS)
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


def _serve_options(parser: argparse.ArgumentParser, host: object, port: object, workers: object = 1,
                   cache: object = DEFAULT_CACHE_SECONDS) -> None:
    parser.add_argument("--host", default=host, help=f"interface to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=port, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--workers", type=int, default=workers,
                        help="worker processes (default 1; one per core under load)")
    parser.add_argument("--cache-seconds", type=float, default=cache,
                        help=f"keep answers that do not depend on the caller this long (default "
                             f"{DEFAULT_CACHE_SECONDS:g}; 0: off) and verified tokens up to {TOKEN_CACHE_SECONDS:g} s")


def build_app(settings: Settings, engine: Engine, cache_seconds: float = 0) -> FastAPI:
    """The API over the real edges: the store, syncs through the sync pipeline, Pendo key storage; answers
    and tokens cached `cache_seconds` (0: every answer read fresh)."""
    from api import ApiContext, create_app
    from api.cache import TtlCache

    tokens = min(cache_seconds, TOKEN_CACHE_SECONDS)
    return create_app(ApiContext(engine, settings, run_sync=pipeline_sync(settings, engine),
                                 connect=_key_connector(settings, engine), answers=TtlCache(cache_seconds),
                                 tokens=TtlCache(tokens)))


def _key_connector(settings: Settings, engine: Engine) -> Connect:
    def connect(key: str, region: str, base_url: str | None, by: str) -> KeyCheck:
        from pendo_core.admin.secrets import load_cipher, validate_and_store_key

        # create=False: a key stored through the API is no demo; it needs CSCX_SECRET_KEY (503 without).
        cipher = load_cipher(settings, create=False)
        return validate_and_store_key(engine, key, region, base_url, by=by, cipher=cipher)

    return connect


def worker_app() -> FastAPI:
    """The app as each worker process builds it (`--workers` > 1: uvicorn imports this factory)."""
    try:
        settings = load_settings()
    except SettingsError as exc:  # main() checked them; the environment could still differ for a worker
        raise SystemExit(f"error: {exc}") from None
    demo_endpoint.install()
    return build_app(settings, open_store(settings), float(os.environ.get(CACHE_ENV, "0")))


def serve(settings: Settings, engine: Engine, host: str, port: int, *, workers: int = 1,
          cache_seconds: float = 0) -> int:
    """Serve until interrupted; with more than one worker each process opens its own store (and cache)."""
    import uvicorn

    if workers > 1:  # uvicorn needs an import string to start the workers
        engine.dispose()
        os.environ[CACHE_ENV] = str(cache_seconds)
        uvicorn.run("api.__main__:worker_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info")
    else:
        uvicorn.run(build_app(settings, engine, cache_seconds), host=host, port=port, log_level="info")
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
    if args.workers < 1 or args.cache_seconds < 0:
        print("error: --workers must be at least 1 and --cache-seconds at least 0", file=sys.stderr)
        return 2
    return serve(settings, engine, args.host, args.port, workers=args.workers, cache_seconds=args.cache_seconds)


if __name__ == "__main__":
    sys.exit(main())
