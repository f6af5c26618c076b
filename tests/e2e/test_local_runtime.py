"""The local runtime answers the Lambda Invoke API as Lambda does, over real HTTP."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from local_runtime.emulator.faults import Fault
from local_runtime.emulator.template import function_arn
from order_saga.service_layer.catalog import stock_product
from tests.e2e.conftest import ADDRESS

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


def order_body(product: str) -> dict[str, Any]:
    return {
        "items": [{"product_id": product, "quantity": 1}],
        "shipping_address": ADDRESS,
        "payment_method": "tok_visa",
    }


def headers(customer: str) -> dict[str, str]:
    return {"X-Customer-Id": customer}


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


def test_concurrent_api_requests_each_read_their_own_request(runtime: LocalRuntime) -> None:
    # Powertools' resolver keeps the current event on its class; Lambda gives each
    # process one event at a time, so the runtime must too, or requests cross.
    assert runtime.ports is not None
    product = f"sku-{uuid.uuid4().hex[:10]}"
    stock_product(runtime.ports, product, product, Decimal("1.00"), 10)
    owners = {}
    for _ in range(4):
        customer = f"cust-{uuid.uuid4().hex[:8]}"
        status, body, _ = runtime.api("POST", "/orders", order_body(product), headers(customer))
        assert status == 202, body
        owners[body["order_id"]] = customer
    requests = list(owners.items()) * 16

    def read(request: tuple[str, str]) -> tuple[int, Any]:
        order_id, customer = request
        status, body, _ = runtime.api("GET", f"/orders/{order_id}", None, headers(customer))
        return status, body.get("order_id")

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(read, requests))

    assert answers == [(200, order_id) for order_id, _ in requests]


def test_a_throttled_invocation_is_refused_with_429_not_answered_as_a_function_error(
    runtime: LocalRuntime,
) -> None:
    assert runtime.server is not None
    order_id = f"ord-throttled-{uuid.uuid4().hex[:8]}"
    runtime.functions.inject("ConfirmOrderFunction", Fault.throttled(times=2, order_id=order_id))
    url = f"{runtime.server.endpoint}/2015-03-31/functions/ConfirmOrderFunction/invocations"

    response = requests.post(url, data=json.dumps({"order_id": order_id}), timeout=10)
    client = boto3.client("lambda", config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(client.exceptions.TooManyRequestsException) as raised:
        client.invoke(
            FunctionName="ConfirmOrderFunction", Payload=json.dumps({"order_id": order_id})
        )

    assert response.status_code == 429
    assert response.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert "X-Amz-Function-Error" not in response.headers
    assert response.json() == {
        "Type": "User",
        "message": "Rate Exceeded.",
        "Reason": "ConcurrentInvocationLimitExceeded",
    }
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert raised.value.response["Reason"] == "ConcurrentInvocationLimitExceeded"


def test_a_standard_start_under_a_running_name_is_idempotent_and_refused_once_ended(
    runtime: LocalRuntime,
) -> None:
    """As StartExecution documents for STANDARD (EXPRESS starts again: test_express.py)."""
    assert runtime.ports is not None
    product = f"sku-{uuid.uuid4().hex[:10]}"
    stock_product(runtime.ports, product, product, Decimal("2.00"), 5)
    release = runtime.functions.hold("ProcessPaymentFunction")
    status, body, _ = runtime.api("POST", "/orders", order_body(product), headers("cust-idem"))
    assert status == 202, body
    order_id = body["order_id"]
    sfn = boto3.client("stepfunctions")
    start = {
        "stateMachineArn": runtime.state_machine_arn,
        "name": order_id,
        "input": json.dumps({"order_id": order_id}),
    }

    while_running = sfn.start_execution(**start)
    release.set()
    ended = runtime.wait(order_id)
    with pytest.raises(ClientError) as after_the_end:
        sfn.start_execution(**start)

    assert while_running["executionArn"] == ended.arn == runtime.execution_arn(order_id)
    assert after_the_end.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
    assert ended.path == ["ProcessPayment", "ReserveInventory", "ConfirmOrder"]


def test_a_standard_workflow_refuses_to_run_a_state_twice(runtime: LocalRuntime) -> None:
    with pytest.raises(ValueError, match="exactly once"):
        runtime.rerun("ReserveInventory")
