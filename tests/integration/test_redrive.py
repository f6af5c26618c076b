"""Re-driving the manual-review queue (ops/redrive.py) on moto's SQS.

The messages are built from the state machine's own RequestManualReview state, so the
re-drive and the ASL cannot drift apart. The Lambda service is a small fake that answers
as boto3's Lambda client does: it stands for AWS, not for our code.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from local_runtime.emulator.template import REGION, Template, function_arn
from ops.redrive import redrive, stack_queue_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

COMPENSATION = ("RefundPayment", "ReleaseInventory", "CancelOrder")
FUNCTIONS = {step: f"{step}Function" for step in COMPENSATION}
ARNS = {step: function_arn(logical_id) for step, logical_id in FUNCTIONS.items()}
_, DEFINITION = Template().state_machine("OrderSagaStateMachine")
MESSAGE_BODY = DEFINITION["States"]["RequestManualReview"]["Parameters"]["MessageBody"]


def evaluate(template: Any, state: dict[str, Any], context: dict[str, Any]) -> Any:
    """Step Functions' Parameters evaluation, as far as MessageBody uses it: "key.$"
    takes the value at a $ (state input) or $$ (context object) path."""
    if isinstance(template, list):
        return [evaluate(item, state, context) for item in template]
    if not isinstance(template, dict):
        return template
    result = {}
    for key, value in template.items():
        if key.endswith(".$"):
            root, *parts = value.split(".")
            node: Any = {"$": state, "$$": context}[root]
            for part in parts:
                node = node[part]
            result[key[:-2]] = node
        else:
            result[key] = evaluate(value, state, context)
    return result


def caught(error: str, message: str) -> dict[str, str]:
    return {
        "Error": error,
        "Cause": json.dumps({"errorMessage": message, "errorType": error, "stackTrace": []}),
    }


def review_message(order_id: str, failed_step: str) -> tuple[str, dict[str, Any]]:
    """The body RequestManualReview sends for an order whose ``failed_step`` gave up
    after OutOfStock started the compensation; and the original error."""
    original = caught("OutOfStock", f"order {order_id} could not be reserved")
    state = {
        "order_id": order_id,
        "error": original,
        "payment": {"payment_id": f"pay_{uuid.uuid4().hex}", "amount": "60.02"},
        "compensation_error": caught("GatewayUnavailable", "payment gateway unavailable"),
        "failed_step": failed_step,
    }
    context = {"Execution": {"Id": f"arn:aws:states:{REGION}:123456789012:execution:s:{order_id}"}}
    return json.dumps(evaluate(MESSAGE_BODY, state, context)), original


class FakeLambda:
    """The Lambda Invoke API as boto3 returns it: a function error is a 200 response
    with FunctionError set and the error document as payload."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.errors: dict[str, str] = {}
        """function ARN -> errorType it raises on every invocation"""

    def invoke(self, *, FunctionName: str, Payload: bytes) -> dict[str, Any]:
        self.calls.append((FunctionName, json.loads(Payload)))
        response: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        if FunctionName in self.errors:
            error = self.errors[FunctionName]
            answer: Any = {"errorMessage": f"{error}!", "errorType": error, "stackTrace": []}
            response["FunctionError"] = "Unhandled"
        else:
            answer = {"done": True}
        response["Payload"] = io.BytesIO(json.dumps(answer).encode())
        return response

    def invoked(self) -> list[str]:
        steps = {arn: step for step, arn in ARNS.items()}
        return [steps[name] for name, _ in self.calls]


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """One moto for the module (each test has its own queue): starting it is the slow part."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", REGION)
        # Stand-in credentials: nothing here may ever reach a real account.
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            yield


@pytest.fixture(scope="module")
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName=f"review-{uuid.uuid4().hex[:12]}")["QueueUrl"])


@pytest.fixture
def lambda_service() -> FakeLambda:
    return FakeLambda()


def messages_left(sqs: Any, queue_url: str) -> int:
    """Visible plus in flight: a message re-drive left is in flight until it times out."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def order_id() -> str:
    return f"order-{uuid.uuid4().hex[:16]}"


def test_the_message_the_state_machine_sends_names_every_compensation_function():
    body, _ = review_message(order_id(), "RefundPayment")

    compensation = json.loads(body)["compensation"]

    assert compensation == [{"step": step, "function": ARNS[step]} for step in COMPENSATION]


@pytest.mark.parametrize("failed_step", COMPENSATION)
def test_redrive_runs_the_failed_step_and_the_ones_after_it_in_order_then_deletes_the_message(
    failed_step, sqs, queue_url, lambda_service
):
    order = order_id()
    body, original_error = review_message(order, failed_step)
    sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    (outcome,) = redrive(queue_url, sqs=sqs, lambda_client=lambda_service)

    expected = list(COMPENSATION[COMPENSATION.index(failed_step) :])
    assert lambda_service.invoked() == expected
    payloads = dict(zip(expected, (payload for _, payload in lambda_service.calls), strict=True))
    for step, payload in payloads.items():
        if step == "CancelOrder":
            assert payload == {"order_id": order, "error": original_error}
        else:
            assert payload == {"order_id": order}
    assert outcome.order_id == order
    assert outcome.done is True
    assert outcome.steps == [f"{step} ok" for step in expected]
    assert messages_left(sqs, queue_url) == 0


