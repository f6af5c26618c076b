"""The local runtime is as strict as Step Functions where moto's interpreter is lenient
(local_runtime/patches/correctness.py): small state machines of their own, run on the session's
runtime with the real Lambda service behind them."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from local_runtime.emulator.faults import Fault
from local_runtime.emulator.template import ACCOUNT, function_arn
from local_runtime.patches.hooks import finished

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

SLOW_FUNCTION = "ConfirmOrderFunction"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/strict-aws-tests"


def run(definition: dict[str, Any], execution_input: dict[str, Any]) -> dict[str, Any]:
    """Run ``definition`` once as a STANDARD state machine; its DescribeExecution answer."""
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"strict-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))[
        "executionArn"
    ]
    assert finished(arn).wait(30), "the execution did not end"
    return dict(sfn.describe_execution(executionArn=arn))


def timing_out(then: dict[str, Any]) -> dict[str, Any]:
    """A Lambda task that outlasts its TimeoutSeconds (the function itself is within its
    own Timeout), caught into $.error, then the state ``then``."""
    return {
        "StartAt": "Slow",
        "States": {
            "Slow": {
                "Type": "Task",
                "Resource": function_arn(SLOW_FUNCTION),
                "Parameters": {"order_id.$": "$.order_id"},
                "TimeoutSeconds": 1,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Then"}],
                "End": True,
            },
            "Then": then,
        },
    }


@pytest.fixture
def slow_order(runtime: LocalRuntime) -> str:
    """An order id whose next call of SLOW_FUNCTION takes 3 s (deployed time) to answer."""
    order_id = f"ord-strict-{uuid.uuid4().hex[:8]}"
    runtime.functions.inject(SLOW_FUNCTION, Fault.hang(3, order_id=order_id))
    return order_id


def test_a_caught_task_timeout_carries_no_cause_as_aws_records_it(slow_order: str) -> None:
    described = run(timing_out({"Type": "Pass", "End": True}), {"order_id": slow_order})

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {
        "order_id": slow_order,
        "error": {"Error": "States.Timeout"},
    }


def test_a_fail_state_reading_the_cause_of_a_caught_timeout_fails_with_states_runtime(
    slow_order: str,
) -> None:
    """What the saga's OrderCancelled state did: on AWS the CausePath selects nothing."""
    fail = {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}

    described = run(timing_out(fail), {"order_id": slow_order})

    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert "'$.error.Cause'" in described["cause"]
    assert "'CausePath'" in described["cause"]


@pytest.mark.parametrize("field", ["CausePath", "ErrorPath"])
@pytest.mark.parametrize("value", [{"detail": "x"}, 3, None, ["a", "b"]])
def test_a_fail_state_path_that_selects_no_string_fails_with_states_runtime(
    runtime: LocalRuntime, field: str, value: Any
) -> None:
    described = run(
        {"StartAt": "Fail", "States": {"Fail": {"Type": "Fail", field: "$.reason"}}},
        {"reason": value},
    )

    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert f"field '{field}' selected a value that is not a string" in described["cause"]


def test_a_fail_state_whose_paths_select_strings_fails_with_them(runtime: LocalRuntime) -> None:
    described = run(
        {
            "StartAt": "Fail",
            "States": {"Fail": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}},
        },
        {"e": "PaymentDeclined", "c": "card declined"},
    )

    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "PaymentDeclined",
        "card declined",
    )


def test_a_throttled_lambda_reaches_the_state_machine_as_lambda_too_many_requests(
    runtime: LocalRuntime,
) -> None:
    order_id = f"ord-strict-{uuid.uuid4().hex[:8]}"
    runtime.functions.inject(SLOW_FUNCTION, Fault.throttled(order_id=order_id))
    definition = timing_out({"Type": "Pass", "End": True})
    definition["States"]["Slow"]["TimeoutSeconds"] = 15

    described = run(definition, {"order_id": order_id})

    error = json.loads(described["output"])["error"]
    assert error["Error"] == "Lambda.TooManyRequestsException"
    assert "Status Code: 429; Error Code: TooManyRequestsException" in error["Cause"]
