"""Schemathesis against the committed OpenAPI document and the local server: generated
requests, valid and invalid, must never meet a server error nor an answer the document
does not describe (status code, body schema, content type, declared headers)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local_runtime.emulator.api_gateway import LocalApiServer
    from local_runtime.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 25
"""Per operation and per phase: enough to cover every status, bounded for `make test`."""
FUZZ_CUSTOMER = "cust-fuzz"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_path(ROOT / "openapi.json")
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")

CASES: Counter[str] = Counter()
PLACED: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def report_the_case_count(runtime: LocalRuntime) -> Iterator[None]:
    """Prints how many cases ran (see them with -s), once every saga they started ended,
    so that no later test shares the runtime with them."""
    yield
    for order_id in PLACED:
        runtime.wait(order_id)
    print(f"\nschemathesis: {sum(CASES.values())} cases, {len(PLACED)} orders placed")
    for operation, count in sorted(CASES.items()):
        print(f"  {count:>4}  {operation}")


@schema.parametrize()
def test_every_generated_request_gets_an_answer_the_contract_describes(
    case: schemathesis.Case, api_server: LocalApiServer
) -> None:
    CASES[f"{case.method} {case.path}"] += 1
    response = case.call_and_validate(
        base_url=api_server.url, headers={"X-Customer-Id": FUZZ_CUSTOMER}, checks=CHECKS
    )
    if (case.method, case.path, response.status_code) == ("POST", "/orders", 202):
        PLACED.append(response.json()["order_id"])
