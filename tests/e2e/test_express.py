"""The saga's state machine run as an Express workflow, as Step Functions runs one
(local_runtime/emulator/express.py, local_runtime/patches/express.py): no record kept by
the service (its log instead), a name that starts a new execution each time, states run
at least once, a hard stop at five minutes.
The saga's scenarios themselves run on both types (test_saga_paths, test_saga_faults)."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_runtime.emulator.clock import set_time_scale, time_scale
from local_runtime.emulator.template import ACCOUNT
from local_runtime.patches.hooks import finished
from local_runtime.runtime import LocalRuntime
from order_saga.service_layer.views import order_events

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.e2e.conftest import Shop

WORKFLOW_TYPES = ("EXPRESS",)
HAPPY_PATH = ["ProcessPayment", "ReserveInventory", "ConfirmOrder"]


def error_code(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def test_an_express_saga_with_a_deadline_past_a_minute_is_refused_as_the_template_rule_does() -> (
    None
):
    with pytest.raises(ValueError, match="SagaTimeoutSeconds 30, 45 or 60, not 900"):
        LocalRuntime(workflow_type="EXPRESS")


def test_an_express_execution_is_known_by_its_log_not_by_the_step_functions_api(
    shop: Shop,
) -> None:
    product = shop.product("4.00", 5)

    execution, order = shop.run([(product, 1)])

    sfn = boto3.client("stepfunctions")
    machine = shop.runtime.state_machine_arn
    assert execution.path == HAPPY_PATH
    assert order["status"] == "CONFIRMED"
    prefix = machine.replace(":stateMachine:", ":express:", 1)
    assert execution.arn.startswith(f"{prefix}:{order['order_id']}:")
    assert error_code(lambda: sfn.describe_execution(executionArn=execution.arn)) == "InvalidArn"
    assert error_code(lambda: sfn.get_execution_history(executionArn=execution.arn)) == (
        "InvalidArn"
    )
    assert error_code(lambda: sfn.stop_execution(executionArn=execution.arn)) == "InvalidArn"
    assert error_code(lambda: sfn.list_executions(stateMachineArn=machine)) == (
        "StateMachineTypeNotSupported"
    )
    records = shop.runtime.execution_log.records(execution.arn)
    assert records[0]["type"] == "ExecutionStarted"
    assert records[-1]["type"] == "ExecutionSucceeded"
    assert {r["execution_arn"] for r in records} == {execution.arn}


def test_a_second_start_under_the_same_name_runs_a_second_execution_with_one_effect(
    shop: Shop,
) -> None:
    product = shop.product("6.00", 5)
    first, order = shop.run([(product, 2)])

    again = boto3.client("stepfunctions").start_execution(
        stateMachineArn=shop.runtime.state_machine_arn,
        name=order["order_id"],
        input=json.dumps({"order_id": order["order_id"]}),
    )
    second = shop.runtime.wait(order["order_id"])

    assert again["executionArn"] == second.arn != first.arn
    assert shop.runtime.execution_log.arns_named(order["order_id"]) == [first.arn, second.arn]
    assert second.status == "SUCCEEDED"
    assert second.path == HAPPY_PATH  # every step answers from what it did the first time
    assert shop.stock(product) == 3
    types = [event["type"] for event in order_events(shop.ports.store, order["order_id"])]
    assert types.count("PaymentCompleted") == types.count("InventoryReserved") == 1


def test_a_state_run_twice_by_the_service_reserves_and_charges_once(shop: Shop) -> None:
    product = shop.product("8.00", 5)
    # Aimed at the next execution, not at the order's id: the id is known only once the
    # Api has started the saga, and ProcessPayment may already have begun by then.
    shop.runtime.rerun("ProcessPayment")
    shop.runtime.rerun("ReserveInventory")
    order_id = shop.order([(product, 2)])

    execution = shop.runtime.wait(order_id)

    assert execution.path == HAPPY_PATH
    assert execution.lambda_invocations == 5  # two states' work ran twice
    assert shop.stock(product) == 3
    assert shop.gateway.net_charged_for(order_id) == 16
    types = [event["type"] for event in order_events(shop.ports.store, order_id)]
    assert types.count("PaymentCompleted") == types.count("InventoryReserved") == 1


@pytest.fixture
def quick_time() -> Iterator[None]:
    """Five minutes (and every other wait the runtime scales) in 0.6 s."""
    saved = time_scale()
    set_time_scale(0.002)
    try:
        yield
    finally:
        set_time_scale(saved)


@pytest.mark.usefixtures("quick_time")
def test_an_express_execution_past_five_minutes_stops_hard_where_no_catch_sees_it(
    runtime: LocalRuntime,
) -> None:
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"express-{uuid.uuid4().hex[:8]}",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/express-tests",
        type="EXPRESS",
        definition=json.dumps(
            {
                "StartAt": "LongWork",
                "States": {
                    "LongWork": {
                        "Type": "Parallel",
                        "Branches": [
                            {
                                "StartAt": "TenMinutes",
                                "States": {
                                    "TenMinutes": {"Type": "Wait", "Seconds": 600, "End": True}
                                },
                            }
                        ],
                        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Compensate"}],
                        "End": True,
                    },
                    "Compensate": {"Type": "Pass", "End": True},
                },
            }
        ),
    )["stateMachineArn"]

    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    assert finished(arn).wait(30), "the execution was not stopped"

    described = runtime.execution_log.describe(arn)
    assert described is not None
    assert described["status"] == "TIMED_OUT"
    entered = [
        event["stateEnteredEventDetails"]["name"]
        for event in runtime.execution_log.history(arn)
        if event["type"].endswith("StateEntered")
    ]
    assert "Compensate" not in entered
    assert runtime.execution_log.records(arn)[-1]["type"] == "ExecutionTimedOut"
