"""The local runtime answers the Lambda Invoke API as Lambda does, over real HTTP."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_runtime.template import function_arn

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

STEP_FUNCTIONS = [
    "ProcessPaymentFunction",
    "RefundPaymentFunction",
    "ReserveInventoryFunction",
    "ReleaseInventoryFunction",
    "ConfirmOrderFunction",
    "CancelOrderFunction",
]


def invoke(name: str, payload: Any) -> tuple[str | None, dict[str, Any]]:
    client = boto3.client("lambda")  # AWS_ENDPOINT_URL_LAMBDA points at the runtime
    response = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_an_error_is_reported_by_its_class_name_as_lambda_does(runtime: LocalRuntime) -> None:
    function_error, body = invoke("ConfirmOrderFunction", {"order_id": "ord-never-created"})

    assert function_error == "Unhandled"
    assert body == {"errorType": "OrderNotFound", "errorMessage": "no order ord-never-created"}


def test_a_function_answers_to_its_arn_as_well_as_its_name(runtime: LocalRuntime) -> None:
    function_error, body = invoke(
        function_arn("CancelOrderFunction"), {"order_id": "ord-none", "reason": "Test"}
    )

    assert function_error == "Unhandled"
    assert body["errorType"] == "OrderNotFound"


@pytest.mark.parametrize("function", STEP_FUNCTIONS)
@pytest.mark.parametrize(
    "payload",
    [{}, {"order_id": "has spaces"}, {"order_id": "x" * 65}, {"order_id": "o1", "extra": 1}, []],
    ids=["empty", "bad-alphabet", "too-long", "unknown-field", "not-an-object"],
)
def test_every_step_refuses_a_malformed_payload_by_name(
    runtime: LocalRuntime, function: str, payload: Any
) -> None:
    function_error, body = invoke(function, payload)

    assert function_error == "Unhandled"
    assert body["errorType"] == "InvalidRequest"
    assert body["errorMessage"].startswith("invalid input")


def test_an_unknown_function_is_not_found(runtime: LocalRuntime) -> None:
    with pytest.raises(ClientError) as raised:
        invoke("NoSuchFunction", {})

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