def test_a_step_that_fails_again_stops_the_redrive_and_leaves_the_message(
    sqs, queue_url, lambda_service
):
    order = order_id()
    body, _ = review_message(order, "RefundPayment")
    sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    lambda_service.errors[ARNS["ReleaseInventory"]] = "StorageError"

    (outcome,) = redrive(queue_url, sqs=sqs, lambda_client=lambda_service)

    assert lambda_service.invoked() == ["RefundPayment", "ReleaseInventory"]
    assert outcome.done is False
    assert outcome.steps == ["RefundPayment ok", "ReleaseInventory failed again: StorageError"]
    assert messages_left(sqs, queue_url) == 1


def test_an_order_confirmed_after_all_counts_as_done_and_its_message_is_deleted(
    sqs, queue_url, lambda_service
):
    body, _ = review_message(order_id(), "ReleaseInventory")
    sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    lambda_service.errors[ARNS["CancelOrder"]] = "OrderConfirmedAfterAll"

    (outcome,) = redrive(queue_url, sqs=sqs, lambda_client=lambda_service)

    assert lambda_service.invoked() == ["ReleaseInventory", "CancelOrder"]
    assert outcome.done is True
    assert outcome.steps[-1] == "CancelOrder: the order was confirmed after all"
    assert messages_left(sqs, queue_url) == 0


def with_unknown_failed_step() -> str:
    body, _ = review_message(order_id(), "ReleaseInventory")
    return json.dumps({**json.loads(body), "failed_step": "ChargeAgain"})


UNREADABLE: dict[str, Callable[[], str]] = {
    "not-json": lambda: "not json at all",
    "missing-fields": lambda: json.dumps({"order_id": order_id()}),
    "failed-step-not-in-compensation": with_unknown_failed_step,
}


@pytest.mark.parametrize("unreadable", UNREADABLE)
def test_an_unreadable_message_is_left_on_the_queue_and_reported(
    unreadable, sqs, queue_url, lambda_service
):
    body = UNREADABLE[unreadable]()
    sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    (outcome,) = redrive(queue_url, sqs=sqs, lambda_client=lambda_service)

    assert outcome.done is False
    assert outcome.order_id == "?"
    assert len(outcome.steps) == 1 and outcome.steps[0].startswith("unreadable message")
    assert lambda_service.calls == []
    assert messages_left(sqs, queue_url) == 1


def test_every_message_is_handled_once_and_only_the_compensated_ones_are_deleted(
    sqs, queue_url, lambda_service
):
    orders = [order_id() for _ in range(12)]  # more than one receive's worth
    failing = set(orders[::4])
    for order in orders:
        body, _ = review_message(order, "CancelOrder")
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    class PerOrder(FakeLambda):
        def invoke(self, *, FunctionName: str, Payload: bytes) -> dict[str, Any]:
            failed = json.loads(Payload)["order_id"] in failing
            self.errors = {FunctionName: "StorageError"} if failed else {}
            return super().invoke(FunctionName=FunctionName, Payload=Payload)

    lambda_client = PerOrder()

    outcomes = redrive(queue_url, sqs=sqs, lambda_client=lambda_client)

    assert sorted(outcome.order_id for outcome in outcomes) == sorted(orders)
    assert sorted(payload["order_id"] for _, payload in lambda_client.calls) == sorted(orders)
    assert {o.order_id for o in outcomes if not o.done} == failing
    assert messages_left(sqs, queue_url) == len(failing)


def test_an_empty_queue_redrives_nothing(sqs, queue_url, lambda_service):
    assert redrive(queue_url, sqs=sqs, lambda_client=lambda_service) == []
    assert lambda_service.calls == []


# moto's CloudFormation needs extras this project does not install (openapi-spec-validator),
# so the stack is answered by botocore's Stubber, which checks the request and the
# response against the CloudFormation API model.


def describe_stacks(stack: str, outputs: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": stack,
                "StackId": f"arn:aws:cloudformation:{REGION}:123456789012:stack/{stack}/1",
                "CreationTime": "2025-01-01T00:00:00Z",
                "StackStatus": "CREATE_COMPLETE",
                "Outputs": outputs,
            }
        ]
    }


def test_the_stacks_manual_review_queue_url_is_read_from_its_outputs(aws):
    stack = f"order-saga-{uuid.uuid4().hex[:8]}"
    url = f"https://sqs.{REGION}.amazonaws.com/123456789012/{stack}-ManualReviewQueue"
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    outputs = [
        {"OutputKey": "ApiUrl", "OutputValue": "https://example.invalid/dev/"},
        {"OutputKey": "ManualReviewQueueUrl", "OutputValue": url},
    ]
    with Stubber(cloudformation) as stubber:
        stubber.add_response(
            "describe_stacks", describe_stacks(stack, outputs), {"StackName": stack}
        )

        assert stack_queue_url(stack, cloudformation) == url
        stubber.assert_no_pending_responses()


def test_a_stack_without_the_output_is_refused_by_name(aws):
    stack = f"order-saga-{uuid.uuid4().hex[:8]}"
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    with Stubber(cloudformation) as stubber:
        stubber.add_response("describe_stacks", describe_stacks(stack, []), {"StackName": stack})

        with pytest.raises(SystemExit, match="ManualReviewQueueUrl"):
            stack_queue_url(stack, cloudformation)


def test_the_template_outputs_the_manual_review_queue_url_under_the_name_redrive_reads():
    template = Template()

    output = template.raw["Outputs"]["ManualReviewQueueUrl"]["Value"]

    assert output == {"Ref": "ManualReviewQueue"}
    assert template.resources["ManualReviewQueue"]["Type"] == "AWS::SQS::Queue"
