"""The tracer loads the X-Ray SDK only when it will trace. Each case runs in a fresh
process, since the tracer is built once, at import, from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
from order_saga.observability import tracer

@tracer.capture_lambda_handler
def handler(event, context):
    with tracer.provider.in_subsegment("## inner") as segment:
        segment.put_annotation("order", event["order_id"])
    return {"seen": event["order_id"]}

print(json.dumps({
    "provider": type(tracer.provider).__name__,
    "xray_loaded": "aws_xray_sdk.core" in sys.modules,
    "result": handler({"order_id": "o1"}, None),
}))
"""


def probe(**environment: str) -> dict[str, object]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "shared"),
        "POWERTOOLS_SERVICE_NAME": "order-saga",
        "AWS_REGION": "us-east-1",
        **environment,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def test_with_tracing_off_the_xray_sdk_is_never_loaded_and_handlers_still_run() -> None:
    seen = probe(LAMBDA_TASK_ROOT=str(ROOT), POWERTOOLS_TRACE_DISABLED="true")

    assert seen == {"provider": "NoTracing", "xray_loaded": False, "result": {"seen": "o1"}}


def test_in_lambda_with_tracing_on_the_tracer_records_with_xray() -> None:
    seen = probe(LAMBDA_TASK_ROOT=str(ROOT), AWS_LAMBDA_FUNCTION_NAME="probe")

    assert seen["xray_loaded"] is True
    assert seen["provider"] != "NoTracing"


PATCH_PROBE = """
import json, sys
from order_saga.observability import tracer

before = {name: name in sys.modules for name in ("botocore.client", "sqlite3")}
import boto3

boto3.client("dynamodb")
import botocore.client

print(json.dumps({
    "before": before,
    "botocore_patched": getattr(botocore.client, "_xray_enabled", False),
    "sqlite3_loaded": "sqlite3" in sys.modules,
}))
"""


def test_with_tracing_on_botocore_is_patched_when_imported_and_nothing_else_is_patched() -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "shared"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "AWS_LAMBDA_FUNCTION_NAME": "probe",
    }
    done = subprocess.run(
        [sys.executable, "-c", PATCH_PROBE], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout.splitlines()[-1])

    assert seen == {
        "before": {"botocore.client": False, "sqlite3": False},
        "botocore_patched": True,
        "sqlite3_loaded": False,
    }
