"""The API fuzzed from its own OpenAPI document (schemathesis) on both stores: whatever is sent,
no 500, and every response matches what the document says (status, content type, schema)."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, select

from api import ApiContext, create_app
from pendo_core.admin.secrets import KeyCheck
from pendo_core.common.config import Settings
from pendo_core.store.models import UsageAlert
from tests.support.chat_api import ACME, ADA, ANA, NOW, add_users, build_store

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SCALE = int(os.environ.get("FUZZ_SCALE", "1"))  # raise for a longer run, e.g. FUZZ_SCALE=20


def _app(engine: Engine) -> Any:
    def connect(key: str, region: str, base_url: str | None, by: str) -> KeyCheck:
        return KeyCheck(key == "good", "checked")

    ctx = ApiContext(engine, Settings(pendo_timezone="UTC"), clock=lambda: NOW, run_sync=lambda: "done",
                     connect=connect)
    return create_app(ctx)


def _known_ids(engine: Engine) -> dict[str, Any]:
    """Ids that exist, so valid requests reach the code behind the 404s."""
    with engine.connect() as conn:
        alert = conn.execute(select(UsageAlert.id)).scalar()
    return {"account_id": "acme-1", "customer_id": ACME, "alert_id": alert}


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], known: dict[str, Any],
          examples: int) -> None:
    names = {p.name for p in operation.path_parameters}
    fixed = {k: v for k, v in known.items() if k in names} if mode == GenerationMode.POSITIVE else None

    @settings(max_examples=examples * SCALE, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


RUNS = ((ADA, GenerationMode.POSITIVE, 6), (ADA, GenerationMode.NEGATIVE, 5), (ANA, GenerationMode.POSITIVE, 3))


def test_fuzzed_requests_never_fail_the_server_or_the_document(engine: Engine) -> None:
    """Every operation with generated input (valid ones on ids that exist): as an admin, valid and invalid
    input; as a CSM, valid input (mostly answered 403 or 404, which the document must say)."""
    build_store(engine)
    tokens = add_users(engine)
    schema = schemathesis.openapi.from_asgi("/openapi.json", _app(engine))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for who, mode, examples in RUNS:
        for operation in operations:
            _fuzz(operation, mode, {"Authorization": f"Bearer {tokens[who]}"}, _known_ids(engine), examples)
