"""Alembic environment: uses a connection handed in by `migrate()`, else DATABASE_URL (a bad setting stops
`alembic` with its one `error:` line, as every command does)."""

from __future__ import annotations

from alembic import context

from pendo_core.common.config import SettingsError, load_settings
from pendo_core.store.engine import make_engine
from pendo_core.store.models import Base

target_metadata = Base.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise SystemExit(f"error: {exc}") from None
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        _run_with(conn)


def _run_with(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
