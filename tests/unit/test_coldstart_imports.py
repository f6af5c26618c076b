"""What importing a handler (all that Lambda's INIT runs) loads and builds, and what it
leaves to the first request. Each case imports one handler in a fresh process set up as
in Lambda, with X-Ray tracing on or off, and reports what it finds in sys.modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local_runtime.emulator.template import Template

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = {spec.code_dir.name: spec.environment for spec in Template().functions().values()}
"""Each function's variables as template.yaml sets them (it checks them at init)."""
HANDLERS = {
    "api": "app.handler",
    "payment": "app.process",
    "inventory": "app.reserve",
    "order": "app.cancel",
    "notifications": "app.handler",
    "publisher": "app.handler",
}
WATCHED = (
    "boto3",
    "botocore.client",
    "aws_xray_sdk.core",
    "asyncio",
    "importlib.metadata",
    "aws_lambda_powertools.utilities.idempotency",
    "order_saga.entrypoints.openapi",
    "aws_lambda_powertools.event_handler.openapi.models",
)
PROBE = """
import importlib, json, sys
from pydantic import BaseModel

module, _, attribute = sys.argv[1].rpartition(".")
getattr(importlib.import_module(module), attribute)
built = sorted(
    f"{value.__module__}.{value.__qualname__}"
    for name, loaded in list(sys.modules.items())
    if name.startswith("order_saga.")
    for value in vars(loaded).values()
    if isinstance(value, type) and issubclass(value, BaseModel)
    and value.__module__ == name and value.__pydantic_complete__
)
print(json.dumps({"loaded": [m for m in sys.argv[2:] if m in sys.modules], "built": built}))
"""


def imported(function: str, *, tracing: bool) -> dict[str, list[str]]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "functions" / function), str(ROOT / "layers" / "shared")]
        ),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / function),
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "POWERTOOLS_SERVICE_NAME": "order-saga",
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
        **ENVIRONMENT[function],
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, HANDLERS[function], *WATCHED],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_importing_a_handler_with_tracing_on_loads_no_aws_sdk_and_builds_no_model(
    function: str,
) -> None:
    seen = imported(function, tracing=True)

    assert "aws_xray_sdk.core" in seen["loaded"]
    assert not {"boto3", "botocore.client"} & set(seen["loaded"]), "boto3 comes with ports()"
    assert seen["built"] == [], "models are built by their first validation (defer_build)"


def test_importing_the_api_with_tracing_off_loads_neither_xray_nor_idempotency_nor_openapi() -> (
    None
):
    loaded = set(imported("api", tracing=False)["loaded"])

    assert not loaded & {
        "aws_xray_sdk.core",
        "aws_lambda_powertools.utilities.idempotency",
        "order_saga.entrypoints.openapi",
        "aws_lambda_powertools.event_handler.openapi.models",
    }


def test_a_traced_step_imports_no_asyncio_and_no_package_metadata() -> None:
    # Both came with wrapt 2 (the X-Ray SDK's), which pyproject.toml holds at 1.x for it.
    loaded = set(imported("payment", tracing=True)["loaded"])

    assert not loaded & {"asyncio", "importlib.metadata"}
